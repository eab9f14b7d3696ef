package doctor

import (
	"context"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/gzdoctor/gzdoctor/elfcheck"
	"github.com/gzdoctor/gzdoctor/host"
)

// What a prefix dir is, in the operator's terms. host.Prefix.State is the
// machine's view (live, stale, no-config, unknown); a dir without config
// is either a process running without shared config or debris, and the
// two need opposite advice.
const (
	kindRunning  = "running"   // a primary holds the config lock
	kindDead     = "dead"      // config present, nobody holds it: the primary is gone
	kindDebris   = "debris"    // no config, nobody uses it: a failed secondary's leftover
	kindNoShconf = "no-shconf" // no config, a process runs with that prefix (--in-memory/--no-shconf)
	kindStarting = "starting"  // no config, no socket bound, a process names the prefix: starting, or without shared config
	kindUnknown  = "unknown"   // could not be read
	// kindMeasuring: a gzdoctor's build-match measurement dir
	// (elfcheck.Measurement) while that gzdoctor runs: it removes it.
	kindMeasuring = "measuring"
)

// prefixKind classifies a prefix dir; pid is the process using a no-config
// dir, when one does.
func (e *Env) prefixKind(ctx context.Context, p host.Prefix) (kind string, pid int) {
	switch p.State {
	case host.PrefixLive:
		return kindRunning, 0
	case host.PrefixStale:
		return kindDead, 0
	case host.PrefixNoConfig:
	default:
		return kindUnknown, 0
	}
	if pid, running := e.measurement(p); running {
		return kindMeasuring, pid
	}
	// A process that runs with --in-memory or --no-shconf keeps its
	// telemetry socket bound there, and its command line names the prefix.
	if socks, err := e.unixSockets(ctx); err == nil {
		for _, f := range p.Files {
			if (f.Kind == "telemetry_v2" || f.Kind == "mp_socket") && socks.Bound(path.Join(p.Dir, f.Name)) {
				return kindNoShconf, e.pidUsingDir(ctx, p)
			}
		}
	}
	// Nothing bound there, but a process's arguments name the prefix: a
	// primary between EAL's mkdir of the dir and its config (lab: an
	// lstack's dir is empty for a moment while it starts), or one without
	// shared config or telemetry. Never debris.
	if pid := e.pidUsingDir(ctx, p); pid > 0 {
		return kindStarting, pid
	}
	return kindDebris, 0
}

// pidUsingDir is a process whose command line gives p's --file-prefix and
// whose runtime dir is p's: its uid and environment put it in p's base. A
// root primary with the same prefix does not use a non-root user's
// /tmp/dpdk/<prefix> (measured: a non-root dpdk-pdump with a root
// primary's prefix leaves exactly that empty dir).
func (e *Env) pidUsingDir(ctx context.Context, p host.Prefix) int {
	for _, pid := range e.pidsWithPrefixArg(ctx, p.Name) {
		q, err := e.h.ReadProcess(pid)
		if err != nil {
			continue
		}
		env := map[string]string{}
		for k, v := range q.Env {
			env[k] = v
		}
		base := host.RuntimeBase(q.UID, env)
		envUnknown := q.Env == nil && q.UID != 0
		if samePath(base, p.Base) || envUnknown && (samePath(p.Base, "/tmp/dpdk") || samePath(p.Base, fmt.Sprintf("/run/user/%d/dpdk", q.UID))) {
			return pid
		}
	}
	return 0
}

// pidsWithPrefixArg are the processes (not secondaries) whose command line
// gives --file-prefix name, or whose LSTACK_CONF_PATH names a config whose
// dpdk_args do (an lstack application: its command line has no EAL
// arguments). It reads only command lines and environments: the full
// process scan (maps of every process) is too slow for runtime-dir, which
// every run needs.
func (e *Env) pidsWithPrefixArg(ctx context.Context, name string) []int {
	byPrefix, err := e.prefixArgs.await(ctx, "the command lines of running processes", func() (map[string][]int, error) {
		pids, err := e.h.PIDs()
		if err != nil {
			return nil, err
		}
		m := map[string][]int{}
		confs := map[string]string{}
		for _, pid := range pids {
			b, err := e.h.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
			if err != nil || len(b) == 0 {
				continue
			}
			args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
			if len(args) < 2 || !host.LooksLikeEAL(args) {
				if pfx := e.lstackConfPrefix(pid, confs); pfx != "" {
					m[pfx] = append(m[pfx], pid)
				}
				continue
			}
			a := host.ParseEALArgs(args[1:])
			if a.ProcType == "secondary" || a.Prefix() == "" {
				continue
			}
			m[a.Prefix()] = append(m[a.Prefix()], pid)
		}
		return m, nil
	})
	if err != nil {
		return nil
	}
	return byPrefix[name]
}

// lstackConfPrefix is the --file-prefix of the lstack.conf a process's
// LSTACK_CONF_PATH names ("" when none); confs caches the configs read.
func (e *Env) lstackConfPrefix(pid int, confs map[string]string) string {
	b, err := e.h.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
	if err != nil {
		return ""
	}
	for _, kv := range strings.Split(string(b), "\x00") {
		v, ok := strings.CutPrefix(kv, "LSTACK_CONF_PATH=")
		if !ok || !path.IsAbs(v) {
			continue
		}
		pfx, seen := confs[v]
		if !seen {
			// ltran mode: lstack is ltran's secondary, not a primary.
			if c, err := e.h.ReadGazelleConfig(v); err == nil && c.EAL != nil && c.EAL.ProcType != "secondary" {
				pfx = c.EAL.Prefix()
			}
			confs[v] = pfx
		}
		return pfx
	}
	return ""
}

