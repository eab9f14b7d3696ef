package host

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// RootRuntimeBase is where a root process's DPDK (18.08+) keeps its
// per-prefix runtime dirs.
const RootRuntimeBase = "/var/run/dpdk"

// RuntimeDirPrefix is the prefix a runtime dir stands for: the name of a
// directory in a "dpdk" base (/var/run/dpdk/<prefix>, /run/user/<uid>/dpdk/
// <prefix>, /tmp/dpdk/<prefix>); "" for any other path.
func RuntimeDirPrefix(dir string) string {
	if dir == "" || !path.IsAbs(dir) {
		return ""
	}
	dir = path.Clean(dir)
	if name := path.Base(dir); name != "dpdk" && path.Base(path.Dir(dir)) == "dpdk" {
		return name
	}
	return ""
}

// RuntimeBase is the directory under which a DPDK process with real uid uid
// and environment env creates its prefix dir, following
// eal_create_runtime_dir (DPDK 18.08+): $RUNTIME_DIRECTORY (systemd, 20.11+)
// wins; root uses /var/run; anyone else $XDG_RUNTIME_DIR, or /tmp when that
// variable is unset. An XDG_RUNTIME_DIR that is set but empty yields "/dpdk",
// as DPDK does. env holds only the variables that are set.
func RuntimeBase(uid int, env map[string]string) string {
	if d, ok := env["RUNTIME_DIRECTORY"]; ok {
		return d + "/dpdk"
	}
	if uid == 0 {
		return RootRuntimeBase
	}
	if d, ok := env["XDG_RUNTIME_DIR"]; ok {
		return d + "/dpdk"
	}
	return "/tmp/dpdk"
}

// RuntimeBaseDir is one candidate parent of prefix dirs.
type RuntimeBaseDir struct {
	Path string `json:"path"`
	// Why lists whose processes would use it: "root", "caller",
	// "non-root without XDG_RUNTIME_DIR", "uid 1000 (XDG_RUNTIME_DIR)".
	Why    []string `json:"why"`
	Exists bool     `json:"exists"`
	// Error says why an existing dir cannot be listed, e.g. "permission
	// denied" for another user's /run/user/<uid>/dpdk.
	Error string `json:"error,omitempty"`
}

// RuntimeBases lists every directory a DPDK process on this machine may
// have used: root's, the caller's (uid and env as the caller's process
// has them), /tmp/dpdk, and every /run/user/<uid>/dpdk. Directories that do
// not exist are listed too (Exists false) for the first three, so a report
// can say where it looked.
func (h *Host) RuntimeBases(uid int, env map[string]string) []RuntimeBaseDir {
	var out []RuntimeBaseDir
	add := func(p, why string) {
		p = path.Clean(p)
		for i := range out {
			if out[i].Path == p {
				out[i].Why = append(out[i].Why, why)
				return
			}
		}
		fi, err := os.Stat(h.Path(p))
		b := RuntimeBaseDir{Path: p, Why: []string{why}, Exists: err == nil && fi.IsDir()}
		if b.Exists {
			if _, err := os.ReadDir(h.Path(p)); err != nil {
				b.Error = unwrapPathErr(err).Error()
			}
		}
		out = append(out, b)
	}
	add(RootRuntimeBase, "root")
	add(RuntimeBase(uid, env), "caller")
	add("/tmp/dpdk", "non-root without XDG_RUNTIME_DIR")
	users, _ := filepath.Glob(h.Path("/run/user/*/dpdk"))
	sort.Strings(users)
	for _, u := range users {
		fi, err := os.Stat(u)
		if err != nil || !fi.IsDir() {
			continue
		}
		uidDir := filepath.Base(filepath.Dir(u))
		add("/run/user/"+uidDir+"/dpdk", "uid "+uidDir+" (XDG_RUNTIME_DIR)")
	}
	return h.dedupeSameDir(out)
}

// dedupeSameDir merges bases that are the same directory reached by two
// names (on most machines /var/run is a symlink to /run).
func (h *Host) dedupeSameDir(in []RuntimeBaseDir) []RuntimeBaseDir {
	var out []RuntimeBaseDir
	seen := map[[2]uint64]int{}
	for _, b := range in {
		if b.Exists {
			if fi, err := os.Stat(h.Path(b.Path)); err == nil {
				if key, ok := devIno(fi); ok {
					if i, dup := seen[key]; dup {
						out[i].Why = append(out[i].Why, b.Why...)
						continue
					}
					seen[key] = len(out)
				}
			}
		}
		out = append(out, b)
	}
	return out
}

