package doctor

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strconv"
	"strings"

	"github.com/gzdoctor/gzdoctor/host"
)

// primaryView is how a directory this shell names compares with what a
// primary resolves under the same name: pdump's pcap vdev is created by
// the primary, which opens the capture's files by name in its own root and
// mount namespace.
type primaryView struct {
	PID int
	Dir string
	// Same: the primary resolves Dir to this very directory.
	Same bool
	// Missing: the primary has no Dir (Err says why); else it has another
	// directory under the name (when not Same).
	Missing bool
	Err     error
	// Root is the primary's root directory as this shell names it ("/"
	// for none, "" when unknown); NS is its mount namespace when it is not
	// this shell's.
	Root, NS string
	// Mine is this shell's Dir, nil when it has none.
	Mine, Theirs *host.FileStat
}

// viewOf compares dir here with /proc/<pid>/root<dir>. An error is the
// primary's view that could not be inspected (permission, or the process
// is gone): not a difference.
func viewOf(h *host.Host, pid int, dir string) (*primaryView, error) {
	v := &primaryView{PID: pid, Dir: dir}
	if _, err := os.Lstat(h.Path("/proc/" + strconv.Itoa(pid))); err != nil {
		return nil, err // the primary ended: nothing to compare
	}
	theirs, err := statDir(h, path.Join("/proc", strconv.Itoa(pid), "root", dir))
	switch {
	case errors.Is(err, fs.ErrPermission):
		return nil, err
	case errors.Is(err, fs.ErrNotExist) || errors.Is(err, errNotDir):
		v.Missing, v.Err = true, err
	case err != nil:
		return nil, err
	}
	v.Theirs = theirs
	if mine, err := statDir(h, dir); err == nil {
		v.Mine = mine
	}
	v.Same = v.Mine != nil && v.Theirs != nil && v.Mine.Dev == v.Theirs.Dev && v.Mine.Ino == v.Theirs.Ino
	if root, err := os.Readlink(h.Path(path.Join("/proc", strconv.Itoa(pid), "root"))); err == nil && path.IsAbs(root) {
		v.Root = root
	}
	self, err1 := os.Readlink(h.Path("/proc/self/ns/mnt"))
	ns, err2 := os.Readlink(h.Path(path.Join("/proc", strconv.Itoa(pid), "ns/mnt")))
	if err1 == nil && err2 == nil && ns != self {
		v.NS = ns
	}
	return v, nil
}

var errNotDir = errors.New("not a directory")

// statDir stats p, following a final symlink as the primary's open does.
func statDir(h *host.Host, p string) (*host.FileStat, error) {
	st, err := h.Stat(p)
	if err == nil && st.Type == "symlink" {
		st, err = h.Stat(p + "/.")
	}
	if err == nil && st.Type != "dir" {
		return st, errNotDir
	}
	return st, err
}

// where says where the primary runs when its view differs: "in chroot
// /srv/x", "in another mount namespace (mnt:[…])", or both.
func (v *primaryView) where() string {
	var w []string
	if v.Root != "" && v.Root != "/" {
		w = append(w, "in chroot "+v.Root)
	}
	if v.NS != "" {
		w = append(w, "in another mount namespace ("+v.NS+")")
	}
	if len(w) == 0 {
		return "with another view of the file system"
	}
	return strings.Join(w, " and ")
}

// Problem is the sentence output-path and capture both print when the
// primary does not resolve Dir to this shell's directory; "" when it does.
func (v *primaryView) Problem() string {
	switch {
	case v.Same:
		return ""
	case v.Missing:
		return fmt.Sprintf("the primary (pid %d) cannot see %s (%s): it runs %s", v.PID, v.Dir, errWords(v.Err), v.where())
	case v.Mine == nil:
		return fmt.Sprintf("%s does not exist here, and the primary (pid %d), which runs %s, has its own %s", v.Dir, v.PID, v.where(), v.Dir)
	}
	s := fmt.Sprintf("the primary (pid %d) sees another directory at %s: it runs %s", v.PID, v.Dir, v.where())
	if v.Root != "" && v.Root != "/" {
		s += fmt.Sprintf(" (its %s is %s here)", v.Dir, path.Join(v.Root, v.Dir))
	}
	return s
}

func errWords(err error) string {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "no such file or directory"
	case errors.Is(err, errNotDir):
		return "not a directory"
	}
	return err.Error()
}

// PrimaryDirProblem says why the primary pid does not open files in this
// shell's directory dir, in the words check's output-path uses; "" when it
// does, or when its view cannot be inspected (permission, a process that
// ended). capture's own test of the directory it made goes by this.
func PrimaryDirProblem(h *host.Host, pid int, dir string) string {
	v, err := viewOf(h, pid, dir)
	if err != nil {
		return ""
	}
	return v.Problem()
}
