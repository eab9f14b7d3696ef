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

	"github.com/gzdoctor/gzdoctor/internal/lab"
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

// TestCheckZombiePrimary makes a real zombie primary: the lab primary's
// parent is a shell that exec'd sleep, which never reaps, and the primary
// is killed with -9. A zombie has released its config lock, files and
// hugepages with its exit, so it is a primary that is gone: check fails
// `primary` and offers the cleanup, which, run for real while the zombie
// is still there, removes that prefix's files; nothing kills the parent.
// (A zombie cannot be tied to its prefix: its cmdline, environ and locks
// are gone with its exit.)
func TestCheckZombiePrimary(t *testing.T) {
	lab.Require(t)
	bin := filepath.Join(lab.LabDir(), "build", "lab-primary")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("lab.Require built the lab, yet %v", err)
	}
	prefix := fmt.Sprintf("gztruth_zombie_%d", os.Getpid())
	dir := t.TempDir()
	sh := exec.Command("sh", "-c", `"$0" --file-prefix "$1" --no-pci --vdev net_ring0 -- --rate 100 >"$2/primary.log" 2>&1 & echo $!; exec sleep 600`,
		bin, prefix, dir)
	sh.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := sh.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := sh.Start(); err != nil {
		t.Fatal(err)
	}
	rd := filepath.Join("/var/run/dpdk", prefix)
	defer func() {
		sh.Process.Kill() // the zombie goes with its parent
		sh.Wait()
		exec.Command("sh", "-c", `fuser -s "$0"/* /mnt/huge/"$1"map_* 2>/dev/null; [ $? = 1 ] && rm -rf "$0" /mnt/huge/"$1"map_*`, rd, prefix).Run()
	}()
	var pid int
	if _, err := fmt.Fscan(out, &pid); err != nil || pid <= 0 {
		t.Fatalf("no primary pid from the shell: %v", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if b, _ := os.ReadFile(filepath.Join(dir, "primary.log")); strings.Contains(string(b), "lab-primary: ready") {
			break
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(filepath.Join(dir, "primary.log"))
			t.Fatalf("the primary did not get ready:\n%s", b)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("primary %d ready", pid)
	syscall.Kill(pid, syscall.SIGKILL)
	mxWaitState(t, pid, 'Z')
	// The leader turns zombie before its other threads have exited, and
	// they share its files: the lock on the runtime dir's config goes
	// with the last of them (CI once checked inside that window and found
	// the prefix still held). The zombie this test means holds nothing.
	for deadline := time.Now().Add(10 * time.Second); ; {
		tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
		if len(tasks) <= 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("pid %d still has %d threads 10 s after SIGKILL", pid, len(tasks))
		}
		time.Sleep(10 * time.Millisecond)
	}

	code, res, outJSON := checkJSON(t, "--prefix", prefix)
	if code != 1 || res["primary"].Status != "fail" {
		t.Errorf("check: exit %d, primary %s; want 1, fail:\n%s", code, res["primary"].Status, outJSON)
	}
	all := res["primary"].Finding + "\n" + res["primary"].Fix + "\n" + strings.Join(res["primary"].Details, "\n") + "\n" + res["runtime-dir"].Fix
	if !strings.Contains(all, "rm -rf "+rd) {
		t.Errorf("no cleanup of %s offered:\n%s", rd, all)
	}
	if strings.Contains(all, fmt.Sprintf("kill %d", sh.Process.Pid)) || strings.Contains(all, fmt.Sprintf("kill -9 %d", sh.Process.Pid)) {
		t.Errorf("check kills the zombie's parent:\n%s", all)
	}
	// The cleanup, run for real (this prefix's line only: the machine
	// may hold other workers' leftovers), removes the dir while the
	// zombie is still there: it holds nothing.
	var line string
	for _, l := range strings.Split(all, "\n") {
		if strings.Contains(l, "rm -rf "+rd+" ") || strings.HasSuffix(l, "rm -rf "+rd) {
			line = strings.TrimSpace(l)
		}
	}
	if line == "" {
		t.Fatalf("no cleanup line for %s:\n%s", rd, all)
	}
	if b, err := exec.Command("sh", "-c", line).CombinedOutput(); err != nil {
		t.Errorf("%s: %v\n%s", line, err, b)
	}
	if _, err := os.Stat(rd); !os.IsNotExist(err) {
		t.Errorf("%s still exists after the cleanup (%v)", rd, err)
	}
	mxWaitState(t, pid, 'Z')
	t.Logf("primary: %s | fix: %s", res["primary"].Finding, res["primary"].Fix)
}
