package lab

import (
	"context"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A primary that does not stop on SIGINT is provoked (SIGSTOP keeps the
// signal pending): Stop must kill it, say so, and say what every thread was
// doing, so a hang seen once in CI can be told apart from load.
func TestStopReportsAHungPrimary(t *testing.T) {
	Require(t)
	t.Parallel()
	p, err := Start(context.Background(), Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Cleanup)
	if err := syscall.Kill(p.Pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	if err := WaitState(p.Pid, 'T', 5*time.Second); err != nil {
		t.Fatal(err)
	}
	p.sigintWait = 500 * time.Millisecond
	err = p.Stop()
	if err == nil {
		t.Fatal("Stop of a stopped primary returned nil")
	}
	if p.Running() {
		t.Fatal("the primary still runs after Stop")
	}
	msg := err.Error()
	for _, want := range []string{"ignored SIGINT for 500ms; killed", "threads of pid", `"lab-primary" state T`, `"rte_mp_handle"`, "lab-primary: ready"} {
		if !strings.Contains(msg, want) {
			t.Errorf("Stop's error lacks %q:\n%s", want, msg)
		}
	}
	if _, err := exec.LookPath("gdb"); err == nil {
		// The main thread sits in the lab's loop (lab_primary_run, a
		// symbol of the executable) or the sleep it calls.
		if !regexp.MustCompile(`(?m)^  #\d+ .*(lab_primary_run|nanosleep|clock_nanosleep|main) `).MatchString(msg) {
			t.Errorf("no user-space frame of the main thread in:\n%s", msg)
		}
	} else if !strings.Contains(msg, "no gdb on PATH") {
		t.Errorf("without gdb the report must say so:\n%s", msg)
	}
}
