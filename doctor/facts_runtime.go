package doctor

import (
	"context"
	"fmt"
	"path"
	"sort"

	"github.com/gzdoctor/gzdoctor/host"
	"github.com/gzdoctor/gzdoctor/host/target"
)

// Runtime is what the DPDK runtime dirs tell: where the capture user's tool
// will look, every place a primary may have left a prefix dir, and each
// prefix's state.
type Runtime struct {
	// CallerBase is the dir the capture tool will use
	// (/var/run/dpdk for root, $XDG_RUNTIME_DIR/dpdk or /tmp/dpdk otherwise).
	CallerBase string                `json:"caller_base"`
	Bases      []host.RuntimeBaseDir `json:"bases"`
	Prefixes   []host.Prefix         `json:"prefixes"`
}

// userEnv is the capture user's environment as host.RuntimeBase wants it:
// only the variables that are set.
func (e *Env) userEnv() map[string]string {
	m := map[string]string{}
	for _, kv := range e.cfg.Env {
		if k, v, ok := cutEnv(kv); ok {
			m[k] = v
		}
	}
	delete(m, "XDG_RUNTIME_DIR")
	if e.cfg.User.XDGRuntimeDir != "" {
		m["XDG_RUNTIME_DIR"] = e.cfg.User.XDGRuntimeDir
	}
	return m
}

// Runtime scans the runtime dirs once per run.
func (e *Env) Runtime(ctx context.Context) (*Runtime, error) {
	return e.runtime.await(ctx, "the DPDK runtime dirs", func() (*Runtime, error) {
		env := e.userEnv()
		r := &Runtime{CallerBase: host.RuntimeBase(e.cfg.User.UID, env)}
		r.Bases = e.h.RuntimeBases(e.cfg.User.UID, env)
		ps, err := e.h.Prefixes(r.Bases)
		if err != nil {
			return nil, err
		}
		r.Prefixes = append(ps, e.unlistablePrefixes(ctx, r.Bases)...)
		return r, nil
	})
}

// unlistablePrefixes finds the live prefixes in runtime dirs the capture
// user may not list, such as root's /var/run/dpdk (mode 0700) seen by a
// non-root user. A live primary binds <dir>/mp_socket, and /proc/net/unix
// shows that path to anyone; without this, a non-root check would say no
// primary has run while one runs as root. The holder is taken from the
// processes whose command line carries that --file-prefix, when one does.
func (e *Env) unlistablePrefixes(ctx context.Context, bases []host.RuntimeBaseDir) []host.Prefix {
	var blind []host.RuntimeBaseDir
	for _, b := range bases {
		if b.Exists && b.Error != "" {
			blind = append(blind, b)
		}
	}
	if len(blind) == 0 {
		return nil
	}
	socks, err := e.h.UnixSockets()
	if err != nil {
		return nil
	}
	var out []host.Prefix
	for _, b := range blind {
		owner, _ := e.h.Stat(b.Path)
		seen := map[string]bool{}
		for _, s := range socks {
			dir, file := path.Split(s.Path)
			dir = path.Clean(dir)
			if file != "mp_socket" || !samePath(path.Dir(dir), b.Path) || seen[dir] {
				continue
			}
			seen[dir] = true
			name := path.Base(dir)
			bound := true
			p := host.Prefix{
				Name: name, Dir: path.Join(b.Path, name), Base: b.Path,
				// The base's owner: the prefix dir itself cannot be stat'ed
				// through a base the user may not enter.
				Owner: owner, State: host.PrefixLive, MPSocketBound: &bound,
				HugepageFilePrefix: name + "map_",
				Error:              fmt.Sprintf("listing %s: %s; a primary runs there: %s/mp_socket is bound (/proc/net/unix)", b.Path, b.Error, dir),
				Lock:               host.LockCheck{Method: host.LockBySocket},
			}
			if pid := e.pidByFilePrefix(ctx, name); pid > 0 {
				p.Lock.Holder = &host.LockHolder{PID: pid, End: -1}
			}
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Dir < out[j].Dir })
	return out
}

// pidByFilePrefix is the one DPDK process whose command line says
// --file-prefix name and is not a secondary; 0 when none or several.
func (e *Env) pidByFilePrefix(ctx context.Context, name string) int {
	ps, err := e.dpdkProcesses(ctx)
	if err != nil {
		return 0
	}
	pid := 0
	for _, p := range ps {
		if len(p.Cmdline) < 2 || !host.LooksLikeEAL(p.Cmdline) {
			continue
		}
		a := host.ParseEALArgs(p.Cmdline[1:])
		if a.Prefix() != name || a.ProcType == "secondary" {
			continue
		}
		if pid != 0 {
			return 0
		}
		pid = p.PID
	}
	return pid
}

// Live returns the prefixes a process holds, in scan order.
func (r *Runtime) Live() []host.Prefix { return target.Live(r.Prefixes) }

// Stale returns the prefixes whose config nobody holds.
func (r *Runtime) Stale() []host.Prefix { return r.withState(host.PrefixStale) }

func (r *Runtime) withState(s host.PrefixState) []host.Prefix {
	var out []host.Prefix
	for _, p := range r.Prefixes {
		if p.State == s {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Dir < out[j].Dir })
	return out
}

// Find returns the prefix named name, preferring the caller's base dir
// (that is the one the capture tool will open).
func (r *Runtime) Find(name string) *host.Prefix {
	return target.Find(r.Prefixes, r.CallerBase, name)
}

// samePath compares runtime paths, treating /var/run and /run as one.
func samePath(a, b string) bool { return target.SamePath(a, b) }
