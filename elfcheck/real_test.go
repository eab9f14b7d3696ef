package elfcheck

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/gzdoctor/gzdoctor/internal/testenv"
)

func needTool(t *testing.T, name string) string {
	t.Helper()
	return testenv.Tool(t, name, "this test builds or checks real ELF files with it")
}

func needFile(t *testing.T, p string) {
	t.Helper()
	testenv.File(t, p, "Debian package dpdk")
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func pkgConfig(t *testing.T, args ...string) []string {
	t.Helper()
	needTool(t, "pkg-config")
	out, err := exec.Command("pkg-config", append(args, "libdpdk")...).Output()
	if err != nil {
		testenv.File(t, "/usr/lib/x86_64-linux-gnu/pkgconfig/libdpdk.pc", fmt.Sprintf("pkg-config %v libdpdk: %v; Debian package dpdk-dev", args, err))
		t.Fatalf("pkg-config %v libdpdk: %v", args, err)
	}
	return strings.Fields(string(out))
}

// srcDir is testdata/elf at the module root.
func srcDir(t *testing.T) string {
	t.Helper()
	d, err := filepath.Abs("../testdata/elf")
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// lddPaths runs ldd (an oracle only: it executes the loader) and returns
// name → path, the interpreter under its base name.
func lddPaths(t *testing.T, file string) map[string]string {
	t.Helper()
	needTool(t, "ldd")
	m := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(run(t, "ldd", file)))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) >= 3 && f[1] == "=>" && f[2] != "not":
			m[f[0]] = f[2]
		case len(f) >= 3 && f[1] == "=>":
			m[f[0]] = ""
		case len(f) == 2 && strings.HasPrefix(f[0], "/"):
			m[filepath.Base(f[0])] = f[0]
		}
	}
	return m
}

// lddtreePaths runs pax-utils' lddtree with Debian's python3.
func lddtreePaths(t *testing.T, file string) map[string]string {
	t.Helper()
	needFile(t, "/usr/bin/lddtree")
	out, err := exec.Command("/usr/bin/python3", "/usr/bin/lddtree", "-a", file).CombinedOutput()
	if err != nil {
		if testenv.Required() {
			t.Fatalf("lddtree: %v\n%s (needs python3-pyelftools)", err, out)
		}
		t.Skipf("lddtree: %v\n%s (needs python3-pyelftools)", err, out)
	}
	m := map[string]string{}
	lines := strings.Split(string(out), "\n")
	if i := strings.Index(lines[0], "(interpreter => "); i >= 0 {
		interp := strings.TrimSuffix(lines[0][i+len("(interpreter => "):], ")")
		m[filepath.Base(interp)] = interp
	}
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) == 3 && f[1] == "=>" {
			if _, ok := m[f[0]]; !ok {
				if f[2] == "None" {
					f[2] = ""
				}
				m[f[0]] = f[2]
			}
		}
	}
	return m
}

func diffMaps(t *testing.T, oracle string, got, want map[string]string) {
	t.Helper()
	var keys []string
	for k := range want {
		keys = append(keys, k)
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		g, w := got[k], want[k]
		if oracle == "lddtree" && g != "" && w != "" { // lddtree normalises paths; ld.so does not
			g, w = filepath.Clean(g), filepath.Clean(w)
		}
		if g != w {
			t.Errorf("%s: elfcheck %q, %s %q", k, got[k], oracle, want[k])
		}
	}
}

