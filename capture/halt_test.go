package capture

import (
	"fmt"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/gzdoctor/gzdoctor/internal/lab"
)

// TestHaltWatch: a process stopped with SIGSTOP is named with its state
// and kill -CONT, read again each period; a running one gives "".
func TestHaltWatch(t *testing.T) {
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	pid := cmd.Process.Pid
	hw := newHaltWatch("/", pid)
	now := time.Now()
	if got := hw.check(now); got != "" {
		t.Fatalf("running: %q", got)
	}
	syscall.Kill(pid, syscall.SIGSTOP)
	if err := lab.WaitState(pid, 'T', 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if got := hw.check(now.Add(hw.every / 2)); got != "" {
		t.Errorf("read again before its period: %q", got)
	}
	want := fmt.Sprintf("the primary (pid %d) is stopped (state T: SIGSTOP or Ctrl-Z): it answers no capture tool until it continues (kill -CONT %d)", pid, pid)
	now = now.Add(hw.every)
	if got := hw.check(now); got != want {
		t.Errorf("stopped: %q, want %q", got, want)
	}
	syscall.Kill(pid, syscall.SIGCONT)
	if err := lab.WaitState(pid, 'S', 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if got := hw.check(now.Add(hw.every)); got != "" {
		t.Errorf("continued: %q", got)
	}
	if newHaltWatch("/", 0).check(now) != "" {
		t.Error("no pid: a halt")
	}
}
