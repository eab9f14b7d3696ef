package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gzdoctor/gzdoctor/capture"
	"github.com/gzdoctor/gzdoctor/internal/lab"
	"golang.org/x/sys/unix"
)

const nobodyUID = 65534

// TestCaptureLabAttacker is issue 12's first finding on the real bench: a
// root capture into a directory another user (nobody) owns. That user's
// thread swaps every name that appears there for a symlink to a root-owned
// decoy, sweeping every 200 µs; pdump takes hundreds of milliseconds to
// attach, so before the fix the primary's pcap PMD opened the swapped names
// and overwrote the decoy. The decoy must stay untouched.
func TestCaptureLabAttacker(t *testing.T) {
	t.Parallel()
	needTools(t, "dpdk-pdump")
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	p := lab.StartT(t, lab.Config{})
	base, err := os.MkdirTemp("", "gzd")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	os.Chmod(base, 0o755)
	dir := filepath.Join(base, "shared")
	os.Mkdir(dir, 0o755)
	os.Chown(dir, nobodyUID, nobodyUID)
	decoy := filepath.Join(base, "decoy")
	const precious = "root's precious file\n"
	os.WriteFile(decoy, []byte(precious), 0o644)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	ready := make(chan error, 1)
	var swapped []string
	go func() {
		defer wg.Done()
		runtime.LockOSThread() // never unlocked: the thread dies with nobody's identity
		unix.Setfsgid(nobodyUID)
		unix.Setfsuid(nobodyUID)
		if f, err := os.Create(filepath.Join(base, "root-only")); err == nil {
			f.Close()
			ready <- errors.New("the attacker thread can still write a root-only directory")
			return
		}
		ready <- nil
		for {
			ents, _ := os.ReadDir(dir)
			for _, e := range ents {
				path := filepath.Join(dir, e.Name())
				switch {
				case e.Type()&os.ModeSymlink != 0 || strings.HasSuffix(e.Name(), ".moved"):
				case e.IsDir():
					if os.Rename(path, path+".moved") == nil && os.Symlink(base, path) == nil {
						swapped = append(swapped, e.Name()+"/")
					}
				default:
					if os.Remove(path) == nil && os.Symlink(decoy, path) == nil {
						swapped = append(swapped, e.Name())
					}
				}
			}
			select {
			case <-stop:
				return
			case <-time.After(200 * time.Microsecond):
			}
		}
	}()
	if err := <-ready; err != nil {
		t.Fatal(err)
	}
	code, res, errOut := captureJSON(t, "--prefix", p.Prefix, "-i", p.Device, "-c", "2000", "-w", filepath.Join(dir, "cap.pcapng"), "--no-preflight")
	close(stop)
	wg.Wait()
	if b, _ := os.ReadFile(decoy); string(b) != precious {
		t.Fatalf("the decoy was overwritten (%d bytes now); the attacker swapped %v", len(b), swapped)
	}
	if res == nil {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	if strings.HasPrefix(res.Plan.TempDir, dir+"/") || !strings.Contains(res.Plan.TempNote, "owned by nobody") {
		t.Errorf("private directory %s, note %q", res.Plan.TempDir, res.Plan.TempNote)
	}
	// The final file's temporary name may have been swapped too: then no ✓.
	if code == exitOK && (res.WriteError != "" || res.Counts.Packets() != 2000) || code != exitOK && !strings.Contains(res.WriteError, "replaced while being written") {
		t.Errorf("exit %d, write error %q, %d packets\n%s", code, res.WriteError, res.Counts.Packets(), errOut)
	}
	os.RemoveAll(res.Plan.TempDir)
	t.Logf("exit %d; the attacker swapped %v", code, swapped)
}

// TestCaptureLabDiskFull is issue 12's second finding on the real bench:
// `-a duration:8` into a 2 MB filesystem ended "✓ captured", exit 0, no
// file. Now the capture stops early with "output filesystem full", exit 3,
// and the file holds what was captured, as tshark reads it.
func TestCaptureLabDiskFull(t *testing.T) {
	t.Parallel()
	needTools(t, "dpdk-pdump", "tshark")
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a small filesystem")
	}
	p := lab.StartT(t, lab.Config{})
	dir, err := os.MkdirTemp("", "d")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(dir) })
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size=2m,mode=0700"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })
	f := filepath.Join(dir, "full.pcapng")
	// Not run in the small filesystem: a crashing pdump's core file
	// would fill it (seen under load: pdump segfaulted after "EAL:
	// Request timed out").
	cmd := gzdoctorCmd(t, t.TempDir(), "-o", "json", "capture", "--prefix", p.Prefix, "-i", p.Device, "-a", "duration:8", "-w", f, "--no-preflight")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err = cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitFailure {
		t.Fatalf("exit %v, want 3\n%s\n%s", err, stdout.String(), stderr.String())
	}
	var env struct{ Data capture.Result }
	if err := json.Unmarshal(stdout.Bytes(), &env); err != nil {
		t.Fatal(err)
	}
	res := env.Data
	if res.Stopped != capture.StopDiskFull || !strings.Contains(res.DiskFull, "on the filesystem of "+dir) {
		t.Fatalf("stopped %q (%s)", res.Stopped, res.DiskFull)
	}
	// Either the final file fits beside the tool's files, or (the tool
	// went on writing while it stopped) it does not, and the tool's files
	// are kept: both keep every packet and say so.
	var rows []string
	switch {
	case res.WriteError == "" && len(res.Files) == 1:
		rows = tsharkFields(t, f, "frame.number")
		if int64(len(rows)) != res.Counts.Packets() {
			t.Errorf("tshark reads %d packets, the result says %d", len(rows), res.Counts.Packets())
		}
	case strings.HasPrefix(res.WriteError, "output filesystem full: ") && len(res.TempFiles) > 0 && res.Recover != "":
		for _, k := range res.TempFiles {
			rows = append(rows, tsharkFields(t, k, "frame.number")...)
		}
		os.RemoveAll(res.Plan.TempDir)
	default:
		t.Fatalf("write error %q, files %v, kept %v", res.WriteError, res.Files, res.TempFiles)
	}
	// The watchdog stops as soon as the 2 MB cannot hold the tool's files
	// and the final one, which has been 1026 to 2077 packets here
	// depending on where its tick falls: the floor says packets were kept,
	// the count against the result above that none was lost.
	if len(rows) < 200 {
		t.Errorf("only %d packets kept", len(rows))
	}
	t.Logf("stopped after %v with %d packets kept (write error %q): %s", time.Since(start).Round(time.Millisecond), len(rows), res.WriteError, res.DiskFull)
}
