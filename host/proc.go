package host

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ProcEnvKeys are the only environment variables gzdoctor reads from other
// processes: the Gazelle/DPDK ones that change where or how a process runs.
// The rest of a process's environment may hold secrets and is not kept.
var ProcEnvKeys = []string{
	"LD_PRELOAD", "LSTACK_CONF_PATH", "GAZELLE_BIND_PROCNAME",
	"XDG_RUNTIME_DIR", "RUNTIME_DIRECTORY",
}

// Process is what /proc says about one process.
type Process struct {
	PID  int    `json:"pid"`
	PPID int    `json:"ppid"`
	Name string `json:"name"`
	// State is the letter of /proc/<pid>/status State: R, S, D, T
	// (stopped by a signal), t (stopped by a tracer), Z (zombie), X...
	State string `json:"state,omitempty"`
	// TracerPID is the debugger attached to the process, 0 when none.
	TracerPID int      `json:"tracer_pid,omitempty"`
	UID       int      `json:"uid"`  // real
	EUID      int      `json:"euid"` // effective
	Cmdline   []string `json:"cmdline"`
	Exe       string   `json:"exe,omitempty"`
	// ExeDeleted: the binary was replaced or removed after start.
	ExeDeleted bool `json:"exe_deleted,omitempty"`
	// Env holds those ProcEnvKeys that are set.
	Env map[string]string `json:"env,omitempty"`
	// MountNS is the /proc/<pid>/ns/mnt link, e.g. "mnt:[4026531841]".
	MountNS string `json:"mount_ns,omitempty"`
	// Mapped is the deduplicated list of mapped files, without hugepage
	// files (counted in DPDK.HugepageFiles instead).
	Mapped []string `json:"mapped,omitempty"`
	DPDK   ProcDPDK `json:"dpdk"`
	// Unreadable lists the /proc files that could not be read and why,
	// e.g. "environ: permission denied" for another user's process.
	Unreadable []string `json:"unreadable,omitempty"`
}

// ErrNoProcess is returned for a pid that has no /proc entry.
var ErrNoProcess = errors.New("no such process")

// ReadProcess reads /proc/<pid>. Files that cannot be read (another user's
// environ, maps or exe; a process that exits mid-read) are listed in
// Unreadable rather than failing the whole read.
func (h *Host) ReadProcess(pid int) (*Process, error) {
	dir := "/proc/" + strconv.Itoa(pid)
	status, err := h.ReadFile(dir + "/status")
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("pid %d: %w", pid, ErrNoProcess)
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s/status: %w", dir, err)
	}
	p := &Process{PID: pid, UID: -1, EUID: -1}
	parseStatus(status, p)
	unreadable := func(name string, err error) {
		p.Unreadable = append(p.Unreadable, name+": "+unwrapPathErr(err).Error())
	}

	if b, err := h.ReadFile(dir + "/cmdline"); err != nil {
		unreadable("cmdline", err)
	} else {
		p.Cmdline = splitNUL(b)
	}
	if exe, err := os.Readlink(h.Path(dir + "/exe")); err != nil {
		// Kernel threads have no exe (ENOENT); that is not worth reporting.
		if !errors.Is(err, fs.ErrNotExist) {
			unreadable("exe", err)
		}
	} else {
		p.Exe, p.ExeDeleted = strings.CutSuffix(exe, " (deleted)")
	}
	if b, err := h.ReadFile(dir + "/environ"); err != nil {
		unreadable("environ", err)
	} else {
		env := EnvMap(splitNUL(b))
		for _, k := range ProcEnvKeys {
			if v, ok := env[k]; ok {
				if p.Env == nil {
					p.Env = map[string]string{}
				}
				p.Env[k] = v
			}
		}
	}
	if ns, err := os.Readlink(h.Path(dir + "/ns/mnt")); err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			unreadable("ns/mnt", err)
		}
	} else {
		p.MountNS = ns
	}
	if b, err := h.ReadFile(dir + "/maps"); err != nil {
		unreadable("maps", err)
	} else {
		p.DPDK, p.Mapped = classifyMaps(ParseMaps(b))
	}
	return p, nil
}

// ProcessExe is the executable of pid (/proc/<pid>/exe), without reading
// the rest of the process: enough to name a process in a report.
func (h *Host) ProcessExe(pid int) (string, error) {
	exe, err := os.Readlink(h.Path("/proc/" + strconv.Itoa(pid) + "/exe"))
	if err != nil {
		return "", err
	}
	exe, _ = strings.CutSuffix(exe, " (deleted)")
	return exe, nil
}

// parseStatus fills Name, State, TracerPID, PPID, UID and EUID from
// /proc/<pid>/status.
func parseStatus(b []byte, p *Process) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		switch k {
		case "Name":
			p.Name = strings.TrimSpace(v)
		case "State":
			if len(f) > 0 {
				p.State = f[0]
			}
		case "TracerPid":
			if len(f) > 0 {
				p.TracerPID, _ = strconv.Atoi(f[0])
			}
		case "PPid":
			if len(f) > 0 {
				p.PPID, _ = strconv.Atoi(f[0])
			}
		case "Uid":
			if len(f) >= 2 {
				p.UID, _ = strconv.Atoi(f[0])
				p.EUID, _ = strconv.Atoi(f[1])
			}
		}
	}
}

// splitNUL splits a NUL-separated /proc file (cmdline, environ).
func splitNUL(b []byte) []string {
	b = bytes.TrimRight(b, "\x00")
	if len(b) == 0 {
		return nil
	}
	return strings.Split(string(b), "\x00")
}