// kindWords says what a prefix dir is.
func (e *Env) kindWords(ctx context.Context, p host.Prefix) string {
	kind, pid := e.prefixKind(ctx, p)
	switch kind {
	case kindRunning:
		if p.Lock.Holder != nil && p.Lock.Holder.PID > 0 {
			return fmt.Sprintf("a running primary's (pid %d)", p.Lock.Holder.PID)
		}
		return "a running primary's"
	case kindDead:
		return "left by a primary that is gone (its config is not held)"
	case kindMeasuring:
		return fmt.Sprintf("the build-match measurement of gzdoctor pid %d, which still runs and removes it when done", pid)
	case kindDebris:
		if pid, _ := e.measurement(p); pid > 0 {
			return fmt.Sprintf("left by the build-match measurement of gzdoctor pid %d, which ended before it removed it (nothing uses it)", pid)
		}
		if len(p.Files) == 0 {
			return "an empty dir a capture tool left when it failed to attach (no config, nothing uses it)"
		}
		return "leftovers of a capture tool that failed to attach (no config, nothing uses them)"
	case kindStarting:
		return fmt.Sprintf("named by pid %d, which has no config or socket in it yet: a primary still starting (or stopped while starting), or one without shared config (--in-memory/--no-shconf); it is not debris", pid)
	case kindNoShconf:
		if pid > 0 {
			return fmt.Sprintf("used by pid %d, which runs without shared config (--in-memory or --no-shconf): no capture tool can attach to it", pid)
		}
		return "used by a process that runs without shared config (--in-memory or --no-shconf): no capture tool can attach to it"
	}
	if p.Error != "" {
		return "not readable here (" + p.Error + ")"
	}
	return "in a state gzdoctor cannot read"
}

// reportedBy is the first check of ids (in run order) this run runs, or
// "" when none: one cause is reported by one check, and the later ones say
// "see <check>" instead of repeating its commands.
func (e *Env) reportedBy(ids ...string) string {
	for _, c := range Checks() {
		for _, id := range ids {
			if c.ID == id && (e.selected == nil || e.selected[id]) {
				return id
			}
		}
	}
	return ""
}

// runningWords names a running primary for the operator: "gzct_p1 (pid
// 4193, /usr/bin/app)", with where it runs when that is not where the
// capture user's tool looks.
func (e *Env) runningWords(ctx context.Context, p host.Prefix, callerBase string) string {
	s := p.Name
	var what []string
	if p.Lock.Holder != nil && p.Lock.Holder.PID > 0 {
		what = append(what, fmt.Sprintf("pid %d", p.Lock.Holder.PID))
		if exe, err := e.h.ProcessExe(p.Lock.Holder.PID); err == nil && exe != "" {
			what = append(what, exe)
		}
	}
	if !samePath(p.Base, callerBase) {
		owner := "another user"
		if samePath(p.Base, host.RootRuntimeBase) {
			owner = "root"
		} else if p.Owner != nil {
			owner = userWords(p.Owner.UID)
		}
		what = append(what, fmt.Sprintf("runs as %s in %s", owner, p.Base))
	}
	if len(what) > 0 {
		s += " (" + strings.Join(what, ", ") + ")"
	}
	return s
}

// closestFirst orders prefixes by edit distance to name, then by name: a
// typo'd --file-prefix is most likely the nearest running one.
func closestFirst(ps []host.Prefix, name string) []host.Prefix {
	out := append([]host.Prefix(nil), ps...)
	sort.SliceStable(out, func(i, j int) bool {
		di, dj := editDistance(out[i].Name, name), editDistance(out[j].Name, name)
		if di != dj {
			return di < dj
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// NearestPrefix is the one name in names closest to name by edit distance,
// when it is unambiguous (no other at the same distance) and close enough
// to be the same name mistyped (at most 3 edits): a fix may then fill it in
// for a typo'd --file-prefix. Otherwise "" and the operator chooses.
func NearestPrefix(names []string, name string) string {
	best, bestD, tie := "", -1, false
	for _, n := range names {
		switch d := editDistance(n, name); {
		case bestD < 0 || d < bestD:
			best, bestD, tie = n, d, false
		case d == bestD && n != best:
			tie = true
		}
	}
	if best == "" || tie || bestD > 3 {
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance of a and b, by bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// checkAs is the gzdoctor check command for a primary in another user's
// runtime dir: root's needs root.
func (e *Env) checkAs(p host.Prefix, callerBase string) string {
	cmd := e.gzdoctorCheck(p.Name)
	if !samePath(p.Base, callerBase) && samePath(p.Base, host.RootRuntimeBase) && e.cfg.User.UID != 0 {
		return "sudo " + cmd
	}
	return cmd
}

// unixSockets reads /proc/net/unix once per run.
func (e *Env) unixSockets(ctx context.Context) (host.UnixSockets, error) {
	return e.socks.await(ctx, "/proc/net/unix", e.h.UnixSockets)
}

// measurement is the gzdoctor pid whose build-match measurement made p
// (0 when p is no such dir) and whether that gzdoctor still runs, by the
// rule elfcheck's own sweep goes by. Only root's runtime dir has them.
func (e *Env) measurement(p host.Prefix) (pid int, running bool) {
	if !samePath(p.Base, host.RootRuntimeBase) {
		return 0, false
	}
	pid, running, ok := elfcheck.Measurement(p.Name, func(pid int) bool {
		_, err := e.h.Stat("/proc/" + strconv.Itoa(pid))
		return err == nil
	})
	if !ok {
		return 0, false
	}
	return pid, running
}
