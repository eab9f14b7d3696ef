package doctor

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/gzdoctor/gzdoctor/host"
	"github.com/gzdoctor/gzdoctor/host/target"
	"github.com/gzdoctor/gzdoctor/internal/shquote"
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
		return fail(fmt.Sprintf("no primary runs with prefix %q: %s/%s does not exist", t.Prefix, base, t.Prefix),
			fix(fmt.Sprintf("start the Gazelle application (or ltran) with --file-prefix %s, or point gzdoctor at the prefix it uses (--prefix / --config)", t.Prefix)))
	}
	switch t.Dir.State {
	case host.PrefixStale:
		return stalePrimary(ctx, env, t)
	case host.PrefixNoConfig:
		kind, pid := env.prefixKind(ctx, *t.Dir)
		if kind == kindDebris {
			f := fix(fmt.Sprintf("start the primary with --file-prefix %s, or point gzdoctor at the prefix a running primary uses (--prefix / --config)", t.Prefix))
			// prefix ran and passed (this check depends on it), so it
			// printed no removal; runtime-dir lists every leftover.
			if by := env.reportedBy("runtime-dir"); by != "" {
				f.Text += fmt.Sprintf("; the empty dir is removed by the command under %s", by)
			} else {
				f.Text += "; the dir is debris: remove it"
				f.Commands = append(f.Commands, env.debrisCommand(*t.Dir))
			}
			return fail(fmt.Sprintf("no primary runs with prefix %q: %s is %s", t.Prefix, t.Dir.Dir, env.kindWords(ctx, *t.Dir)), f, describePrefix(ctx, env, *t.Dir))
		}
		who := "the process"
		if pid > 0 {
			who = fmt.Sprintf("the process (pid %d%s)", pid, procName(env, pid))
		}
		return fail(fmt.Sprintf("prefix %q is %s", t.Prefix, env.kindWords(ctx, *t.Dir)),
			fix(fmt.Sprintf("a capture needs a primary with shared config: start %s without --in-memory/--no-shconf", who)), describePrefix(ctx, env, *t.Dir))
	case host.PrefixUnknown:
		return errored(fmt.Sprintf("cannot tell whether a process holds %s/config: %s", t.Dir.Dir, strings.Join(t.Dir.Lock.Errors, "; ")))
	}

	p, err := env.Primary(ctx)
	if err != nil {
		return errored(err.Error())
	}
	if p == nil {
		return errored(fmt.Sprintf("a process holds prefix %s but it could not be read", t.Prefix))
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
	finding := fmt.Sprintf("pid %d %s holds prefix %s", p.PID, name, t.Prefix)
	if r, bad := stoppedPrimary(env, p, finding, details); bad {
		return r
	}

	switch {
	case t.Dir.MPSocketBound == nil && !t.Dir.Has("mp_socket"):
		return fail(finding+", but it has no mp_socket: secondaries (the capture tool) cannot talk to it",
			fix(fmt.Sprintf("if pid %d is still starting, check again in a moment; otherwise its %s/mp_socket was removed while it ran, and only a restart of the primary (pid %d, %s) creates it again",
				p.PID, t.Dir.Dir, p.PID, orUnknown(p.Exe)), env.gzdoctorCheck(t.Prefix)), details...)
	case t.Dir.MPSocketBound != nil && !*t.Dir.MPSocketBound:
		return fail(finding+fmt.Sprintf(", but %s/mp_socket is not bound (a leftover): the capture tool's requests go nowhere", t.Dir.Dir),
			fix(fmt.Sprintf("the primary's mp_socket was removed or replaced while it ran; only a restart of the primary (pid %d, %s) binds it again", p.PID, orUnknown(p.Exe))), details...)
	}
	finding += ", mp_socket bound"
	if r, bad := noSecondaryPrimary(ctx, env, t.Dir, p, finding, details); bad {
		return r
	}

	tel, err := env.Telemetry(ctx)
	switch {
	case err != nil && errors.Is(err, context.DeadlineExceeded):
		details = append(details, "telemetry: "+err.Error())
		return fail(finding+"; but its telemetry socket did not answer in time: a primary that does not answer is stuck or starved of CPU, and a capture tool's requests to it would hang too",
			unansweredFix(env, t.Prefix, p), details...)
	case err != nil:
		details = append(details, "telemetry: "+err.Error())
		return warn(finding+"; its telemetry socket could not be used ("+shortErr(err)+")",
			fix("a capture does not need telemetry; gzdoctor used what /proc shows (ports and memzones from telemetry are missing from this report)"), details...)
	case tel == nil && !env.h.Live():
		details = append(details, "telemetry: not asked (a file tree under --root)")
	case tel == nil:
		// Only where the dir could be listed (its config is seen) and
		// has no socket file: a user who cannot read the dir sees no
		// socket either, for another reason (the permissions check).
		if age, young := env.primaryStarting(p); young && t.Dir.Has("config") && !t.Dir.Has("telemetry_v2") && env.telemetryExpected(ctx, p) {
			// Telemetry comes at the end of rte_eal_init: a young
			// primary without it has not finished starting.
			// A warning, not a failure: an old release or a build
			// without telemetry looks the same for those seconds
			// (the 20.11 chroot's primary in the release matrix).
			return warn(finding+fmt.Sprintf("; it started %s ago and has no telemetry socket yet: if it is still in rte_eal_init, a capture tool attached now fails or waits", startingWords(age)),
				fix("wait until it has started (seconds; an lstack with a large --socket-mem, or ltran, takes longer), then check again", env.gzdoctorCheck(t.Prefix)), details...)
		}
		// DPDK 19.11 has no telemetry v2; later ones may run with
		// --no-telemetry. A capture does not need it, but the report is
		// poorer, and says how.
		if t.Dir.Has("config") {
			finding += "; no telemetry socket (DPDK before 20.05, or --no-telemetry)"
		} else {
			// The dir could not be listed: the socket may be there.
			finding += "; its runtime dir cannot be listed by this user, so its telemetry socket is not seen (the permissions check says why)"
		}
		details = append(details, "telemetry: no dpdk_telemetry.v2 socket in "+t.Dir.Dir,
			"not established without telemetry: the ports' ids, names and queues (a capture takes the device from the EAL arguments; --port and --queue are not checked before it starts), the pdump vdevs a capture left in the primary (busy reads memzones and attached tools instead), the EAL arguments EAL really got (the command line or Gazelle config is read instead)")
	default:
		finding += fmt.Sprintf(", DPDK %s", tel.DPDKVersion)
		var ports []string
		var inferred, unnamed bool
		for _, pt := range tel.Ports {
			name := pt.Name
			switch {
			case pt.NameFrom == host.PortNameFromEAL:
				inferred = true
			case name == "":
				name, unnamed = "?", true
			}
			ports = append(ports, fmt.Sprintf("%d:%s", pt.ID, name))
		}
		// DPDK before 21.11 lists port ids without names (no /ethdev/info).
		if inferred {
			details = append(details, "port names from the EAL arguments: telemetry lists port ids only (no /ethdev/info before DPDK 21.11)")
		}
		if unnamed {
			details = append(details, "port names unknown: telemetry lists port ids only (no /ethdev/info before DPDK 21.11) and the EAL arguments do not tell them; a capture uses port=N")
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
			if what == "memzones" && host.ReleaseBefore(tel.DPDKVersion, 21, 11) {
				// Not a refusal to worry about: the command is 21.11's.
				details = append(details, "memzones: DPDK "+tel.DPDKVersion+" has no /eal/memzone_list (added in 21.11)")
				continue
			}
			failed = append(failed, what)
		}
		sort.Strings(failed)
		for _, what := range failed {
			details = append(details, fmt.Sprintf("telemetry %s: %s", what, tel.Errors[what]))
		}
		answered := len(tel.Unanswered) < 3 && (tel.Errors["eal_params"] == "" || tel.Errors["ports"] == "" || tel.Errors["memzones"] == "")
		if len(tel.Unanswered) > 0 && answered {
			// It answered, then our time ran out mid-walk (dozens of
			// memzone queries): slow, not silent.
			return warn(finding+"; its telemetry answered, but too slowly to finish ("+strings.Join(tel.Unanswered, ", ")+" unanswered in time): a busy or CPU-starved primary",
				fix("a capture does not need these answers; to see them, allow more time", env.gzdoctorCheck(t.Prefix, "--timeout", "5s")), details...)
		}
		if len(tel.Unanswered) > 0 {
			// It greeted, then fell silent: the same as no answer at all.
			return fail(finding+"; but its telemetry stopped answering ("+strings.Join(tel.Unanswered, ", ")+"): a primary that does not answer is stuck or starved of CPU, and a capture tool's requests to it would hang too",
				unansweredFix(env, t.Prefix, p), details...)
		}
		if len(failed) > 0 {
			// Refused commands (an older DPDK lacks some): nothing hangs.
			return warn(finding+"; telemetry refused "+strings.Join(failed, ", "),
				fix("a capture does not need these answers; gzdoctor used what /proc shows instead"), details...)
		}
	}
	return ok(finding, details...)
}

