package host

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path"
	"strconv"
	"strings"
	"syscall"
)

// Mount is one line of /proc/mounts.
type Mount struct {
	Source  string   `json:"source"`
	Target  string   `json:"target"`
	FSType  string   `json:"fstype"`
	Options []string `json:"options"`
}

// Option returns the value of a "key=value" mount option.
func (m Mount) Option(key string) (string, bool) {
	for _, o := range m.Options {
		if k, v, ok := strings.Cut(o, "="); ok && k == key {
			return v, true
		}
	}
	return "", false
}

// Mounts reads /proc/mounts.
func (h *Host) Mounts() ([]Mount, error) {
	b, err := h.ReadFile("/proc/mounts")
	if err != nil {
		return nil, fmt.Errorf("reading mounts: %w", err)
	}
	return ParseMounts(b)
}

// ParseMounts parses /proc/mounts (fstab syntax; spaces and other
// characters in paths are octal escapes such as \040).
func ParseMounts(b []byte) ([]Mount, error) {
	var out []Mount
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if len(f) < 4 {
			return nil, fmt.Errorf("/proc/mounts line %d: %d fields, want at least 4", n, len(f))
		}
		out = append(out, Mount{
			Source:  unescapeMount(f[0]),
			Target:  unescapeMount(f[1]),
			FSType:  f[2],
			Options: strings.Split(f[3], ","),
		})
	}
	return out, sc.Err()
}

func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// HugetlbfsMount is a mounted hugetlbfs and its page size.
type HugetlbfsMount struct {
	Path string `json:"path"`
	// PageSizeKB comes from the pagesize= option, or the default hugepage
	// size (Hugepagesize in /proc/meminfo) when the option is absent.
	PageSizeKB uint64 `json:"page_size_kb"`
	// PageSizeDefault is set when pagesize= was absent.
	PageSizeDefault bool     `json:"page_size_default,omitempty"`
	Options         []string `json:"options"`
	// Mode, UID, GID of the mount directory: a non-root DPDK process
	// needs write access to it.
	Mode string `json:"mode,omitempty"`
	UID  int    `json:"uid"`
	GID  int    `json:"gid"`
}

// HugetlbfsMounts lists the hugetlbfs mounts. defaultKB is the size to
// assume without pagesize= (0: read Hugepagesize from /proc/meminfo).
func (h *Host) HugetlbfsMounts(defaultKB uint64) ([]HugetlbfsMount, error) {
	ms, err := h.Mounts()
	if err != nil {
		return nil, err
	}
	var out []HugetlbfsMount
	for _, m := range ms {
		if m.FSType != "hugetlbfs" {
			continue
		}
		hm := HugetlbfsMount{Path: m.Target, Options: m.Options}
		if v, ok := m.Option("pagesize"); ok {
			kb, err := parseSizeKB(v)
			if err != nil {
				return nil, fmt.Errorf("hugetlbfs %s: pagesize=%s: %w", m.Target, v, err)
			}
			hm.PageSizeKB = kb
		} else {
			if defaultKB == 0 {
				mi, err := h.Meminfo()
				if err != nil {
					return nil, err
				}
				defaultKB = mi.HugepagesizeKB
			}
			hm.PageSizeKB, hm.PageSizeDefault = defaultKB, true
		}
		if st, err := h.Stat(m.Target); err == nil {
			hm.Mode, hm.UID, hm.GID = st.Mode, st.UID, st.GID
		}
		out = append(out, hm)
	}
	return out, nil
}

// HugetlbfsRoom says what a hugetlbfs mount limited by size= has left:
// the limit and the bytes free under it. limited is false for a mount
// without a limit (or with size=N%): its pages are the pool's, which
// /proc/meminfo counts. Live, the kernel says (statfs); in a tree, the
// limit less the sizes of the files at the mount's top, where DPDK puts
// its <prefix>map_N.
func (h *Host) HugetlbfsRoom(m HugetlbfsMount) (limit, free uint64, limited bool, err error) {
	var v string
	for _, o := range m.Options {
		if k, val, ok := strings.Cut(o, "="); ok && k == "size" {
			v = val
		}
	}
	if v == "" || strings.HasSuffix(v, "%") {
		return 0, 0, false, nil
	}
	kb, err := parseSizeKB(v)
	if err != nil {
		return 0, 0, false, fmt.Errorf("hugetlbfs %s: size=%s: %w", m.Path, v, err)
	}
	limit = kb * 1024
	if h.Live() {
		var st syscall.Statfs_t
		if err := syscall.Statfs(h.Path(m.Path), &st); err != nil {
			return limit, 0, true, fmt.Errorf("statfs %s: %w", m.Path, err)
		}
		return limit, st.Bfree * uint64(st.Bsize), true, nil
	}
	ents, err := os.ReadDir(h.Path(m.Path))
	if err != nil {
		return limit, 0, true, fmt.Errorf("listing %s: %w", m.Path, err)
	}
	var used uint64
	for _, e := range ents {
		if fi, err := e.Info(); err == nil && fi.Mode().IsRegular() {
			used += uint64(fi.Size())
		}
	}
	return limit, limit - min(used, limit), true, nil
}

// parseSizeKB reads a mount size such as "2M", "1G", "2048k" or "2097152".
func parseSizeKB(s string) (uint64, error) {
	mult := uint64(1)
	num := s
	switch strings.ToUpper(s[len(s)-min(len(s), 1):]) {
	case "K":
		mult, num = 1024, s[:len(s)-1]
	case "M":
		mult, num = 1024*1024, s[:len(s)-1]
	case "G":
		mult, num = 1024*1024*1024, s[:len(s)-1]
	}
	n, err := strconv.ParseUint(num, 10, 64)
	if err != nil {
		return 0, err
	}
	return n * mult / 1024, nil
}

// HugeDirMount finds the hugetlbfs mount that holds dir (a --huge-dir):
// dir itself (AtMountPoint) or a directory under it. It returns nil when
// dir is on no hugetlbfs, which makes EAL fail to find hugepages there.
func HugeDirMount(mounts []HugetlbfsMount, dir string) (m *HugetlbfsMount, atMountPoint bool) {
	dir = path.Clean(dir)
	best := -1
	for i, hm := range mounts {
		p := path.Clean(hm.Path)
		if dir == p || strings.HasPrefix(dir, strings.TrimSuffix(p, "/")+"/") {
			// The longest match is the mount that shadows the others.
			if best < 0 || len(p) >= len(path.Clean(mounts[best].Path)) {
				best = i
			}
		}
	}
	if best < 0 {
		return nil, false
	}
	return &mounts[best], path.Clean(mounts[best].Path) == dir
}
