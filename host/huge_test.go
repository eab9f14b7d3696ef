package host

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gzdoctor/gzdoctor/internal/testenv"
	"golang.org/x/sys/unix"
)

func TestHugepagesFixtures(t *testing.T) {
	type want struct {
		total, free uint64
		sizes       string // size:nr/free/resv
		nodes       string // node:size:nr/free
		mounts      string // path:kb[:default][:mode]
	}
	tests := map[string]want{
		"sys-vfio-kernel": {512, 500, "2048:512/500/2 1048576:0/0/0", "0:2048:512/500 0:1048576:0/0",
			"/dev/hugepages:2048:default /mnt/hugepages-lstack:2048:0700 /mnt/huge 1g:1048576"},
		"sys-mlx5":        {1024, 1024, "2048:1024/1024/0", "", "/mnt/huge:2048"},
		"sys-nohuge":      {0, 0, "2048:0/0/0", "0:2048:0/0", "/dev/hugepages:2048"},
		"sys-node1-only":  {1024, 1024, "2048:1024/1024/0", "0:2048:0/0 1:2048:1024/1024", "/mnt/hugepages-2M:2048"},
		"sys-nomount":     {256, 256, "2048:256/256/0", "", ""},
		"sys-stale-files": {1024, 1020, "2048:1024/1020/0", "", "/mnt/huge:2048 /mnt/hugepages-ltran:2048"},
	}
	for name, w := range tests {
		t.Run(name, func(t *testing.T) {
			hp, err := sysFixture(t, name).Hugepages()
			if err != nil {
				t.Fatal(err)
			}
			if hp.Meminfo.HugePagesTotal != w.total || hp.Meminfo.HugePagesFree != w.free || hp.Meminfo.HugepagesizeKB != 2048 {
				t.Errorf("meminfo %+v", hp.Meminfo)
			}
			var sizes, nodes, mounts []string
			for _, s := range hp.Sizes {
				sizes = append(sizes, fmt.Sprintf("%d:%d/%d/%d", s.SizeKB, s.Nr, s.Free, s.Resv))
			}
			for _, n := range hp.Nodes {
				for _, s := range n.Sizes {
					nodes = append(nodes, fmt.Sprintf("%d:%d:%d/%d", n.Node, s.SizeKB, s.Nr, s.Free))
				}
			}
			for _, m := range hp.Mounts {
				s := fmt.Sprintf("%s:%d", m.Path, m.PageSizeKB)
				if m.PageSizeDefault {
					s += ":default"
				}
				if m.Mode == "0700" {
					s += ":0700"
				}
				mounts = append(mounts, s)
			}
			// Sizes sort numerically; compare as sets for readability.
			if got := strings.Join(sizes, " "); !sameWords(got, w.sizes) {
				t.Errorf("sizes %q, want %q", got, w.sizes)
			}
			if got := strings.Join(nodes, " "); !sameWords(got, w.nodes) {
				t.Errorf("nodes %q, want %q", got, w.nodes)
			}
			if got := strings.Join(mounts, " "); got != w.mounts {
				t.Errorf("mounts %q, want %q", got, w.mounts)
			}
		})
	}
}

func sameWords(a, b string) bool {
	fa, fb := strings.Fields(a), strings.Fields(b)
	if len(fa) != len(fb) {
		return false
	}
	seen := map[string]int{}
	for _, x := range fa {
		seen[x]++
	}
	for _, x := range fb {
		seen[x]--
	}
	for _, n := range seen {
		if n != 0 {
			return false
		}
	}
	return true
}

func TestNodeFree(t *testing.T) {
	hp, err := sysFixture(t, "sys-node1-only").Hugepages()
	if err != nil {
		t.Fatal(err)
	}
	if f := hp.NodeFree(2048); f[0] != 0 || f[1] != 1024 || len(f) != 2 {
		t.Errorf("NodeFree = %v", f)
	}
	if hp.Size(2048) == nil || hp.Size(4) != nil {
		t.Errorf("Size lookup")
	}
}

func TestHugeDirMount(t *testing.T) {
	ms, err := sysFixture(t, "sys-vfio-kernel").HugetlbfsMounts(0)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		dir, mount string
		at         bool
	}{
		{"/mnt/hugepages-lstack", "/mnt/hugepages-lstack", true},
		{"/mnt/hugepages-lstack/", "/mnt/hugepages-lstack", true},
		{"/mnt/hugepages-lstack/sub", "/mnt/hugepages-lstack", false},
		{"/mnt/hugepages-lstackx", "", false},
		{"/mnt/huge 1g", "/mnt/huge 1g", true},
		{"/mnt", "", false},
	}
	for _, tt := range tests {
		m, at := HugeDirMount(ms, tt.dir)
		got := ""
		if m != nil {
			got = m.Path
		}
		if got != tt.mount || at != tt.at {
			t.Errorf("HugeDirMount(%q) = %q %v, want %q %v", tt.dir, got, at, tt.mount, tt.at)
		}
	}
	none, _ := sysFixture(t, "sys-nomount").HugetlbfsMounts(0)
	if len(none) != 0 {
		t.Errorf("sys-nomount: tmpfs taken for hugetlbfs: %+v", none)
	}
}

