package atomicfile

import (
	"errors"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// leftovers lists the temporary files in dir: none may survive any path.
func leftovers(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, ".*"+TempInfix+"*"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestWrite(t *testing.T) {
	writeX := func(w io.Writer) error { _, err := io.WriteString(w, "new"); return err }
	for _, tc := range []struct {
		name    string
		before  string // "" none, "file", "dir", "dangling", "fifo", "chardev", "socket"
		replace bool
		write   func(io.Writer) error
		wantErr string // substring; "" success
		isErr   error
		want    string // destination content afterwards ("" absent or untouched non-file)
	}{
		{"new file", "", false, writeX, "", nil, "new"},
		{"new file, replace allowed", "", true, writeX, "", nil, "new"},
		{"exists, no clobber", "file", false, writeX, "out: file exists", ErrExists, "old"},
		{"dangling symlink, no clobber", "dangling", false, writeX, "file exists", ErrExists, ""},
		{"exists, replace", "file", true, writeX, "", nil, "new"},
		{"dangling symlink replaced, not followed", "dangling", true, writeX, "", nil, "new"},
		{"directory", "dir", true, writeX, "out: is a directory", nil, ""},
		// Never replaced, even when replacing is asked for: a rename
		// over /dev/null leaves a regular file there.
		{"fifo, replace", "fifo", true, writeX, "out is a FIFO (named pipe): not a regular file", ErrNotRegular, ""},
		{"fifo, no clobber", "fifo", false, writeX, "out is a FIFO (named pipe)", ErrNotRegular, ""},
		{"character device, replace", "chardev", true, writeX, "out is a character device", ErrNotRegular, ""},
		{"socket, replace", "socket", true, writeX, "out is a socket", ErrNotRegular, ""},
		{"writer fails: nothing left", "file", true, func(w io.Writer) error { io.WriteString(w, "half"); return errors.New("disk on fire") }, "disk on fire", nil, "old"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, "out")
			switch tc.before {
			case "file":
				os.WriteFile(out, []byte("old"), 0o644)
			case "dir":
				os.Mkdir(out, 0o755)
			case "dangling":
				os.Symlink(filepath.Join(dir, "nowhere"), out)
			case "fifo":
				if err := unix.Mkfifo(out, 0o644); err != nil {
					t.Fatal(err)
				}
			case "chardev":
				mknodNull(t, out)
			case "socket":
				l, err := net.Listen("unix", out)
				if err != nil {
					t.Fatal(err)
				}
				// Closing would remove the name.
				l.(*net.UnixListener).SetUnlinkOnClose(false)
				l.Close()
			}
			var before fs.FileInfo
			if tc.before != "" {
				before, _ = os.Lstat(out)
			}
			err := Write(out, 0o640, tc.replace, tc.write)
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
			if tc.isErr != nil && !errors.Is(err, tc.isErr) {
				t.Fatalf("err = %v, not %v", err, tc.isErr)
			}
			if l := leftovers(t, dir); len(l) > 0 {
				t.Fatalf("temporary files left: %q", l)
			}
			if _, err := os.Lstat(filepath.Join(dir, "nowhere")); err == nil {
				t.Fatal("a symlink at the destination was followed")
			}
			if errors.Is(err, ErrNotRegular) {
				after, lerr := os.Lstat(out)
				if lerr != nil || !os.SameFile(before, after) || after.Mode() != before.Mode() {
					t.Fatalf("the %s at the destination was replaced: %v %v", tc.before, after, lerr)
				}
			}
			if tc.want != "" {
				b, err := os.ReadFile(out)
				if err != nil || string(b) != tc.want {
					t.Fatalf("destination holds %q (%v), want %q", b, err, tc.want)
				}
			}
			if err == nil {
				fi, _ := os.Lstat(out)
				if fi.Mode() != 0o640 {
					t.Fatalf("mode %v, want 0640 whatever the umask", fi.Mode())
				}
			}
		})
	}
}

// TestCommitNoClobberRace: a file that appears at the name after Create is
// kept, and the output is not written over it.
func TestCommitNoClobberRace(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	f, err := Create(out, 0o600, false)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("mine")
	os.WriteFile(out, []byte("theirs"), 0o644)
	if err := f.Commit(); !errors.Is(err, ErrExists) {
		t.Fatalf("Commit = %v, want ErrExists", err)
	}
	if b, _ := os.ReadFile(out); string(b) != "theirs" {
		t.Fatalf("destination holds %q", b)
	}
	if l := leftovers(t, dir); len(l) > 0 {
		t.Fatalf("temporary files left: %q", l)
	}
}

// mknodNull makes a character device like /dev/null (1,3) at path: what an
// operator's -w /dev/null --force would otherwise replace.
func mknodNull(t *testing.T, path string) {
	t.Helper()
	if err := unix.Mknod(path, unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))); err != nil {
		t.Skipf("mknod (needs root): %v", err)
	}
}

// TestCommitNodeAppeared: a device node made at the name after Create
// (which found nothing there) is not replaced by Commit either.
func TestCommitNodeAppeared(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	f, err := Create(out, 0o600, true)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("mine")
	mknodNull(t, out)
	if err := f.Commit(); !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), "out is a character device") {
		t.Fatalf("Commit = %v, want ErrNotRegular", err)
	}
	if fi, err := os.Lstat(out); err != nil || fi.Mode()&fs.ModeCharDevice == 0 {
		t.Fatalf("destination after Commit: %v %v", fi, err)
	}
	if l := leftovers(t, dir); len(l) > 0 {
		t.Fatalf("temporary files left: %q", l)
	}
}

// TestCommitReplacedTemp: someone who swaps the temporary name for another
// file gets no ✓ from Commit.
func TestCommitReplacedTemp(t *testing.T) {
	for _, replace := range []bool{false, true} {
		dir := t.TempDir()
		out := filepath.Join(dir, "out")
		f, err := Create(out, 0o600, replace)
		if err != nil {
			t.Fatal(err)
		}
		os.Remove(f.Name())
		os.WriteFile(f.Name(), []byte("planted"), 0o644)
		if err := f.Commit(); !errors.Is(err, ErrReplaced) {
			t.Fatalf("replace=%v: Commit = %v, want ErrReplaced", replace, err)
		}
	}
}

func TestAbortAndTwice(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	f, err := Create(out, 0o600, false)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(filepath.Base(f.Name()), ".out"+TempInfix) {
		t.Fatalf("temporary name %s", f.Name())
	}
	f.Abort()
	f.Abort()
	if err := f.Commit(); err == nil {
		t.Fatal("Commit after Abort succeeded")
	}
	if _, err := os.Lstat(out); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("destination after Abort: %v", err)
	}
	if l := leftovers(t, dir); len(l) > 0 {
		t.Fatalf("temporary files left: %q", l)
	}
}
