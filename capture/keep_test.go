package capture

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestRefuseDirectoryOutput: -w DIR --force used to capture, find the
// target a directory, print ✓ and exit 0. It is refused before anything
// starts.
func TestRefuseDirectoryOutput(t *testing.T) {
	o := fakeOptions(t, fakeNormal)
	dir := filepath.Dir(o.Write)
	o.Write, o.Force, o.Count = dir, true, 10
	started := false
	o.beforeBackend = func(*Plan) { started = true }
	res, err := Run(context.Background(), o)
	var ue *UsageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), dir+" is a directory") {
		t.Fatalf("err %v (result %+v), want a usage error naming the directory", err, res)
	}
	if started {
		t.Error("the capture started before the output was refused")
	}
	noTemps(t, dir)
}

// TestFinalWriteFailureKeepsPackets: the final file cannot be written
// (here a directory appears at its path while the capture runs). The
// result is a failure (exit 3, ✗), names the kept files, which hold every
// packet, and gives the command that recovers them.
func TestFinalWriteFailureKeepsPackets(t *testing.T) {
	o := fakeOptions(t, fakeNormal)
	o.Count = 300
	o.beforeBackend = func(*Plan) {
		if err := os.Mkdir(o.Write, 0o755); err != nil {
			t.Error(err)
		}
	}
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Failed() || !strings.Contains(res.WriteError, "is a directory") || len(res.Files) != 0 {
		t.Fatalf("failed %v, write error %q, files %v", res.Failed(), res.WriteError, res.Files)
	}
	var n int
	for _, p := range res.TempFiles {
		pkts, _ := readAll(t, p)
		n += len(pkts)
	}
	if n < 300 {
		t.Errorf("the kept files %v hold %d packets, want at least the 300 counted", res.TempFiles, n)
	}
	if !strings.HasPrefix(res.Recover, "gzdoctor pcap merge "+res.TempFiles[0]) || !strings.Contains(res.Recover, "-w "+o.Write) {
		t.Errorf("recover %q", res.Recover)
	}
	var b strings.Builder
	res.RenderText(&b, noStyle, false)
	if !strings.Contains(b.String(), "✗ capture not saved: ") || strings.Contains(b.String(), "✓") || !strings.Contains(b.String(), "the packets are kept in "+res.Plan.TempDir) {
		t.Errorf("summary:\n%s", b.String())
	}
	os.RemoveAll(res.Plan.TempDir)
}

// TestRefuseNonRegularOutput: -w at a device node, a FIFO or a symlink is
// refused before anything starts, even with --force: a rename over it
// would replace the node (-w /dev/null --force as root) or silently turn
// the link into a file.
func TestRefuseNonRegularOutput(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mknod needs root")
	}
	for _, tc := range []struct {
		name string
		make func(path string) error
		want string
	}{
		{"character device", func(p string) error { return unix.Mknod(p, unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))) }, " is a character device, not a regular file: gzdoctor never replaces it, even with --force"},
		{"fifo", func(p string) error { return unix.Mkfifo(p, 0o644) }, " is a FIFO (named pipe), not a regular file"},
		{"symlink", func(p string) error { return os.Symlink("/etc/passwd", p) }, " is a symbolic link, not a regular file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := fakeOptions(t, fakeNormal)
			o.Force, o.Count = true, 10
			if err := tc.make(o.Write); err != nil {
				t.Fatal(err)
			}
			before, _ := os.Lstat(o.Write)
			started := false
			o.beforeBackend = func(*Plan) { started = true }
			res, err := Run(context.Background(), o)
			var ue *UsageError
			if !errors.As(err, &ue) || !strings.Contains(err.Error(), o.Write+tc.want) {
				t.Fatalf("err %v (result %+v), want a usage error %q", err, res, tc.want)
			}
			if started {
				t.Error("the capture started before the output was refused")
			}
			if after, err := os.Lstat(o.Write); err != nil || !os.SameFile(before, after) || after.Mode() != before.Mode() {
				t.Errorf("%s was replaced: %v %v", o.Write, after, err)
			}
			noTemps(t, filepath.Dir(o.Write))
		})
	}
}

// TestNodeAppearsDuringCapture: a device node made at -w's name while the
// capture runs is not replaced at the end either: the capture fails (exit
// 3) with the packets kept, the node intact.
func TestNodeAppearsDuringCapture(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mknod needs root")
	}
	o := fakeOptions(t, fakeNormal)
	o.Force, o.Count = true, 300
	o.beforeBackend = func(*Plan) {
		if err := unix.Mknod(o.Write, unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))); err != nil {
			t.Error(err)
		}
	}
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Failed() || !strings.Contains(res.WriteError, o.Write+" is a character device, not a regular file") || len(res.Files) != 0 || len(res.TempFiles) == 0 {
		t.Fatalf("failed %v, write error %q, files %v, kept %v", res.Failed(), res.WriteError, res.Files, res.TempFiles)
	}
	if fi, err := os.Lstat(o.Write); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		t.Errorf("%s after the capture: %v %v", o.Write, fi, err)
	}
}
