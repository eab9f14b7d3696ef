package doctor

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gzdoctor/gzdoctor/host"
	"github.com/gzdoctor/gzdoctor/internal/lab"
	"github.com/gzdoctor/gzdoctor/internal/shquote"
	"github.com/gzdoctor/gzdoctor/internal/testenv"
)

// Runtime-dir names are whatever a --file-prefix said (DPDK refuses only
// "%"), and /tmp/dpdk is a base any local user can create: each of these
// must reach a printed command as one word that names itself.
var (
	// staleNames get a dead primary's dir (config, no lock) and hugepage
	// files; "x *map_9" is also a prefix whose files "x *"'s glob would
	// match.
	staleNames = []string{"x *", "$(touch PWNED)", "a'b", "new\nline", "x *map_9", "-x"}
	// debrisNames get an empty dir (a failed capture tool's).
	debrisNames = []string{"-rf", "`touch PWNED`", "*", "~root"}
	// fullDebris is a debris dir with a file in it (the fuser branch).
	fullDebris = "y;touch PWNED;"
	// otherStale is a dead primary's dir another user (uid 1000) owns.
	otherStale = "other user's"
)

const hugeMount = "/mnt/hugepages-lstack"

// hostileTree is chk-healthy-2211 (a live primary, gazelle) with the
// hostile leftovers added: built at test time, since git and many tools
// handle such names badly.
func hostileTree(t *testing.T) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "root")
	if out, err := exec.Command("cp", "-a", filepath.Join(fixtures, "chk-healthy-2211"), root).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, out)
	}
	rt := filepath.Join(root, "var/run/dpdk")
	huge := filepath.Join(root, hugeMount)
	write := func(p string) {
		if err := os.WriteFile(p, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	mkdir := func(p string) {
		if err := os.Mkdir(p, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range append(slices.Clone(staleNames), otherStale) {
		mkdir(filepath.Join(rt, n))
		for _, f := range []string{"config", "hugepage_info", "fbarray_memzone"} {
			write(filepath.Join(rt, n, f))
		}
		for _, f := range []string{"map_0", "map_1", "map_12"} {
			write(filepath.Join(huge, n+f))
		}
	}
	for _, n := range debrisNames {
		mkdir(filepath.Join(rt, n))
	}
	mkdir(filepath.Join(rt, fullDebris))
	write(filepath.Join(rt, fullDebris, "mp_socket_77_1234"))
	if os.Getuid() == 0 {
		for _, p := range []string{filepath.Join(rt, otherStale), filepath.Join(rt, otherStale, "config")} {
			if err := os.Lchown(p, 1000, 1000); err != nil {
				t.Fatal(err)
			}
		}
	}
	return root
}

func hostileReport(t *testing.T, tree string) Report {
	t.Helper()
	rep, err := Run(context.Background(), NewEnv(Config{Host: host.New(tree), User: root, Env: []string{"PATH=/usr/bin:/bin"}}), Options{})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func allCommands(rep Report) []string {
	var out []string
	for _, r := range rep.Results {
		if r.Fix != nil {
			out = append(out, r.Fix.Commands...)
		}
	}
	return out
}

// recorder is bash that runs a command with every program it would run
// recorded instead (PATH leads nowhere: command_not_found_handle records
// it) and the builtins that act shadowed likewise, in a directory of
// decoys. fuser answers 1 ("nobody uses them"), so the guarded removal
// runs too. An injected $(touch PWNED) is then a recorded touch.
const recorder = `
rec() { { builtin printf '%s\0' "$@"; builtin printf '\1'; } >> "$GZ_LOG"; }
command_not_found_handle() { rec "$@"; [ "$1" != fuser ]; }
for b in echo printf kill ulimit cd exec source . trap read enable set unset export alias; do
	eval "$b() { rec $b \"\$@\"; [ $b != kill ]; }"
done
PATH=/nonexistent
`

// recordCalls runs cmd under the recorder in a fresh directory of decoys
// and returns the calls it made; it fails the test if a decoy changed.
func recordCalls(t *testing.T, cmd string) [][]string {
	t.Helper()
	dir := t.TempDir()
	decoys := decoyDir(t, dir)
	log := filepath.Join(t.TempDir(), "log")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := exec.CommandContext(ctx, "/bin/bash", "-c", recorder+cmd)
	c.Dir, c.Env = decoys, []string{"GZ_LOG=" + log, "PATH=/usr/bin:/bin"}
	out, _ := c.CombinedOutput()
	checkDecoys(t, decoys, cmd)
	b, err := os.ReadFile(log)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var calls [][]string
	for _, rec := range strings.Split(string(b), "\x01") {
		if rec == "" {
			continue
		}
		calls = append(calls, strings.Split(strings.TrimSuffix(rec, "\x00"), "\x00"))
	}
	for _, c := range calls {
		if c[0] == "touch" { // every payload in these names runs touch
			t.Errorf("%q ran %q (bash said %s)", cmd, c, out)
		}
	}
	return calls
}

var decoyNames = []string{"important1", "important2", "keepdir", "-rf", "x", "a", "new", "line", "PWNED.not"}

// decoyDir fills dir with files and a directory a word split or an
// unquoted * would reach.
func decoyDir(t *testing.T, dir string) string {
	t.Helper()
	for _, n := range decoyNames {
		p := filepath.Join(dir, n)
		if n == "keepdir" {
			if err := os.Mkdir(p, 0o755); err != nil {
				t.Fatal(err)
			}
			p = filepath.Join(p, "inner")
		}
		if err := os.WriteFile(p, []byte(n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func checkDecoys(t *testing.T, dir, cmd string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	want := slices.Clone(decoyNames)
	sort.Strings(want)
	if strings.Join(names, "|") != strings.Join(want, "|") {
		t.Errorf("%q changed the working directory: %q, want %q", cmd, names, want)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "keepdir", "inner")); err != nil || string(b) != "keepdir" {
		t.Errorf("%q touched keepdir/inner: %v", cmd, err)
	}
}

// TestFixCommandsQuoteHostileNames: every removal builder, for every
// hostile name, prints a command whose programs get exactly the intended
// paths (bash as the oracle, nothing run), as the caller, as root for a
// root-owned dir, and as the owner under another user's base.
func TestFixCommandsQuoteHostileNames(t *testing.T) {
	tree := hostileTree(t)
	env := NewEnv(Config{Host: host.New(tree), User: root, Env: []string{}})
	rt, err := env.Runtime(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]host.Prefix{}
	for _, p := range rt.Prefixes {
		byName[p.Name] = p
	}
	glob := func(n string) string { return hugeMount + "/" + n + "map_*" }
	digits := func(n string) []string {
		return []string{hugeMount + "/" + n + "map_[0-9]", hugeMount + "/" + n + "map_[0-9][0-9]"}
	}
	type tc struct {
		name string
		cmd  string
		want [][]string
	}
	var cases []tc
	for _, n := range staleNames {
		p, ok := byName[n]
		if !ok {
			t.Fatalf("the scan did not find %q", n)
		}
		huge := []string{glob(n)}
		if n == "x *" {
			huge = digits(n) // "x *map_9" shares the name
		}
		cases = append(cases, tc{"cleanup " + n, cleanupCommand(env, p), [][]string{
			append([]string{"fuser", "-s", p.Dir + "/*"}, huge...),
			append([]string{"rm", "-rf", p.Dir}, huge...),
		}})
		cases = append(cases, tc{"hugepages " + n, env.hugepageFix([]host.HugepageFiles{{Mount: hugeMount, Prefix: n}}, nil, "", "").Commands[0], [][]string{
			append([]string{"fuser", "-s"}, huge...),
			append([]string{"rm", "-f"}, huge...),
		}})
	}
	for _, n := range debrisNames {
		p := byName[n]
		cases = append(cases, tc{"debris " + n, env.debrisCommand(p), [][]string{{"rmdir", p.Dir}}})
	}
	p := byName[fullDebris]
	cases = append(cases, tc{"debris with files", env.debrisCommand(p), [][]string{{"fuser", "-s", p.Dir + "/*"}, {"rm", "-rf", p.Dir}}})
	cases = append(cases,
		tc{"mount", strings.Join(mountFix("/mnt/x *;touch PWNED").Commands, "; "), [][]string{{"mkdir", "-p", "/mnt/x *;touch PWNED"}, {"mount", "-t", "hugetlbfs", "nodev", "/mnt/x *;touch PWNED"}}},
		tc{"restart", restartLine(&host.Process{UID: os.Getuid(), Exe: "/usr/bin/a b", Cmdline: []string{"a b", "$(touch PWNED)", "x *"}, Env: map[string]string{"LD_PRELOAD": "/l/x *.so"}}),
			[][]string{{"env", "LD_PRELOAD=/l/x *.so", "/usr/bin/a b", "$(touch PWNED)", "x *"}}},
		tc{"restart argv0 X=1", restartLine(&host.Process{UID: os.Getuid(), Cmdline: []string{"X=1", "touch", "PWNED"}}),
			[][]string{{"X=1", "touch", "PWNED"}}},
		tc{"restart argv0 X=1 with env", restartLine(&host.Process{UID: os.Getuid(), Cmdline: []string{"X=1", "touch", "PWNED"}, Env: map[string]string{"A": "1"}}), nil},
		tc{"restart another user's", restartLine(&host.Process{UID: 4321, Cmdline: []string{"/usr/bin/app", "x *"}}),
			[][]string{{"sudo", "-u", "#4321", "/usr/bin/app", "x *"}}},
		tc{"sysctl of a VLAN", shquote.Join([]string{"sysctl", "-w", sysctlKey("eth0.100") + "=1"}), [][]string{{"sysctl", "-w", "net.ipv4.conf.eth0/100.rp_filter=1"}}},
	)
	if os.Getuid() == 0 {
		p := byName[otherStale]
		cmd := cleanupCommand(env, p)
		args, err := shquote.Split(cmd)
		if err != nil || len(args) != 6 || strings.Join(args[:5], " ") != "sudo -u #1000 sh -c" {
			t.Fatalf("another user's dir: %q is not run as its owner (%q, %v)", cmd, args, err)
		}
		cases = append(cases, tc{"another user's dir, as its owner", args[5], [][]string{
			{"fuser", "-s", p.Dir + "/*", glob(otherStale)},
			{"rm", "-rf", p.Dir, glob(otherStale)},
		}})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := recordCalls(t, c.cmd)
			if !slices.EqualFunc(got, c.want, slices.Equal) {
				t.Errorf("%s\nran   %q\nwant  %q", c.cmd, got, c.want)
			}
		})
	}
}

// TestHostileNamesEveryCommand runs check on the hostile tree and every
// command any check prints under the recorder: no decoy touched, nothing
// injected, and each simple command (no ;, &&, |) makes exactly the one
// call its words say.
func TestHostileNamesEveryCommand(t *testing.T) {
	tree := hostileTree(t)
	rep := hostileReport(t, tree)
	cmds := allCommands(rep)
	if len(cmds) < len(staleNames)+len(debrisNames) {
		t.Fatalf("only %d commands:\n%s", len(cmds), dump(rep))
	}
	for _, cmd := range cmds {
		calls := recordCalls(t, cmd)
		if strings.ContainsAny(cmd, ";&|<>") {
			continue
		}
		args, err := shquote.Split(cmd)
		if err != nil {
			t.Errorf("%q does not split: %v", cmd, err)
			continue
		}
		if len(calls) != 1 || !slices.Equal(calls[0], args) {
			t.Errorf("%q made the calls %q, want one: %q", cmd, calls, args)
		}
	}
	if t.Failed() {
		t.Log(dump(rep))
	}
}

// forReal runs cmd with bash for real in a private mount namespace where
// the tree's runtime base and hugetlbfs mount stand at the machine's
// paths (nobody else sees them), in a directory of decoys, with rm,
// rmdir and fuser recorded on their way to the real programs (sudo runs
// its sh -c as root). It returns the calls.
const forRealSetup = `
set -e
mount --bind "$TREE/var/run/dpdk" "$(readlink -f /var/run/dpdk)"
mount -t tmpfs none /mnt
mkdir -p /mnt/hugepages-lstack
mount --bind "$TREE/mnt/hugepages-lstack" /mnt/hugepages-lstack
set +e
rec() { { printf '%s\0' "$@"; printf '\1'; } >> "$GZ_LOG"; }
rm() { rec rm "$@"; command rm "$@"; }
rmdir() { rec rmdir "$@"; command rmdir "$@"; }
fuser() { rec fuser "$@"; command fuser "$@"; }
sudo() { rec sudo "$@"; while [ "$#" -gt 0 ] && [ "$1" != -c ]; do shift; done; bash -c "$2"; }
export -f rec rm rmdir fuser sudo
cd "$DECOYS"
bash -c "$GZ_CMD"
`

// TestHostileNamesRemovalForReal pastes each removal command check prints
// for the hostile tree, for real: each removes exactly its own prefix's
// dir and hugepage files (never "x *map_9"'s for "x *", never the live
// gazelle's), nothing in the working directory, and runs nothing injected.
func TestHostileNamesRemovalForReal(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root: a private mount namespace")
	}
	testenv.Tool(t, "fuser", "psmisc, lab/packages.txt")
	tree := hostileTree(t)
	rep := hostileReport(t, tree)
	rd := mustResult(t, rep, "runtime-dir")
	if rd.Fix == nil {
		t.Fatalf("runtime-dir has no fix:\n%s", dump(rep))
	}
	removed := map[string]bool{}
	for _, cmd := range rd.Fix.Commands {
		before := treeFiles(t, tree)
		decoys := decoyDir(t, t.TempDir())
		log := filepath.Join(t.TempDir(), "log")
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		c := exec.CommandContext(ctx, "unshare", "-m", "--propagation", "private", "bash", "-c", forRealSetup)
		c.Env = append(os.Environ(), "TREE="+tree, "DECOYS="+decoys, "GZ_LOG="+log, "GZ_CMD="+cmd)
		out, err := c.CombinedOutput()
		cancel()
		if err != nil {
			t.Logf("%q: %v: %s", cmd, err, out)
		}
		checkDecoys(t, decoys, cmd)
		after := treeFiles(t, tree)
		var gone []string
		for f := range before {
			if !after[f] {
				gone = append(gone, f)
			}
		}
		sort.Strings(gone)
		// Whose command it is: the one dir it removed.
		var prefix string
		for _, f := range gone {
			if d, ok := strings.CutPrefix(f, "/var/run/dpdk/"); ok && !strings.Contains(d, "/") {
				if prefix != "" && prefix != d {
					t.Errorf("%q removed more than one runtime dir: %q", cmd, gone)
					break
				}
				prefix = d
			}
		}
		if prefix == "" {
			t.Errorf("%q removed no runtime dir (%s): %q", cmd, out, gone)
			continue
		}
		removed[prefix] = true
		var want []string
		for f := range before {
			if f == "/var/run/dpdk/"+prefix || strings.HasPrefix(f, "/var/run/dpdk/"+prefix+"/") {
				want = append(want, f)
			}
			if n, ok := strings.CutPrefix(f, hugeMount+"/"+prefix+"map_"); ok && strings.Trim(n, "0123456789") == "" {
				want = append(want, f)
			}
		}
		sort.Strings(want)
		if !slices.Equal(gone, want) {
			t.Errorf("%q removed %q, want %q", cmd, gone, want)
		}
		if _, err := os.Stat(filepath.Join(decoys, "PWNED")); err == nil {
			t.Errorf("%q ran the name's code", cmd)
		}
	}
	for _, n := range append(append(append([]string{}, staleNames...), debrisNames...), fullDebris, otherStale) {
		if !removed[n] {
			t.Errorf("no command removed %q", n)
		}
	}
	if !treeFiles(t, tree)["/var/run/dpdk/gazelle/config"] || !treeFiles(t, tree)[hugeMount+"/gazellemap_0"] {
		t.Error("the live primary's files were removed")
	}
}

// treeFiles lists the tree's runtime base and hugetlbfs mount, as the
// machine's paths.
func treeFiles(t *testing.T, tree string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, top := range []string{"/var/run/dpdk", hugeMount} {
		err := filepath.WalkDir(filepath.Join(tree, top), func(p string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(tree, p)
			if "/"+rel != top {
				out["/"+rel] = true
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestLabHostilePrefixCleanup: a real primary whose --file-prefix is shell
// code (DPDK takes it), killed. check's cleanup for it, run by the
// recorder first, names only that prefix's own files; pasted for real
// among decoys it removes exactly its runtime dir and hugepage files and
// runs nothing of the name.
func TestLabHostilePrefixCleanup(t *testing.T) {
	prefix := fmt.Sprintf("gzq%d x *$(touch PWNED)'", os.Getpid())
	p := lab.StartT(t, lab.Config{Prefix: prefix})
	if err := p.Kill(); err != nil {
		t.Fatal(err)
	}
	files := lab.HugepageFiles(p.Prefix)
	if len(files) == 0 {
		t.Fatal("the killed primary left no hugepage files")
	}
	p.ReleaseHugepages() // else fuser sees this test holding them
	rep := liveRun(t, Config{Prefix: p.Prefix}, "runtime-dir")
	var cleanup string
	if r := mustResult(t, rep, "runtime-dir"); r.Fix != nil {
		for _, c := range r.Fix.Commands {
			if strings.Contains(c, shquote.Quote(p.RuntimeDir)) {
				cleanup = c
			}
		}
	}
	if cleanup == "" {
		t.Fatalf("no cleanup names %s\n%s", shquote.Quote(p.RuntimeDir), dump(rep))
	}
	own := func(a string) bool {
		return a == p.RuntimeDir || strings.HasPrefix(a, p.RuntimeDir+"/") || slices.Contains(files, a) ||
			strings.HasSuffix(a, "/"+p.Prefix+"map_*") // a mount without its files: the pattern stays
	}
	calls := recordCalls(t, cleanup)
	if len(calls) != 2 || calls[0][0] != "fuser" || calls[1][0] != "rm" || !slices.Contains(calls[1], p.RuntimeDir) {
		t.Fatalf("%s made the calls %q", cleanup, calls)
	}
	for _, c := range calls {
		for _, a := range c[2:] {
			if !own(a) {
				t.Fatalf("%s: %s names %q, not the prefix's own", cleanup, c[0], a)
			}
		}
	}
	decoys := decoyDir(t, t.TempDir())
	sh := exec.Command("/bin/bash", "-c", cleanup)
	sh.Dir = decoys
	if out, err := sh.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v %s", cleanup, err, out)
	}
	checkDecoys(t, decoys, cleanup)
	if _, err := os.Stat(p.RuntimeDir); !os.IsNotExist(err) {
		t.Errorf("%s remains: %v", p.RuntimeDir, err)
	}
	if left := lab.HugepageFiles(p.Prefix); len(left) > 0 {
		t.Errorf("hugepage files remain: %q", left)
	}
}

// TestReserveNeverLowers: the hugepages fix sets the pool to what it is
// plus what a capture lacks, never to a fixed count below a pool the
// operator made larger (echo 1024 once shrank a 4096-page pool).
func TestReserveNeverLowers(t *testing.T) {
	for _, tc := range []struct {
		nr, free uint64 // pages of 2 MiB
		want     string
	}{
		{4096, 0, "echo 4176 > /proc/sys/vm/nr_hugepages"},
		{0, 0, "echo 80 > /proc/sys/vm/nr_hugepages"},
		{1024, 10, "echo 1094 > /proc/sys/vm/nr_hugepages"},
		{1024, 80, ""},
	} {
		hp := &host.Hugepages{Meminfo: &host.Meminfo{HugePagesTotal: tc.nr, HugepagesizeKB: 2048}, Sizes: []host.HugepageSize{{SizeKB: 2048, Nr: tc.nr, Free: tc.free}}}
		if got := reserveCommand(hp, pdumpNeedBytes, tc.free*2<<20); got != tc.want {
			t.Errorf("pool %d, %d free: %q, want %q", tc.nr, tc.free, got, tc.want)
		}
	}
	if got := reserveCommand(&host.Hugepages{}, pdumpNeedBytes, 0); got != "" {
		t.Errorf("unknown pool: %q", got)
	}
}

// TestAddressSpaceNeverLowersMapCount: a primary under a ulimit -v, on a
// machine whose vm.max_map_count was raised: the fix lifts the limit and
// leaves the count alone (it once printed sysctl -w vm.max_map_count=65530
// for any problem, lowering a raised count).
func TestAddressSpaceNeverLowersMapCount(t *testing.T) {
	tree := filepath.Join(t.TempDir(), "root")
	if out, err := exec.Command("cp", "-a", filepath.Join(fixtures, "chk-limits"), tree).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, out)
	}
	if err := os.WriteFile(filepath.Join(tree, "proc/sys/vm/max_map_count"), []byte("262144\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err := Run(context.Background(), NewEnv(Config{Host: host.New(tree), User: root, Env: []string{}}), Options{Only: []string{"address-space"}})
	if err != nil {
		t.Fatal(err)
	}
	r := mustResult(t, rep, "address-space")
	if r.Status != Warn || r.Fix == nil || !slices.Equal(r.Fix.Commands, []string{"ulimit -v unlimited"}) {
		t.Errorf("%s %q, fix %+v: want a warning whose one command is ulimit -v unlimited", r.Status, r.Finding, r.Fix)
	}
}
