// Package target decides which DPDK primary a command is about: its
// --file-prefix, the runtime dir a capture tool will open for it, and what
// chose it. check (every check of the target's primary), capture (its plan
// and preflight, and shell completion) and diagnose --live resolve through
// Resolve, so two commands given the same flags on the same machine cannot
// aim at different primaries.
//
// The rules, from the field (docs/design.md, "One target"):
//
//   - --prefix wins.
//   - Else the Gazelle config in use names the NIC owner's --file-prefix:
//     lstack.conf dpdk_args, or ltran.conf forward_kit_args when lstack runs
//     in ltran mode. The config is --config, else the one a live lstack
//     read (its own LSTACK_CONF_PATH: the running process's environment
//     wins over the operator's), else the operator's LSTACK_CONF_PATH, else
//     /etc/gazelle/lstack.conf and ltran.conf.
//   - Else the only live primary.
//   - Nothing runs and no config exists: DPDK's default, rte, said as such
//     (the checks then fail on it: a host that should run Gazelle and runs
//     nothing is a finding).
//   - Anything else is ambiguous and chooses nothing: several live
//     primaries, or a config that cannot name the prefix (lstack in ltran
//     mode without ltran.conf) with none running. The target then lists
//     its candidates and why nothing chose; check's prefix check and
//     capture's preflight fail naming them with the flag that picks one,
//     and a capture without preflight refuses with a usage error.
//
// The runtime dir is where a DPDK process puts <base>/<prefix>: the base is
// /var/run/dpdk for root and $XDG_RUNTIME_DIR/dpdk (else /tmp/dpdk) for
// anyone else, from the process's own uid and environment. A secondary (the
// capture tool) looks in its own base only, so of two dirs with the prefix's
// name the one in the capture user's base is the target's; a live primary in
// another base is what the checks then report (a root primary needs root).
package target

import (
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/gzdoctor/gzdoctor/host"
)

// Via says what chose the target's prefix. The strings are the JSON
// target.prefix_source of check's report.
type Via string

const (
	ViaFlag    Via = "flag"    // --prefix
	ViaConfig  Via = "config"  // lstack.conf dpdk_args / ltran.conf forward_kit_args
	ViaLive    Via = "live"    // the only live primary
	ViaDefault Via = "default" // nothing runs, no config: DPDK's default, rte
	ViaAll     Via = "all"     // one of the running primaries, in turn (check --all-prefixes)
	ViaLog     Via = "log"     // the prefix a capture tool's log names (diagnose --live)
)

// Words says where the prefix came from, for a finding: "from --prefix".
func (v Via) Words() string {
	switch v {
	case ViaFlag:
		return "from --prefix"
	case ViaConfig:
		return "from the config"
	case ViaAll:
		return "a running primary's, --all-prefixes"
	case ViaLive:
		return "the only running primary's"
	case ViaDefault:
		return "DPDK's default"
	case ViaLog:
		return "from the capture tool's log"
	}
	return string(v)
}

// Target is the primary a command is about.
type Target struct {
	// Prefix is the --file-prefix; "" when nothing chose (Ambiguous).
	Prefix string `json:"prefix,omitempty"`
	Via    Via    `json:"via,omitempty"`
	// Why explains the choice in words ("--file-prefix gazelle in
	// dpdk_args (/etc/gazelle/lstack.conf:3)"), or, when nothing chose,
	// why not.
	Why string `json:"why"`
	// Dir is the prefix's runtime dir, nil when none exists: the one in
	// the capture user's base when there is one (that is the dir the
	// capture tool opens), else the first found.
	Dir *host.Prefix `json:"dir,omitempty"`
	// RuntimeDir is Dir's path, "" when there is none.
	RuntimeDir string `json:"runtime_dir,omitempty"`
	// PID holds Dir's config lock (the primary), 0 when none is known
	// (no live primary, or its holder is in another pid namespace). Every
	// command reads the primary's pid here: doctor.Env.Primary (check's
	// primary, and the pid its fixes name) and capture's plan (the
	// capture lock, the drop counters).
	PID int `json:"pid,omitempty"`
	// Candidates are the live primaries that could be meant when nothing
	// chose, in runtime dir order.
	Candidates []host.Prefix `json:"candidates,omitempty"`
}

// Ambiguous reports whether nothing chose the prefix.
func (t *Target) Ambiguous() bool { return t.Prefix == "" }

