package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gzdoctor/gzdoctor/capture"
	"github.com/gzdoctor/gzdoctor/capture/pcapfile"
	"github.com/gzdoctor/gzdoctor/internal/lab"
	"github.com/gzdoctor/gzdoctor/internal/testenv"
)

// waitFor polls cond every 10 ms until it holds or d passes.
func waitFor(d time.Duration, cond func() bool) bool {
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

// TestPcapFilterSIGHUP: a dropped SSH session (SIGHUP) used to kill
// `pcap filter` with its temporary file left beside the output. It now
// stops as for SIGTERM: the temporary file is removed, nothing is written,
// exit 3. The input is a FIFO the test feeds, so the filter is provably
// mid-file when the signal comes.
func TestPcapFilterSIGHUP(t *testing.T) {
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.pcap"), filepath.Join(dir, "out.pcap")
	if err := syscall.Mkfifo(in, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := gzdoctorCmd(t, dir, "pcap", "filter", in, "-w", out)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	fifo, err := os.OpenFile(in, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer fifo.Close()
	w, err := pcapfile.NewPcapWriter(fifo, pcapfile.LinkTypeEthernet, 65535, pcapfile.Nano)
	if err != nil {
		t.Fatal(err)
	}
	frame := make([]byte, 60)
	send := func(n int) error {
		for i := 0; i < n; i++ {
			p := pcapfile.Packet{Timestamp: uint64(i), OrigLen: 60, Data: frame}
			if err := w.WritePacket(&p); err != nil {
				return err
			}
		}
		return w.Flush()
	}
	if err := send(100); err != nil {
		t.Fatal(err)
	}
	temp := func() []string { m, _ := filepath.Glob(filepath.Join(dir, ".out.pcap.gzdoctor-tmp-*")); return m }
	if !waitFor(10*time.Second, func() bool { return len(temp()) > 0 }) {
		cmd.Process.Kill()
		t.Fatalf("no temporary output appeared: %s", stderr.String())
	}
	cmd.Process.Signal(syscall.SIGHUP)
	// Keep the filter reading until it has ended: it looks at its
	// context between packets, and an input that ended first would let
	// it finish (exit 0) before it saw the signal, on a loaded machine.
	// (A filter that ended closes the FIFO: the write fails, which ends
	// the feeding.)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	giveUp := time.Now().Add(60 * time.Second)
	for fed := false; !fed; {
		select {
		case err = <-done:
			fed = true
		default:
			if send(100) != nil || time.Now().After(giveUp) {
				// Ended, or it ignores SIGHUP: the end of input
				// ends it (and the exit status says which).
				fifo.Close()
				err, fed = <-done, true
			}
		}
	}
	fifo.Close()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitFailure {
		t.Fatalf("pcap filter after SIGHUP: %v (want exit 3)\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "interrupted: "+out+" not written") {
		t.Errorf("stderr %q", stderr.String())
	}
	if left := temp(); len(left) > 0 {
		t.Errorf("temporary file left: %v", left)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("%s exists after an interrupted filter (%v)", out, err)
	}
}

// TestCaptureLabSIGHUP: SIGHUP (the SSH session that started the capture
// dropped) used to kill gzdoctor with exit 129, no output file, and the
// packets in hidden temporary files. It is a stop like Ctrl+C: the file
// is written, the temporaries removed, exit 0.
func TestCaptureLabSIGHUP(t *testing.T) {
	t.Parallel()
	needTools(t, "dpdk-pdump", "tshark")
	p := lab.StartT(t, lab.Config{})
	dir := t.TempDir()
	f := filepath.Join(dir, "hup.pcapng")
	cmd := gzdoctorCmd(t, dir, "-o", "json", "capture", "--prefix", p.Prefix, "-w", f, "--no-preflight")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The capture's private directory is named after gzdoctor's pid; the
	// signal comes once pdump has written packets into it: 30 kB of rx
	// alone is about 140 of the lab's packets, so the 100 asked below do
	// not hang on how the tx file kept up.
	grown := func() bool {
		m, _ := filepath.Glob(fmt.Sprintf("%s/.gzdoctor-%d*/rx.pcap", "/tmp", cmd.Process.Pid))
		m2, _ := filepath.Glob(fmt.Sprintf("%s/.gzdoctor-%d*/rx.pcap", dir, cmd.Process.Pid))
		for _, x := range append(m, m2...) {
			if fi, err := os.Stat(x); err == nil && fi.Size() > 30000 {
				return true
			}
		}
		return false
	}
	if !waitFor(30*time.Second, grown) {
		cmd.Process.Kill()
		t.Fatalf("pdump never wrote packets:\n%s", stderr.String())
	}
	cmd.Process.Signal(syscall.SIGHUP)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("after SIGHUP: %v (want exit 0)\n%s\n%s", err, stdout.String(), stderr.String())
	}
	var env struct{ Data capture.Result }
	if err := json.Unmarshal(stdout.Bytes(), &env); err != nil {
		t.Fatal(err)
	}
	res := env.Data
	rows := tsharkFields(t, f, "frame.number")
	if res.Stopped != capture.StopInterrupt || int64(len(rows)) != res.Counts.Packets() || len(rows) < 100 {
		t.Errorf("stopped %q, tshark reads %d packets, result %d", res.Stopped, len(rows), res.Counts.Packets())
	}
	if _, err := os.Stat(res.Plan.TempDir); !os.IsNotExist(err) {
		t.Errorf("private directory %s left (%v)", res.Plan.TempDir, err)
	}
}

// TestCaptureLabFinalWriteFails: the final file cannot be written (a
// directory appears at its path while the capture runs). It used to print
// ✓ and exit 0, and nothing at all with -q. Now: exit 3 and a ✗ line that
// says where the packets are, on stdout, or on stderr with -q.
func TestCaptureLabFinalWriteFails(t *testing.T) {
	t.Parallel()
	needTools(t, "dpdk-pdump")
	p := lab.StartT(t, lab.Config{})
	for _, quiet := range []bool{false, true} {
		t.Run(fmt.Sprintf("quiet %v", quiet), func(t *testing.T) {
			dir := t.TempDir()
			f := filepath.Join(dir, "w.pcapng")
			args := []string{"capture", "--prefix", p.Prefix, "-i", p.Device, "-w", f, "--no-preflight"}
			if quiet {
				args = append([]string{"-q"}, args...)
			}
			cmd := gzdoctorCmd(t, dir, args...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			var kept []string
			if !waitFor(30*time.Second, func() bool {
				kept, _ = filepath.Glob(fmt.Sprintf("/tmp/.gzdoctor-%d*/rx.pcap", cmd.Process.Pid))
				if len(kept) == 0 {
					return false
				}
				fi, err := os.Stat(kept[0])
				return err == nil && fi.Size() > 10000
			}) {
				cmd.Process.Kill()
				t.Fatalf("pdump never wrote packets:\n%s", stderr.String())
			}
			if err := os.Mkdir(f, 0o755); err != nil {
				t.Fatal(err)
			}
			cmd.Process.Signal(syscall.SIGINT)
			err := cmd.Wait()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != exitFailure {
				t.Fatalf("exit %v, want 3\n%s\n%s", err, stdout.String(), stderr.String())
			}
			where, text := stdout.String(), stdout.String()
			if quiet {
				where, text = stderr.String(), stdout.String()+stderr.String()
			}
			kdir := filepath.Dir(kept[0])
			t.Cleanup(func() { os.RemoveAll(kdir) })
			if !strings.Contains(where, "✗ capture not saved: creating "+f+": is a directory; the packets are kept in "+kdir+"/") || strings.Contains(text, "✓") {
				t.Errorf("stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
			}
			if quiet && stdout.Len() > 0 {
				t.Errorf("-q printed on stdout:\n%s", stdout.String())
			}
			if fi, err := os.Stat(kept[0]); err != nil || fi.Size() <= 10000 {
				t.Errorf("the packets were not kept: %v %v", fi, err)
			}
		})
	}
}

// TestCaptureLabOutputTakenMeanwhile: another process writes the -w file
// while the capture runs (adv3 F26). The capture must not replace it, and
// the recover command it prints must work as typed: it wrote onto the same
// taken name (refused, exit 2) and the advice was --force, which would
// have destroyed the other file.
func TestCaptureLabOutputTakenMeanwhile(t *testing.T) {
	t.Parallel()
	needTools(t, "dpdk-pdump", "tshark")
	p := lab.StartT(t, lab.Config{})
	dir := t.TempDir()
	f := filepath.Join(dir, "race.pcapng")
	cmd := gzdoctorCmd(t, dir, "-o", "json", "capture", "--prefix", p.Prefix, "-i", p.Device, "-w", f, "--no-preflight")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	grown := func() bool {
		m, _ := filepath.Glob(fmt.Sprintf("%s/.gzdoctor-%d*/rx.pcap", "/tmp", cmd.Process.Pid))
		m2, _ := filepath.Glob(fmt.Sprintf("%s/.gzdoctor-%d*/rx.pcap", dir, cmd.Process.Pid))
		for _, x := range append(m, m2...) {
			if fi, err := os.Stat(x); err == nil && fi.Size() > 30000 {
				return true
			}
		}
		return false
	}
	if !waitFor(30*time.Second, grown) {
		cmd.Process.Kill()
		t.Fatalf("pdump never wrote packets:\n%s", stderr.String())
	}
	other := []byte("another process's data\n")
	if err := os.WriteFile(f, other, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Fatalf("exit %v, want 3 (the capture could not be written where asked)\n%s\n%s", err, stdout.String(), stderr.String())
	}
	var env struct{ Data capture.Result }
	if err := json.Unmarshal(stdout.Bytes(), &env); err != nil {
		t.Fatal(err)
	}
	res := env.Data
	if b, _ := os.ReadFile(f); !bytes.Equal(b, other) {
		t.Fatalf("the other process's %s was replaced", f)
	}
	if strings.Contains(res.WriteError+res.Recover, "--force") || res.Recover == "" {
		t.Fatalf("write error %q, recover %q: want a recovery that needs no --force", res.WriteError, res.Recover)
	}
	// The printed command, as typed, in a shell with gzdoctor on PATH.
	bin := t.TempDir()
	if err := os.Symlink(testenv.Binary(t), filepath.Join(bin, "gzdoctor")); err != nil {
		t.Fatal(err)
	}
	sh := exec.Command("sh", "-c", res.Recover)
	sh.Dir = dir
	sh.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"))
	if out, err := sh.CombinedOutput(); err != nil {
		t.Fatalf("the recover command %q: %v\n%s", res.Recover, err, out)
	}
	if b, _ := os.ReadFile(f); !bytes.Equal(b, other) {
		t.Fatalf("the recover command replaced %s", f)
	}
	rec := strings.TrimSuffix(f, ".pcapng") + "-recovered-" + strings.TrimPrefix(filepath.Base(res.Plan.TempDir), ".gzdoctor-") + ".pcapng"
	if rows := tsharkFields(t, rec, "frame.number"); len(rows) < 100 {
		t.Errorf("%s holds %d packets, want the capture's (at least 100)", rec, len(rows))
	}
	if _, err := os.Stat(res.Plan.TempDir); !os.IsNotExist(err) {
		t.Errorf("the recover command left %s (%v)", res.Plan.TempDir, err)
	}
}
