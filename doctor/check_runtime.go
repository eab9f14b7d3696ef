package doctor

import (
	"context"
	"fmt"
	"strings"

	"github.com/gzdoctor/gzdoctor/host"
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
		details = append(details, describePrefix(p))
	}
	var here, elsewhere []host.Prefix
	for _, p := range rt.Live() {
		if samePath(p.Base, rt.CallerBase) {
			here = append(here, p)
		} else {
			elsewhere = append(elsewhere, p)
		}
	}
	who := userWords(env.cfg.User.UID)
	if len(here) == 0 && len(elsewhere) > 0 {
		p := elsewhere[0]
		// Name the prefix the capture is for, when it is among them.
		if t, err := env.Target(ctx); err == nil {
			for _, q := range elsewhere {
				if q.Name == t.Name {
					p = q
					break
				}
			}
		}
		owner := "another user"
		if p.Owner != nil {
			owner = userWords(p.Owner.UID)
		}
		return fail(fmt.Sprintf("the live primary runs as %s (runtime dir %s) but the capture runs as %s and will look in %s",
			owner, p.Base, who, rt.CallerBase),
			sameUserFix(p, rt.CallerBase),
			details...)
	}
	if len(rt.Prefixes) == 0 {
		return fail(fmt.Sprintf("no DPDK runtime dir: no primary has run (looked in %s)", basesLooked(rt)),
			fix("start the Gazelle application (lstack) or ltran first; as a non-root user it must run with the same uid and XDG_RUNTIME_DIR as the capture"),
			details...)
	}
	if len(here) == 0 {
		var names []string
		for _, p := range rt.Prefixes {
			names = append(names, staleWords(ctx, env, p))
		}
		return fail(fmt.Sprintf("no live primary: %s holds only prefixes nobody holds: %s", rt.CallerBase, strings.Join(names, ", ")),
			fix("start the Gazelle application (lstack) or ltran; see the primary check for the files the dead one left"),
			details...)
	}
	finding := fmt.Sprintf("%s: live %s", rt.CallerBase, prefixNames(here))
	if len(elsewhere) > 0 {
		finding += fmt.Sprintf("; also live elsewhere: %s", prefixNames(elsewhere))
	}
	if stale := rt.Stale(); len(stale) > 0 {
		var cmds, names []string
		for _, p := range stale {
			cmds = append(cmds, cleanupCommand(env, p))
			names = append(names, staleWords(ctx, env, p))
		}
		return warn(finding+"; stale: "+strings.Join(names, ", "),
			fix("stale prefixes hold runtime files (and possibly hugepages) of primaries that are gone; remove them when no process uses them:", cmds...),
			details...)
	}
	return ok(finding, details...)
}

func describePrefix(p host.Prefix) string {
	var files []string
	for _, f := range p.Files {
		files = append(files, f.Name)
	}
	s := fmt.Sprintf("%s: %s", p.Dir, p.State)
	switch {
	case p.Lock.Holder != nil && p.Lock.Method == lockBySocket:
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

// sameUserFix tells how to run the capture where the primary's files are.
func sameUserFix(p host.Prefix, callerBase string) *Fix {
	if samePath(p.Base, host.RootRuntimeBase) {
		return fix(fmt.Sprintf("run the capture as root so that DPDK looks in %s (a non-root tool looks in %s)", p.Base, callerBase),
			fmt.Sprintf("sudo gazelle-pdump --file-prefix %s -- --pdump '...'", p.Name))
	}
	if parent, ok := strings.CutSuffix(p.Base, "/dpdk"); ok && parent != "/tmp" {
		return fix(fmt.Sprintf("run the capture as the primary's user, with XDG_RUNTIME_DIR=%s", parent),
			fmt.Sprintf("XDG_RUNTIME_DIR=%s gazelle-pdump --file-prefix %s -- --pdump '...'", parent, p.Name))
	}
	return fix(fmt.Sprintf("run the capture as the primary's user, without XDG_RUNTIME_DIR, so that DPDK looks in %s", p.Base),
		fmt.Sprintf("env -u XDG_RUNTIME_DIR gazelle-pdump --file-prefix %s -- --pdump '...'", p.Name))
}

// cleanupCommand removes a dead primary's runtime dir and hugepage files,
// but only when fuser finds no process with them open or mapped (a
// secondary may outlive its primary). It tests for fuser's "none found"
// (1), not for any failure: without fuser installed (127) nothing is
// removed.
func cleanupCommand(env *Env, p host.Prefix) string {
	files := []string{p.Dir}
	for _, m := range env.hugepageDirs() {
		files = append(files, strings.TrimSuffix(m, "/")+"/"+p.HugepageFilePrefix+"*")
	}
	list := strings.Join(files, " ")
	return fmt.Sprintf("fuser -s %s/* %s; [ $? = 1 ] && rm -rf %s", p.Dir, strings.Join(files[1:], " "), list)
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
