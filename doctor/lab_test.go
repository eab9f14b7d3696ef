package doctor

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gzdoctor/gzdoctor/host"
	"github.com/gzdoctor/gzdoctor/lab"
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
// primaries come and go; they may warn but never fail here.
var machineWide = map[string]bool{"runtime-dir": true, "hugepages": true, "aslr": true, "address-space": true}

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
	}{
		{"no pdump init", lab.Config{NoPdumpInit: true}, "pdump", "did not call rte_pdump_init"},
		{"pcap PMD hidden", lab.Config{HidePcapPMD: true}, "pcap-pmd", "has no pcap PMD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := lab.StartT(t, tt.cfg)
			rep := liveRun(t, Config{Prefix: p.Prefix, Device: p.Device}, "primary", tt.check)
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
	want := fmt.Sprintf("it left %d hugepage files", len(files))
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
	// With fuser it removes what the dead primary left.
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