// PrefixState is what a runtime directory's config lock says about its
// primary.
type PrefixState string

const (
	// PrefixLive: a process holds the config lock.
	PrefixLive PrefixState = "live"
	// PrefixStale: the config is there, nobody holds it.
	PrefixStale PrefixState = "stale"
	// PrefixNoConfig: no config file (an --in-memory/--no-shconf process,
	// or leftovers).
	PrefixNoConfig PrefixState = "no-config"
	// PrefixUnknown: the lock could not be read.
	PrefixUnknown PrefixState = "unknown"
)

// Prefix is one DPDK runtime dir, <base>/<file-prefix>.
type Prefix struct {
	Name  string        `json:"name"`
	Dir   string        `json:"dir"`
	Base  string        `json:"base"`
	Owner *FileStat     `json:"owner,omitempty"`
	Files []RuntimeFile `json:"files"`
	State PrefixState   `json:"state"`
	Lock  LockCheck     `json:"lock"`
	// MPSocketBound says whether /proc/net/unix shows mp_socket bound;
	// nil when mp_socket is absent or /proc/net/unix unreadable.
	MPSocketBound *bool `json:"mp_socket_bound,omitempty"`
	// Secondaries are the mp_socket_<pid>_<tsc> sockets of secondaries.
	Secondaries []SecondarySocket `json:"secondaries,omitempty"`
	// Telemetry are the v2 telemetry sockets, primary's first.
	Telemetry []string `json:"telemetry,omitempty"`
	// HugepageFilePrefix is the name the prefix's hugepage files start
	// with in hugetlbfs mounts (<prefix>map_N).
	HugepageFilePrefix string `json:"hugepage_file_prefix"`
	// Error says why the dir could not be listed (another user's 0700
	// dir); State is then "unknown" and only MPSocketBound is known.
	Error string `json:"error,omitempty"`
}

// Has reports whether the prefix dir holds a file of the given kind.
func (p *Prefix) Has(kind string) bool {
	for _, f := range p.Files {
		if f.Kind == kind {
			return true
		}
	}
	return false
}

// RuntimeFile is one entry of a prefix dir.
type RuntimeFile struct {
	Name string `json:"name"`
	// Kind: config, mp_socket, mp_socket_secondary, hugepage_info,
	// hugepage_data, fbarray_memseg, fbarray_memzone, telemetry_v2,
	// telemetry_legacy, other.
	Kind string    `json:"kind"`
	Stat *FileStat `json:"stat,omitempty"`
}

// SecondarySocket is a secondary's mp socket, mp_socket_<pid>_<tsc hex>.
type SecondarySocket struct {
	Name  string `json:"name"`
	PID   int    `json:"pid"`
	Bound *bool  `json:"bound,omitempty"`
}

// RuntimeFileKind classifies a file name found in a prefix dir.
func RuntimeFileKind(name string) string {
	switch {
	case name == "config":
		return "config"
	case name == "mp_socket":
		return "mp_socket"
	case strings.HasPrefix(name, "mp_socket_"):
		return "mp_socket_secondary"
	case name == "hugepage_info":
		return "hugepage_info"
	case name == "hugepage_data":
		return "hugepage_data"
	case strings.HasPrefix(name, "fbarray_memseg-"):
		return "fbarray_memseg"
	case name == "fbarray_memzone":
		return "fbarray_memzone"
	case name == "dpdk_telemetry.v2" || strings.HasPrefix(name, "dpdk_telemetry.v2:"):
		return "telemetry_v2"
	case name == "telemetry" || name == "dpdk_telemetry.v1":
		return "telemetry_legacy"
	}
	return "other"
}

// parseSecondary reads the pid out of mp_socket_<pid>_<tsc>.
func parseSecondary(name string) (int, bool) {
	rest, ok := strings.CutPrefix(name, "mp_socket_")
	if !ok {
		return 0, false
	}
	pidStr, _, ok := strings.Cut(rest, "_")
	if !ok {
		return 0, false
	}
	pid, err := strconv.Atoi(pidStr)
	return pid, err == nil && pid > 0
}

// telemetrySuffix orders dpdk_telemetry.v2 before dpdk_telemetry.v2:N.
func telemetrySuffix(name string) int {
	_, n, ok := strings.Cut(name, ":")
	if !ok {
		return 0
	}
	i, err := strconv.Atoi(n)
	if err != nil {
		return 1 << 30
	}
	return i
}

// fixtureKeep is the file fixture generators put in empty dirs so that
// git keeps them; a fixture tree's prefix dir holding only it is empty.
const fixtureKeep = ".keep"

