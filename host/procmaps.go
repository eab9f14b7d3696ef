package host

import (
	"bufio"
	"bytes"
	"path"
	"strings"
)

// ParseMaps returns the files mapped in a /proc/<pid>/maps text, each
// once, in first-seen order. Anonymous and pseudo mappings ([heap],
// [stack], anon_inode:...) are left out; a " (deleted)" suffix is kept so
// callers can tell an unlinked file.
func ParseMaps(b []byte) []string {
	var out []string
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		// address perms offset dev inode pathname; pathname may hold spaces.
		p := pathAfterFields(sc.Text(), 5)
		if !strings.HasPrefix(p, "/") || seen[p] {
			continue
		}
		seen[p] = true
		out = append(out, p)
	}
	return out
}

// ProcDPDK is what a process's mappings say about its DPDK.
type ProcDPDK struct {
	// EAL is the mapped librte_eal shared object; empty for a static build.
	EAL string `json:"eal,omitempty"`
	// EALABI is its SONAME version ("23"; "20.0" for 19.11) and Release the
	// DPDK release that ABI belongs to ("22.11").
	EALABI  string `json:"eal_abi,omitempty"`
	Release string `json:"release,omitempty"`
	Lstack  string `json:"lstack,omitempty"`
	// PcapPMD is librte_net_pcap (20.11+) or librte_pmd_pcap (≤19.11).
	PcapPMD string `json:"pcap_pmd,omitempty"`
	Pdump   string `json:"pdump,omitempty"`
	// RuntimeDir is the prefix dir whose config/fbarray files are mapped;
	// Prefix its last element.
	RuntimeDir string `json:"runtime_dir,omitempty"`
	Prefix     string `json:"prefix,omitempty"`
	// HugepageFiles counts mapped <prefix>map_N files, by directory.
	HugepageFiles map[string]int `json:"hugepage_files,omitempty"`
}

// Found reports whether any DPDK trace was seen.
func (d ProcDPDK) Found() bool {
	return d.EAL != "" || d.Lstack != "" || d.RuntimeDir != "" || len(d.HugepageFiles) > 0
}

// classifyMaps derives ProcDPDK from a mapped-file list and returns the
// list without the (often hundreds of) hugepage files.
func classifyMaps(files []string) (ProcDPDK, []string) {
	var d ProcDPDK
	var rest []string
	for _, f := range files {
		name := strings.TrimSuffix(f, " (deleted)")
		base := path.Base(name)
		dir := path.Dir(name)
		if hugepageFileRe().MatchString(base) && !strings.Contains(base, ".so") {
			if d.HugepageFiles == nil {
				d.HugepageFiles = map[string]int{}
			}
			d.HugepageFiles[dir]++
			continue
		}
		rest = append(rest, f)
		switch {
		case strings.HasPrefix(base, "librte_eal.so"):
			if d.EAL == "" {
				d.EAL = name
				d.EALABI = strings.TrimPrefix(strings.TrimPrefix(base, "librte_eal.so"), ".")
				d.Release = ABIRelease(d.EALABI)
			}
		case strings.HasPrefix(base, "liblstack.so"):
			d.Lstack = name
		case strings.HasPrefix(base, "librte_net_pcap.so") || strings.HasPrefix(base, "librte_pmd_pcap.so"):
			d.PcapPMD = name
		case strings.HasPrefix(base, "librte_pdump.so"):
			d.Pdump = name
		case d.RuntimeDir == "" && (base == "config" || strings.HasPrefix(base, "fbarray_")) && RuntimeDirPrefix(dir) != "":
			d.RuntimeDir = dir
			d.Prefix = RuntimeDirPrefix(dir)
		}
	}
	return d, rest
}