func analyze(t *testing.T, file string, opts Options) *Report {
	t.Helper()
	r, err := Analyze(context.Background(), file, opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// buildTreeFixture builds bin/app → lib/liba.so (RPATH $ORIGIN/../lib) → lib/libb.so
// (RUNPATH $ORIGIN) with gcc.
func buildTreeFixture(t *testing.T) string {
	t.Helper()
	needTool(t, "gcc")
	dir := t.TempDir()
	src := filepath.Join(srcDir(t), "tree.c")
	os.MkdirAll(filepath.Join(dir, "lib"), 0o755)
	os.MkdirAll(filepath.Join(dir, "bin"), 0o755)
	run(t, "gcc", "-shared", "-fPIC", "-DLIBB", "-Wl,-soname,libb.so", "-o", filepath.Join(dir, "lib/libb.so"), src)
	run(t, "gcc", "-shared", "-fPIC", "-DLIBA", "-Wl,-soname,liba.so", "-Wl,--enable-new-dtags,-rpath,$ORIGIN", "-o", filepath.Join(dir, "lib/liba.so"), src, "-L"+filepath.Join(dir, "lib"), "-lb")
	run(t, "gcc", "-Wl,--disable-new-dtags,-rpath,$ORIGIN/../lib", "-o", filepath.Join(dir, "bin/app"), src, "-L"+filepath.Join(dir, "lib"), "-la")
	return dir
}

func TestTreeMatchesLddAndLddtree(t *testing.T) {
	dir := buildTreeFixture(t)
	app := filepath.Join(dir, "bin/app")
	r := analyze(t, app, Options{})
	if r.RPath != "$ORIGIN/../lib" || r.RunPath != "" {
		t.Errorf("rpath %q runpath %q", r.RPath, r.RunPath)
	}
	got := paths(r)
	diffMaps(t, "ldd", got, lddPaths(t, app))
	diffMaps(t, "lddtree", got, lddtreePaths(t, app))
	for _, l := range r.Libraries {
		if l.Name == "libb.so" && l.FoundVia != ViaRunPath {
			t.Errorf("libb.so found via %s, want runpath of liba.so", l.FoundVia)
		}
	}
	if len(r.Problems) != 0 {
		t.Errorf("problems %v", r.Problems)
	}
}

func TestDebianBinariesMatchLdd(t *testing.T) {
	for _, bin := range []string{"/usr/bin/dpdk-testpmd", "/usr/bin/dpdk-pdump", "/usr/bin/dpdk-dumpcap"} {
		t.Run(filepath.Base(bin), func(t *testing.T) {
			needFile(t, bin)
			r := analyze(t, bin, Options{})
			got := paths(r)
			diffMaps(t, "ldd", got, lddPaths(t, bin))
			if bin != "/usr/bin/dpdk-testpmd" {
				// lddtree applies the executable's RUNPATH to every
				// library (glibc does not), so testpmd's tree differs.
				diffMaps(t, "lddtree", got, lddtreePaths(t, bin))
			}
			d := r.DPDK
			if d.Linkage != "shared" || d.Release != "22.11" || d.ABI != "23" || !strings.HasPrefix(d.Version, "22.11.") {
				t.Errorf("dpdk %s %s %s %s", d.Linkage, d.Release, d.ABI, d.Version)
			}
			if !strings.HasSuffix(d.PluginDir, "/dpdk/pmds-23.0") || !d.PluginDirUsed || d.PluginFiles == 0 {
				t.Errorf("plugin dir %q used %v files %d", d.PluginDir, d.PluginDirUsed, d.PluginFiles)
			}
			if !d.PcapPMD.Reachable || d.PcapPMD.Via[0] != "plugin-dir" {
				t.Errorf("pcap %+v", d.PcapPMD)
			}
		})
	}
}

// buildLstack links the fake liblstack.so against Debian's librte_*.so.
func buildLstack(t *testing.T, dir string, pcap bool) string {
	t.Helper()
	needTool(t, "gcc")
	cflags := pkgConfig(t, "--cflags")
	out := filepath.Join(dir, "liblstack.so")
	args := append([]string{"-shared", "-fPIC", "-o", out, filepath.Join(srcDir(t), "lstack.c")}, cflags...)
	args = append(args, "-Wl,--no-as-needed", "-lrte_eal", "-lrte_pdump", "-lrte_ethdev", "-lrte_mempool_ring")
	if pcap {
		args = append(args, "-lrte_net_pcap")
	}
	run(t, "gcc", args...)
	return out
}

func TestFakeLstack(t *testing.T) {
	needFile(t, "/usr/lib/x86_64-linux-gnu/librte_eal.so.23")
	for _, pcap := range []bool{true, false} {
		lib := buildLstack(t, t.TempDir(), pcap)
		r := analyze(t, lib, Options{})
		d := r.DPDK
		if !d.Pdump.Referenced || !d.Pdump.Defined || d.Pdump.ReferencedBy[0] != lib {
			t.Errorf("pcap=%v pdump %+v", pcap, d.Pdump)
		}
		wantVia := DriverPluginDir
		if pcap {
			wantVia = DriverNeeded
		}
		if !d.PcapPMD.Reachable || d.PcapPMD.Via[0] != wantVia {
			t.Errorf("pcap=%v: %+v", pcap, d.PcapPMD)
		}
		if d.MempoolOps[0] != "librte_mempool_ring.so.23" {
			t.Errorf("mempool ops %v", d.MempoolOps)
		}
		diffMaps(t, "ldd", paths(r), lddPaths(t, lib))
		res := r.Check(mustReqs(t, "pcap-pmd,pdump,dpdk=22.11,deps"))
		for _, q := range res {
			if !q.Met {
				t.Errorf("pcap=%v: %s unmet: %s", pcap, q.Requirement, q.Reason)
			}
		}
	}
}

func mustReqs(t *testing.T, s string) []Requirement {
	t.Helper()
	r, err := ParseRequirements(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	os.MkdirAll(filepath.Dir(to), 0o755)
	out, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
}

// TestPluginDirUnderRoot builds a sysroot whose plugin directory lacks the
// pcap PMD (the lab's error-3 setup) and then adds it.
func TestPluginDirUnderRoot(t *testing.T) {
	const libdir = "/usr/lib/x86_64-linux-gnu"
	const pmds = libdir + "/dpdk/pmds-23.0"
	needFile(t, libdir+"/librte_eal.so.23")
	needFile(t, pmds+"/librte_net_pcap.so.23.0")
	root := t.TempDir()
	lib := buildLstack(t, t.TempDir(), false)
	copyFile(t, lib, filepath.Join(root, "/usr/lib64/liblstack.so"))
	for _, n := range []string{"librte_eal.so.23", "librte_pdump.so.23"} {
		copyFile(t, filepath.Join(libdir, n), filepath.Join(root, libdir, n))
	}
	copyFile(t, pmds+"/librte_net_null.so.23.0", filepath.Join(root, pmds, "librte_net_null.so.23.0"))
	os.Symlink("librte_net_null.so.23.0", filepath.Join(root, pmds, "librte_net_null.so"))

	r := analyze(t, "/usr/lib64/liblstack.so", Options{Root: root})
	if r.DPDK.PcapPMD.Reachable || r.DPDK.PluginDir != pmds || r.DPDK.PluginFiles != 2 {
		t.Errorf("without pcap: %+v plugin %q files %d", r.DPDK.PcapPMD, r.DPDK.PluginDir, r.DPDK.PluginFiles)
	}
	if len(r.Missing) == 0 {
		t.Errorf("expected missing libraries in the sparse root")
	}
	res := r.Check(mustReqs(t, "pcap-pmd,dpdk=22.11,deps"))
	if res[0].Met || !res[1].Met || res[2].Met {
		t.Errorf("requirements %+v", res)
	}

	// -d naming the PMD makes it reachable without the plugin dir.
	r = analyze(t, "/usr/lib64/liblstack.so", Options{Root: root, EALArgs: []string{"-l", "0", "-d", pmds + "/librte_net_pcap.so"}})
	if !r.DPDK.PcapPMD.Reachable || r.DPDK.PcapPMD.Via[0] != "eal-arg" {
		t.Errorf("with -d: %+v", r.DPDK.PcapPMD)
	}

	copyFile(t, pmds+"/librte_net_pcap.so.23.0", filepath.Join(root, pmds, "librte_net_pcap.so.23.0"))
	os.Symlink("librte_net_pcap.so.23.0", filepath.Join(root, pmds, "librte_net_pcap.so"))
	r = analyze(t, "/usr/lib64/liblstack.so", Options{Root: root})
	if !r.DPDK.PcapPMD.Reachable || r.DPDK.PcapPMD.Where[0] != pmds+"/librte_net_pcap.so" {
		t.Errorf("with pcap in plugin dir: %+v", r.DPDK.PcapPMD)
	}
}

// buildStatic links primary.c with DPDK's static archives. Debian's full
// `pkg-config --static --libs libdpdk` needs -dev packages of every driver
// dependency (libsystemd, rdma-core, libisal…), so the tests link the
// archives a lab primary needs, drivers inside --whole-archive.
func buildStatic(t *testing.T, dir, name string, drivers ...string) string {
	t.Helper()
	needTool(t, "gcc")
	needFile(t, "/usr/lib/x86_64-linux-gnu/librte_eal.a")
	out := filepath.Join(dir, name)
	args := append([]string{"-O1", "-o", out, filepath.Join(srcDir(t), "primary.c")}, pkgConfig(t, "--cflags")...)
	args = append(args, "-Wl,--whole-archive")
	for _, d := range drivers {
		args = append(args, "-l:librte_"+d+".a")
	}
	args = append(args, "-Wl,--no-whole-archive")
	for _, l := range []string{"pdump", "pcapng", "bpf", "ethdev", "meter", "net", "mbuf", "mempool", "rcu", "ring", "pci", "eal", "telemetry", "kvargs"} {
		args = append(args, "-l:librte_"+l+".a")
	}
	args = append(args, "-lpcap", "-lelf", "-lnuma", "-lfdt", "-lbsd", "-lm", "-ldl", "-pthread", "-latomic")
	cmd := exec.Command("gcc", args...)
	if b, err := cmd.CombinedOutput(); err != nil {
		if testenv.Required() {
			t.Fatalf("static DPDK link failed (dpdk-dev pulls in the -dev packages it needs): %v\n%s", err, b)
		}
		t.Skipf("static DPDK link not possible here: %v\n%s", err, b)
	}
	return out
}

func TestStaticDPDK(t *testing.T) {
	dir := t.TempDir()
	with := buildStatic(t, dir, "static-pcap", "bus_pci", "bus_vdev", "mempool_ring", "net_null", "net_pcap")
	without := buildStatic(t, dir, "static-nopcap", "bus_pci", "bus_vdev", "mempool_ring", "net_null")
	for _, tc := range []struct {
		file string
		pcap bool
	}{{with, true}, {without, false}} {
		r := analyze(t, tc.file, Options{})
		d := r.DPDK
		if d.Linkage != "static" || !strings.HasPrefix(d.Version, "22.11.") || d.ABI != "23" || d.PluginDirUsed {
			t.Errorf("%s: linkage %s version %s abi %s plugin used %v", tc.file, d.Linkage, d.Version, d.ABI, d.PluginDirUsed)
		}
		if d.PcapPMD.Reachable != tc.pcap {
			t.Errorf("%s: pcap %+v", tc.file, d.PcapPMD)
		}
		if !hasDriver(d.Drivers, "net_null") {
			t.Errorf("%s: drivers %v", tc.file, d.Drivers)
		}
		if !d.Pdump.Defined {
			t.Errorf("%s: pdump %+v", tc.file, d.Pdump)
		}
	}
	// rpm strips ltran and lstack: no symbol of DPDK is left, but the PMD
	// info strings, the plugin path, EAL's messages and the tailq names
	// are. The version then comes from the plugin directory's ABI.
	for _, tc := range []struct {
		file string
		pcap bool
	}{{with, true}, {without, false}} {
		stripped := tc.file + ".stripped"
		run(t, "strip", "-o", stripped, tc.file)
		if out := run(t, "readelf", "-S", stripped); strings.Contains(out, ".symtab") {
			t.Fatalf("strip left .symtab in %s", stripped)
		}
		r := analyze(t, stripped, Options{})
		d := r.DPDK
		if d.Linkage != "static" || d.Release != "22.11" || d.ABI != "23" || len(d.StaticIn) != 1 {
			t.Errorf("%s: linkage %q release %q abi %q static in %v; want static 22.11 (ABI 23)", stripped, d.Linkage, d.Release, d.ABI, d.StaticIn)
		}
		if d.PcapPMD.Reachable != tc.pcap || (tc.pcap && d.PcapPMD.Via[0] != "static") {
			t.Errorf("%s: pcap %+v, want reachable=%v via static", stripped, d.PcapPMD, tc.pcap)
		}
		if !hasDriver(d.Drivers, "net_null") {
			t.Errorf("%s: drivers %v", stripped, d.Drivers)
		}
		if !d.Pdump.Defined {
			t.Errorf("%s: pdump %+v: librte_pdump is linked in", stripped, d.Pdump)
		}
		if !d.TailqsFromNames || !slices.Contains(d.Tailqs, "ring") || !slices.Contains(d.Tailqs, "bus_pci") {
			t.Errorf("%s: tailqs %v (from names %v)", stripped, d.Tailqs, d.TailqsFromNames)
		}
		if !strings.Contains(strings.Join(d.Warnings, "\n"), "statically and stripped: found by 2 PMD_INFO_STRING") && tc.pcap {
			t.Errorf("%s: warnings %v do not say how DPDK was found", stripped, d.Warnings)
		}
	}
	// A program without DPDK stays without DPDK.
	plain := filepath.Join(dir, "plain")
	run(t, "gcc", "-static", "-DLIBA", "-DLIBB", "-nostartfiles", "-Wl,-e,b", "-o", plain, filepath.Join(srcDir(t), "tree.c"))
	run(t, "strip", plain)
	if r := analyze(t, plain, Options{}); r.DPDK.Linkage != "none" {
		t.Errorf("a stripped program without DPDK: linkage %s", r.DPDK.Linkage)
	}
}

func TestMatchVerdicts(t *testing.T) {
	needFile(t, "/usr/bin/dpdk-pdump")
	needFile(t, "/usr/bin/dpdk-testpmd")
	needTool(t, "gcc")
	dir := t.TempDir()
	lab := filepath.Join(dir, "primary")
	args := append([]string{"-o", lab, filepath.Join(srcDir(t), "primary.c")}, pkgConfig(t, "--cflags", "--libs")...)
	run(t, "gcc", args...)
	pdump := analyze(t, "/usr/bin/dpdk-pdump", Options{})

	m := Compare(analyze(t, lab, Options{}), pdump)
	if !m.Compatible {
		t.Errorf("lab-like primary vs dpdk-pdump: %+v", m.Differences)
	}
	// testpmd NEEDs librte_mempool_dpaa: its ops table is ordered
	// differently and the index of pdump's pool (ring_mp_mc) is another
	// driver in it (dpaa2 on the lab, as the primary's flood says).
	m = Compare(analyze(t, "/usr/bin/dpdk-testpmd", Options{}), pdump)
	if m.Compatible || !hasDiff(m, "mempool-ops", "in the primary index") {
		t.Errorf("testpmd vs dpdk-pdump: %+v", m.Differences)
	}
	// liblstack.so NEEDs librte_mempool_ring, so the ring ops come first
	// in the primary; pdump still captures (lab TestKinds): whatever is at
	// pdump's index in the primary is a ring variant, never a failure.
	lstack := buildLstack(t, dir, true)
	m = Compare(analyze(t, lstack, Options{}), pdump)
	if !m.Compatible {
		t.Errorf("liblstack-like vs dpdk-pdump: %+v", m.Differences)
	}
	for _, d := range m.Differences {
		if d.ID == "mempool-ops" && !strings.Contains(d.Compared, "ring_mp_mc") {
			t.Errorf("the mempool-ops difference does not say what was compared: %+v", d)
		}
	}
	// A static primary without the PCI bus: the shared dpdk-pdump loads
	// librte_bus_pci from the plugin dir and registers UIO_RESOURCE_LIST.
	small := buildStatic(t, dir, "static-small", "bus_vdev", "mempool_ring", "net_null", "net_pcap")
	m = Compare(analyze(t, small, Options{}), pdump)
	if m.Compatible || !hasDiff(m, "tailqs", "bus_pci") {
		t.Errorf("static small primary vs dpdk-pdump: %+v", m.Differences)
	}
	// Stripped, the same verdict from the tailq names left in its data.
	run(t, "strip", small)
	m = Compare(analyze(t, small, Options{}), pdump)
	if m.Compatible || !hasDiff(m, "tailqs", "bus_pci") {
		t.Errorf("stripped static small primary vs dpdk-pdump: %+v", m.Differences)
	}
}

func hasDiff(m *Match, id, text string) bool {
	for _, d := range m.Differences {
		if d.ID == id && d.Severity == "fail" && strings.Contains(d.Message, text) {
			return true
		}
	}
	return false
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeFile(t *testing.T, p string, b []byte) {
	t.Helper()
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