func TestHugepageFilesFixture(t *testing.T) {
	h := sysFixture(t, "sys-stale-files")
	ms, err := h.HugetlbfsMounts(0)
	if err != nil {
		t.Fatal(err)
	}
	groups, err := h.HugepageFiles(ms)
	if err != nil {
		t.Fatal(err)
	}
	// st_blocks of one 8 KiB fixture file on the disk the test runs from.
	var st unix.Stat_t
	if err := unix.Stat(h.Path("/mnt/huge/rtemap_0"), &st); err != nil {
		t.Fatal(err)
	}
	per := st.Blocks * 512
	var got []string
	for _, g := range groups {
		got = append(got, fmt.Sprintf("%s %s %d %d", g.Mount, g.Prefix, g.Count, g.Bytes/per))
	}
	want := "/mnt/huge gazelle 3 3|/mnt/huge rte 1 1|/mnt/hugepages-ltran ltran 1 1"
	if strings.Join(got, "|") != want {
		t.Errorf("groups %q, want %q", strings.Join(got, "|"), want)
	}
	if g := HugepageFilesOf(groups, "gazelle"); len(g) != 1 || strings.Join(g[0].Files, ",") != "gazellemap_0,gazellemap_1,gazellemap_2" {
		t.Errorf("HugepageFilesOf(gazelle) = %+v", g)
	}
}

func TestParseMountsEscapes(t *testing.T) {
	ms, err := ParseMounts([]byte("nodev /mnt/a\\040b hugetlbfs rw,pagesize=1G 0 0\n\nbad line\n"))
	if err == nil {
		t.Fatalf("short line accepted: %+v", ms)
	}
	ms, err = ParseMounts([]byte("nodev /mnt/a\\040b hugetlbfs rw,pagesize=1G 0 0\n"))
	if err != nil || ms[0].Target != "/mnt/a b" {
		t.Fatalf("%+v %v", ms, err)
	}
	if v, _ := ms[0].Option("pagesize"); v != "1G" {
		t.Errorf("pagesize %q", v)
	}
	for in, want := range map[string]uint64{"2M": 2048, "1G": 1048576, "2048k": 2048, "2097152": 2048, "64K": 64} {
		if got, err := parseSizeKB(in); err != nil || got != want {
			t.Errorf("parseSizeKB(%q) = %d %v, want %d", in, got, err, want)
		}
	}
}

