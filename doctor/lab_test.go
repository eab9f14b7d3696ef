package doctor

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gzdoctor/gzdoctor/host"
	"github.com/gzdoctor/gzdoctor/internal/lab"
	"github.com/gzdoctor/gzdoctor/internal/testenv"
)

// One healthy lab primary serves every live test that does not need a
// broken one: starting DPDK is the slow part of these tests.
var shared struct {
	once sync.Once
	p    *lab.Primary
	err  error
}

func healthyPrimary(t *testing.T) *lab.Primary {
	t.Helper()
	lab.Require(t)
	shared.once.Do(func() { shared.p, shared.err = lab.Start(context.Background(), lab.Config{}) })
	if shared.err != nil {
		t.Fatalf("starting the shared lab primary: %v", shared.err)
	}
	return shared.p
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.p != nil {
		if err := shared.p.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "stopping the shared lab primary: %v\n", err)
		}
		shared.p.Cleanup()
	}
	os.Exit(code)
}

// liveRun runs the checks against the live machine as this process's user.
func liveRun(t *testing.T, cfg Config, only ...string) Report {
	t.Helper()
	cfg.Host = host.New("/")
	// A generous timeout: on the 2-core lab, busy-polling primaries of other
	// test packages can starve a primary's telemetry thread; these tests are
	// about findings, the benchmark is about speed.
	rep, err := Run(context.Background(), NewEnv(cfg), Options{Only: only, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func mustResult(t *testing.T, rep Report, id string) Result {
	t.Helper()
	r, ok := rep.Result(id)
	if !ok {
		t.Fatalf("no result for %s", id)
	}
	return r
}

func dump(rep Report) string {
	var b strings.Builder
	for _, r := range rep.Results {
		fmt.Fprintf(&b, "  %s %s: %s\n", r.Status, r.ID, r.Finding)
		if r.Fix != nil {
			fmt.Fprintf(&b, "      fix: %s %v\n", r.Fix.Text, r.Fix.Commands)
		}
		for _, d := range r.Details {
			fmt.Fprintf(&b, "      %s\n", d)
		}
	}
	return b.String()
}

// machineWide checks look at the whole machine, where other test packages'
// primaries come and go; they may warn but never fail here. The gazelle-*
// checks judge the machine's Gazelle: any package's lstack- or ltran-shaped
// lab primary is one to them (gazelle-sockets once warned here about
// another test's ltran-like primary, which binds no ltran_cmd.sock).
var machineWide = map[string]bool{"runtime-dir": true, "hugepages": true, "aslr": true, "address-space": true,
	"gazelle-hugepages": true, "gazelle-settings": true, "gazelle-devices": true, "gazelle-kernel": true,
	"gazelle-ltran": true, "gazelle-sockets": true}

func TestLabHealthy(t *testing.T) {
	p := healthyPrimary(t)
	rep := liveRun(t, Config{Prefix: p.Prefix, Device: p.Device})
	for _, r := range rep.Results {
		switch {
		case r.Status == Fail || r.Status == Error:
			t.Errorf("%s: %s %s", r.ID, r.Status, r.Finding)
		case r.Status == Warn && !machineWide[r.ID]:
			t.Errorf("%s: warn %s", r.ID, r.Finding)
		}
	}
	for _, id := range []string{"prefix", "primary", "device", "pcap-pmd", "pdump", "permissions", "namespaces"} {
		if r := mustResult(t, rep, id); r.Status != OK {
			t.Errorf("%s: %s, want ok", id, r.Status)
		}
	}
	if r := mustResult(t, rep, "primary"); !strings.Contains(r.Finding, fmt.Sprintf("pid %d", p.Pid)) || !strings.Contains(r.Finding, p.Device) {
		t.Errorf("primary finding %q lacks pid %d or port %s", r.Finding, p.Pid, p.Device)
	}
	if r := mustResult(t, rep, "pdump"); !strings.Contains(r.Finding, "rte_pdump_stats") {
		t.Errorf("pdump finding %q does not cite the memzone", r.Finding)
	}
	if rep.Target.PrimaryPID != p.Pid || rep.Target.Prefix != p.Prefix {
		t.Errorf("target %+v, want pid %d prefix %s", rep.Target, p.Pid, p.Prefix)
	}
	if t.Failed() {
		t.Log("\n" + dump(rep))
	}
}

func TestLabWrongPrefix(t *testing.T) {
	p := healthyPrimary(t)
	rep := liveRun(t, Config{Prefix: "gzdoctor_no_such_prefix"}, "prefix", "primary")
	r := mustResult(t, rep, "prefix")
	// Other test packages' primaries may crowd the finding: -v lists all.
	if r.Status != Fail || !strings.Contains(r.Finding+strings.Join(r.Details, "\n"), p.Prefix) {
		t.Errorf("prefix: %s %q; want a failure naming %s\n%s", r.Status, r.Finding, p.Prefix, dump(rep))
	}
	if r.Fix == nil || !strings.Contains(strings.Join(r.Fix.Commands, "\n")+r.Fix.Text, "--file-prefix") {
		t.Errorf("prefix fix %+v does not give the --file-prefix to use", r.Fix)
	}
	if r := mustResult(t, rep, "primary"); r.Status != Skip {
		t.Errorf("primary: %s, want skip after the prefix failure", r.Status)
	}
}

func TestLabWrongDevice(t *testing.T) {
	p := healthyPrimary(t)
	for _, dev := range []string{"net_ring9", "0000:7f:1f.7"} {
		rep := liveRun(t, Config{Prefix: p.Prefix, Device: dev}, "device")
		r := mustResult(t, rep, "device")
		want := "device_id=" + p.Device
		if r.Status != Fail || r.Fix == nil || !strings.Contains(r.Fix.Text, want) {
			t.Errorf("device %s: %s %q; want a failure whose fix says %s\n%s", dev, r.Status, r.Finding, want, dump(rep))
		}
	}
}

func TestLabBroken(t *testing.T) {
	lab.Require(t)
	tests := []struct {
		name  string
		cfg   lab.Config
		check string
		want  string
		young bool // a starting window that covers the primary
	}{
		// Past the starting window: the primary never calls it.
		{"no pdump init", lab.Config{NoPdumpInit: true}, "pdump", "did not call rte_pdump_init", false},
		// Just started (adv3 F18: a primary still in rte_eal_init was
		// told to upgrade gazelle): not proven yet, and said so.
		{"no pdump init yet", lab.Config{NoPdumpInit: true}, "pdump", "may not have reached rte_pdump_init() yet", true},
		{"pcap PMD hidden", lab.Config{HidePcapPMD: true}, "pcap-pmd", "has no pcap PMD", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := lab.StartT(t, tt.cfg)
			cfg := Config{Prefix: p.Prefix, Device: p.Device, startingWindow: -1}
			if tt.young {
				cfg.startingWindow = time.Hour
			}
			rep := liveRun(t, cfg, "primary", tt.check)
			r := mustResult(t, rep, tt.check)
			if r.Status != Fail || !strings.Contains(r.Finding, tt.want) {
				t.Errorf("%s: %s %q, want fail %q\n%s", tt.check, r.Status, r.Finding, tt.want, dump(rep))
			}
		})
	}
}

func TestLabKilledPrimary(t *testing.T) {
	p := lab.StartT(t, lab.Config{})
	if err := p.Kill(); err != nil {
		t.Fatal(err)
	}
	files := lab.HugepageFiles(p.Prefix)
	if len(files) == 0 {
		t.Fatal("the killed lab primary left no hugepage files: nothing to find")
	}
	rep := liveRun(t, Config{Prefix: p.Prefix}, "runtime-dir", "prefix", "primary", "hugepages")
	r := mustResult(t, rep, "primary")
	// lab.HugepageFiles lists a file once per mount that shows it (the
	// lab's Debian chroots bind-mount /mnt/huge): count files, not names.
	want := fmt.Sprintf("it left %d hugepage files", distinctFiles(t, files))
	if r.Status != Fail || !strings.Contains(r.Finding, "is gone") || !strings.Contains(r.Finding, want) {
		t.Errorf("primary: %s %q, want a stale failure saying %q\n%s", r.Status, r.Finding, want, dump(rep))
	}
	// One cause, one command: runtime-dir (first in run order) carries the
	// cleanup; primary and hugepages point to it.
	var cleanup string
	n := 0
	for _, res := range rep.Results {
		if res.Fix == nil {
			continue
		}
		for _, c := range res.Fix.Commands {
			if strings.Contains(c, p.RuntimeDir) {
				n++
				if res.ID == "runtime-dir" {
					cleanup = c
				}
			}
		}
	}
	if n != 1 || !strings.Contains(cleanup, "rm -rf "+p.RuntimeDir) || !strings.Contains(cleanup, p.Prefix+"map_*") {
		t.Fatalf("the cleanup of %s appears %d times (want once, under runtime-dir: %q)\n%s", p.RuntimeDir, n, cleanup, dump(rep))
	}
	if r.Fix == nil || !strings.Contains(r.Fix.Text, "under runtime-dir") {
		t.Errorf("primary fix %+v does not point to runtime-dir's command", r.Fix)
	}
	// The command is safe: fuser guards it. Without fuser it removes
	// nothing (a "command not found" must not count as "nobody uses it").
	noFuser := t.TempDir()
	if rm, err := exec.LookPath("rm"); err != nil {
		t.Fatal(err)
	} else if err := os.Symlink(rm, noFuser+"/rm"); err != nil {
		t.Fatal(err)
	}
	guarded := exec.Command("/bin/sh", "-c", cleanup)
	guarded.Env = []string{"PATH=" + noFuser}
	guarded.Run()
	if _, err := os.Stat(p.RuntimeDir); err != nil {
		t.Fatalf("without fuser the cleanup command removed %s: %v", p.RuntimeDir, err)
	}
	// With fuser it removes what the dead primary left (once the test
	// itself no longer holds the files: fuser would see it).
	p.ReleaseHugepages()
	if out, err := exec.Command("sh", "-c", cleanup).CombinedOutput(); err != nil {
		t.Fatalf("cleanup command: %v\n%s", err, out)
	}
	if left := lab.HugepageFiles(p.Prefix); len(left) > 0 {
		t.Errorf("after the cleanup command %d hugepage files remain", len(left))
	}
	if _, err := os.Stat(p.RuntimeDir); !os.IsNotExist(err) {
		t.Errorf("after the cleanup command %s remains (%v)", p.RuntimeDir, err)
	}
}

// noHarm fails the test when a printed fix removes a runtime dir that a
// process holds or restarts a primary: the primary is alive in these tests.
func noHarm(t *testing.T, rep Report, liveDir string) {
	t.Helper()
	for _, r := range rep.Results {
		if r.Fix == nil {
			continue
		}
		all := r.Fix.Text + "\n" + strings.Join(r.Fix.Commands, "\n")
		for _, bad := range []string{"rm -r " + liveDir, "rm -rf " + liveDir, "restart the primary", "--in-memory"} {
			if strings.Contains(all, bad) {
				t.Errorf("%s's fix says %q for a held prefix:\n%s", r.ID, bad, all)
			}
		}
	}
}

// TestLabStoppedPrimary stops a real primary with SIGSTOP: its telemetry
// and mp_socket go silent, and a capture would hang. check must fail the
// primary with kill -CONT, and pass again once it continues.
func TestLabStoppedPrimary(t *testing.T) {
	p := lab.StartT(t, lab.Config{})
	if err := syscall.Kill(p.Pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(p.Pid, syscall.SIGCONT) })
	if err := lab.WaitState(p.Pid, 'T', 10*time.Second); err != nil {
		t.Fatal(err)
	}
	rep := liveRun(t, Config{Prefix: p.Prefix}, "prefix", "primary", "busy")
	r := mustResult(t, rep, "primary")
	want := fmt.Sprintf("kill -CONT %d", p.Pid)
	if r.Status != Fail || !strings.Contains(r.Finding, "is stopped (state T") || r.Fix == nil || !slices.Contains(r.Fix.Commands, want) {
		t.Errorf("primary: %s %q, want a failure with %q\n%s", r.Status, r.Finding, want, dump(rep))
	}
	noHarm(t, rep, p.RuntimeDir)
	if err := syscall.Kill(p.Pid, syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	// As the fix for a silent primary says, a starved one answers on a
	// later try: on a loaded 2-core machine the first may still be late.
	for try := 0; ; try++ {
		rep = liveRun(t, Config{Prefix: p.Prefix}, "prefix", "primary")
		r := mustResult(t, rep, "primary")
		if r.Status == OK {
			break
		}
		if try == 5 || !strings.Contains(r.Finding, "did not answer") {
			t.Fatalf("after SIGCONT: primary %s %q, want ok\n%s", r.Status, r.Finding, dump(rep))
		}
		time.Sleep(time.Second)
	}
}

// TestLabDebrisDir runs dpdk-pdump with a typo'd --file-prefix: it dies
// and leaves an empty runtime dir. check --prefix <typo> must call it
// debris (rmdir), name the running primary with the closest name first,
// and never talk of --in-memory or a restart.
func TestLabDebrisDir(t *testing.T) {
	p := healthyPrimary(t)
	pdump := testenv.Tool(t, "dpdk-pdump", "dpdk")
	typo := p.Prefix + "x"
	dir := lab.RuntimeDir(typo)
	t.Cleanup(func() { os.Remove(dir) })
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, pdump, "--file-prefix", typo, "--", "--pdump", "device_id="+p.Device+",queue=*,rx-dev=/tmp/gzdoctor-never.pcap").CombinedOutput()
	if err == nil {
		t.Fatalf("dpdk-pdump with prefix %s succeeded:\n%s", typo, out)
	}
	if ents, err := os.ReadDir(dir); err != nil || len(ents) != 0 {
		t.Fatalf("dpdk-pdump left %v (%v), want an empty %s:\n%s", ents, err, dir, out)
	}
	rep := liveRun(t, Config{Prefix: typo}, "runtime-dir", "prefix", "primary")
	r := mustResult(t, rep, "prefix")
	if r.Status != Fail || !strings.Contains(r.Finding, "failed to attach") || !firstRunning(r.Finding, p.Prefix) {
		t.Errorf("prefix: %s %q; want debris and %s first\n%s", r.Status, r.Finding, p.Prefix, dump(rep))
	}
	rd := mustResult(t, rep, "runtime-dir")
	if rd.Fix == nil || !slices.Contains(rd.Fix.Commands, "rmdir "+dir) {
		t.Fatalf("runtime-dir fix %+v lacks rmdir %s\n%s", rd.Fix, dir, dump(rep))
	}
	for _, res := range rep.Results {
		for _, w := range []string{"no-config", "stale", "in-memory", "restart"} {
			if strings.Contains(res.Finding, w) || res.Fix != nil && strings.Contains(res.Fix.Text, w) {
				t.Errorf("%s says %q: %q", res.ID, w, res.Finding)
			}
		}
	}
	if out, err := exec.Command("sh", "-c", "rmdir "+dir).CombinedOutput(); err != nil {
		t.Fatalf("the printed rmdir failed: %v %s", err, out)
	}
}

// TestLabPoisonedPrimary attaches a real dpdk-pdump, then kills it with -9:
// its vdevs, rings and pool stay in the primary and every later capture
// fails. busy names the running capture while it runs, and afterwards says
// only a restart of the primary clears it.
func TestLabPoisonedPrimary(t *testing.T) {
	p := lab.StartT(t, lab.Config{})
	pdump := testenv.Tool(t, "dpdk-pdump", "dpdk")
	tmp, err := os.MkdirTemp("", "gzp") // pdump truncates paths past ~55 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(tmp) })
	cmd := exec.Command(pdump, "--file-prefix", p.Prefix, "--", "--pdump",
		"device_id="+p.Device+",queue=*,rx-dev="+tmp+"/rx.pcap,tx-dev="+tmp+"/tx.pcap,total-num-mbufs=8191")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	var rep Report
	deadline := time.Now().Add(60 * time.Second)
	for {
		rep = liveRun(t, Config{Prefix: p.Prefix}, "busy")
		if r := mustResult(t, rep, "busy"); r.Status == Fail && strings.Contains(r.Finding, "a capture is running") && strings.Contains(r.Finding, "RG_rx_ring_0") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("dpdk-pdump never showed as a running capture\n%s", dump(rep))
		}
		time.Sleep(300 * time.Millisecond)
	}
	r := mustResult(t, rep, "busy")
	if !strings.Contains(r.Finding, fmt.Sprintf("pid %d (", cmd.Process.Pid)) || r.Fix == nil || !slices.Contains(r.Fix.Commands, fmt.Sprintf("kill -INT %d", cmd.Process.Pid)) {
		t.Errorf("running capture: %q %+v, want pdump's pid %d named with kill -INT", r.Finding, r.Fix, cmd.Process.Pid)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	rep = liveRun(t, Config{Prefix: p.Prefix}, "prefix", "primary", "busy")
	r = mustResult(t, rep, "busy")
	if r.Status != Fail || !strings.Contains(r.Finding, "no capture tool is attached") || !strings.Contains(r.Finding, fmt.Sprintf("pid %d is gone", cmd.Process.Pid)) {
		t.Errorf("after kill -9: busy %s %q, want the poisoned primary\n%s", r.Status, r.Finding, dump(rep))
	}
	if r.Fix == nil || !strings.Contains(r.Fix.Text, fmt.Sprintf("only a restart of the primary (pid %d", p.Pid)) ||
		len(r.Fix.Commands) < 2 || !strings.HasPrefix(r.Fix.Commands[0], fmt.Sprintf("kill %d;", p.Pid)) || !strings.Contains(r.Fix.Commands[1], "--file-prefix "+p.Prefix) {
		t.Errorf("after kill -9: fix %+v, want the primary's restart with its command line", r.Fix)
	}
	if pr := mustResult(t, rep, "primary"); pr.Status != OK {
		t.Errorf("primary %s %q: the primary itself is healthy", pr.Status, pr.Finding)
	}
	// The oracle: a new dpdk-pdump on this primary does fail.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, pdump, "--file-prefix", p.Prefix, "--", "--pdump",
		"device_id="+p.Device+",queue=*,rx-dev="+tmp+"/rx2.pcap,total-num-mbufs=8191").CombinedOutput()
	if err == nil {
		t.Errorf("a second dpdk-pdump on the poisoned primary succeeded: busy's premise is wrong\n%s", out)
	}
}

