package pcapfile

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/gzdoctor/gzdoctor/internal/atomicfile"
)

// ErrExists is returned by CreateAtomic and Commit when the destination
// exists and overwriting was not asked for.
var ErrExists = errors.New("file exists (use --force to overwrite)")

// ErrReplaced is returned by Commit when the name it gave the output does
// not hold the file it wrote.
var ErrReplaced = atomicfile.ErrReplaced

// AtomicFile is a capture or pcap output written under internal/atomicfile's
// rule, so that a failed or interrupted run never leaves a half-written
// capture at the destination; only the "exists" message is pcap's own.
type AtomicFile struct {
	*atomicfile.File
}

// CreateAtomic creates the temporary file for path with mode perm (0600
// for captures). Unless force, it fails with ErrExists when path exists,
// and Commit will not replace a file that appeared meanwhile.
func CreateAtomic(path string, perm fs.FileMode, force bool) (*AtomicFile, error) {
	f, err := atomicfile.Create(path, perm, force)
	if err != nil {
		return nil, existsErr(path, err)
	}
	return &AtomicFile{f}, nil
}

// Commit makes the output durable and moves it to its destination.
func (a *AtomicFile) Commit() error { return existsErr(a.Path(), a.File.Commit()) }

func existsErr(path string, err error) error {
	if errors.Is(err, atomicfile.ErrExists) {
		return fmt.Errorf("%s: %w", path, ErrExists)
	}
	return err
}
