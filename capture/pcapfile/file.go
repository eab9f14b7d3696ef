package pcapfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// ErrExists is returned by CreateAtomic when the destination exists and
// overwriting was not asked for.
var ErrExists = errors.New("file exists (use --force to overwrite)")

// AtomicFile is an output file written under a temporary name in the same
// directory and renamed into place by Commit, so that a failed or
// interrupted run never leaves a half-written capture at the destination.
type AtomicFile struct {
	*os.File
	path  string
	force bool
	done  bool
}

// CreateAtomic creates the temporary file for path with mode perm (0600
// for captures). Unless force, it fails with ErrExists when path exists,
// and Commit will not replace a file that appeared meanwhile.
func CreateAtomic(path string, perm fs.FileMode, force bool) (*AtomicFile, error) {
	if fi, err := os.Lstat(path); err == nil {
		// Checked now, not at Commit: a rename onto a directory fails
		// only after the whole output has been written.
		if fi.IsDir() {
			return nil, fmt.Errorf("creating %s: is a directory", path)
		}
		if !force {
			return nil, fmt.Errorf("%s: %w", path, ErrExists)
		}
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".gzdoctor-tmp-*")
	if err != nil {
		return nil, fmt.Errorf("creating %s: %w", path, err)
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("creating %s: %w", path, err)
	}
	// Held until Close: a later run tells a live writer's temporary file
	// from one a killed run left (FindLeftovers).
	_ = unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
	return &AtomicFile{File: f, path: path, force: force}, nil
}

// Path is the final destination.
func (a *AtomicFile) Path() string { return a.path }

// Commit syncs and closes the temporary file and moves it to its
// destination.
func (a *AtomicFile) Commit() error {
	if a.done {
		return errors.New("atomic file already committed or aborted")
	}
	a.done = true
	tmp := a.File.Name()
	// Captured traffic cannot be taken again: make the data durable
	// before the name points at it, so a crash leaves the old state or
	// the whole file, never an empty one.
	if err := a.File.Sync(); err != nil {
		a.File.Close()
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", a.path, err)
	}
	mine, err := a.File.Stat()
	if err != nil {
		a.File.Close()
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", a.path, err)
	}
	if err := a.File.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", a.path, err)
	}
	if a.force {
		if err := os.Rename(tmp, a.path); err != nil {
			os.Remove(tmp)
			return fmt.Errorf("writing %s: %w", a.path, err)
		}
		return a.verify(mine)
	}
	// A hard link fails if the destination exists: no-clobber without a
	// window between the check and the rename.
	err = os.Link(tmp, a.path)
	os.Remove(tmp)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s: %w", a.path, ErrExists)
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", a.path, err)
	}
	return a.verify(mine)
}

// ErrReplaced is returned by Commit when the name it gave the output does
// not hold the file it wrote: another user who can write the directory
// swapped the temporary name (for a symlink, say) before the rename.
var ErrReplaced = errors.New("replaced while being written: another user can write this directory")

// verify checks that the destination is the file written, not what
// someone put under the temporary name meanwhile. Link and rename never
// follow a symlink, so nothing else was written; this keeps a ✓ honest.
func (a *AtomicFile) verify(mine fs.FileInfo) error {
	got, err := os.Lstat(a.path)
	if err != nil {
		return fmt.Errorf("writing %s: %w", a.path, err)
	}
	if !os.SameFile(mine, got) {
		return fmt.Errorf("%s: %w", a.path, ErrReplaced)
	}
	return nil
}

// Abort closes and removes the temporary file. It is a no-op after Commit,
// so it can be deferred.
func (a *AtomicFile) Abort() {
	if a.done {
		return
	}
	a.done = true
	a.File.Close()
	os.Remove(a.File.Name())
}
