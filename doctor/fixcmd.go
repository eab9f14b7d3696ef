package doctor

import (
	"context"
	"fmt"
	"strings"

	"github.com/gzdoctor/gzdoctor/host"
	"github.com/gzdoctor/gzdoctor/internal/shquote"
)

// The removal commands fixes print. A runtime dir's name is whatever a
// --file-prefix said, and /tmp/dpdk is a base any local user can create:
// every path is one quoted shell word (internal/shquote), a glob quotes
// all but its own wildcard, and a dir another user controls is removed
// as that user, never by the caller on trust.

// cleanupCommand removes a dead primary's runtime dir and hugepage files,
// but only when fuser finds no process with them open or mapped (a
// secondary may outlive its primary). It tests for fuser's "none found"
// (1), not for any failure: without fuser installed (127) nothing is
// removed. "" when no user can remove the dir safely (removerOf).
func cleanupCommand(env *Env, p host.Prefix) string {
	var huge []string
	for _, m := range env.hugepageDirs() {
		huge = append(huge, env.hugepageGlobs(m, p.Name)...)
	}
	inUse := append([]string{shquote.Glob(p.Dir+"/", "*")}, huge...)
	gone := append([]string{shquote.Quote(p.Dir)}, huge...)
	return env.asRemover(p, fmt.Sprintf("fuser -s %s; [ $? = 1 ] && rm -rf %s", strings.Join(inUse, " "), strings.Join(gone, " ")))
}

// debrisCommand removes a debris dir: rmdir when it is empty (it can
// remove nothing else), else the fuser-guarded removal; "" when no user
// can remove it safely.
func (e *Env) debrisCommand(p host.Prefix) string {
	if len(p.Files) == 0 {
		return e.asRemover(p, "rmdir "+shquote.Quote(p.Dir))
	}
	return e.asRemover(p, fmt.Sprintf("fuser -s %s; [ $? = 1 ] && rm -rf %s", shquote.Glob(p.Dir+"/", "*"), shquote.Quote(p.Dir)))
}

// removerOf is the uid that may remove p's dir without trusting another
// user: the dir's owner, when the base it is in belongs to root or to that
// same owner. Under a base another user owns (anyone can create
// /tmp/dpdk), that user can swap the path for a symlink between the check
// and the paste, so no command is safe: ok is false, and why says so.
func (e *Env) removerOf(p host.Prefix) (uid int, ok bool, why string) {
	if p.Owner == nil || p.Owner.Type != "dir" {
		return 0, false, fmt.Sprintf("%s is not a directory gzdoctor could inspect", p.Dir)
	}
	base, err := e.h.Stat(p.Base)
	if err != nil || base.Type != "dir" {
		return 0, false, fmt.Sprintf("%s is not a directory gzdoctor could inspect", p.Base)
	}
	if base.UID != 0 && base.UID != p.Owner.UID {
		return 0, false, fmt.Sprintf("%s belongs to %s and %s in it to %s: remove it by hand, as its owner, after looking at it", p.Base, userWords(base.UID), p.Name, userWords(p.Owner.UID))
	}
	return p.Owner.UID, true, ""
}

// asRemover is cmd run by removerOf(p): as it is when that is the user
// gzdoctor checks for, else under sudo as the owner, so that it reaches
// only what the owner could remove anyway; "" when there is none.
func (e *Env) asRemover(p host.Prefix, cmd string) string {
	uid, ok, _ := e.removerOf(p)
	switch {
	case !ok:
		return ""
	case uid == e.cfg.User.UID:
		return cmd
	case uid == 0:
		return "sudo sh -c " + shquote.Quote(cmd)
	}
	return fmt.Sprintf("sudo -u '#%d' sh -c %s", uid, shquote.Quote(cmd))
}

// ownerWords is what the fix says of a leftover another user owns: whose
// it is and that its command runs as that user, or why there is none.
func (e *Env) ownerWords(p host.Prefix) string {
	uid, ok, why := e.removerOf(p)
	switch {
	case !ok:
		return "; no command: " + why
	case uid != e.cfg.User.UID:
		return fmt.Sprintf("; %s's: its command runs as %s", userWords(uid), userWords(uid))
	}
	return ""
}

// hugepageGlobs are the shell words that match prefix's hugepage files in
// mount (DPDK names them <prefix>map_<n>): <prefix>map_*, quoted but for
// the *. When another prefix is named <prefix>map_… (its files would match
// too), one [0-9]… pattern per digit count this prefix's files have there.
func (e *Env) hugepageGlobs(mount, prefix string) []string {
	lit := strings.TrimSuffix(mount, "/") + "/" + prefix + "map_"
	all, _ := e.hugepageFiles(context.Background())
	shared := false
	for _, g := range all {
		if g.Prefix != prefix && strings.HasPrefix(g.Prefix, prefix+"map_") {
			shared = true
		}
	}
	if rt, err := e.Runtime(context.Background()); err == nil {
		for _, q := range rt.Prefixes {
			if q.Name != prefix && strings.HasPrefix(q.Name, prefix+"map_") {
				shared = true
			}
		}
	}
	if !shared {
		return []string{shquote.Glob(lit, "*")}
	}
	digits := 0
	for _, g := range all {
		if g.Prefix != prefix || !samePath(g.Mount, mount) {
			continue
		}
		for _, f := range g.Files {
			digits = max(digits, len(f)-len(prefix+"map_"))
		}
	}
	var out []string
	for n := 1; n <= digits; n++ {
		out = append(out, shquote.Glob(lit, strings.Repeat("[0-9]", n)))
	}
	return out
}
