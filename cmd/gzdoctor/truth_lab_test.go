package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gzdoctor/gzdoctor/lab"
)

// checkJSON runs `gzdoctor -o json check` with args and returns the exit
// code, the results by id and the output.
func checkJSON(t *testing.T, args ...string) (int, map[string]mxResult, string) {
	t.Helper()
	s := &mxSit{dir: t.TempDir()}
	o := mxGz(t, s, append([]string{"-o", "json", "check", "--timeout", mxCheckTimeout}, args...)...)
	rep := &mxReport{}
	if !mxJSON(t, o, rep) {
		t.Fatalf("check %v: exit %d, no JSON:\n%s", args, o.code, o.all())
	}
	m := map[string]mxResult{}
	for _, r := range rep.Results {
		x := mxResult{Status: r.Status, Finding: r.Finding, Details: r.Details}
		if r.Fix != nil {
			x.Fix = r.Fix.Text + "\n" + strings.Join(r.Fix.Commands, "\n")
		}
		m[r.ID] = x
	}
	return o.code, m, o.stdout
}

type mxResult struct {
	Status, Finding, Fix string
	Details              []string
}

// TestCheckStartingLstackIsNotDebris provokes the lstack start-up window
// deliberately: an lstack application (lab-app with liblstack.so
// preloaded, its prefix only in the lstack.conf LSTACK_CONF_PATH names)
// held at exec under ptrace, before its constructor runs, and the empty
// runtime dir EAL makes first. check must not call that dir debris nor
// offer to remove it, and must name the process.
func TestCheckStartingLstackIsNotDebris(t *testing.T) {
	lab.Require(t)
	build := filepath.Join(lab.LabDir(), "build")
	for _, f := range []string{"lab-app", "liblstack.so"} {
		if _, err := os.Stat(filepath.Join(build, f)); err != nil {
			t.Skipf("lab not built (%v): make -C lab", err)
		}
	}
	prefix := fmt.Sprintf("gztruth_start_%d", os.Getpid())
	dir := t.TempDir()
	conf := filepath.Join(dir, "lstack.conf")
	if err := os.WriteFile(conf, []byte(`dpdk_args = ["--file-prefix", "`+prefix+`", "--no-pci", "--vdev", "net_ring0"]
use_ltran = 0
`), 0o644); err != nil {
		t.Fatal(err)
	}
	// ptrace requests come from the thread that attached.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cmd := exec.Command(filepath.Join(build, "lab-app"))
	cmd.Env = append(os.Environ(), "LD_PRELOAD="+filepath.Join(build, "liblstack.so"), "LSTACK_CONF_PATH="+conf)
	cmd.SysProcAttr = &syscall.SysProcAttr{Ptrace: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	// Stopped at exec: nothing of lstack ran yet. EAL's first step is the
	// runtime dir; make it as EAL would.
	mxWaitState(t, cmd.Process.Pid, 't')
	rd := filepath.Join("/var/run/dpdk", prefix)
	if err := os.Mkdir(rd, 0o700); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(rd)

	code, res, out := checkJSON(t, "--prefix", prefix)
	if code == 0 {
		t.Errorf("check exit 0 for a primary that is not up yet:\n%s", out)
	}
	if strings.Contains(out, "rmdir") || strings.Contains(out, " is debris") {
		t.Errorf("check offers to remove the dir a starting lstack is about to use:\n%s", out)
	}
	pid := strconv.Itoa(cmd.Process.Pid)
	if !strings.Contains(out, "named by pid "+pid) || !strings.Contains(out, "still starting") {
		t.Errorf("check does not name pid %s as a primary still starting:\n%s", pid, out)
	}
	t.Logf("prefix: %s: %s | primary: %s: %s", res["prefix"].Status, res["prefix"].Finding, res["primary"].Status, res["primary"].Finding)
}

// TestCheckSilentTelemetryReal: a running primary whose telemetry accepts
// connections but never answers, made for real: only its telemetry-v2
// thread is stopped (PTRACE_SEIZE + PTRACE_INTERRUPT: no group stop, the
// process stays running), so the socket's backlog accepts and nobody
// greets. The primary check must fail saying so (a capture's requests
// would hang too), not pass it as "telemetry not needed".
func TestCheckSilentTelemetryReal(t *testing.T) {
	p := lab.StartT(t, lab.Config{})
	tid := 0
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*", p.Pid))
	for _, task := range tasks {
		if b, _ := os.ReadFile(task + "/comm"); strings.TrimSpace(string(b)) == "telemetry-v2" {
			tid, _ = strconv.Atoi(filepath.Base(task))
		}
	}
	if tid == 0 {
		t.Fatalf("pid %d has no telemetry-v2 thread", p.Pid)
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := unix.PtraceSeize(tid); err != nil {
		t.Fatalf("PTRACE_SEIZE %d: %v", tid, err)
	}
	detached := false
	detach := func() {
		if !detached {
			// Detaching resumes the thread: the primary stays usable.
			unix.PtraceDetach(tid)
			detached = true
		}
	}
	defer detach()
	if err := unix.PtraceInterrupt(tid); err != nil {
		t.Fatalf("PTRACE_INTERRUPT %d: %v", tid, err)
	}
	var ws unix.WaitStatus
	if _, err := unix.Wait4(tid, &ws, unix.WALL, nil); err != nil || !ws.Stopped() {
		t.Fatalf("telemetry thread %d did not stop: %v %v", tid, err, ws)
	}
	if b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.Pid)); strings.Contains(string(b), ") t ") || strings.Contains(string(b), ") T ") {
		t.Fatalf("the whole primary stopped, not only its telemetry thread: %s", b)
	}
	start := time.Now()
	s := &mxSit{dir: t.TempDir()}
	o := mxGz(t, s, "-o", "json", "check", "--timeout", "3s", "--prefix", p.Prefix)
	took := time.Since(start)
	rep := &mxReport{}
	if !mxJSON(t, o, rep) {
		t.Fatalf("check: no JSON:\n%s", o.all())
	}
	if o.code != 1 || rep.firstFail() != "primary" {
		t.Errorf("check: exit %d, first failing %q; want 1, primary:\n%s", o.code, rep.firstFail(), rep.summary())
	}
	var finding string
	for _, r := range rep.Results {
		if r.ID == "primary" {
			finding = r.Finding
		}
	}
	if !strings.Contains(finding, "did not answer") && !strings.Contains(finding, "stopped answering") {
		t.Errorf("primary: %q, want it to say the telemetry does not answer", finding)
	}
	detach()
	t.Logf("silent telemetry: check took %v: %s", took.Round(time.Millisecond), finding)
	// Resumed, the same primary passes again: the verdict was the thread's.
	o = mxGz(t, s, "-o", "json", "check", "--timeout", mxCheckTimeout, "--prefix", p.Prefix)
	rep = &mxReport{}
	if mxJSON(t, o, rep) && rep.firstFail() != "" {
		t.Errorf("after the telemetry thread resumed, check still fails %q:\n%s", rep.firstFail(), rep.summary())
	}
}
