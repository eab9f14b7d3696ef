package host

import (
	"bufio"
	"bytes"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
)

// DPDKInstall describes the DPDK that is installed on the machine (not the
// one a given process runs; elfcheck reads that from the binary).
type DPDKInstall struct {
	Version string `json:"version,omitempty"` // e.g. "22.11.11"
	ABI     string `json:"abi,omitempty"`     // SONAME suffix of librte_eal, e.g. "23"
	Release string `json:"release,omitempty"` // DPDK release the ABI belongs to, e.g. "22.11"
	EALPath string `json:"eal_path,omitempty"`
	Source  string `json:"source,omitempty"` // where Version came from
}

// LibDirs are the directories the dynamic loader searches by default on the
// distributions Gazelle runs on (openEuler: lib64; Debian: multiarch).
var LibDirs = []string{
	"/usr/lib64", "/lib64", "/usr/local/lib64",
	"/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/lib/x86_64-linux-gnu",
	"/usr/lib", "/lib", "/usr/local/lib",
}

// ABIRelease maps a librte SONAME version ("23", or "23.0" as a full
// file name has it) to its DPDK LTS/feature release. DPDK 19.11 used
// "20.0"; from 20.11 the ABI is a single number.
func ABIRelease(abi string) string {
	if major, _, ok := strings.Cut(abi, "."); ok {
		abi = major
	}
	switch abi {
	case "20":
		return "19.11"
	case "21":
		return "20.11"
	case "22":
		return "21.11"
	case "23":
		return "22.11"
	case "24":
		return "23.11"
	case "25":
		return "24.11"
	case "26":
		return "25.11"
	}
	return ""
}

// FindDPDK looks for an installed DPDK. It returns nil and no error when
// none is installed.
func (h *Host) FindDPDK() (*DPDKInstall, error) {
	var d DPDKInstall
	for _, dir := range LibDirs {
		matches, _ := filepath.Glob(h.Path(filepath.Join(dir, "librte_eal.so.*")))
		if len(matches) == 0 {
			continue
		}
		sort.Strings(matches) // the shortest name is the SONAME link
		name := filepath.Base(matches[0])
		d.EALPath = filepath.Join(dir, name)
		d.ABI = strings.TrimPrefix(name, "librte_eal.so.")
		d.Release = ABIRelease(d.ABI)
		break
	}
	for _, dir := range LibDirs {
		pc := filepath.Join(dir, "pkgconfig", "libdpdk.pc")
		if b, err := h.ReadFile(pc); err == nil {
			if v := pcVersion(b); v != "" {
				d.Version, d.Source = v, pc
				break
			}
		}
	}
	if d.Version == "" {
		if v, err := h.dpkgVersion("dpdk"); err == nil && v != "" {
			d.Version, d.Source = v, "/var/lib/dpkg/status"
		}
	}
	if d.EALPath == "" && d.Version == "" {
		return nil, nil
	}
	return &d, nil
}

func pcVersion(b []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "Version:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// dpkgVersion reads the upstream part of an installed Debian package's
// version ("22.11.11-0+deb12u1" → "22.11.11").
func (h *Host) dpkgVersion(pkg string) (string, error) {
	b, err := h.ReadFile("/var/lib/dpkg/status")
	if err != nil {
		return "", fmt.Errorf("reading dpkg status: %w", err)
	}
	for _, para := range bytes.Split(b, []byte("\n\n")) {
		var name, version string
		installed := false
		for _, line := range strings.Split(string(para), "\n") {
			switch {
			case strings.HasPrefix(line, "Package: "):
				name = strings.TrimPrefix(line, "Package: ")
			case strings.HasPrefix(line, "Version: "):
				version = strings.TrimPrefix(line, "Version: ")
			case strings.HasPrefix(line, "Status: "):
				installed = strings.HasSuffix(line, " installed")
			}
		}
		if name == pkg && installed {
			if i := strings.IndexAny(version, "-~"); i > 0 {
				version = version[:i]
			}
			if i := strings.Index(version, ":"); i >= 0 { // epoch
				version = version[i+1:]
			}
			return version, nil
		}
	}
	return "", nil
}