// TestHugepagesLive reads the real machine and checks it against
// /proc/meminfo and /proc/mounts as read here. Other packages' lab tests
// start primaries (HugePages_Free, HugePages_Rsvd move) and mount
// hugetlbfs (the matrix's small mount, the release chroots' binds) at the
// same moment: the comparison is made on a read that the same reads just
// before and after agree with, so a stranger's change is never taken for
// a misread, and a misread still fails.
func TestHugepagesLive(t *testing.T) {
	hugeLines := func() (string, string) {
		raw, err := os.ReadFile("/proc/meminfo")
		if err != nil {
			t.Fatal(err)
		}
		var keep []string
		for _, l := range strings.Split(string(raw), "\n") {
			if strings.HasPrefix(l, "HugePages_") || strings.HasPrefix(l, "Hugepagesize:") {
				keep = append(keep, l)
			}
		}
		mounts, err := os.ReadFile("/proc/mounts")
		if err != nil {
			t.Fatal(err)
		}
		return strings.Join(keep, "\n"), string(mounts)
	}
	var hp *Hugepages
	var meminfo, mounts string
	for try := 0; ; try++ {
		m0, mt0 := hugeLines()
		got, err := New("/").Hugepages()
		if err != nil {
			t.Fatal(err)
		}
		m1, mt1 := hugeLines()
		if m0 == m1 && mt0 == mt1 {
			hp, meminfo, mounts = got, m1, mt1
			break
		}
		if try == 50 {
			t.Fatalf("/proc/meminfo's hugepage lines or /proc/mounts changed around each of 50 reads")
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, kv := range []struct {
		key string
		got uint64
	}{
		{"HugePages_Total", hp.Meminfo.HugePagesTotal}, {"HugePages_Free", hp.Meminfo.HugePagesFree},
		{"HugePages_Rsvd", hp.Meminfo.HugePagesRsvd}, {"Hugepagesize", hp.Meminfo.HugepagesizeKB},
	} {
		var want uint64
		for _, l := range strings.Split(meminfo, "\n") {
			if strings.HasPrefix(l, kv.key+":") {
				fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(l, kv.key+":"), "kB")), &want)
			}
		}
		if kv.got != want {
			t.Errorf("%s = %d, /proc/meminfo says %d", kv.key, kv.got, want)
		}
	}
	def := hp.Size(hp.Meminfo.HugepagesizeKB)
	if def == nil {
		t.Fatalf("no pool of the default size %d kB", hp.Meminfo.HugepagesizeKB)
	}
	// The per-size pool of the default size is what meminfo counts.
	if def.Nr != hp.Meminfo.HugePagesTotal {
		t.Errorf("nr_hugepages %d != HugePages_Total %d", def.Nr, hp.Meminfo.HugePagesTotal)
	}
	var nodeSum uint64
	for _, n := range hp.Nodes {
		for _, s := range n.Sizes {
			if s.SizeKB == def.SizeKB {
				nodeSum += s.Nr
			}
		}
	}
	if len(hp.Nodes) > 0 && nodeSum != def.Nr {
		t.Errorf("nodes hold %d pages, the pool %d", nodeSum, def.Nr)
	}
	n := strings.Count(mounts, " hugetlbfs ")
	if len(hp.Mounts) != n {
		t.Errorf("%d hugetlbfs mounts, /proc/mounts has %d", len(hp.Mounts), n)
	}
	if hp.Meminfo.HugePagesTotal == 0 || len(hp.Mounts) == 0 {
		t.Fatalf("the lab machine needs hugepages and a hugetlbfs mount (make setup): %+v", hp)
	}
}