// stalePrimary reports a prefix whose primary is gone and what it left.
func stalePrimary(ctx context.Context, env *Env, t *target.Target) Result {
	finding := fmt.Sprintf("the primary of prefix %s is gone: nobody holds %s/config", t.Prefix, t.Dir.Dir)
	details := []string{describePrefix(ctx, env, *t.Dir)}
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
	if by := env.reportedBy("runtime-dir"); by != "" {
		return fail(finding,
			fix(fmt.Sprintf("start the primary again (it reuses the prefix), or remove what the dead one left with the command under %s", by)),
			details...)
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

// stoppedPrimary fails a primary that holds its prefix but cannot answer
// (host.Process.Halted, which capture -D reads too): its telemetry and
// mp_socket would only time out, and a capture tool attaching to it hangs.
func stoppedPrimary(env *Env, p *host.Process, finding string, details []string) (Result, bool) {
	halt := p.Halted()
	if halt == nil {
		return Result{}, false
	}
	finding += " but " + halt.Verb + " " + halt.Words + ": " + halt.Effect
	var f *Fix
	switch halt.State {
	case "T":
		f = fix(fmt.Sprintf("continue it (it was stopped, not ended; pid %d, %s)", p.PID, orUnknown(p.Exe)), halt.Resume)
	case "t":
		f = fix(fmt.Sprintf("continue pid %d in the debugger, or detach the debugger; kill -CONT does not resume a traced process", p.PID))
	default:
		finding += fmt.Sprintf("; its parent (pid %d%s) has not reaped it", p.PPID, procName(env, p.PPID))
		f = fix(fmt.Sprintf("pid %d is dead: its parent (pid %d) must reap it (it does when it calls wait, or when it ends); then start the primary again", p.PID, p.PPID))
	}
	return fail(finding, f, details...), true
}

// procName is ", <name>" of a pid, or "" when it cannot be read.
func procName(env *Env, pid int) string {
	if pid <= 0 {
		return ""
	}
	q, err := env.h.ReadProcess(pid)
	if err != nil || q.Name == "" {
		return ""
	}
	return ", " + q.Name
}

// unansweredFix is for a primary whose telemetry fell silent: first tell a
// slow primary from a stuck one, never restart it on one slow answer.
func unansweredFix(env *Env, prefix string, p *host.Process) *Fix {
	return fix(fmt.Sprintf("check again with a longer limit: a primary starved of CPU answers late, a stuck one never; if it still does not answer, see where pid %d (%s) is stuck before restarting it", p.PID, orUnknown(p.Exe)),
		env.gzdoctorCheck(prefix, "--timeout", "5s"),
		fmt.Sprintf("cat /proc/%d/wchan; echo; grep State /proc/%d/status", p.PID, p.PID))
}

// shortErr is the last clause of a wrapped error: what went wrong, without
// the socket path the finding already names.
func shortErr(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 {
		return s[i+2:]
	}
	return s
}

// noSecondaryPrimary fails a primary whose memory no secondary can map:
// --no-huge (its memory is fbarray_nohugemem, with no hugepage_info) or
// --huge-unlink (the hugepage files are unlinked once mapped; DPDK:
// "implies no secondary process support"). The primary holds its prefix,
// binds mp_socket and answers telemetry, so nothing else in check fails,
// while every capture tool aborts.
func noSecondaryPrimary(ctx context.Context, env *Env, dir *host.Prefix, p *host.Process, finding string, details []string) (Result, bool) {
	a, src, cf := env.primaryEAL(ctx, p)
	byFiles := slices.ContainsFunc(dir.Files, func(f host.RuntimeFile) bool { return f.Name == "fbarray_nohugemem" })
	var opt, effect string
	var seen []string
	switch {
	case byFiles || a != nil && a.NoHuge:
		opt, effect = "--no-huge", `every capture tool aborts with "Failed to open shared memory!"`
		if byFiles {
			has := dir.Dir + " has fbarray_nohugemem"
			if !dir.Has("hugepage_info") {
				has += " and no hugepage_info"
			}
			seen = append(seen, has)
		}
		if a != nil && a.NoHuge {
			seen = append(seen, "--no-huge in "+src)
		}
	case a != nil && a.HugeUnlink:
		opt, effect = "--huge-unlink", "its hugepage files are unlinked once mapped, so every capture tool fails to map its memory"
		seen = append(seen, "--huge-unlink in "+src)
	default:
		return Result{}, false
	}
	finding += fmt.Sprintf(", but it runs with %s (%s): no secondary can attach, %s; restart it without %s", opt, strings.Join(seen, "; "), effect, opt)
	who := fmt.Sprintf("pid %d (%s)", p.PID, orUnknown(p.Exe))
	switch restart := withoutSecondaryBlockers(p); {
	case cf != nil:
		return fail(finding, fix(fmt.Sprintf("stop %s, remove %s, and start it again; it then needs free hugepages (the hugepages check)", who, argWhere(cf, opt)),
			env.gzdoctorCheck(dir.Name)), details...), true
	case restart != "":
		return fail(finding, fix(fmt.Sprintf("stop %s and start it again without %s (it then needs free hugepages: the hugepages check); its own command line without it:", who, opt),
			restart, env.gzdoctorCheck(dir.Name)), details...), true
	}
	return fail(finding, fix(fmt.Sprintf("stop %s and start it again without %s in its EAL arguments; it then needs free hugepages (the hugepages check)", who, opt),
		env.gzdoctorCheck(dir.Name)), details...), true
}

// withoutSecondaryBlockers is p's command line without the options that
// keep secondaries out (--no-huge, an unlinking --huge-unlink), with the
// executable's absolute path: the command that starts it again so that a
// capture can attach. "" when its command line carries none of them
// (lstack takes EAL arguments from its config).
func withoutSecondaryBlockers(p *host.Process) string {
	if len(p.Cmdline) < 2 || !host.LooksLikeEAL(p.Cmdline) {
		return ""
	}
	drop := map[int]bool{}
	for _, o := range host.ParseEALArgs(p.Cmdline[1:]).Opts {
		if o.Name == "--no-huge" || host.UnlinksHugepages(o) {
			drop[o.Index+1] = true
		}
	}
	if len(drop) == 0 {
		return ""
	}
	argv := []string{p.Cmdline[0]}
	if !path.IsAbs(argv[0]) && p.Exe != "" && !p.ExeDeleted {
		argv[0] = p.Exe
	}
	for i, s := range p.Cmdline[1:] {
		if !drop[i+1] {
			argv = append(argv, s)
		}
	}
	return shquote.Join(argv)
}