// TestLabSeveralPrimariesOnly: --only CHK-11 with several running
// primaries and no --prefix fails on the prefix, never vouches.
func TestLabSeveralPrimariesOnly(t *testing.T) {
	a := lab.StartT(t, lab.Config{})
	b := lab.StartT(t, lab.Config{})
	rep := liveRun(t, Config{}, "CHK-11")
	if rep.Summary.Verdict == VerdictOK || rep.Summary.Verdict == VerdictWarn {
		t.Errorf("--only CHK-11 vouched for a capture: %+v\n%s", rep.Summary, dump(rep))
	}
	if rep.Target.Prefix != "" {
		// Another package's liblstack-like primary, alone in its kind,
		// named the config (and so the prefix): not ambiguous here.
		t.Logf("target resolved to %s (%s) by this machine's other primaries", rep.Target.Prefix, rep.Target.PrefixSource)
		return
	}
	r := mustResult(t, rep, "prefix")
	if r.Status != Fail || !strings.Contains(r.Finding, a.Prefix) || !strings.Contains(r.Finding, b.Prefix) || !rep.Failed() {
		t.Errorf("prefix: %s %q; want a failure naming %s and %s\n%s", r.Status, r.Finding, a.Prefix, b.Prefix, dump(rep))
	}
	for _, id := range []string{"pcap-pmd", "pdump", "busy"} {
		if r := mustResult(t, rep, id); r.Status != Skip {
			t.Errorf("%s: %s %q, want skipped after prefix", id, r.Status, r.Finding)
		}
	}
}

