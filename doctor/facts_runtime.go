package doctor

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/gzdoctor/gzdoctor/host"
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
func (e *Env) Runtime(context.Context) (*Runtime, error) {
	return e.runtime.get(func() (*Runtime, error) {
		env := e.userEnv()
		r := &Runtime{CallerBase: host.RuntimeBase(e.cfg.User.UID, env)}
		r.Bases = e.h.RuntimeBases(e.cfg.User.UID, env)
		ps, err := e.h.Prefixes(r.Bases)
		if err != nil {
			return nil, err
		}
		r.Prefixes = ps
		return r, nil
	})
}

// Live returns the prefixes a process holds, in scan order.
func (r *Runtime) Live() []host.Prefix { return r.withState("live") }

// Stale returns the prefixes whose config nobody holds.
func (r *Runtime) Stale() []host.Prefix { return r.withState("stale") }

func (r *Runtime) withState(s string) []host.Prefix {
	var out []host.Prefix
	for _, p := range r.Prefixes {
		if p.State == s {
			out = append(out, p)
		}
	}
	return out
}

// Find returns the prefix named name, preferring the caller's base dir
// (that is the one the capture tool will open).
func (r *Runtime) Find(name string) *host.Prefix {
	var other *host.Prefix
	for i := range r.Prefixes {
		p := &r.Prefixes[i]
		if p.Name != name {
			continue
		}
		if samePath(p.Base, r.CallerBase) {
			return p
		}
		if other == nil {
			other = p
		}
	}
	return other
}

// samePath compares runtime paths, treating /var/run and /run as one (a
// symlink on every current distribution).
func samePath(a, b string) bool {
	norm := func(p string) string {
		if rest, ok := strings.CutPrefix(p, "/var/run/"); ok {
			return "/run/" + rest
		}
		return p
	}
	return norm(a) == norm(b)
}

// names lists prefixes as "name (pid N)" or "name", sorted.
func prefixNames(ps []host.Prefix) string {
	var s []string
	for _, p := range ps {
		n := p.Name
		if p.Lock.Holder != nil && p.Lock.Holder.PID > 0 {
			n = fmt.Sprintf("%s (pid %d)", p.Name, p.Lock.Holder.PID)
		}
		if !samePath(p.Base, host.RootRuntimeBase) {
			n += " in " + p.Base
		}
		s = append(s, n)
	}
	sort.Strings(s)
	return strings.Join(s, ", ")
}
