package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/gzdoctor/gzdoctor/internal/lab"
	"github.com/gzdoctor/gzdoctor/internal/testenv"
)

// runClosedPipes runs the gzdoctor binary with stdout and stderr (or
// stdout only, when errOpen) on a pipe whose reader has already gone, as
// `gzdoctor capture ... 2>&1 | head -1` leaves them once head has exited,
// and returns the exit status: -1 with the signal when one killed it.
func runClosedPipes(t *testing.T, env []string, errOpen bool, args ...string) (code int, sig syscall.Signal, errOut string) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	defer w.Close()
	cmd := exec.Command(testenv.Binary(t), args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = w, w
	var eb strings.Builder
	if errOpen {
		cmd.Stderr = &eb
	}
	err = cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return -1, ws.Signal(), eb.String()
	}
	return cmd.ProcessState.ExitCode(), 0, eb.String()
}

// TestCaptureClosedPipesFailure: a capture that fails (here its preflight:
// no primary has this prefix) with nobody reading stdout and stderr exits
// with its own status, not 141 (SIGPIPE) from the error line printed after
// the capture (adv3 F3).
func TestCaptureClosedPipesFailure(t *testing.T) {
	dir := t.TempDir()
	code, sig, _ := runClosedPipes(t, []string{"TMPDIR=" + dir}, false, "capture", "--prefix", fmt.Sprintf("capio-none-%d", os.Getpid()), "-c", "1", "-w", filepath.Join(dir, "c.pcapng"))
	if sig != 0 || code != exitProblem {
		t.Errorf("exit %d (signal %v), want 1: the preflight failed", code, sig)
	}
}

// TestCaptureLabClosedPipes: a capture with -w FILE whose summary nobody
// reads (its reader has gone) exits 0 with the file written, in text and
// in JSON (adv3 F3: it died of SIGPIPE, 141, after writing the file; -o
// json to a closed stdout said 3).
func TestCaptureLabClosedPipes(t *testing.T) {
	t.Parallel()
	needTools(t, "dpdk-pdump", "tcpdump")
	p := lab.StartT(t, lab.Config{})
	dir := t.TempDir()
	for i, tc := range []struct {
		name    string
		errOpen bool
		args    []string
	}{
		{"text, stdout and stderr closed", false, nil},
		{"json, stdout closed", true, []string{"-o", "json"}},
		{"json, stdout and stderr closed", false, []string{"-o", "json"}},
	} {
		f := filepath.Join(dir, fmt.Sprintf("c%d.pcapng", i))
		args := append(tc.args, "capture", "--prefix", p.Prefix, "-c", "200", "-w", f)
		code, sig, errOut := runClosedPipes(t, []string{"TMPDIR=" + dir}, tc.errOpen, args...)
		if sig != 0 || code != exitOK {
			t.Errorf("%s: exit %d (signal %v), want 0\n%s", tc.name, code, sig, errOut)
			continue
		}
		if pk := countPackets(t, f, ""); pk != 200 {
			t.Errorf("%s: %s holds %d packets, want 200", tc.name, f, pk)
		}
	}
}
