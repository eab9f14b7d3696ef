package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gzdoctor/gzdoctor/capture"
	"github.com/gzdoctor/gzdoctor/internal/lab"
	"github.com/gzdoctor/gzdoctor/internal/testenv"
)

// TestCaptureLabPrimaryStopped: the primary is stopped (SIGSTOP) while a
// capture runs. The progress says so with the command that resumes it,
// as capture -D does, and the summary keeps it (adv3 F11: 70 s of "0
// pkt/s" and no word). The primary is continued once the progress has
// said it, and the capture then ends as usual with SIGINT.
func TestCaptureLabPrimaryStopped(t *testing.T) {
	t.Parallel()
	needTools(t, "dpdk-pdump")
	p := lab.StartT(t, lab.Config{})
	t.Cleanup(func() { syscall.Kill(p.Pid, syscall.SIGCONT) })
	dir := t.TempDir()
	cmd := exec.Command(testenv.Binary(t), "-o", "json", "capture", "--prefix", p.Prefix, "-w", filepath.Join(dir, "st.pcapng"))
	cmd.Env = append(os.Environ(), "TMPDIR="+dir)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stdout strings.Builder
	cmd.Stdout = &stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Signal(syscall.SIGINT) })
	want := fmt.Sprintf("the primary (pid %d) is stopped (state T: SIGSTOP or Ctrl-Z): it answers no capture tool until it continues (kill -CONT %d)", p.Pid, p.Pid)
	stopped, said := false, false
	deadline := time.AfterFunc(90*time.Second, func() { cmd.Process.Signal(syscall.SIGINT) })
	defer deadline.Stop()
	sc := bufio.NewScanner(stderr)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var ev capture.Event
		if json.Unmarshal(sc.Bytes(), &ev) != nil || ev.Type != "progress" {
			continue
		}
		switch {
		case !stopped && ev.Counts != nil && ev.Counts.Packets() > 0:
			// Packets flow: now the primary stops.
			if err := syscall.Kill(p.Pid, syscall.SIGSTOP); err != nil {
				t.Fatal(err)
			}
			stopped = true
		case stopped && !said && strings.HasPrefix(ev.Text, want):
			said = true
			syscall.Kill(p.Pid, syscall.SIGCONT)
			cmd.Process.Signal(syscall.SIGINT)
		}
	}
	cmd.Wait()
	if !said {
		t.Fatalf("no progress event said %q\nstdout:\n%s", want, stdout.String())
	}
	var env struct {
		Data *capture.Result `json:"data"`
	}
	if err := json.Unmarshal([]byte(stdout.String()), &env); err != nil || env.Data == nil {
		t.Fatalf("summary: %v\n%s", err, stdout.String())
	}
	if !slices.Contains(env.Data.Notes, "during the capture, "+want) {
		t.Errorf("notes %q lack the stopped primary", env.Data.Notes)
	}
}