// afterListing, when set by a test, runs between listing a base and
// scanning one of its prefix dirs: the window in which another primary's
// exit removes a dir (seen under load in the capture tests), which a test
// cannot hit by chance.
var afterListing func(dir string)

// afterStat is the same between a prefix dir's Stat and its listing.
var afterStat func(dir string)

// Prefixes lists the prefix dirs under the given bases and inspects each
// with ScanPrefix. Missing bases are skipped, and so are bases that cannot
// be listed for lack of permission (RuntimeBases reports those).
func (h *Host) Prefixes(bases []RuntimeBaseDir) ([]Prefix, error) {
	socks, sockErr := h.UnixSockets()
	var out []Prefix
	for _, b := range bases {
		ents, err := os.ReadDir(h.Path(b.Path))
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
			continue
		}
		if err != nil {
			return out, fmt.Errorf("listing %s: %w", b.Path, err)
		}
		for _, e := range ents {
			if !e.IsDir() {
				continue
			}
			if afterListing != nil {
				afterListing(path.Join(b.Path, e.Name()))
			}
			p, err := h.scanPrefix(path.Join(b.Path, e.Name()), socks, sockErr)
			if errors.Is(err, fs.ErrNotExist) {
				// Removed since the listing: a primary that ended cleaned
				// it up. It is gone, which is no reason to fail the run.
				continue
			}
			if err != nil {
				return out, err
			}
			out = append(out, *p)
		}
	}
	return out, nil
}

// ScanPrefix inspects one prefix dir: its files, who holds its config
// lock, and whether its sockets are bound.
func (h *Host) ScanPrefix(dir string) (*Prefix, error) {
	socks, err := h.UnixSockets()
	return h.scanPrefix(dir, socks, err)
}

func (h *Host) scanPrefix(dir string, socks UnixSockets, sockErr error) (*Prefix, error) {
	dir = path.Clean(dir)
	p := &Prefix{
		Name: path.Base(dir), Dir: dir, Base: path.Dir(dir),
		HugepageFilePrefix: path.Base(dir) + "map_",
	}
	if st, err := h.Stat(dir); err == nil {
		p.Owner = st
	} else {
		return nil, fmt.Errorf("reading runtime dir %s: %w", dir, err)
	}
	if afterStat != nil {
		afterStat(dir)
	}
	ents, err := os.ReadDir(h.Path(dir))
	if errors.Is(err, fs.ErrPermission) {
		// The socket table still tells whether a primary listens there.
		p.State, p.Error = PrefixUnknown, "listing: "+unwrapPathErr(err).Error()
		if sockErr == nil {
			b := socks.Bound(path.Join(dir, "mp_socket"))
			p.MPSocketBound = &b
		}
		return p, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing runtime dir %s: %w", dir, err)
	}
	for _, e := range ents {
		if e.Name() == fixtureKeep && !h.Live() {
			continue // git's placeholder in a fixture's empty dir, not DPDK's
		}
		f := RuntimeFile{Name: e.Name(), Kind: RuntimeFileKind(e.Name())}
		if st, err := h.Stat(path.Join(dir, e.Name())); err == nil {
			f.Stat = st
		}
		p.Files = append(p.Files, f)
		switch f.Kind {
		case "mp_socket_secondary":
			if pid, ok := parseSecondary(f.Name); ok {
				s := SecondarySocket{Name: f.Name, PID: pid}
				if sockErr == nil {
					b := socks.Bound(path.Join(dir, f.Name))
					s.Bound = &b
				}
				p.Secondaries = append(p.Secondaries, s)
			}
		case "telemetry_v2":
			p.Telemetry = append(p.Telemetry, path.Join(dir, f.Name))
		case "mp_socket":
			if sockErr == nil {
				b := socks.Bound(path.Join(dir, f.Name))
				p.MPSocketBound = &b
			}
		}
	}
	sort.Slice(p.Telemetry, func(i, j int) bool {
		return telemetrySuffix(p.Telemetry[i]) < telemetrySuffix(p.Telemetry[j])
	})
	switch {
	case !p.Has("config"):
		p.State = PrefixNoConfig
		p.Lock = LockCheck{Errors: []string{"no config file"}}
	default:
		p.Lock = h.ConfigLock(path.Join(dir, "config"))
		switch {
		case p.Lock.Holder != nil:
			p.State = PrefixLive
		case p.Lock.Method != "":
			p.State = PrefixStale
		default:
			p.State = PrefixUnknown
		}
	}
	return p, nil
}