// CandidateNames are the candidates' prefixes, sorted, each once.
func (t *Target) CandidateNames() []string {
	var out []string
	for _, p := range t.Candidates {
		out = append(out, p.Name)
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// Request is what the operator said.
type Request struct {
	// Prefix is --prefix, or what stands for it (Via).
	Prefix string
	// Via is what gave Prefix: ViaFlag (also when empty), ViaAll (one of
	// the running primaries, set by check --all-prefixes) or ViaLog (the
	// prefix a capture tool's log names, diagnose --live).
	Via Via
	// Why, when set, hands over a resolution made before (capture's plan,
	// to its preflight): Prefix, Via and Why are taken as they are, so the
	// preflight's findings say where the prefix came from as check's do.
	Why string
}

// Config is what the Gazelle config in use says about the prefix.
type Config struct {
	// Path is the file that decides (ltran.conf when lstack runs in ltran
	// mode).
	Path string
	// Prefix is the --file-prefix the capture must use; "" when the
	// config cannot say (Why then says why).
	Prefix string
	Why    string
}

// Facts are what the machine holds.
type Facts struct {
	// Prefixes are every runtime dir found, in every base.
	Prefixes []host.Prefix
	// CallerBase is the base the capture tool will look in (its user's).
	CallerBase string
	// Config is the Gazelle config in use; nil when there is none.
	Config *Config
}

// Resolve decides the target. It reads nothing: the facts are gathered by
// the caller (doctor.Env, which check and capture both use).
func Resolve(r Request, f Facts) *Target {
	t := &Target{}
	switch {
	case r.Prefix != "" && r.Why != "" && r.Via != "":
		t.Prefix, t.Via, t.Why = r.Prefix, r.Via, r.Why
	case r.Prefix != "" && r.Via == ViaAll:
		t.Prefix, t.Via, t.Why = r.Prefix, ViaAll, "a running primary's prefix (--all-prefixes checks each)"
	case r.Prefix != "" && r.Via == ViaLog:
		t.Prefix, t.Via, t.Why = r.Prefix, ViaLog, "the capture tool's log (--file-prefix "+r.Prefix+")"
	case r.Prefix != "":
		t.Prefix, t.Via, t.Why = r.Prefix, ViaFlag, "--prefix "+r.Prefix
	case f.Config != nil && f.Config.Prefix != "":
		t.Prefix, t.Via, t.Why = f.Config.Prefix, ViaConfig, f.Config.Why
	default:
		live := Live(f.Prefixes)
		switch {
		case len(live) == 1:
			t.Prefix, t.Via, t.Why = live[0].Name, ViaLive, "the only running primary's prefix"
		case len(live) > 1:
			t.Candidates = live
			t.Why = fmt.Sprintf("several primaries are running (%s) and nothing says which one the capture is for", strings.Join(t.CandidateNames(), ", "))
			return t
		case f.Config != nil:
			// The config is in use but cannot name the prefix, and no
			// primary runs to tell: rte would be a guess.
			t.Why = f.Config.Why + "; and no primary is running"
			return t
		default:
			t.Prefix, t.Via, t.Why = host.DefaultFilePrefix, ViaDefault, "no --prefix, no config, no running primary: DPDK's default"
		}
	}
	t.Dir = Find(f.Prefixes, f.CallerBase, t.Prefix)
	if t.Dir != nil {
		t.RuntimeDir = t.Dir.Dir
		if h := t.Dir.Lock.Holder; h != nil && t.Dir.State == host.PrefixLive {
			t.PID = h.PID
		}
	}
	return t
}

// Live returns the prefixes a process holds, in runtime dir order.
func Live(all []host.Prefix) []host.Prefix {
	var out []host.Prefix
	for _, p := range all {
		if p.State == host.PrefixLive {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Dir < out[j].Dir })
	return out
}

// Find returns the runtime dir of the prefix named name, preferring the one
// in base (the capture user's: the one the capture tool opens); nil when
// there is none.
func Find(all []host.Prefix, base, name string) *host.Prefix {
	var other *host.Prefix
	for i := range all {
		p := &all[i]
		if p.Name != name {
			continue
		}
		if SamePath(p.Base, base) {
			return p
		}
		if other == nil {
			other = p
		}
	}
	return other
}

// SamePath compares runtime paths, treating /var/run and /run as one (a
// symlink on every current distribution).
func SamePath(a, b string) bool { return host.SameRunPath(a, b) }

// Caller is the uid and environment of this process, which decide where
// its DPDK (a capture tool it starts) looks: the capture user's, unless a
// caller says otherwise (doctor.Config.User).
func Caller() (uid int, env map[string]string) {
	return os.Geteuid(), host.EnvMap(os.Environ())
}

// Scan lists the runtime dirs under every base a primary may have used, as
// this process sees them: what capture -D, shell completion and collect
// list (check and capture's target read doctor.Env's Runtime, which adds
// the live prefixes in bases the user may not list).
func Scan(h *host.Host) ([]host.Prefix, error) {
	return h.Prefixes(h.RuntimeBases(Caller()))
}
