package lab

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
)

const modulePath = "github.com/gzdoctor/gzdoctor"

var rootOnce = sync.OnceValues(findModuleRoot)

// findModuleRoot locates the repository that holds lab/: first from this
// source file's compiled-in path (right for `go test` in any package of the
// module), then by walking up from the working directory.
func findModuleRoot() (string, error) {
	var starts []string
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		starts = append(starts, filepath.Dir(file))
	}
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	for _, dir := range starts {
		for d := dir; ; d = filepath.Dir(d) {
			if isModuleRoot(d) {
				return d, nil
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	return "", fmt.Errorf("cannot find the %s module root (with lab/primary.c) above %s", modulePath, strings.Join(starts, " or "))
}

func isModuleRoot(dir string) bool {
	b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return false
	}
	first, _, _ := bytes.Cut(b, []byte("\n"))
	if strings.TrimSpace(string(first)) != "module "+modulePath {
		return false
	}
	_, err = os.Stat(filepath.Join(dir, "lab", "primary.c"))
	return err == nil
}

// LabDir is the lab's source directory (<module root>/lab), or "" when the
// module root cannot be found.
func LabDir() string {
	root, err := rootOnce()
	if err != nil {
		return ""
	}
	return filepath.Join(root, "lab")
}

// BuildDir is where `make -C lab` puts the primary and its helpers.
func BuildDir() string {
	d := LabDir()
	if d == "" {
		return ""
	}
	return filepath.Join(d, "build")
}

// PrimaryBinary is the path of the built lab primary.
func PrimaryBinary() string {
	d := BuildDir()
	if d == "" {
		return ""
	}
	return filepath.Join(d, "lab-primary")
}

// LstackLibrary is the path of the built liblstack.so stand-in.
func LstackLibrary() string {
	d := BuildDir()
	if d == "" {
		return ""
	}
	return filepath.Join(d, "liblstack.so")
}

// AppBinary is the path of the built application without DPDK that
// liblstack.so is preloaded into.
func AppBinary() string {
	d := BuildDir()
	if d == "" {
		return ""
	}
	return filepath.Join(d, "lab-app")
}

// PdumpHold is the path of build/pdumphold.so (lab/pdumphold.c).
func PdumpHold() string {
	d := BuildDir()
	if d == "" {
		return ""
	}
	return filepath.Join(d, "pdumphold.so")
}

// pmdDirs returns the EAL plugin dir and the build's copy of it without the
// pcap PMD (both written by lab/Makefile).
func pmdDirs() (pmds, noPcap string, err error) {
	b, err := os.ReadFile(filepath.Join(BuildDir(), "pmds-dir"))
	if err != nil {
		return "", "", fmt.Errorf("reading the lab's plugin dir (run make -C lab): %w", err)
	}
	pmds = strings.TrimSpace(string(b))
	noPcap = filepath.Join(BuildDir(), "pmds-nopcap")
	if _, err := os.Stat(filepath.Join(noPcap, ".done")); err != nil {
		return "", "", fmt.Errorf("the plugin dir copy without the pcap PMD is missing (run make -C lab): %w", err)
	}
	return pmds, noPcap, nil
}

// RuntimeDir is where DPDK keeps a prefix's runtime files for the current
// user, by the EAL's own rule (eal_create_runtime_dir): /var/run/dpdk for
// root, else $XDG_RUNTIME_DIR/dpdk or /tmp/dpdk.
func RuntimeDir(prefix string) string {
	base := "/var/run"
	if os.Geteuid() != 0 {
		base = "/tmp"
		if x := os.Getenv("XDG_RUNTIME_DIR"); x != "" {
			base = x
		}
	}
	return filepath.Join(base, "dpdk", prefix)
}

// hugetlbfsMounts lists the mount points of hugetlbfs filesystems.
func hugetlbfsMounts() ([]string, error) {
	f, err := os.Open("/proc/mounts")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var dirs []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 3 && fields[2] == "hugetlbfs" {
			// /proc/mounts escapes spaces as \040.
			dirs = append(dirs, strings.ReplaceAll(fields[1], `\040`, " "))
		}
	}
	return dirs, sc.Err()
}

// hugepageFiles lists the hugepage files a primary with this prefix left in
// the hugetlbfs mounts: "<prefix>map_<n>".
func hugepageFiles(prefix string) []string {
	mounts, _ := hugetlbfsMounts()
	var files []string
	for _, m := range mounts {
		found, _ := filepath.Glob(filepath.Join(m, globEscape(prefix)+"map_*"))
		files = append(files, found...)
	}
	return files
}

func globEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`)
	return r.Replace(s)
}

// HugepageFiles lists the <prefix>map_* files in the hugetlbfs mounts.
func HugepageFiles(prefix string) []string { return hugepageFiles(prefix) }
