package host

import (
	"errors"
	"fmt"
	"os"
	"path"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// What stops even root from creating a file in a directory: a read-only
// mount and the immutable attribute (chattr +i). Permission bits do not
// (root passes them), so these are checked apart.

// MountOf returns the mount that holds dir as process pid sees it
// (/proc/<pid>/mounts; pid 0: /proc/mounts): the longest mount point that
// is dir or a parent of it, the last one listed when several are mounted
// on one point (the one on top).
func (h *Host) MountOf(pid int, dir string) (*Mount, error) {
	file := "/proc/mounts"
	if pid > 0 {
		file = "/proc/" + strconv.Itoa(pid) + "/mounts"
	}
	b, err := h.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", file, err)
	}
	ms, err := ParseMounts(b)
	if err != nil {
		return nil, err
	}
	dir = path.Clean(dir)
	var best *Mount
	for i := range ms {
		t := path.Clean(ms[i].Target)
		if dir == t || t == "/" || strings.HasPrefix(dir, t+"/") {
			if best == nil || len(t) >= len(path.Clean(best.Target)) {
				best = &ms[i]
			}
		}
	}
	if best == nil {
		return nil, fmt.Errorf("%s: no mount holds %s", file, dir)
	}
	return best, nil
}

// ReadOnly reports whether the mount is mounted read-only.
func (m Mount) ReadOnly() bool {
	for _, o := range m.Options {
		if o == "ro" {
			return true
		}
	}
	return false
}

// Immutable reports whether the machine path p carries the immutable
// attribute (chattr +i: no file can be created in a directory that has
// it, not even by root). In a fixture tree, .fixture/stat says so with
// attr=i.
func (h *Host) Immutable(p string) (bool, error) {
	if !h.Live() {
		over, err := h.fixtureStat()
		if err != nil {
			return false, err
		}
		o, _ := lookupOverride(over, p)
		return strings.Contains(o["attr"], "i"), nil
	}
	f, err := os.OpenFile(h.Path(p), os.O_RDONLY|unix.O_NONBLOCK|unix.O_NOFOLLOW, 0)
	if err != nil {
		return false, err
	}
	defer f.Close()
	flags, err := unix.IoctlGetUint32(int(f.Fd()), unix.FS_IOC_GETFLAGS)
	if errors.Is(err, unix.ENOTTY) || errors.Is(err, unix.EOPNOTSUPP) {
		return false, nil // a filesystem without attributes (tmpfs, proc…) has no +i
	}
	if err != nil {
		return false, fmt.Errorf("reading the attributes of %s: %w", p, err)
	}
	return flags&fsImmutableFL != 0, nil
}

// fsImmutableFL is FS_IMMUTABLE_FL of linux/fs.h.
const fsImmutableFL = 0x00000010