// TestHugepageFilesLive faults real hugepages into files named like a dead
// primary's and checks they are counted by prefix with their real size.
func TestHugepageFilesLive(t *testing.T) {
	h := New("/")
	hp, err := h.Hugepages()
	if err != nil {
		t.Fatal(err)
	}
	if len(hp.Mounts) == 0 || hp.Meminfo.HugePagesFree < 4 {
		t.Fatalf("need a hugetlbfs mount and 4 free hugepages (make setup): %+v", hp.Meminfo)
	}
	m := hp.Mounts[0]
	prefix := fmt.Sprintf("gzdtest%d_", os.Getpid())
	pageBytes := int64(m.PageSizeKB) * 1024
	for i := 0; i < 3; i++ {
		p := filepath.Join(m.Path, fmt.Sprintf("%smap_%d", prefix, i))
		t.Cleanup(func() { os.Remove(p) })
		f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		// Any DPDK primary that starts now (another package's test)
		// removes every *map_* file nobody holds a flock on; these are
		// held, as a primary holds its own, until the test ends.
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		if err := f.Truncate(pageBytes); err != nil {
			t.Fatal(err)
		}
		if i < 2 { // the third file is sized but never touched: no page
			b, err := unix.Mmap(int(f.Fd()), 0, int(pageBytes), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
			if err != nil {
				t.Fatal(err)
			}
			b[0] = 1
			unix.Munmap(b)
		}
	}
	groups, err := h.HugepageFiles([]HugetlbfsMount{m})
	if err != nil {
		t.Fatal(err)
	}
	g := HugepageFilesOf(groups, prefix)
	if len(g) != 1 || g[0].Count != 3 || g[0].Bytes != 2*pageBytes {
		t.Fatalf("leftovers of %s = %+v, want 3 files holding %d bytes", prefix, g, 2*pageBytes)
	}
}

// TestHugepageFilesBindMount mounts a real hugetlbfs and bind-mounts it a
// second time, as a container's /dev/hugepages often is: the files seen
// through both mounts are one set of pages and are counted once.
func TestHugepageFilesBindMount(t *testing.T) {
	if os.Geteuid() != 0 {
		if testenv.Required() {
			t.Fatal("mounting hugetlbfs needs root; CI runs as root")
		}
		t.Skip("mounting hugetlbfs needs root")
	}
	root := t.TempDir()
	huge, bind := filepath.Join(root, "mnt/huge"), filepath.Join(root, "dev/hugepages")
	for _, d := range []string{huge, bind, filepath.Join(root, "proc")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := unix.Mount("nodev", huge, "hugetlbfs", 0, "pagesize=2M"); err != nil {
		t.Fatalf("mounting hugetlbfs on %s: %v", huge, err)
	}
	t.Cleanup(func() { unix.Unmount(huge, unix.MNT_DETACH) })
	if err := unix.Mount(huge, bind, "", unix.MS_BIND, ""); err != nil {
		t.Fatalf("bind-mounting %s on %s: %v", huge, bind, err)
	}
	t.Cleanup(func() { unix.Unmount(bind, unix.MNT_DETACH) })
	for i := 0; i < 3; i++ {
		f, err := os.Create(filepath.Join(huge, fmt.Sprintf("deadmap_%d", i)))
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	mounts := "nodev /mnt/huge hugetlbfs rw,relatime,pagesize=2M 0 0\nnodev /dev/hugepages hugetlbfs rw,relatime,pagesize=2M 0 0\n"
	if err := os.WriteFile(filepath.Join(root, "proc/mounts"), []byte(mounts), 0o644); err != nil {
		t.Fatal(err)
	}
	h := New(root)
	ms, err := h.HugetlbfsMounts(2048)
	if err != nil || len(ms) != 2 {
		t.Fatalf("mounts %+v, %v; want both", ms, err)
	}
	groups, err := h.HugepageFiles(ms)
	if err != nil {
		t.Fatal(err)
	}
	g := HugepageFilesOf(groups, "dead")
	if len(g) != 1 || g[0].Count != 3 || g[0].Mount != "/mnt/huge" {
		t.Fatalf("files of prefix dead = %+v, want 3 files once, under /mnt/huge (the bind mount /dev/hugepages shows the same files)", g)
	}
	// The other order of the mounts counts them under the bind mount: still once.
	groups, _ = h.HugepageFiles([]HugetlbfsMount{ms[1], ms[0]})
	if g := HugepageFilesOf(groups, "dead"); len(g) != 1 || g[0].Count != 3 || g[0].Mount != "/dev/hugepages" {
		t.Fatalf("reversed mounts: %+v", g)
	}
}

// TestHugetlbfsRoom: a size= limit is what the capture tool's pool must fit
// under; without one (or with size=N%) the pool's counters say it all.
func TestHugetlbfsRoom(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "huge")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("gazellemap_%d", i)), make([]byte, 2<<20), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	h := New(root)
	for _, tc := range []struct {
		opts          []string
		limited       bool
		limit, free   uint64
		wantErrSubstr string
	}{
		{[]string{"rw", "pagesize=2M", "size=25165824"}, true, 24 << 20, 18 << 20, ""},
		{[]string{"rw", "size=8M"}, true, 8 << 20, 2 << 20, ""},
		{[]string{"rw", "size=4M"}, true, 4 << 20, 0, ""},
		{[]string{"rw", "pagesize=2M"}, false, 0, 0, ""},
		{[]string{"rw", "size=50%"}, false, 0, 0, ""},
		{[]string{"rw", "size=lots"}, false, 0, 0, "size=lots"},
	} {
		limit, free, limited, err := h.HugetlbfsRoom(HugetlbfsMount{Path: "/huge", PageSizeKB: 2048, Options: tc.opts})
		if tc.wantErrSubstr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErrSubstr) {
				t.Errorf("%v: err %v, want one naming %q", tc.opts, err, tc.wantErrSubstr)
			}
			continue
		}
		if err != nil || limited != tc.limited || limit != tc.limit || free != tc.free {
			t.Errorf("%v: limit %d free %d limited %v (%v); want %d %d %v", tc.opts, limit, free, limited, err, tc.limit, tc.free, tc.limited)
		}
	}
}

// TestHugetlbfsRoomLive: live, the kernel's count (statfs) of a real
// hugetlbfs mounted with size=.
func TestHugetlbfsRoomLive(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting hugetlbfs needs root")
	}
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "hugetlbfs", "-o", "size=8M,pagesize=2M", "nodev", mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot mount hugetlbfs: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", mnt).Run() })
	ms, err := New("/").HugetlbfsMounts(0)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := HugeDirMount(ms, mnt)
	if m == nil || m.Path != mnt {
		t.Fatalf("mount %s not listed: %+v", mnt, ms)
	}
	limit, free, limited, err := New("/").HugetlbfsRoom(*m)
	if err != nil || !limited || limit != 8<<20 || free != 8<<20 {
		t.Fatalf("empty mount: limit %d free %d limited %v (%v)", limit, free, limited, err)
	}
	// One page taken: the kernel counts it at once.
	f, err := os.Create(filepath.Join(mnt, "x"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Fallocate(int(f.Fd()), 0, 0, 2<<20); err != nil {
		t.Skipf("no free hugepage to take: %v", err)
	}
	if _, free, _, err := New("/").HugetlbfsRoom(*m); err != nil || free != 6<<20 {
		t.Errorf("one page used: free %d (%v), want %d", free, err, 6<<20)
	}
}
