package lab

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// envChurnHelper makes the test binary a stand-in for a test process that
// uses the lab: TestLabHelperChurn starts a primary, then keeps ending OS
// threads until it is killed.
const envChurnHelper = "GZLAB_CHURN_HELPER"

// In the helper, keep the main thread out of it: the runtime never ends
// the main thread (a goroutine exiting locked to it wedges it instead), so
// a primary forked there would survive the churn by luck. Locking in init
// ties the main goroutine, which only waits for the tests, to that thread.
func init() {
	if os.Getenv(envChurnHelper) == "1" {
		runtime.LockOSThread()
	}
}

// TestLabHelperChurn is not a test but the helper process of
// TestPrimaryFollowsTheProcessNotAThread; it does nothing unless that test
// runs it.
func TestLabHelperChurn(t *testing.T) {
	if os.Getenv(envChurnHelper) != "1" {
		return
	}
	// What the runtime may do at any time: a goroutine that exits while
	// locked to its thread ends that thread. Never the thread that forked
	// the primary, or the primary gets its parent-death signal. The churn
	// runs from before Start, so that the goroutine that reaps the primary
	// does not simply stay on the forking thread by luck.
	churn := func() {
		for {
			done := make(chan struct{})
			go func() {
				runtime.LockOSThread()
				close(done)
			}()
			<-done
			time.Sleep(50 * time.Microsecond)
		}
	}
	for range 4 {
		go churn()
	}
	// The caller's goroutine is locked to its thread (as one that entered
	// a namespace would be) and exits without unlocking: its thread ends
	// right after Start. The primary must not care which thread called.
	started := make(chan *Primary)
	go func() {
		runtime.LockOSThread()
		p, err := Start(context.Background(), Config{Rate: -1})
		if err != nil {
			fmt.Println("start failed:", err)
			os.Exit(2)
		}
		started <- p
	}()
	p := <-started
	fmt.Printf("ready pid=%d prefix=%s\n", p.Pid, p.Prefix)
	<-p.Exited()
	fmt.Printf("primary exited while the helper lived: %v\n%s", p.ExitErr(), p.Output())
	os.Exit(3)
}

// TestPrimaryFollowsTheProcessNotAThread: a primary keeps running while its
// test process lives, though the thread that called Start has ended and
// others keep ending (the parent-death signal follows the forking thread,
// go.dev/issue/27505), and stops when that process is killed with SIGKILL
// (no cleanup ran).
func TestPrimaryFollowsTheProcessNotAThread(t *testing.T) {
	Require(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^TestLabHelperChurn$")
	// More Ps than cores: goroutines migrate between threads more.
	cmd.Env = append(os.Environ(), envChurnHelper+"=1", "GOMAXPROCS=8")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	cmd.Stderr = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan [2]string, 1)
	exited := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			out.Write(append(sc.Bytes(), '\n'))
			var pid, prefix string
			if f := strings.Fields(sc.Text()); len(f) == 3 && f[0] == "ready" {
				pid, prefix = strings.TrimPrefix(f[1], "pid="), strings.TrimPrefix(f[2], "prefix=")
				ready <- [2]string{pid, prefix}
			}
		}
		exited <- cmd.Wait()
	}()
	t.Cleanup(func() { cmd.Process.Kill() })

	var pid int
	select {
	case r := <-ready:
		fmt.Sscan(r[0], &pid)
		prefix := r[1]
		t.Cleanup(func() {
			if syscall.Kill(pid, 0) == nil && isPrimary(pid, prefix) {
				syscall.Kill(pid, syscall.SIGKILL)
			}
			removePrefixFiles(prefix, RuntimeDir(prefix))
		})
	case err := <-exited:
		t.Fatalf("helper ended before its primary was ready (%v):\n%s", err, out.String())
	case <-time.After(readyTimeout):
		t.Fatalf("helper's primary not ready in %v:\n%s", readyTimeout, out.String())
	}

	select {
	case err := <-exited:
		t.Fatalf("the primary stopped while its test process lived (the thread that called Start ended; threads churned) (helper: %v):\n%s", err, out.String())
	case <-time.After(1500 * time.Millisecond):
	}
	if err := syscall.Kill(pid, 0); err != nil {
		t.Fatalf("primary %d gone while its test process lives: %v\n%s", pid, err, out.String())
	}

	cmd.Process.Kill()
	<-exited
	deadline := time.Now().Add(stopTimeout)
	for syscall.Kill(pid, 0) == nil {
		if time.Now().After(deadline) {
			t.Fatalf("primary %d still runs %v after its test process was killed", pid, stopTimeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// isPrimary reports whether pid still runs with --file-prefix prefix (and
// not a process that got the pid since).
func isPrimary(pid int, prefix string) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return err == nil && bytes.Contains(b, []byte("\x00"+prefix+"\x00"))
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