// nonRootHelperEnv makes the test binary, re-run as an unprivileged user
// by TestLabNonRootDebris, run the checks and print the report as JSON.
const nonRootHelperEnv = "GZDOCTOR_NONROOT_HELPER_PREFIX"

func TestLabNonRootHelper(t *testing.T) {
	prefix := os.Getenv(nonRootHelperEnv)
	if prefix == "" {
		t.Skip("run by TestLabNonRootDebris as another user")
	}
	rep, err := Run(context.Background(), NewEnv(Config{Host: host.New("/"), Prefix: prefix}),
		Options{Only: []string{"runtime-dir", "prefix", "primary"}, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(rep)
	fmt.Printf("REPORT %s\n", b)
}

// TestLabNonRootDebris: a non-root user runs dpdk-pdump with the prefix of
// a root primary; DPDK looks in /tmp/dpdk, not /var/run/dpdk, and leaves an
// empty dir there. gzdoctor, run as that user, must call the dir debris,
// say the running primary is root's and needs root, and never present it
// as the user's own primary or talk of --in-memory.
func TestLabNonRootDebris(t *testing.T) {
	p := healthyPrimary(t)
	pdump := testenv.Tool(t, "dpdk-pdump", "dpdk")
	setpriv := testenv.Tool(t, "setpriv", "util-linux")
	if os.Geteuid() != 0 {
		t.Skip("needs root to run as another user")
	}
	nobody := []string{setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", "env", "-u", "XDG_RUNTIME_DIR"}
	dir := "/tmp/dpdk/" + p.Prefix
	t.Cleanup(func() { os.Remove(dir) })
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	args := append(append([]string{}, nobody[1:]...), pdump, "--file-prefix", p.Prefix, "--", "--pdump", "device_id="+p.Device+",queue=*,rx-dev=/tmp/gzdoctor-never.pcap")
	if out, err := exec.CommandContext(ctx, nobody[0], args...).CombinedOutput(); err == nil {
		t.Fatalf("a non-root dpdk-pdump attached to root's primary:\n%s", out)
	}
	if ents, err := os.ReadDir(dir); err != nil || len(ents) != 0 {
		t.Fatalf("the non-root dpdk-pdump left %v (%v), want an empty %s", ents, err, dir)
	}
	// Re-run this test binary as nobody (from a copy it can read).
	bin, err := os.MkdirTemp("", "gzdnr")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(bin) })
	os.Chmod(bin, 0o755)
	self, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin+"/doctor.test", self, 0o755); err != nil {
		t.Fatal(err)
	}
	args = append(append([]string{}, nobody[1:]...), nonRootHelperEnv+"="+p.Prefix, bin+"/doctor.test", "-test.run=^TestLabNonRootHelper$", "-test.v")
	cmd := exec.CommandContext(ctx, nobody[0], args...)
	cmd.Dir = "/"
	out, err := cmd.CombinedOutput()
	i := strings.Index(string(out), "REPORT ")
	if err != nil || i < 0 {
		t.Fatalf("the checks as nobody: %v\n%s", err, out)
	}
	var rep Report
	line, _, _ := strings.Cut(string(out[i+len("REPORT "):]), "\n")
	if err := json.Unmarshal([]byte(line), &rep); err != nil {
		t.Fatalf("%v: %s", err, line)
	}
	rd, pr := mustResult(t, rep, "runtime-dir"), mustResult(t, rep, "prefix")
	fixText := func(r Result) string {
		if r.Fix == nil {
			return ""
		}
		return r.Fix.Text + "\n" + strings.Join(r.Fix.Commands, "\n")
	}
	if rd.Status != Fail || !strings.Contains(fixText(rd), "a root primary needs root") || !strings.Contains(fixText(rd), "sudo gzdoctor check --prefix "+p.Prefix) ||
		!strings.Contains(fixText(rd), "rmdir "+dir) {
		t.Errorf("runtime-dir as nobody: %s %q\n%s", rd.Status, rd.Finding, fixText(rd))
	}
	if pr.Status != Fail || !strings.Contains(pr.Finding, dir+" is an empty dir") || !strings.Contains(pr.Finding, fmt.Sprintf("%s (pid %d", p.Prefix, p.Pid)) ||
		!strings.Contains(pr.Finding, "runs as root in /var/run/dpdk") {
		t.Errorf("prefix as nobody: %s %q, want the debris and root's primary named as root's", pr.Status, pr.Finding)
	}
	for _, r := range rep.Results {
		for _, w := range []string{"in-memory", "restart", "no-config", "stale"} {
			if strings.Contains(r.Finding+fixText(r), w) {
				t.Errorf("%s says %q: %q", r.ID, w, r.Finding)
			}
		}
	}
	if r := mustResult(t, rep, "primary"); r.Status == OK {
		t.Errorf("primary passed for nobody: %q", r.Finding)
	}
}

// distinctFiles counts the files behind paths by device and inode.
func distinctFiles(t *testing.T, paths []string) int {
	t.Helper()
	seen := map[[2]uint64]bool{}
	for _, p := range paths {
		var st syscall.Stat_t
		if err := syscall.Stat(p, &st); err != nil {
			t.Fatal(err)
		}
		seen[[2]uint64{st.Dev, st.Ino}] = true
	}
	return len(seen)
}

// firstRunning reports whether prefix is the first running primary a
// prefix finding names: "running primary: P (pid" when it is the only one,
// "closest name first: P (pid" among several (other tests' primaries run
// beside this one, or not).
func firstRunning(finding, prefix string) bool {
	return strings.Contains(finding, "closest name first: "+prefix+" (pid ") ||
		strings.Contains(finding, "running primary: "+prefix+" (pid ")
}