// EnvMap turns KEY=VALUE entries into a map. When a key repeats the first
// entry wins, as glibc's getenv does.
func EnvMap(environ []string) map[string]string {
	m := make(map[string]string, len(environ))
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		if _, dup := m[k]; !dup {
			m[k] = v
		}
	}
	return m
}

// PIDs lists the numeric entries of /proc, ascending.
func (h *Host) PIDs() ([]int, error) {
	ents, err := os.ReadDir(h.Path("/proc"))
	if err != nil {
		return nil, fmt.Errorf("listing /proc: %w", err)
	}
	var pids []int
	for _, e := range ents {
		if pid, err := strconv.Atoi(e.Name()); err == nil && pid > 0 {
			pids = append(pids, pid)
		}
	}
	sort.Ints(pids)
	return pids, nil
}

// ealOptions are EAL long options that (almost) nothing but a DPDK
// process takes; one on a command line marks a DPDK process even when its
// maps cannot be read.
var ealOptions = []string{
	"--file-prefix", "--proc-type", "--socket-mem", "--huge-dir", "--vdev",
	"--legacy-mem", "--in-memory", "--no-shconf", "--iova-mode", "--base-virtaddr",
	"--huge-unlink", "--single-file-segments", "--map-perfect",
}

// LooksLikeEAL reports whether a command line carries EAL options.
func LooksLikeEAL(cmdline []string) bool {
	for _, a := range cmdline {
		if a == "--" {
			return false
		}
		for _, o := range ealOptions {
			if a == o || strings.HasPrefix(a, o+"=") {
				return true
			}
		}
	}
	return false
}

// IsDPDK reports whether p shows a sign of running DPDK: librte_eal or
// liblstack mapped, a DPDK runtime dir or hugepage files mapped, or
// liblstack in LD_PRELOAD. EAL options on the command line count only when
// the maps could not be read: wrappers (timeout, sudo, gdb) carry them too.
func (p *Process) IsDPDK() bool {
	if p.DPDK.Found() || strings.Contains(p.Env["LD_PRELOAD"], "liblstack") {
		return true
	}
	return p.mapsUnreadable() && LooksLikeEAL(p.Cmdline)
}

func (p *Process) mapsUnreadable() bool {
	for _, u := range p.Unreadable {
		if strings.HasPrefix(u, "maps:") {
			return true
		}
	}
	return false
}

// DPDKProcesses scans /proc for processes that run DPDK (see IsDPDK).
// Processes that exit during the scan are skipped.
func (h *Host) DPDKProcesses() ([]Process, error) {
	pids, err := h.PIDs()
	if err != nil {
		return nil, err
	}
	var out []Process
	for _, pid := range pids {
		p, err := h.ReadProcess(pid)
		if errors.Is(err, ErrNoProcess) {
			continue
		}
		if err != nil {
			return out, err
		}
		if p.IsDPDK() {
			out = append(out, *p)
		}
	}
	return out, nil
}

// ProcessesByPrefixDir returns the processes among ps whose mapped runtime
// dir is dir (primary and secondaries alike).
func ProcessesByPrefixDir(ps []Process, dir string) []Process {
	var out []Process
	want := runAlias(path.Clean(dir))
	for _, p := range ps {
		if p.DPDK.RuntimeDir != "" && runAlias(path.Clean(p.DPDK.RuntimeDir)) == want {
			out = append(out, p)
		}
	}
	return out
}

// ProcStat is what gzdoctor reads of /proc/<pid>/stat (proc(5)).
type ProcStat struct {
	// State is stat's field 3: R, S, D (blocked in the kernel), T
	// (stopped by a signal), t (stopped by a tracer), Z (zombie)...
	State byte
	// StartTime is field 22, starttime: clock ticks after boot; 0 when
	// the line is cut short.
	StartTime uint64
}

// ReadProcStat reads /proc/<pid>/stat.
func (h *Host) ReadProcStat(pid int) (ProcStat, error) {
	b, err := h.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return ProcStat{}, err
	}
	return ParseProcStat(b)
}

// ProcessStarted is when pid started: its stat's starttime after
// /proc/stat's btime (whole seconds).
func (h *Host) ProcessStarted(pid int) (time.Time, error) {
	ps, err := h.ReadProcStat(pid)
	if err != nil {
		return time.Time{}, err
	}
	if ps.StartTime == 0 {
		return time.Time{}, fmt.Errorf("/proc/%d/stat: no starttime", pid)
	}
	st, err := h.ReadFile("/proc/stat")
	if err != nil {
		return time.Time{}, err
	}
	for _, line := range strings.Split(string(st), "\n") {
		if v, ok := strings.CutPrefix(line, "btime "); ok {
			bt, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return time.Time{}, fmt.Errorf("/proc/stat btime: %w", err)
			}
			// USER_HZ is 100 on every Linux ABI gzdoctor runs on.
			return time.Unix(bt, 0).Add(time.Duration(ps.StartTime) * time.Second / 100), nil
		}
	}
	return time.Time{}, errors.New("/proc/stat: no btime")
}

// ParseProcStat parses a /proc/<pid>/stat line. The command name, in
// parentheses, may hold spaces and parentheses itself: the fields are
// counted from its last ')'.
func ParseProcStat(b []byte) (ProcStat, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return ProcStat{}, errors.New("/proc/<pid>/stat: no ')' after the command name")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) == 0 || len(f[0]) != 1 {
		return ProcStat{}, errors.New("/proc/<pid>/stat: no state after the command name")
	}
	st := ProcStat{State: f[0][0]}
	// After ')': the state is field 3 of stat, starttime field 22.
	if len(f) >= 20 {
		if t, err := strconv.ParseUint(f[19], 10, 64); err == nil {
			st.StartTime = t
		}
	}
	return st, nil
}
