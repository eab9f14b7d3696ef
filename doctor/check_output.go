package doctor

import (
	"context"
	"fmt"
	"path"
	"strconv"
)

// checkOutputPath (CHK-13): pdump's pcap vdev is created by the primary
// (hotplug over IPC), so the primary, not the capture tool, opens
// rx-dev/tx-dev: the path must be absolute and writable by the primary's
// uid in the primary's mount namespace.
func checkOutputPath(ctx context.Context, env *Env) Result {
	out := env.cfg.CaptureFile
	if out == "" {
		return skip("no capture file given (--capture-file)")
	}
	if !path.IsAbs(out) {
		return fail(fmt.Sprintf("%s is relative: the primary opens it from its own working directory", out),
			fix("give an absolute path, e.g. /tmp/"+path.Base(out)))
	}
	dir := path.Dir(out)
	p, err := env.Primary(ctx)
	if err != nil {
		return errored(err.Error())
	}
	uid, gid, who := env.cfg.User.UID, env.cfg.User.GID, "the capture user"
	view := dir
	if p != nil {
		uid, gid, who = p.UID, -1, fmt.Sprintf("the primary (pid %d, %s)", p.PID, userWords(p.UID))
		view = path.Join("/proc", strconv.Itoa(p.PID), "root", dir)
	}
	st, err := env.h.Stat(view)
	if err != nil {
		return fail(fmt.Sprintf("%s cannot see %s: %v", who, dir, err),
			fix("create the directory where the primary can see it", "mkdir -p "+dir))
	}
	if st.Type != "dir" {
		return fail(dir+" is not a directory", nil)
	}
	if !mayAccess(uid, gid, st, accW|accX) {
		return fail(fmt.Sprintf("%s cannot write in %s (%s)", who, dir, statWords(st)),
			fix("write the capture where the primary's user may create files", "mkdir -p /tmp/gzcap && chmod 1777 /tmp/gzcap"))
	}
	return ok(fmt.Sprintf("%s can create %s", who, out))
}
