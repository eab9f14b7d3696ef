package elfcheck

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestMeasureOpsHost: the host's dpdk-pdump (22.11), started under ptrace,
// yields its real mempool ops table; on 22.11 the prediction agrees. It
// leaves no runtime directory, no hugepage file and no process behind.
func TestMeasureOpsHost(t *testing.T) {
	needFile(t, "/usr/bin/dpdk-pdump")
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	before := dirNames(t, "/var/run/dpdk")
	huge := dirNames(t, "/mnt/huge")
	// A directory an ended gzdoctor left is swept; it is gzdoctor's.
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	stale := fmt.Sprintf("/var/run/dpdk/gzdoctor-ops-%d-1", dead.Process.Pid)
	if err := os.MkdirAll(stale, 0o700); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(stale)
	rep := analyze(t, "/usr/bin/dpdk-pdump", Options{})
	pred := append([]string(nil), rep.DPDK.OpsTable...)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := MeasureOps(ctx, rep, Options{}); err != nil {
		t.Fatal(err)
	}
	t.Logf("measured  %v\npredicted %v\n%s", rep.DPDK.OpsTable, pred, rep.DPDK.OpsTableNote)
	if rep.DPDK.OpsTableFrom != "memory" || !strings.HasPrefix(rep.DPDK.OpsTableNote, "measured: ") {
		t.Errorf("from %q note %q", rep.DPDK.OpsTableFrom, rep.DPDK.OpsTableNote)
	}
	if strings.Join(pred, ",") != strings.Join(rep.DPDK.OpsTable, ",") {
		t.Errorf("22.11: measured %v, predicted %v", rep.DPDK.OpsTable, pred)
	}
	if _, err := os.Stat(stale); err == nil {
		t.Errorf("%s was not swept", stale)
	}
	// Only this process's measurements are ours: other packages' tests
	// run gzdoctor binaries that measure at the same moment.
	ours := fmt.Sprintf("gzdoctor-ops-%d-", os.Getpid())
	for _, n := range dirNames(t, "/var/run/dpdk") {
		if strings.HasPrefix(n, ours) && !contains(before, n) {
			t.Errorf("left /var/run/dpdk/%s", n)
		}
	}
	// Counting is no test here: other packages' primaries add and remove
	// files in /mnt/huge at the same moment. Names are.
	for _, n := range dirNames(t, "/mnt/huge") {
		if strings.Contains(n, ours) && !contains(huge, n) {
			t.Errorf("left /mnt/huge/%s", n)
		}
	}
	// No dpdk-pdump of ours is left (stopped or not); other test
	// processes' measurements are theirs.
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, _ := os.ReadFile(p)
		st, _ := os.ReadFile(filepath.Join(filepath.Dir(p), "status"))
		if strings.Contains(string(b), "gzdoctor-ops-") && strings.Contains(string(st), fmt.Sprintf("\nPPid:\t%d\n", os.Getpid())) {
			t.Errorf("%s: %q left running", p, b)
		}
	}

	// A deadline that has passed: an error, nothing changed.
	rep2 := analyze(t, "/usr/bin/dpdk-pdump", Options{})
	done, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if err := MeasureOps(done, rep2, Options{}); err == nil || rep2.DPDK.OpsTableFrom != "predicted" {
		t.Errorf("cancelled: err %v, from %q", err, rep2.DPDK.OpsTableFrom)
	}
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var n []string
	for _, e := range es {
		n = append(n, e.Name())
	}
	return n
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// TestTraceOpsToolThatExits: a tool that exits (instead of aborting)
// stops at PTRACE_EVENT_EXIT with its exit group already under way, where
// a SIGKILL is queued but wakes nothing. The measurement must still resume
// and reap it: it once waited for good, leaving the tool in state t with
// SIGKILL pending and build-match's goroutine blocked in wait4.
func TestTraceOpsToolThatExits(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	tool, err := exec.LookPath("true")
	if err != nil {
		t.Skip("no true(1)")
	}
	pidc := make(chan int, 1)
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // ptrace requests come from the tracing thread
		_, _, err := traceOps(context.Background(), tool, "gzdoctor-ops-test", pidc)
		done <- err
	}()
	pid := <-pidc
	select {
	case err := <-done:
		if err == nil {
			t.Errorf("%s has no ops table, but traceOps returned none as an error", tool)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("traceOps still waits 30 s after %s (pid %d) stopped at its exit", tool, pid)
	}
	if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
		t.Errorf("pid %d is still there", pid)
	}
}
