package doctor

import (
	"context"
	"fmt"
	"strings"

	"github.com/gzdoctor/gzdoctor/host"
	"github.com/gzdoctor/gzdoctor/internal/shquote"
)

// checkRuntimeDir (CHK-01, CHK-02, CHK-12): the runtime dir the capture
// tool will use exists and holds a live prefix; live prefixes elsewhere
// (another user's runtime dir) are named as such; stale prefixes are listed
// with what they left behind.
func checkRuntimeDir(ctx context.Context, env *Env) Result {
	rt, err := env.Runtime(ctx)
	if err != nil {
		return errored(err.Error())
	}
	var details []string
	for _, b := range rt.Bases {
		state := "absent"
		switch {
		case b.Exists && b.Error != "":
			state = "present, cannot be listed: " + b.Error
		case b.Exists:
			state = "present"
		}
		details = append(details, fmt.Sprintf("%s: %s (%s)", b.Path, state, strings.Join(b.Why, ", ")))
	}
	for _, p := range rt.Prefixes {
		details = append(details, describePrefix(ctx, env, p))
	}
	var here, elsewhere []host.Prefix
	for _, p := range rt.Live() {
		if samePath(p.Base, rt.CallerBase) {
			here = append(here, p)
		} else {
			elsewhere = append(elsewhere, p)
		}
	}
	// Leftovers: dirs of dead primaries and failed capture tools. This
	// check reports their removal for every later check (reportedBy).
	var leftNames, leftCmds []string
	for _, p := range rt.Prefixes {
		switch kind, _ := env.prefixKind(ctx, p); kind {
		case kindDead:
			leftNames = append(leftNames, staleWords(ctx, env, p)+" (primary gone"+env.ownerWords(p)+")")
			leftCmds = append(leftCmds, cleanupCommand(env, p))
		case kindDebris:
			what := " (a failed capture tool's empty dir" + env.ownerWords(p) + ")"
			if pid, _ := env.measurement(p); pid > 0 {
				what = fmt.Sprintf(" (the empty dir of an ended gzdoctor's build-match measurement, pid %d%s)", pid, env.ownerWords(p))
			}
			leftNames = append(leftNames, prefixPlace(p)+what)
			leftCmds = append(leftCmds, env.debrisCommand(p))
		}
	}
	leftText := "leftovers hold runtime files (and a dead primary's hugepages); remove them when no process uses them (the commands remove nothing a process uses):"
	withLeftovers := func(f *Fix) *Fix {
		if len(leftNames) == 0 {
			return f
		}
		f.Text += "; " + leftText
		f.Commands = append(f.Commands, fix("", leftCmds...).Commands...)
		return f
	}
	who := userWords(env.cfg.User.UID)
	// The target's primary runs elsewhere: the capture tool looks in its
	// own base only, so it cannot reach it, whatever else runs here (a
	// shared machine always has other primaries in root's base). Seen on
	// the lab: root's dpdk-pdump on the prefix of a primary run by
	// nobody (/tmp/dpdk) dies with "Cannot open
	// '/var/run/dpdk/<prefix>/config'".
	var named *host.Prefix // the target's prefix among them
	targetAway := false    // and it is the target's own dir
	if t, err := env.Target(ctx); err == nil && !t.Ambiguous() {
		for i, q := range elsewhere {
			if q.Name == t.Prefix {
				named = &elsewhere[i]
				targetAway = t.Dir != nil && t.Dir.Dir == q.Dir
				break
			}
		}
	}
	if targetAway || len(here) == 0 && len(elsewhere) > 0 {
		p := elsewhere[0]
		if named != nil {
			p = *named
		}
		owner := "another user"
		if p.Owner != nil {
			owner = userWords(p.Owner.UID)
		}
		return fail(fmt.Sprintf("the running primary %s runs as %s (runtime dir %s) but the capture runs as %s and will look in %s",
			env.runningWords(ctx, p, p.Base), owner, p.Base, who, rt.CallerBase),
			withLeftovers(sameUserFix(env, p, rt.CallerBase)),
			details...)
	}
	if len(rt.Prefixes) == 0 {
		return fail(fmt.Sprintf("no DPDK runtime dir: no primary has run (looked in %s)", basesLooked(rt)),
			fix("start the Gazelle application (lstack) or ltran first; as a non-root user it must run with the same uid and XDG_RUNTIME_DIR as the capture"),
			details...)
	}
	if len(here) == 0 {
		return fail(fmt.Sprintf("no running primary: %s holds only what no process holds: %s", rt.CallerBase, strings.Join(leftNames, ", ")),
			withLeftovers(fix("start the Gazelle application (lstack) or ltran")),
			details...)
	}
	var names []string
	for _, p := range here {
		names = append(names, env.runningWords(ctx, p, rt.CallerBase))
	}
	finding := fmt.Sprintf("%s: running %s", rt.CallerBase, strings.Join(names, "; "))
	if len(elsewhere) > 0 {
		var other []string
		for _, p := range elsewhere {
			other = append(other, env.runningWords(ctx, p, rt.CallerBase))
		}
		finding += fmt.Sprintf("; also running elsewhere: %s", strings.Join(other, "; "))
	}
	if len(leftNames) > 0 {
		return warn(finding+"; left behind: "+strings.Join(leftNames, ", "),
			fix(strings.ToUpper(leftText[:1])+leftText[1:], leftCmds...),
			details...)
	}
	return ok(finding, details...)
}

