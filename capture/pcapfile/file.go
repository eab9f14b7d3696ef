package pcapfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/gzdoctor/gzdoctor/internal/atomicfile"
	"github.com/gzdoctor/gzdoctor/internal/readfile"
	"github.com/gzdoctor/gzdoctor/internal/shquote"
)

// ErrExists is returned by CreateAtomic and Commit when the destination
// exists and overwriting was not asked for.
var ErrExists = errors.New("file exists (use --force to overwrite)")

// ErrNotRegular is returned by CheckOutput, CreateAtomic and Commit when
// the destination exists and is not a regular file: a device node, a FIFO,
// a socket or a symlink. It is never replaced, even with --force; like
// ErrExists it is the caller's mistake (exit 2).
var ErrNotRegular = atomicfile.ErrNotRegular

// ErrReplaced is returned by Commit when the name it gave the output does
// not hold the file it wrote.
var ErrReplaced = atomicfile.ErrReplaced

// AtomicFile is a capture or pcap output written under internal/atomicfile's
// rule, so that a failed or interrupted run never leaves a half-written
// capture at the destination; only the "exists" message is pcap's own.
type AtomicFile struct {
	*atomicfile.File
	force bool
}

// CheckOutput says whether a capture or pcap output may be written at
// path: it may when nothing is there, and with force when a regular file
// is. Everything else is refused whatever force says, so that the
// commands that write captures (capture, pcap filter, pcap merge) decide
// alike, here:
//
//   - a device node, FIFO or socket (-w /dev/null): renaming a file over it
//     would replace the node (internal/atomicfile refuses it too, for every
//     writer). Writing into it is what the shell does: -w - >PATH.
//   - a symlink: replacing the link would silently change what the name
//     means (a "latest.pcapng" link becomes a file), and following it would
//     let whoever made the link (any user, in /tmp) choose the file root
//     overwrites. The operator names the file they mean.
//
// A directory gets the message "is a directory" (from atomicfile).
func CheckOutput(path string, force bool) error {
	fi, err := os.Lstat(path)
	if err != nil || fi.IsDir() {
		return nil
	}
	m := fi.Mode()
	switch {
	case m.IsRegular():
		if !force {
			return fmt.Errorf("%s: %w", path, ErrExists)
		}
		return nil
	case m&fs.ModeSymlink != 0:
		return notRegular{path: path, kind: readfile.Kind(m), advice: symlinkAdvice(path)}
	}
	return notRegular{path: path, kind: readfile.Kind(m),
		advice: fmt.Sprintf("to write into it, stream the output there: -w - >%s", shquote.Quote(path))}
}

// symlinkAdvice names the file a link at path leads to, for the operator
// to give instead.
func symlinkAdvice(path string) string {
	to, _ := os.Readlink(path)
	target, err := filepath.EvalSymlinks(path)
	if err != nil {
		return fmt.Sprintf("it points to %s, which does not exist: remove the link or write elsewhere", to)
	}
	if fi, err := os.Stat(target); err == nil && fi.Mode().IsRegular() {
		return fmt.Sprintf("it points to %s: give that file itself (with --force to replace it), or remove the link", shquote.Quote(target))
	}
	return fmt.Sprintf("it points to %s: remove the link or write elsewhere", shquote.Quote(target))
}

// notRegular is ErrNotRegular with what the name is and what to do.
type notRegular struct{ path, kind, advice string }

func (e notRegular) Error() string {
	return fmt.Sprintf("%s is a %s, not a regular file: gzdoctor never replaces it, even with --force (%s)", e.path, e.kind, e.advice)
}

func (e notRegular) Unwrap() error { return ErrNotRegular }

// CreateAtomic creates the temporary file for path with mode perm (0600
// for captures), after CheckOutput: unless force, it fails with ErrExists
// when path exists, and Commit will not replace a file that appeared
// meanwhile; it never replaces anything but a regular file.
func CreateAtomic(path string, perm fs.FileMode, force bool) (*AtomicFile, error) {
	if err := CheckOutput(path, force); err != nil {
		return nil, err
	}
	f, err := atomicfile.Create(path, perm, force)
	if err != nil {
		return nil, existsErr(path, err)
	}
	return &AtomicFile{File: f, force: force}, nil
}

// Commit makes the output durable and moves it to its destination. A
// symlink or node put at the name since CreateAtomic is not replaced.
func (a *AtomicFile) Commit() error {
	if a.force {
		if err := CheckOutput(a.Path(), true); err != nil {
			a.Abort()
			return err
		}
	}
	return existsErr(a.Path(), a.File.Commit())
}

func existsErr(path string, err error) error {
	if errors.Is(err, atomicfile.ErrExists) {
		return fmt.Errorf("%s: %w", path, ErrExists)
	}
	return err
}
