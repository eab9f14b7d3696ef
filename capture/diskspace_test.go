package capture

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// smallFS mounts a tmpfs of size bytes in a fresh directory, with a short
// path (the capture's private directory then goes on it) or a long one
// (pdump's 55 bytes send it elsewhere).
func smallFS(t *testing.T, size string, short bool) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a small filesystem")
	}
	dir := filepath.Join(t.TempDir(), strings.Repeat("long", 8))
	if short {
		var err error
		if dir, err = os.MkdirTemp("", "d"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Remove(dir) })
	} else if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size="+size+",mode=0700"); err != nil {
		t.Fatalf("mounting a %s tmpfs: %v", size, err)
	}
	t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })
	return dir
}

// TestCaptureDiskFull is issue 12's second finding: capturing into a 2 MB
// filesystem sat at 0 pkt/s, ended "✓ captured" with exit 0 and no file.
// The fake backend writes as the pcap PMD does (write errors ignored).
// The capture must stop on its own with "output filesystem full", long
// before the duration, and keep what it captured in the final file.
func TestCaptureDiskFull(t *testing.T) {
	t.Run("temporaries on it", func(t *testing.T) { testDiskFull(t, true) })
	t.Run("temporaries elsewhere", func(t *testing.T) { testDiskFull(t, false) })
}

func testDiskFull(t *testing.T, short bool) {
	dir := smallFS(t, "2m", short)
	o := fakeOptions(t, fakeNormal)
	o.Write = filepath.Join(dir, "out.pcapng")
	o.Duration = 30 * time.Second
	start := time.Now()
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	if res.Stopped != StopDiskFull || !res.Failed() || took > 20*time.Second {
		t.Fatalf("stopped %q after %v, failed %v; notes %v", res.Stopped, took, res.Failed(), res.Notes)
	}
	if !strings.Contains(res.DiskFull, "free of 2.1 MB on the filesystem of "+dir) {
		t.Errorf("disk full says %q", res.DiskFull)
	}
	if onIt := strings.HasPrefix(res.Plan.TempDir, dir+"/"); onIt != short {
		t.Errorf("private directory %s: on the small filesystem %v, want %v", res.Plan.TempDir, onIt, short)
	}
	var b strings.Builder
	res.RenderText(&b, noStyle, false)
	if strings.Contains(b.String(), "✓") {
		t.Errorf("summary:\n%s", b.String())
	}
	if res.WriteError != "" {
		// Under load the tool may write past the reserve while it stops:
		// then its files are kept, with every packet.
		var n int
		for _, k := range res.TempFiles {
			pkts, _ := readAll(t, k)
			n += len(pkts)
		}
		if !strings.HasPrefix(res.WriteError, "output filesystem full: ") || n < 1000 || !strings.Contains(b.String(), "✗ capture not saved: output filesystem full") {
			t.Errorf("write error %q, %d packets kept\n%s", res.WriteError, n, b.String())
		}
		os.RemoveAll(res.Plan.TempDir)
		t.Logf("stopped after %v; the final file did not fit, %d packets kept: %s", took.Round(time.Millisecond), n, res.DiskFull)
		return
	}
	pkts, _ := readAll(t, o.Write)
	if len(res.Files) != 1 || int64(len(pkts)) != res.Counts.Packets() || len(pkts) < 1000 {
		t.Errorf("the file holds %d packets, the result %d; want the same, and most of what fits in 2 MB", len(pkts), res.Counts.Packets())
	}
	if !strings.Contains(b.String(), "✗ capture stopped: output filesystem full") {
		t.Errorf("summary:\n%s", b.String())
	}
	noTemps(t, dir)
	t.Logf("stopped after %v with %d packets (%d bytes in the file): %s", took.Round(time.Millisecond), len(pkts), res.Files[0].Size, res.DiskFull)
}
