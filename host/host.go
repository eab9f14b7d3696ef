// Package host is a read-only model of a Gazelle/DPDK machine. Every file is
// read under Root, so the same code inspects the live machine ("/") or a
// fixture tree in testdata/hosts/<scenario>.
package host

import (
	"os"
	"path/filepath"

	"github.com/gzdoctor/gzdoctor/internal/readfile"
)

// Host reads one machine's files under Root.
type Host struct {
	// Root is the filesystem root; "/" for the live machine.
	Root string
	// Recorder, when set, is told every machine path the Host maps and
	// every telemetry answer it gets: gzdoctor collect takes exactly what
	// a check read. It must be safe for concurrent use.
	Recorder Recorder
}

// Recorder watches what a Host reads (see Host.Recorder).
type Recorder interface {
	// Accessed is called with each machine path before it is read,
	// listed or stat'ed (a glob pattern for a glob).
	Accessed(p string)
	// Telemetry is called with what ProbeTelemetry returned for the
	// socket at machine path p.
	Telemetry(p string, r *TelemetryReport, err error)
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
	if h.Recorder != nil {
		h.Recorder.Accessed(p)
	}
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
// (after symlinks) of at most limit bytes (internal/readfile).
func (h *Host) ReadRegularFile(p string, limit int64) ([]byte, error) {
	return readfile.Regular(h.Path(p), p, limit)
}
