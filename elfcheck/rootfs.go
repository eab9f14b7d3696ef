package elfcheck

import (
	"fmt"
	"github.com/gzdoctor/gzdoctor/host"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// rootFS maps the paths the loader would open to files under a sysroot.
// Symbolic links are followed inside the root: an absolute link target
// restarts at the root, as it would after chroot, so an unpacked RPM tree
// never leaks into the host's /usr/lib.
type rootFS struct {
	root  string   // cleaned; "/" for the live machine
	trace *fsTrace // nil but in tests
	// rec is told every machine path read (Options.Recorder).
	rec host.Recorder
}

// fsTrace counts what a rootFS does, for tests that assert how much work a
// tree costs (not how long it takes), and lets them act at a chosen step.
type fsTrace struct {
	reads, globs int
	onRead       func(n int) // called before the nth readFile (1-based)
}

func newRootFS(root string) rootFS {
	if root == "" {
		root = "/"
	}
	return rootFS{root: filepath.Clean(root)}
}

func (r rootFS) live() bool { return r.root == "/" }

const maxSymlinks = 40 // the kernel's limit (MAXSYMLINKS)

// hostPath returns the host path of the machine path p with every symlink
// resolved inside the root.
func (r rootFS) hostPath(p string) (string, error) {
	if !path.IsAbs(p) {
		return "", fmt.Errorf("%s: not an absolute path", p)
	}
	if r.rec != nil {
		r.rec.Accessed(p)
	}
	if r.live() {
		return path.Clean(p), nil
	}
	resolved, err := r.realpath(p)
	if err != nil {
		return "", err
	}
	return filepath.Join(r.root, resolved), nil
}

// realpath resolves p (a machine path) to a machine path without symlinks.
func (r rootFS) realpath(p string) (string, error) {
	if r.live() {
		return filepath.EvalSymlinks(p)
	}
	todo := strings.Split(strings.TrimPrefix(path.Clean(p), "/"), "/")
	cur := "/"
	hops := 0
	for len(todo) > 0 {
		name := todo[0]
		todo = todo[1:]
		switch name {
		case "", ".":
			continue
		case "..":
			cur = path.Dir(cur)
			continue
		}
		next := path.Join(cur, name)
		fi, err := os.Lstat(filepath.Join(r.root, next))
		if err != nil {
			return "", err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			cur = next
			continue
		}
		hops++
		if hops > maxSymlinks {
			return "", fmt.Errorf("%s: too many levels of symbolic links", p)
		}
		target, err := os.Readlink(filepath.Join(r.root, next))
		if err != nil {
			return "", err
		}
		if path.IsAbs(target) {
			cur = "/"
		}
		todo = append(strings.Split(target, "/"), todo...)
	}
	return cur, nil
}

// stat reports whether the machine path p is a regular file (after links).
func (r rootFS) isFile(p string) bool {
	hp, err := r.hostPath(p)
	if err != nil {
		return false
	}
	fi, err := os.Stat(hp)
	return err == nil && fi.Mode().IsRegular()
}

// readFile reads a small machine file (configuration), refusing anything
// larger than limit.
func (r rootFS) readFile(p string, limit int64) ([]byte, error) {
	if r.trace != nil {
		r.trace.reads++
		if r.trace.onRead != nil {
			r.trace.onRead(r.trace.reads)
		}
	}
	hp, err := r.hostPath(p)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(hp)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// /proc files report size 0: read to EOF, bounded.
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: more than the %d bytes expected", p, limit)
	}
	return b, nil
}

// glob expands a machine-path pattern inside the root, sorted like glibc's
// glob(3) in ldconfig.
func (r rootFS) glob(pattern string) []string {
	if r.trace != nil {
		r.trace.globs++
	}
	if r.rec != nil {
		r.rec.Accessed(pattern)
	}
	hostPattern := pattern
	if !r.live() {
		hostPattern = filepath.Join(r.root, pattern)
	}
	matches, _ := filepath.Glob(hostPattern) // only ErrBadPattern, which means no match for ldconfig too
	out := make([]string, 0, len(matches))
	for _, m := range matches {
		if !r.live() {
			rel, err := filepath.Rel(r.root, m)
			if err != nil {
				continue
			}
			m = "/" + rel
		}
		out = append(out, m)
	}
	return out
}

// readDir lists a machine directory.
func (r rootFS) readDir(p string) ([]fs.DirEntry, error) {
	hp, err := r.hostPath(p)
	if err != nil {
		return nil, err
	}
	return os.ReadDir(hp)
}

// readDirOrder lists a machine directory's names in directory (readdir)
// order, the order EAL loads its plugin directory in.
func (r rootFS) readDirOrder(p string) ([]string, error) {
	hp, err := r.hostPath(p)
	if err != nil {
		return nil, err
	}
	d, err := os.Open(hp)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	return d.Readdirnames(-1)
}

// hostPathNoFollow maps p without resolving its last component (for
// /proc/N/exe, whose link target is a machine path).
func (r rootFS) hostPathNoFollow(p string) (string, error) {
	if r.rec != nil {
		r.rec.Accessed(p)
	}
	if r.live() {
		return p, nil
	}
	dir, err := r.hostPath(path.Dir(p))
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, path.Base(p)), nil
}
