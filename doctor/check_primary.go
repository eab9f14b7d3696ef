package doctor

import (
	"context"
	"fmt"
	"path"
	"sort"
	"strings"
)

// checkPrimary (CHK-02, CHK-03, CHK-04): the process holding the prefix,
// its mp_socket, and what its telemetry says. A primary that is gone but
// left its files fails with the command that removes them safely.
func checkPrimary(ctx context.Context, env *Env) Result {
	t, err := env.Target(ctx)
	if err != nil {
		return errored(err.Error())
	}
	if t.Dir == nil {
		rt, _ := env.Runtime(ctx)
		base := "/var/run/dpdk"
		if rt != nil {
			base = rt.CallerBase
		}
		return fail(fmt.Sprintf("no primary runs with prefix %q: %s/%s does not exist", t.Name, base, t.Name),
			fix(fmt.Sprintf("start the Gazelle application (or ltran) with --file-prefix %s, or point gzdoctor at the prefix it uses (--prefix / --config)", t.Name)))
	}
	switch t.Dir.State {
	case "stale":
		return stalePrimary(ctx, env, t)
	case "no-config":
		return fail(fmt.Sprintf("%s has no config file: the primary runs with --in-memory or --no-shconf (secondaries cannot attach) or the dir is a leftover", t.Dir.Dir),
			fix("restart the primary without --in-memory/--no-shconf so that a capture tool can attach"), describePrefix(*t.Dir))
	case "unknown":
		return errored(fmt.Sprintf("cannot tell whether a process holds %s/config: %s", t.Dir.Dir, strings.Join(t.Dir.Lock.Errors, "; ")))
	}

	p, err := env.Primary(ctx)
	if err != nil {
		return errored(err.Error())
	}
	if p == nil {
		return errored(fmt.Sprintf("prefix %s is live but its process could not be read", t.Name))
	}
	details := []string{
		fmt.Sprintf("pid %d (uid %d), exe %s", p.PID, p.UID, orUnknown(p.Exe)),
		"cmdline: " + strings.Join(p.Cmdline, " "),
	}
	if p.DPDK.EAL != "" {
		details = append(details, fmt.Sprintf("maps %s (DPDK %s)", p.DPDK.EAL, orUnknown(p.DPDK.Release)))
	}
	if p.DPDK.Lstack != "" {
		details = append(details, "maps "+p.DPDK.Lstack)
	}
	for _, u := range p.Unreadable {
		details = append(details, "unreadable: "+u)
	}
	name := path.Base(p.Exe)
	if p.Exe == "" {
		name = p.Name
	}
	finding := fmt.Sprintf("pid %d %s holds prefix %s", p.PID, name, t.Name)

	switch {
	case t.Dir.MPSocketBound == nil && !t.Dir.Has("mp_socket"):
		return fail(finding+", but it has no mp_socket: secondaries (the capture tool) cannot talk to it",
			fix("restart the primary as a multi-process primary (without --no-shconf/--in-memory)"), details...)
	case t.Dir.MPSocketBound != nil && !*t.Dir.MPSocketBound:
		return fail(finding+fmt.Sprintf(", but %s/mp_socket is not bound (a leftover): the capture tool's requests go nowhere", t.Dir.Dir),
			fix("restart the primary; its mp_socket was removed or replaced while it ran"), details...)
	}
	finding += ", mp_socket bound"

	tel, err := env.Telemetry(ctx)
	switch {
	case err != nil:
		details = append(details, "telemetry: "+err.Error())
		return warn(finding+"; telemetry did not answer", fix("not needed for a capture; gzdoctor used what /proc shows"), details...)
	case tel == nil:
		details = append(details, "telemetry: no dpdk_telemetry.v2 socket")
	default:
		finding += fmt.Sprintf(", DPDK %s", tel.DPDKVersion)
		var ports []string
		for _, pt := range tel.Ports {
			ports = append(ports, fmt.Sprintf("%d:%s", pt.ID, pt.Name))
		}
		if tel.Errors["ports"] == "" {
			finding += fmt.Sprintf(", %d %s", len(tel.Ports), plural(len(tel.Ports), "port", "ports"))
			if len(ports) > 0 {
				finding += " (" + strings.Join(ports, ", ") + ")"
			}
		}
		if len(tel.EALParams) > 0 {
			details = append(details, "telemetry EAL params: "+strings.Join(tel.EALParams, " "))
		}
		var failed []string
		for what := range tel.Errors {
			failed = append(failed, what)
		}
		sort.Strings(failed)
		for _, what := range failed {
			details = append(details, fmt.Sprintf("telemetry %s: %s", what, tel.Errors[what]))
		}
		if len(failed) > 0 {
			// A greeting without answers: a primary that is stuck, or
			// busy; counting its ports as none would be a guess.
			return warn(finding+"; telemetry did not answer for "+strings.Join(failed, ", "),
				fix("not needed for a capture; gzdoctor used what /proc shows. A primary whose telemetry stops answering may be stuck: so would the capture"), details...)
		}
	}
	return ok(finding, details...)
}

// stalePrimary reports a prefix whose primary is gone and what it left.
func stalePrimary(ctx context.Context, env *Env, t *TargetPrefix) Result {
	var left []string
	for _, f := range t.Dir.Files {
		left = append(left, f.Name)
	}
	finding := fmt.Sprintf("the primary of prefix %s is gone: nobody holds %s/config", t.Name, t.Dir.Dir)
	details := []string{describePrefix(*t.Dir)}
	hp, err := env.HugepageLeftovers(ctx, t.Dir.HugepageFilePrefix)
	if err != nil {
		details = append(details, "hugepage files: "+err.Error())
	}
	if hp.Files > 0 {
		held := ""
		if hp.Bytes > 0 {
			held = fmt.Sprintf(" holding %d MiB", hp.Bytes>>20)
		}
		finding += fmt.Sprintf("; it left %d hugepage %s%s in %s", hp.Files, plural(hp.Files, "file", "files"), held, strings.Join(hp.Dirs, ", "))
	}
	for _, s := range t.Dir.Secondaries {
		if s.Bound != nil && *s.Bound {
			details = append(details, fmt.Sprintf("secondary pid %d still has %s bound", s.PID, s.Name))
		}
	}
	return fail(finding,
		fix("start the primary again (it reuses the prefix), or remove what the dead one left; the command removes nothing while a process still uses the files:",
			cleanupCommand(env, *t.Dir)),
		details...)
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
