package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gzdoctor/gzdoctor/internal/lab"
)

// TestCaptureLabInMemoryPrefix: --prefix names a live primary started
// with --in-memory while another primary runs. The preflight's fix is to
// restart that primary with shared config; it never proposes capturing
// the other application's primary (adv3 F10: it offered a raw dpdk-pdump
// on the closest other prefix).
func TestCaptureLabInMemoryPrefix(t *testing.T) {
	t.Parallel()
	needTools(t, "dpdk-pdump")
	other := lab.StartT(t, lab.Config{})
	bin := lab.PrimaryBinary()
	if bin == "" {
		t.Fatal("lab.StartT ran, but the lab primary's binary is not found")
	}
	prefix := lab.NewPrefix()
	cmd := exec.Command(bin, "--file-prefix", prefix, "--in-memory", "--no-pci", "--vdev", "net_ring0", "--", "--rate", "1000")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGINT)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		os.RemoveAll(lab.RuntimeDir(prefix))
	})
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "lab-primary: ready") {
				ready <- true
			}
		}
		close(ready)
	}()
	select {
	case ok := <-ready:
		if !ok {
			t.Fatal("the --in-memory primary exited before it was ready")
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the --in-memory primary did not get ready")
	}
	code, res, errOut := captureJSON(t, "--prefix", prefix, "-i", "net_ring0", "-c", "10", "-w", filepath.Join(t.TempDir(), "im.pcapng"))
	if code != exitProblem || res == nil || res.Preflight == nil {
		t.Fatalf("exit %d, result %+v\n%s", code, res, errOut)
	}
	r, ok := res.Preflight.Result("prefix")
	if !ok || r.Status != "fail" || r.Fix == nil || !strings.Contains(r.Fix.Text, "start the process (pid ") || !strings.Contains(r.Fix.Text, "without --in-memory/--no-shconf") {
		t.Fatalf("prefix %+v, want the restart without --in-memory", r)
	}
	for _, c := range r.Fix.Commands {
		if strings.Contains(c, other.Prefix) || strings.Contains(c, "pdump") {
			t.Errorf("the fix proposes another primary or a capture tool: %q", c)
		}
	}
}
