// Package atomicfile writes every file gzdoctor creates (captures, pcap
// outputs, patched specs and their backups, JUnit reports) under one
// durability rule, so a crash, a signal or a full disk leaves the old state
// or the whole new file at the name, never half of one:
//
//  1. create a temporary file in the destination's directory (a rename
//     across file systems is a copy), named .<name>.gzdoctor-tmp-<n> and
//     flock'ed while its writer lives, so a later run tells a killed
//     writer's leftover from a live one (capture/pcapfile.FindLeftovers);
//  2. fsync the file: the data is on disk before a name points at it;
//  3. move it into place: a hard link when the name must not be replaced
//     (link fails if it exists, also as a dangling symlink, with no window
//     between a check and the move), a rename when it may be (a symlink at
//     the name is replaced, never followed);
//  4. fsync the directory: the new name itself survives a crash;
//  5. check that the name holds the file written, not something another
//     user who can write the directory put under the temporary name.
//
// Only a regular file or a symlink is ever replaced: a device node, a FIFO
// or a socket at the name is refused (ErrNotRegular) even when replacing is
// asked for. A rename over /dev/null, run as root, would leave a 0600
// regular file there and break every other program that writes to it.
package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/gzdoctor/gzdoctor/internal/readfile"
	"golang.org/x/sys/unix"
)

// ErrExists is returned when the destination exists and replacing it was
// not asked for (by Create, or by Commit when it appeared meanwhile).
var ErrExists = errors.New("file exists")

// ErrReplaced is returned by Commit when the name it gave the output does
// not hold the file it wrote: another user who can write the directory
// swapped the temporary name (for a symlink, say) before the move.
var ErrReplaced = errors.New("replaced while being written: another user can write this directory")

// ErrNotRegular is returned when the destination is a device node, a FIFO
// or a socket: never replaced, whatever the caller asked.
var ErrNotRegular = errors.New("not a regular file")

// TempInfix is in every temporary name: .<name>.gzdoctor-tmp-<n>.
const TempInfix = ".gzdoctor-tmp-"

// File is an output being written under its temporary name.
type File struct {
	*os.File
	path    string
	replace bool
	done    bool
}

// Create creates the temporary file for path with mode perm (exactly: no
// umask). Unless replace, it fails with ErrExists when path exists, and
// Commit will not replace a file that appeared meanwhile.
func Create(path string, perm fs.FileMode, replace bool) (*File, error) {
	if fi, err := os.Lstat(path); err == nil {
		// Checked now, not at Commit: a rename onto a directory fails
		// only after the whole output has been written.
		if fi.IsDir() {
			return nil, fmt.Errorf("creating %s: is a directory", path)
		}
		if err := replaceable(path, fi); err != nil {
			return nil, err
		}
		if !replace {
			return nil, fmt.Errorf("%s: %w", path, ErrExists)
		}
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+TempInfix+"*")
	if err != nil {
		return nil, fmt.Errorf("creating %s: %w", path, err)
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("creating %s: %w", path, err)
	}
	// Held until Close; best effort: without it the leftover check only
	// loses its "alive" answer.
	_ = unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
	return &File{File: f, path: path, replace: replace}, nil
}

// Path is the final destination.
func (a *File) Path() string { return a.path }

// Commit makes the file durable and moves it to its destination (steps 2
// to 5 of the rule). The temporary file is gone afterwards, whatever the
// outcome.
func (a *File) Commit() error {
	if a.done {
		return errors.New("atomic file already committed or aborted")
	}
	a.done = true
	tmp := a.File.Name()
	fail := func(err error) error {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", a.path, err)
	}
	if err := a.File.Sync(); err != nil {
		a.File.Close()
		return fail(err)
	}
	mine, err := a.File.Stat()
	if err != nil {
		a.File.Close()
		return fail(err)
	}
	if err := a.File.Close(); err != nil {
		return fail(err)
	}
	if a.replace {
		// Again just before the rename: a node made at the name since
		// Create must not be replaced either (what remains is the
		// instant between this Lstat and the rename).
		if fi, err := os.Lstat(a.path); err == nil {
			if err := replaceable(a.path, fi); err != nil {
				os.Remove(tmp)
				return err
			}
		}
		if err := os.Rename(tmp, a.path); err != nil {
			return fail(err)
		}
	} else {
		err := os.Link(tmp, a.path)
		os.Remove(tmp)
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%s: %w", a.path, ErrExists)
		}
		if err != nil {
			return fmt.Errorf("writing %s: %w", a.path, err)
		}
	}
	if err := syncDir(filepath.Dir(a.path)); err != nil {
		return fmt.Errorf("writing %s: syncing its directory: %w", a.path, err)
	}
	return a.verify(mine)
}

// replaceable refuses a destination that is neither a regular file nor a
// symlink (a directory is refused by its own message).
func replaceable(path string, fi fs.FileInfo) error {
	if m := fi.Mode(); m.IsRegular() || m&fs.ModeSymlink != 0 || m.IsDir() {
		return nil
	}
	return fmt.Errorf("%s is a %s: %w", path, readfile.Kind(fi.Mode()), ErrNotRegular)
}

// verify checks that the destination is the file written. Link and rename
// never follow a symlink, so nothing else was written; this keeps a ✓
// honest.
func (a *File) verify(mine fs.FileInfo) error {
	got, err := os.Lstat(a.path)
	if err != nil {
		return fmt.Errorf("writing %s: %w", a.path, err)
	}
	if !os.SameFile(mine, got) {
		return fmt.Errorf("%s: %w", a.path, ErrReplaced)
	}
	return nil
}

// syncDir makes a new name in dir durable. File systems that cannot sync
// a directory (EINVAL: some FUSE and network ones) have nothing to sync.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOTSUP) {
		return err
	}
	return nil
}

// Abort closes and removes the temporary file. It is a no-op after Commit,
// so it can be deferred.
func (a *File) Abort() {
	if a.done {
		return
	}
	a.done = true
	a.File.Close()
	os.Remove(a.File.Name())
}

// Write creates path with perm from what write writes, under the rule;
// when write fails nothing is left.
func Write(path string, perm fs.FileMode, replace bool, write func(io.Writer) error) error {
	f, err := Create(path, perm, replace)
	if err != nil {
		return err
	}
	defer f.Abort()
	if err := write(f); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return f.Commit()
}
