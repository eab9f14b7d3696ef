package doctor

import (
	"context"
	"fmt"
	"path"
	"strings"
)

// checkPermissions (CHK-12): the capture user can reach the primary's
// runtime dir and the files a secondary opens there. A root primary's
// files are 0600/0700 root: a non-root capture tool cannot attach to it.
func checkPermissions(ctx context.Context, env *Env) Result {
	t, err := env.Target(ctx)
	if err != nil {
		return errored(err.Error())
	}
	if t.Dir == nil {
		return skip("no runtime dir for prefix " + t.Prefix)
	}
	u := env.cfg.User
	who := userWords(u.UID)
	if p, _ := env.Primary(ctx); p != nil && p.UID >= 0 {
		who += fmt.Sprintf(" (the primary runs as %s)", userWords(p.UID))
	}
	type need struct {
		path string
		want int
	}
	needs := []need{{t.Dir.Base, accX}, {t.Dir.Dir, accR | accX}}
	for _, f := range t.Dir.Files {
		switch f.Kind {
		case "config", "fbarray_memseg", "fbarray_memzone", "hugepage_data":
			needs = append(needs, need{path.Join(t.Dir.Dir, f.Name), accR | accW})
		case "mp_socket":
			needs = append(needs, need{path.Join(t.Dir.Dir, f.Name), accW})
		case "hugepage_info":
			needs = append(needs, need{path.Join(t.Dir.Dir, f.Name), accR})
		}
	}
	var denied, details []string
	for _, n := range needs {
		st, err := env.h.Stat(n.path)
		if err != nil {
			details = append(details, fmt.Sprintf("%s: %v", n.path, err))
			continue
		}
		if !mayAccess(u.UID, u.GID, st, n.want) {
			denied = append(denied, fmt.Sprintf("cannot %s %s (%s)", accessWords(n.want), n.path, statWords(st)))
		} else {
			details = append(details, fmt.Sprintf("may %s %s (%s)", accessWords(n.want), n.path, statWords(st)))
		}
	}
	if len(denied) > 0 {
		f := fix("run the capture tool as the primary's user (usually root: sudo), or start the primary as the capture user with the same XDG_RUNTIME_DIR")
		if rt, err := env.Runtime(ctx); err == nil && !samePath(t.Dir.Base, rt.CallerBase) && env.reportedBy("runtime-dir") != "" {
			// The primary lives in another user's runtime dir: the same
			// cause runtime-dir reports, with its command.
			f = fix("the same cause as runtime-dir's failure (the primary runs as another user): see its command")
		}
		return fail(fmt.Sprintf("the capture runs as %s and %s", who, denied[0]), f,
			append(denied[1:], details...)...)
	}
	return ok(fmt.Sprintf("%s can reach %s and the %d files a secondary opens", strings.SplitN(who, " (", 2)[0], t.Dir.Dir, len(needs)-2), details...)
}
