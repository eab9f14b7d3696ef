package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/gzdoctor/gzdoctor/capture"
)

// bgProcess is a gzdoctor capture started in the background, so that a
// test can act on its backend while it runs (stop it, kill it, start a
// second capture), or a capture tool started by hand that gzdoctor must
// see. Its output is kept for the failure messages.
type bgProcess struct {
	t              *testing.T
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
	done           chan struct{} // closed once gzdoctor ended; err is then Wait's
	err            error
	backendPid     int
}

// startBackground starts cmd (gzdoctorCmd's, a release's r.Command, or a
// capture tool) in the background. The test's cleanup stops it if it
// still runs the way an operator does, SIGINT (gzdoctor resumes and
// stops its backend), then kills it and its backend after 15 s.
func startBackground(t *testing.T, cmd *exec.Cmd) *bgProcess {
	t.Helper()
	g := &bgProcess{t: t, cmd: cmd, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = &g.stdout, &g.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { g.err = cmd.Wait(); close(g.done) }()
	t.Cleanup(func() {
		select {
		case <-g.done:
			return
		default:
		}
		cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-g.done:
		case <-time.After(15 * time.Second):
			if g.backendPid != 0 {
				syscall.Kill(g.backendPid, syscall.SIGKILL)
			}
			cmd.Process.Kill()
			<-g.done
		}
	})
	return g
}

// backend waits until gzdoctor's capture tool runs (childPid) and, with
// wrote > 0, its rx file holds that many bytes (pdumpWrote), and returns
// the tool's pid. Waiting on the files, not a fixed time, is what makes
// these tests hold on a loaded machine, where the tool's start alone can
// take seconds. The test fails if gzdoctor ends first or within passes.
func (g *bgProcess) backend(within time.Duration, wrote int64) int {
	g.t.Helper()
	deadline := time.Now().Add(within)
	for {
		pid := childPid(g.cmd.Process.Pid)
		if pid != 0 && (wrote == 0 || pdumpWrote(g.cmd.Process.Pid) >= wrote) {
			g.backendPid = pid
			return pid
		}
		select {
		case <-g.done:
			g.t.Fatalf("gzdoctor ended (%v) before its backend wrote %d bytes:\n%s\n%s", g.err, wrote, g.stdout.String(), g.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			ps, _ := exec.Command("ps", "-eo", "pid,ppid,stat,etime,args").Output()
			g.t.Fatalf("gzdoctor's backend (pid %d) did not write %d bytes in %v:\n%s\n%s\n%s", pid, wrote, within, g.stdout.String(), g.stderr.String(), ps)
		}
		// Short: a test that stops the backend wants it before it
		// attached.
		time.Sleep(2 * time.Millisecond)
	}
}

// wait waits up to within for gzdoctor to end and returns Wait's error.
// A gzdoctor still running then fails the test (the cleanup stops it).
func (g *bgProcess) wait(within time.Duration) error {
	g.t.Helper()
	select {
	case <-g.done:
		return g.err
	case <-time.After(within):
		g.t.Fatalf("gzdoctor still runs after %v:\n%s", within, g.stderr.String())
		return nil
	}
}

// interrupt stops the process the way an operator does (SIGINT) and
// waits up to within for it to end; it returns Wait's error.
func (g *bgProcess) interrupt(within time.Duration) error {
	g.t.Helper()
	g.cmd.Process.Signal(syscall.SIGINT)
	return g.wait(within)
}

// result waits up to within for gzdoctor to end with exit code want and
// returns its -o json result. On a failure a backend the test stopped
// (SIGSTOP) is resumed, so that it sees the SIGINT gzdoctor's end sent it.
func (g *bgProcess) result(within time.Duration, want int) capture.Result {
	g.t.Helper()
	err := g.wait(within)
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		code = -1
	}
	var env struct{ Data capture.Result }
	if code != want {
		err = fmt.Errorf("%v, want exit %d", err, want)
	} else {
		err = json.Unmarshal(g.stdout.Bytes(), &env)
	}
	if err != nil {
		if g.backendPid != 0 {
			syscall.Kill(g.backendPid, syscall.SIGCONT)
		}
		g.t.Fatalf("gzdoctor: %v\n%s\n%s", err, g.stdout.String(), g.stderr.String())
	}
	return env.Data
}

// exited reports whether gzdoctor has ended.
func (g *bgProcess) exited() bool {
	select {
	case <-g.done:
		return true
	default:
		return false
	}
}