// prefixPlace is a prefix's name, with its base when that is not root's.
func prefixPlace(p host.Prefix) string {
	if samePath(p.Base, host.RootRuntimeBase) {
		return p.Name
	}
	return p.Name + " in " + p.Base
}

// describePrefix is one detail line per prefix dir, in words.
func describePrefix(ctx context.Context, env *Env, p host.Prefix) string {
	var files []string
	for _, f := range p.Files {
		files = append(files, f.Name)
	}
	s := fmt.Sprintf("%s: %s", p.Dir, env.kindWords(ctx, p))
	switch {
	case p.Lock.Holder != nil && p.Lock.Method == host.LockBySocket:
		s += fmt.Sprintf(" (pid %d runs with --file-prefix %s)", p.Lock.Holder.PID, p.Name)
	case p.Lock.Holder != nil:
		s += fmt.Sprintf(" (config locked by pid %d via %s)", p.Lock.Holder.PID, p.Lock.Method)
	}
	if p.Error != "" {
		s += ", " + p.Error
	}
	if p.Owner != nil {
		s += fmt.Sprintf(", owner uid %d mode %s", p.Owner.UID, p.Owner.Mode)
	}
	if p.MPSocketBound != nil {
		s += fmt.Sprintf(", mp_socket bound: %v", *p.MPSocketBound)
	}
	if len(files) == 0 {
		return s + ", no files"
	}
	return s + ", files: " + strings.Join(files, " ")
}

func basesLooked(rt *Runtime) string {
	var s []string
	for _, b := range rt.Bases {
		s = append(s, b.Path)
	}
	return strings.Join(s, ", ")
}

func userWords(uid int) string {
	if uid == 0 {
		return "root"
	}
	return fmt.Sprintf("uid %d", uid)
}

// sameUserFix tells how to check and capture where the primary's files
// are: as root for a root primary, else as its user with its runtime dir.
func sameUserFix(env *Env, p host.Prefix, callerBase string) *Fix {
	check := env.gzdoctorCheck(p.Name)
	if samePath(p.Base, host.RootRuntimeBase) {
		return fix(fmt.Sprintf("a root primary needs root: run the check and the capture as root so that DPDK looks in %s (a non-root tool looks in %s)", p.Base, callerBase),
			"sudo "+check)
	}
	// DPDK picks the runtime dir by the real uid: root always uses
	// /var/run, so only the primary's own user reaches its dir.
	as := ""
	if p.Owner != nil && p.Owner.UID != env.cfg.User.UID {
		as = fmt.Sprintf("sudo -u '#%d' ", p.Owner.UID)
	}
	if parent, ok := strings.CutSuffix(p.Base, "/dpdk"); ok && parent != "/tmp" {
		return fix(fmt.Sprintf("run the check and the capture as the primary's user, with XDG_RUNTIME_DIR=%s", parent),
			as+"env "+shquote.Quote("XDG_RUNTIME_DIR="+parent)+" "+check)
	}
	return fix(fmt.Sprintf("run the check and the capture as the primary's user, without XDG_RUNTIME_DIR, so that DPDK looks in %s", p.Base),
		as+"env -u XDG_RUNTIME_DIR "+check)
}

// staleWords names a stale prefix with what it left: "sx (mp_socket, 4
// hugepage files, 8 MiB)".
func staleWords(ctx context.Context, env *Env, p host.Prefix) string {
	var left []string
	if p.Has("mp_socket") {
		left = append(left, "mp_socket")
	}
	if hp, err := env.HugepageLeftovers(ctx, p.HugepageFilePrefix); err == nil && hp.Files > 0 {
		left = append(left, fmt.Sprintf("%d hugepage %s", hp.Files, plural(hp.Files, "file", "files")))
		if hp.Bytes > 0 {
			left = append(left, fmt.Sprintf("%d MiB", hp.Bytes>>20))
		}
	}
	name := p.Name
	if !samePath(p.Base, host.RootRuntimeBase) {
		name += " in " + p.Base
	}
	if len(left) == 0 {
		return name
	}
	return name + " (" + strings.Join(left, ", ") + ")"
}
