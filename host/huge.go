package host

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Meminfo holds the hugepage lines of /proc/meminfo (pages of the default
// size only; other sizes are in Hugepages.Sizes).
type Meminfo struct {
	HugePagesTotal uint64 `json:"hugepages_total"`
	HugePagesFree  uint64 `json:"hugepages_free"`
	HugePagesRsvd  uint64 `json:"hugepages_rsvd"`
	HugePagesSurp  uint64 `json:"hugepages_surp"`
	HugepagesizeKB uint64 `json:"hugepagesize_kb"`
}

// Meminfo reads the hugepage counters of /proc/meminfo.
func (h *Host) Meminfo() (*Meminfo, error) {
	b, err := h.ReadFile("/proc/meminfo")
	if err != nil {
		return nil, fmt.Errorf("reading meminfo: %w", err)
	}
	return ParseMeminfo(b)
}

// ParseMeminfo parses /proc/meminfo.
func ParseMeminfo(b []byte) (*Meminfo, error) {
	m := &Meminfo{}
	fields := map[string]*uint64{
		"HugePages_Total": &m.HugePagesTotal, "HugePages_Free": &m.HugePagesFree,
		"HugePages_Rsvd": &m.HugePagesRsvd, "HugePages_Surp": &m.HugePagesSurp,
		"Hugepagesize": &m.HugepagesizeKB,
	}
	seen := 0
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		p, want := fields[k]
		if !ok || !want {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			return nil, fmt.Errorf("meminfo: %s has no value", k)
		}
		n, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("meminfo: %s: %w", k, err)
		}
		*p = n
		seen++
	}
	if seen == 0 {
		return nil, errors.New("meminfo: no hugepage lines (kernel without hugetlbfs?)")
	}
	return m, sc.Err()
}

// HugepageSize is the pool of one page size, from
// /sys/kernel/mm/hugepages/hugepages-<size>kB or a NUMA node's copy (where
// the kernel has no resv_hugepages).
type HugepageSize struct {
	SizeKB  uint64 `json:"size_kb"`
	Nr      uint64 `json:"nr"`
	Free    uint64 `json:"free"`
	Resv    uint64 `json:"resv"`
	Surplus uint64 `json:"surplus"`
}

// NodeHugepages is one NUMA node's hugepage pools.
type NodeHugepages struct {
	Node  int            `json:"node"`
	Sizes []HugepageSize `json:"sizes"`
}

// Hugepages is the machine's hugepage picture.
type Hugepages struct {
	Meminfo *Meminfo         `json:"meminfo"`
	Sizes   []HugepageSize   `json:"sizes"`
	Nodes   []NodeHugepages  `json:"nodes,omitempty"`
	Mounts  []HugetlbfsMount `json:"mounts"`
}

// Size returns the pool of a page size, or nil.
func (hp *Hugepages) Size(kb uint64) *HugepageSize {
	for i := range hp.Sizes {
		if hp.Sizes[i].SizeKB == kb {
			return &hp.Sizes[i]
		}
	}
	return nil
}

// NodeFree returns the free pages of size kb on each node, by node.
func (hp *Hugepages) NodeFree(kb uint64) map[int]uint64 {
	out := map[int]uint64{}
	for _, n := range hp.Nodes {
		for _, s := range n.Sizes {
			if s.SizeKB == kb {
				out[n.Node] = s.Free
			}
		}
	}
	return out
}

// Hugepages reads meminfo, the per-size and per-node pools, and the
// hugetlbfs mounts.
func (h *Host) Hugepages() (*Hugepages, error) {
	mi, err := h.Meminfo()
	if err != nil {
		return nil, err
	}
	hp := &Hugepages{Meminfo: mi}
	if hp.Sizes, err = h.hugepageSizes("/sys/kernel/mm/hugepages"); err != nil {
		return nil, err
	}
	nodes, _ := fs.Glob(os.DirFS(h.Path("/")), "sys/devices/system/node/node*")
	for _, n := range nodes {
		id, err := strconv.Atoi(strings.TrimPrefix(path.Base(n), "node"))
		if err != nil {
			continue
		}
		sizes, err := h.hugepageSizes("/" + n + "/hugepages")
		if err != nil {
			return nil, err
		}
		hp.Nodes = append(hp.Nodes, NodeHugepages{Node: id, Sizes: sizes})
	}
	sort.Slice(hp.Nodes, func(i, j int) bool { return hp.Nodes[i].Node < hp.Nodes[j].Node })
	if hp.Mounts, err = h.HugetlbfsMounts(mi.HugepagesizeKB); err != nil {
		return nil, err
	}
	return hp, nil
}

var hugepageDirRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^hugepages-([0-9]+)kB$`) })

func (h *Host) hugepageSizes(dir string) ([]HugepageSize, error) {
	ents, err := os.ReadDir(h.Path(dir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", dir, err)
	}
	var out []HugepageSize
	for _, e := range ents {
		m := hugepageDirRe().FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		s := HugepageSize{}
		s.SizeKB, _ = strconv.ParseUint(m[1], 10, 64)
		for name, p := range map[string]*uint64{
			"nr_hugepages": &s.Nr, "free_hugepages": &s.Free,
			"resv_hugepages": &s.Resv, "surplus_hugepages": &s.Surplus,
		} {
			b, err := h.ReadFile(path.Join(dir, e.Name(), name))
			if errors.Is(err, fs.ErrNotExist) {
				continue // nodes have no resv_hugepages
			}
			if err != nil {
				return nil, fmt.Errorf("reading %s: %w", path.Join(dir, e.Name(), name), err)
			}
			if *p, err = strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64); err != nil {
				return nil, fmt.Errorf("%s: %w", path.Join(dir, e.Name(), name), err)
			}
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].SizeKB < out[j].SizeKB })
	return out, nil
}

// HugepageFiles is the set of hugepage files of one prefix in one
// hugetlbfs mount: what a primary leaves behind when it dies.
type HugepageFiles struct {
	Mount string `json:"mount"`
	// Prefix is the DPDK file prefix ("rte" for rtemap_N).
	Prefix string `json:"prefix"`
	Count  int    `json:"count"`
	// Bytes is the memory the files hold (st_blocks × 512). A file's size
	// says nothing: DPDK sizes files before it faults pages in.
	Bytes int64    `json:"bytes"`
	Files []string `json:"files,omitempty"`
}

// hugepageFileRe matches DPDK's hugepage file names: <prefix>map_<n>
// (eal_get_hugefile_path's "%s/%smap_%d"); a prefix may hold a newline.
var hugepageFileRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?s)^(.+)map_([0-9]+)$`) })

// HugepageFiles lists the DPDK hugepage files in every mount, grouped by
// mount and prefix, sorted by mount then prefix. A file reached through
// two mounts of one hugetlbfs (a bind mount, as containers have) is one
// file holding one set of pages: it is counted once, under the first mount
// in the list that shows it (by device and inode).
func (h *Host) HugepageFiles(mounts []HugetlbfsMount) ([]HugepageFiles, error) {
	var out []HugepageFiles
	seen := map[[2]uint64]bool{}
	for _, m := range mounts {
		ents, err := os.ReadDir(h.Path(m.Path))
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
				continue
			}
			return nil, fmt.Errorf("listing %s: %w", m.Path, err)
		}
		groups := map[string]*HugepageFiles{}
		for _, e := range ents {
			sm := hugepageFileRe().FindStringSubmatch(e.Name())
			if sm == nil || !e.Type().IsRegular() {
				continue
			}
			var blocks int64
			// Live, Stat is lstat; in a collected tree, whose hugepage
			// files are empty stand-ins, .fixture/stat carries their dev,
			// ino and blocks. One walk serves both.
			if st, err := h.Stat(path.Join(m.Path, e.Name())); err == nil {
				if key, ok := statKey(st); ok {
					if seen[key] {
						continue
					}
					seen[key] = true
				}
				blocks = st.Blocks
			}
			g := groups[sm[1]]
			if g == nil {
				g = &HugepageFiles{Mount: m.Path, Prefix: sm[1]}
				groups[sm[1]] = g
			}
			g.Count++
			g.Files = append(g.Files, e.Name())
			g.Bytes += blocks * 512
		}
		var names []string
		for p := range groups {
			names = append(names, p)
		}
		sort.Strings(names)
		for _, p := range names {
			out = append(out, *groups[p])
		}
	}
	return out, nil
}

// HugepageFilesOf returns the groups of one prefix.
func HugepageFilesOf(all []HugepageFiles, prefix string) []HugepageFiles {
	var out []HugepageFiles
	for _, g := range all {
		if g.Prefix == prefix {
			out = append(out, g)
		}
	}
	return out
}

// statKey identifies a file by device and inode as FileStat gives them.
func statKey(st *FileStat) ([2]uint64, bool) {
	maj, min, ok := strings.Cut(st.Dev, ":")
	a, err1 := strconv.ParseUint(maj, 16, 32)
	b, err2 := strconv.ParseUint(min, 16, 32)
	if !ok || err1 != nil || err2 != nil || st.Ino == 0 {
		return [2]uint64{}, false
	}
	return [2]uint64{a<<32 | b, st.Ino}, true
}
