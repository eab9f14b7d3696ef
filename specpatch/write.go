package specpatch

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/gzdoctor/gzdoctor/internal/atomicfile"
	"github.com/gzdoctor/gzdoctor/internal/readfile"
)

// MaxSpecBytes bounds the spec specpatch reads. Real dpdk.spec files are
// 20–60 kB; patching costs about 20 times the input in memory (a 50 MB
// one-line spec took 918 MB), so 4 MiB keeps a hostile spec under 100 MB.
const MaxSpecBytes = 4 << 20

// ReadSpec reads a spec: a regular file (after symlinks) of at most
// MaxSpecBytes.
func ReadSpec(name string) ([]byte, error) {
	return readfile.Regular(name, name, MaxSpecBytes)
}

// ErrExists is returned when an output file exists and --force was not given.
var ErrExists = atomicfile.ErrExists

// WriteInPlace replaces the spec at name with data, atomically (a temporary
// file in the same directory, then a rename), and returns the path written.
//
// A symlinked spec is patched where it points: the link is resolved and
// its target replaced, so the link stays and every other name for the file
// sees the change. The new file keeps the old one's owner, group and mode
// (set-id bits included): root patching a packager's spec must not leave
// it root's. When the owner cannot be kept (not root, the spec is someone
// else's), nothing is written.
func WriteInPlace(name string, data []byte) (string, error) {
	target, err := filepath.EvalSymlinks(name)
	if err != nil {
		return "", fmt.Errorf("writing %s: %w", name, err)
	}
	fi, err := os.Stat(target)
	if err != nil {
		return "", fmt.Errorf("writing %s: %w", name, err)
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("writing %s: %s is %s, not a regular file", name, target, readfile.Describe(fi.Mode()))
	}
	return target, write(target, data, fi.Mode(), ownerOf(fi), true)
}

// WriteBackup writes the original spec beside the file WriteInPlace
// replaces (its resolved target), as TARGET.orig, with the spec's owner,
// group and mode; never over an existing file. It returns the backup's path.
func WriteBackup(spec string, data []byte) (string, error) {
	target, err := filepath.EvalSymlinks(spec)
	if err != nil {
		return "", fmt.Errorf("writing the backup of %s: %w", spec, err)
	}
	fi, err := os.Stat(target)
	if err != nil {
		return "", fmt.Errorf("writing the backup of %s: %w", spec, err)
	}
	backup := target + ".orig"
	return backup, write(backup, data, fi.Mode(), ownerOf(fi), false)
}

func ownerOf(fi fs.FileInfo) *syscall.Stat_t {
	st, _ := fi.Sys().(*syscall.Stat_t)
	return st
}

// WriteNew writes data to name, which must not exist unless force is set,
// atomically; the file gets like's mode (the input spec's) and belongs to
// whoever runs specpatch, as any new file does.
// Without force the temporary file is linked to name, which fails when the
// name exists (also as a dangling symlink) even if it appeared after a
// check; with force it is renamed over it (a symlink is replaced, never
// followed).
func WriteNew(name string, data []byte, like string, force bool) error {
	fi, err := os.Stat(like)
	if err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	return write(name, data, fi.Mode(), nil, force)
}

// write writes data to name under internal/atomicfile's rule, with mode
// and, when owner is set, its uid and gid; replace renames over name, else
// the file is linked (fails if name exists).
func write(name string, data []byte, mode fs.FileMode, owner *syscall.Stat_t, replace bool) error {
	wrap := func(err error) error { return fmt.Errorf("writing %s: %w", name, err) }
	perm := mode & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)
	f, err := atomicfile.Create(name, perm, replace)
	if err != nil {
		return err
	}
	defer f.Abort()
	if _, err := f.Write(data); err != nil {
		return wrap(err)
	}
	if owner != nil {
		var cur syscall.Stat_t
		if err := syscall.Fstat(int(f.Fd()), &cur); err != nil {
			return wrap(err)
		}
		if cur.Uid != owner.Uid || cur.Gid != owner.Gid {
			if err := f.Chown(int(owner.Uid), int(owner.Gid)); err != nil {
				return wrap(fmt.Errorf("cannot keep the original's owner %d:%d (%w); nothing was written", owner.Uid, owner.Gid, err))
			}
			// chown cleared the set-id bits Create set: set them again.
			if err := f.Chmod(perm); err != nil {
				return wrap(err)
			}
		}
	}
	return f.Commit()
}
