package capture

import (
	"bytes"
	"context"
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
)

// runnerEnv makes the test binary a gzdoctor stand-in: it runs a capture
// with the fake backend (fakeBackendLog set, so the backend records its pid
// and the SIGINT it gets) while goroutines keep ending locked OS threads.
const (
	runnerEnv      = "GZDOCTOR_FAKE_RUNNER"
	fakeBackendLog = "GZDOCTOR_FAKE_BACKEND_LOG"
)

// fakeRunner captures until killed. The thread churn is what the Go
// runtime may do at any time (a goroutine that exits locked to its thread
// ends the thread); it must not reach the backend.
func fakeRunner(dir string) int {
	os.Setenv(fakeEnv, fakeNormal)
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	churn := func() {
		for {
			done := make(chan struct{})
			go func() {
				runtime.LockOSThread()
				close(done) // exits locked: the runtime ends this thread
			}()
			<-done
			time.Sleep(50 * time.Microsecond)
		}
	}
	go churn()
	go churn()
	o := Options{Prefix: fakePrefix(), Device: "net_fake0", Port: -1, PdumpBin: exe, NoPreflight: true,
		Write: filepath.Join(dir, "out.pcapng"), lockDir: filepath.Join(dir, "locks")}
	// The main thread is never ended by the runtime: keep the capture off
	// it, as it may be in gzdoctor whenever its goroutine migrates.
	runtime.LockOSThread()
	done := make(chan struct{})
	go func() {
		res, err := Run(context.Background(), o)
		// Reached only when the backend ended while the runner lived.
		fmt.Printf("capture ended by itself: %v %+v\n", err, res)
		close(done)
	}()
	<-done
	return 1
}

// TestBackendStopsWhenGzdoctorIsKilled: gzdoctor dies by SIGKILL
// mid-capture; the backend gets SIGINT then (not before: the parent-death
// signal follows the forking thread, which the runtime may end) and exits.
func TestBackendStopsWhenGzdoctorIsKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a capture for a few seconds")
	}
	dir := t.TempDir()
	logPath := filepath.Join(dir, "backend.log")
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), runnerEnv+"="+dir, fakeBackendLog+"="+logPath)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	// Kill only once the backend runs (a loaded machine may take seconds
	// to start it), after the runner has churned threads for a while.
	started := time.Now().Add(30 * time.Second)
	for !strings.Contains(readFileString(logPath), "pid ") {
		if time.Now().After(started) {
			t.Fatalf("the backend did not start within 30 s:\n%s", out.String())
		}
		select {
		case err := <-exited:
			t.Fatalf("the runner ended before it was killed (%v):\n%s\nbackend log:\n%s", err, out.String(), readFileString(logPath))
		case <-time.After(20 * time.Millisecond):
		}
	}
	select {
	case err := <-exited:
		t.Fatalf("the runner ended before it was killed (%v):\n%s\nbackend log:\n%s", err, out.String(), readFileString(logPath))
	case <-time.After(time.Second):
	}
	killedAt := time.Now().UnixNano()
	cmd.Process.Kill()
	<-exited
	// The killed runner's private directory stays (the next capture would
	// report it): this test's own debris.
	t.Cleanup(func() {
		for _, parent := range []string{dir, os.TempDir(), "/tmp"} {
			m, _ := filepath.Glob(filepath.Join(parent, fmt.Sprintf(".gzdoctor-%d", cmd.Process.Pid)))
			for _, d := range m {
				os.RemoveAll(d)
			}
		}
	})

	var pid int
	deadline := time.Now().Add(10 * time.Second)
	for {
		log := readFileString(logPath)
		var sigAt int64
		for _, l := range strings.Split(log, "\n") {
			k, v, _ := strings.Cut(l, " ")
			switch k {
			case "pid":
				pid, _ = strconv.Atoi(v)
			case "sigint":
				sigAt, _ = strconv.ParseInt(v, 10, 64)
			}
		}
		if pid == 0 {
			t.Fatalf("the backend never started:\n%s", out.String())
		}
		if sigAt != 0 {
			if sigAt < killedAt {
				t.Fatalf("the backend got SIGINT %v before gzdoctor died", time.Duration(killedAt-sigAt))
			}
			break
		}
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("the backend (pid %d) got no SIGINT within 10 s of gzdoctor's death", pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for syscall.Kill(pid, 0) == nil {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("the backend (pid %d) survived gzdoctor", pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func readFileString(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}
