package host

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// FixtureStatFile is the sidecar, relative to a fixture tree's root, that
// supplies what git cannot store: owners, modes, sockets, and the
// device:inode that /proc/locks refers to. One line per machine path:
//
//	/var/run/dpdk/gazelle/config  dev=fe:00 ino=794679 uid=0 gid=0 mode=0600
//	/var/run/dpdk/gazelle/mp_socket type=socket
//
// Fields given override what stat(2) says about the fixture file; the live
// machine ("/") never reads it.
const FixtureStatFile = ".fixture/stat"

// FileStat is what gzdoctor needs from stat(2) of a machine file.
type FileStat struct {
	Type string `json:"type"` // file, dir, socket, symlink, other
	Mode string `json:"mode"` // permission bits in octal, e.g. "0600"
	UID  int    `json:"uid"`
	GID  int    `json:"gid"`
	Size int64  `json:"size"`
	// Dev is the device as /proc/locks prints it ("fe:00", hex major:minor).
	Dev string `json:"-"`
	Ino uint64 `json:"-"`
	// Blocks is st_blocks (512-byte units): what a hugepage file holds.
	Blocks int64 `json:"-"`
}

// Stat describes the machine file p (without following a final symlink).
func (h *Host) Stat(p string) (*FileStat, error) {
	fi, err := os.Lstat(h.Path(p))
	if err != nil {
		return nil, err
	}
	st := statFromInfo(fi)
	if !h.Live() {
		over, err := h.fixtureStat()
		if err != nil {
			return nil, err
		}
		if o, ok := lookupOverride(over, p); ok {
			if err := o.apply(st); err != nil {
				return nil, fmt.Errorf("%s: %s: %w", FixtureStatFile, p, err)
			}
		}
	}
	return st, nil
}

func statFromInfo(fi fs.FileInfo) *FileStat {
	st := &FileStat{Mode: fmt.Sprintf("%04o", fi.Mode().Perm()), Size: fi.Size()}
	switch m := fi.Mode(); {
	case m.IsRegular():
		st.Type = "file"
	case m.IsDir():
		st.Type = "dir"
	case m&fs.ModeSocket != 0:
		st.Type = "socket"
	case m&fs.ModeSymlink != 0:
		st.Type = "symlink"
	default:
		st.Type = "other"
	}
	if sys, ok := fi.Sys().(*syscall.Stat_t); ok {
		st.UID, st.GID = int(sys.Uid), int(sys.Gid)
		st.Ino = sys.Ino
		st.Blocks = sys.Blocks
		st.Dev = fmt.Sprintf("%02x:%02x", unix.Major(sys.Dev), unix.Minor(sys.Dev))
	}
	return st
}

type statOverride map[string]string

func (o statOverride) apply(st *FileStat) error {
	for k, v := range o {
		switch k {
		case "type":
			st.Type = v
		case "mode":
			m, err := strconv.ParseUint(v, 8, 32)
			if err != nil {
				return fmt.Errorf("mode %q: %w", v, err)
			}
			st.Mode = fmt.Sprintf("%04o", m)
		case "uid", "gid":
			n, err := strconv.Atoi(v)
			if err != nil {
				return fmt.Errorf("%s %q: %w", k, v, err)
			}
			if k == "uid" {
				st.UID = n
			} else {
				st.GID = n
			}
		case "dev":
			dev, err := parseDevHex(v)
			if err != nil {
				return err
			}
			st.Dev = dev
		case "ino":
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				return fmt.Errorf("ino %q: %w", v, err)
			}
			st.Ino = n
		case "size":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return fmt.Errorf("size %q: %w", v, err)
			}
			st.Size = n
		case "blocks":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return fmt.Errorf("blocks %q: %w", v, err)
			}
			st.Blocks = n
		case "attr":
			// file attributes (chattr): read by Host.Immutable
		default:
			return fmt.Errorf("unknown field %q", k)
		}
	}
	return nil
}

// parseDevHex normalises "fe:00" / "FE:0" to the /proc/locks spelling.
func parseDevHex(s string) (string, error) {
	maj, min, ok := strings.Cut(s, ":")
	a, err1 := strconv.ParseUint(maj, 16, 32)
	b, err2 := strconv.ParseUint(min, 16, 32)
	if !ok || err1 != nil || err2 != nil {
		return "", fmt.Errorf("device %q: want hex major:minor", s)
	}
	return fmt.Sprintf("%02x:%02x", a, b), nil
}

// fixtureStat reads FixtureStatFile; a tree without one has no overrides.
func (h *Host) fixtureStat() (map[string]statOverride, error) {
	b, err := os.ReadFile(filepath.Join(h.Root, FixtureStatFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", FixtureStatFile, err)
	}
	out := map[string]statOverride{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if !strings.HasPrefix(f[0], "/") {
			return nil, fmt.Errorf("%s:%d: path %q is not absolute", FixtureStatFile, n, f[0])
		}
		o := statOverride{}
		for _, kv := range f[1:] {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				return nil, fmt.Errorf("%s:%d: %q is not key=value", FixtureStatFile, n, kv)
			}
			o[k] = v
		}
		out[filepath.Clean(f[0])] = o
	}
	return out, nil
}

// procRootRe matches a path seen through a process's root,
// /proc/<pid>/root/<rest>.
var procRootRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^/proc/[0-9]+/root(/.*)$`) })

// lookupOverride finds the .fixture/stat line of p; a path seen through
// /proc/<pid>/root falls back to the line of the path itself (a fixture's
// process root is the tree's own /).
func lookupOverride(over map[string]statOverride, p string) (statOverride, bool) {
	p = filepath.Clean(p)
	if o, ok := over[p]; ok {
		return o, true
	}
	if m := procRootRe().FindStringSubmatch(p); m != nil {
		o, ok := over[m[1]]
		return o, ok
	}
	return nil, false
}

// devIno identifies a file independent of the name it was reached by.
func devIno(fi fs.FileInfo) ([2]uint64, bool) {
	sys, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return [2]uint64{}, false
	}
	return [2]uint64{uint64(sys.Dev), sys.Ino}, true
}
