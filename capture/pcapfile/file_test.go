package pcapfile

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

// TestCheckOutput: the one rule capture, pcap filter and pcap merge follow
// for an existing output. --force replaces a regular file and nothing
// else: a rename over a device node (-w /dev/null --force, as root) would
// leave a 0600 regular file at /dev/null; over a symlink it would change
// what the name means without a word.
func TestCheckOutput(t *testing.T) {
	for _, tc := range []struct {
		name   string
		make   func(t *testing.T, dir, path string)
		force  bool
		is     error  // nil: allowed
		want   string // substring of the message
		create bool   // CreateAtomic+Commit then succeeds
	}{
		{"nothing there", func(*testing.T, string, string) {}, false, nil, "", true},
		{"regular file", regular, false, ErrExists, "out: file exists (use --force to overwrite)", false},
		{"regular file, force", regular, true, nil, "", true},
		{"character device, force", chardev, true, ErrNotRegular,
			"out is a character device, not a regular file: gzdoctor never replaces it, even with --force (to write into it, stream the output there: -w - >", false},
		{"character device", chardev, false, ErrNotRegular, "out is a character device", false},
		{"fifo, force", func(t *testing.T, _, p string) { must(t, unix.Mkfifo(p, 0o644)) }, true, ErrNotRegular, "out is a FIFO (named pipe), not a regular file", false},
		{"socket, force", socket, true, ErrNotRegular, "out is a socket, not a regular file", false},
		{"symlink to a file, force", func(t *testing.T, dir, p string) {
			regular(t, dir, filepath.Join(dir, "real.pcapng"))
			must(t, os.Symlink("real.pcapng", p))
		}, true, ErrNotRegular, "out is a symbolic link, not a regular file: gzdoctor never replaces it, even with --force (it points to DIR/real.pcapng: give that file itself (with --force to replace it), or remove the link)", false},
		{"dangling symlink, force", func(t *testing.T, dir, p string) { must(t, os.Symlink("/nonexistent/x.pcapng", p)) },
			true, ErrNotRegular, "(it points to /nonexistent/x.pcapng, which does not exist: remove the link or write elsewhere)", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "out")
			tc.make(t, dir, path)
			before, _ := os.Lstat(path)
			want := strings.ReplaceAll(tc.want, "DIR", dir)
			err := CheckOutput(path, tc.force)
			if tc.is == nil && err != nil || tc.is != nil && (!errors.Is(err, tc.is) || !strings.Contains(err.Error(), want)) {
				t.Fatalf("CheckOutput = %v, want %v %q", err, tc.is, want)
			}
			// CreateAtomic decides by the same rule.
			af, cerr := CreateAtomic(path, 0o600, tc.force)
			if tc.create != (cerr == nil) || cerr != nil && cerr.Error() != err.Error() {
				t.Fatalf("CreateAtomic = %v, CheckOutput = %v", cerr, err)
			}
			if af != nil {
				io.WriteString(af, "new")
				if err := af.Commit(); err != nil {
					t.Fatal(err)
				}
				return
			}
			if after, err := os.Lstat(path); err != nil || !os.SameFile(before, after) {
				t.Fatalf("%s replaced: %v %v", path, after, err)
			}
			if m, _ := filepath.Glob(filepath.Join(dir, ".*")); len(m) > 0 {
				t.Fatalf("temporary files left: %v", m)
			}
		})
	}
}

// TestCommitRefusesLinkMadeMeanwhile: a symlink put at the name while
// the output is written is not replaced by Commit, even with force.
func TestCommitRefusesLinkMadeMeanwhile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.pcapng")
	af, err := CreateAtomic(path, 0o600, true)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(af, "new")
	must(t, os.Symlink("/etc/passwd", path))
	if err := af.Commit(); !errors.Is(err, ErrNotRegular) {
		t.Fatalf("Commit = %v, want ErrNotRegular", err)
	}
	if fi, err := os.Lstat(path); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Fatalf("the link was replaced: %v %v", fi, err)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, ".*")); len(m) > 0 {
		t.Fatalf("temporary files left: %v", m)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func regular(t *testing.T, _, p string) { must(t, os.WriteFile(p, []byte("old"), 0o644)) }

// chardev makes a /dev/null (1,3) at p, as root.
func chardev(t *testing.T, _, p string) {
	if err := unix.Mknod(p, unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))); err != nil {
		t.Skipf("mknod (needs root): %v", err)
	}
}

func socket(t *testing.T, _, p string) {
	l, err := net.Listen("unix", p)
	must(t, err)
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()
}
