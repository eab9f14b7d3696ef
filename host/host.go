// Package host is a read-only model of a Gazelle/DPDK machine. Every file is
// read under Root, so the same code inspects the live machine ("/") or a
// fixture tree in testdata/hosts/<scenario>.
package host

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// Host reads one machine's files under Root.
type Host struct {
	// Root is the filesystem root; "/" for the live machine.
	Root string
}

// New returns a Host reading under root ("" means "/").
func New(root string) *Host {
	if root == "" {
		root = "/"
	}
	return &Host{Root: root}
}

// Live reports whether h reads the running machine rather than a fixture
// tree. Probes that need syscalls (fcntl locks, sockets) only run live.
func (h *Host) Live() bool {
	return filepath.Clean(h.Root) == "/"
}

// Path maps an absolute machine path to the path under Root.
func (h *Host) Path(p string) string {
	if h.Live() {
		return p
	}
	return filepath.Join(h.Root, p)
}

// ReadFile reads the machine file p.
func (h *Host) ReadFile(p string) ([]byte, error) {
	return os.ReadFile(h.Path(p))
}

// ReadRegularFile reads the machine file p, which must be a regular file
// (after symlinks) of at most limit bytes. It opens without blocking, so a
// FIFO cannot hang it, and checks the type on the open descriptor, so the
// file read is the file checked. The size is checked on the bytes read, not
// on the stat: a file may grow.
func (h *Host) ReadRegularFile(p string, limit int64) ([]byte, error) {
	f, err := os.OpenFile(h.Path(p), os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is %s, not a regular file", p, describeMode(fi.Mode()))
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s is larger than the %d-byte (%d MiB) limit", p, limit, limit>>20)
	}
	return b, nil
}

func describeMode(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return "a special file"
}
