package doctor

import (
	"context"
	"fmt"
	"strings"

	"github.com/gzdoctor/gzdoctor/host"
	"github.com/gzdoctor/gzdoctor/host/target"
)

// checkPrefix (CHK-04 with CHK-02): which --file-prefix the capture must
// use, and whether the config and the live prefixes agree on it.
func checkPrefix(ctx context.Context, env *Env) Result {
	t, err := env.Target(ctx)
	if err != nil {
		return errored(err.Error())
	}
	rt, err := env.Runtime(ctx)
	if err != nil {
		return errored(err.Error())
	}
	live := rt.Live()
	if t.Ambiguous() && len(t.Candidates) == 0 {
		// The config is in use but cannot name the prefix (lstack in ltran
		// mode without an ltran.conf), and no primary runs to tell: DPDK's
		// default would be a guess.
		return fail("nothing says which prefix the capture is for: "+t.Why,
			fix("start the primary that owns the NIC (ltran, in ltran mode) and check again, or say where its config is: pass --config with the ltran.conf in use, or --prefix with its --file-prefix"))
	}
	if t.Ambiguous() {
		var names, cmds []string
		for _, p := range live {
			names = append(names, env.runningWords(ctx, p, rt.CallerBase))
			cmds = append(cmds, env.checkAs(p, rt.CallerBase))
		}
		// An ltran host (ltran and its lstack applications) or a host with
		// several lstack applications always looks like this: checking
		// them all is as likely the intent as choosing one.
		cmds = append(cmds, env.gzdoctorCheckAll())
		// Why the config in use did not choose, when one is: said, or the
		// operator keeps pointing --config at it.
		var details []string
		if cf, _ := env.GazelleConfig(ctx); cf != nil {
			switch {
			case len(cf.Conflict) > 0:
				details = append(details, "no config chooses: the running lstacks read different ones ("+strings.Join(cf.Conflict, "; ")+")")
			case cf.Prefix == "" && cf.PrefixWhy != "":
				details = append(details, "no config chooses: "+cf.PrefixWhy)
			}
		}
		return fail(fmt.Sprintf("several primaries are running (%s) and nothing says which one the capture is for", strings.Join(names, "; ")),
			fix("say which primary to capture from: pass --prefix to gzdoctor (or --config with the lstack.conf/ltran.conf in use), and the same --file-prefix to the capture tool; or check every running primary, one report each, with --all-prefixes", cmds...),
			details...)
	}
	var details []string
	details = append(details, "chosen from: "+t.Why)
	if cf, _ := env.GazelleConfig(ctx); cf != nil && t.Via == target.ViaFlag && cf.Prefix != "" && cf.Prefix != t.Prefix {
		details = append(details, fmt.Sprintf("note: %s implies --file-prefix %s (%s)", cf.Path, cf.Prefix, cf.PrefixWhy))
	}
	from := sourceWords(t)
	if t.Dir != nil && t.Dir.State == host.PrefixLive {
		return ok(fmt.Sprintf("prefix %q (%s) has a running primary: use --file-prefix %s", t.Prefix, from, t.Prefix), details...)
	}
	// The chosen prefix has no running primary. If another one runs, the
	// config (or --prefix) and the machine disagree: name the running
	// ones, the closest name first (a typo'd prefix is the usual cause).
	var others []host.Prefix
	for _, p := range live {
		if t.Dir == nil || p.Dir != t.Dir.Dir {
			others = append(others, p)
		}
	}
	others = closestFirst(others, t.Prefix)
	state := fmt.Sprintf("has no runtime dir in %s", rt.CallerBase)
	kind, pid := "", 0
	if t.Dir != nil {
		kind, pid = env.prefixKind(ctx, *t.Dir)
		state = fmt.Sprintf("has no running primary: %s is %s", t.Dir.Dir, env.kindWords(ctx, *t.Dir))
	}
	if len(others) == 0 {
		// Nothing else runs: the primary check says what is wrong with
		// this prefix (not started, dead, debris).
		return ok(fmt.Sprintf("prefix %q (%s); it %s, and no other primary is running", t.Prefix, from, state), details...)
	}
	var names []string
	for i, p := range others {
		w := env.runningWords(ctx, p, rt.CallerBase)
		if i < maxNamed {
			names = append(names, w)
		} else {
			details = append(details, "also running: "+w)
		}
	}
	if len(others) > maxNamed {
		names = append(names, fmt.Sprintf("and %d more (-v lists them)", len(others)-maxNamed))
	}
	finding := fmt.Sprintf("prefix %q (%s) %s; running %s: %s", t.Prefix, from, state,
		plural(len(others), "primary", "primaries, closest name first"), strings.Join(names, "; "))
	if kind == kindNoShconf {
		// A process runs with this very prefix: it is the one the
		// operator means, and another application's primary is no fix.
		who := "the process"
		if pid > 0 {
			who = fmt.Sprintf("the process (pid %d%s)", pid, procName(env, pid))
		}
		return fail(finding, fix(fmt.Sprintf("a capture needs a primary with shared config: start %s without --in-memory/--no-shconf", who)), details...)
	}
	use := others[0]
	text := fmt.Sprintf("if %s is the primary you mean, check and capture with --file-prefix %s", use.Name, use.Name)
	if !samePath(use.Base, rt.CallerBase) {
		text += fmt.Sprintf(" (it runs in %s, where only its own user's tools look: a root primary needs root)", use.Base)
	}
	cmds := []string{env.checkAs(use, rt.CallerBase)}
	if samePath(use.Base, rt.CallerBase) {
		if c := env.captureCommand(use.Name, env.cfg.Device); c != "" {
			cmds = append(cmds, c)
		}
	}
	if t.Via == target.ViaConfig {
		text += fmt.Sprintf("; or, if %q is the primary you want, start it: it is not running", t.Prefix)
	}
	switch kind {
	case kindDebris:
		if by := env.reportedBy("runtime-dir"); by != "" {
			text += fmt.Sprintf("; %s is debris, removed by the command under %s", t.Dir.Dir, by)
		} else {
			text += fmt.Sprintf("; %s is debris: remove it", t.Dir.Dir)
			cmds = append(cmds, env.debrisCommand(*t.Dir))
		}
	case kindDead:
		// Maybe the right name of a dead primary: the primary check
		// fails with the cleanup; here, warn.
		return warn(finding, fix(text, cmds...), details...)
	}
	return fail(finding, fix(text, cmds...), details...)
}

// maxNamed is how many running primaries a finding names; -v lists all.
const maxNamed = 5

// sourceWords says where the target prefix came from.
func sourceWords(t *target.Target) string { return t.Via.Words() }

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
