package doctor

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strconv"

	"github.com/gzdoctor/gzdoctor/host"
	"github.com/gzdoctor/gzdoctor/internal/shquote"
)

// checkOutputPath (CHK-13): pdump's pcap vdev is created by the primary
// (hotplug over IPC), so the primary, not the capture tool, opens
// rx-dev/tx-dev: the path must be absolute and writable by the primary's
// uid in the primary's mount namespace. Root passes permission bits, not
// a read-only mount or an immutable directory: those are checked apart.
func checkOutputPath(ctx context.Context, env *Env) Result {
	out := env.cfg.CaptureFile
	if out == "" {
		return skip("no capture file given (--capture-file)")
	}
	if !path.IsAbs(out) {
		return fail(fmt.Sprintf("%s is relative: the primary opens it from its own working directory", out),
			fix("give an absolute path", env.checkWithFile("/tmp/"+path.Base(out))))
	}
	dir := path.Dir(out)
	p, err := env.Primary(ctx)
	if err != nil {
		return errored(err.Error())
	}
	uid, gid, who, pid := env.cfg.User.UID, env.cfg.User.GID, "the capture user", 0
	view := dir
	if p != nil {
		uid, gid, who, pid = p.UID, -1, fmt.Sprintf("the primary (pid %d, %s)", p.PID, userWords(p.UID)), p.PID
		view = path.Join("/proc", strconv.Itoa(p.PID), "root", dir)
	}
	other := env.checkWithFile("/tmp/" + path.Base(out))
	st, err := env.h.Stat(view)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		mk := "mkdir -p " + shquote.Join([]string{dir})
		if p != nil && p.UID != 0 {
			mk = fmt.Sprintf("install -d -o %d %s", p.UID, shquote.Join([]string{dir}))
		}
		if p != nil && env.otherMountNS(p) {
			mk = fmt.Sprintf("nsenter -t %d -m -- %s", p.PID, mk)
		}
		return fail(fmt.Sprintf("%s does not exist where %s looks", dir, who),
			fix("create the directory where the primary can write, or write elsewhere", mk, other))
	case errors.Is(err, fs.ErrPermission):
		return warn(fmt.Sprintf("gzdoctor, running as %s, cannot inspect %s (%v): it cannot tell whether %s can write there", userWords(env.cfg.User.UID), dir, errors.Unwrap(err), who),
			fix("check as root, who can see the primary's view of the path", "sudo "+env.gzdoctorCheck(env.targetName(ctx))))
	case err != nil:
		return errored(fmt.Sprintf("inspecting %s: %v", dir, err))
	}
	if st.Type != "dir" {
		return fail(dir+" is not a directory", fix("write the capture into a directory", other))
	}
	if m, err := env.h.MountOf(pid, dir); err == nil && m.ReadOnly() {
		return fail(fmt.Sprintf("%s is on a read-only mount (%s on %s): %s cannot create %s there, not even as root", dir, m.Source, m.Target, who, path.Base(out)),
			fix("write the capture to a writable directory", other))
	}
	if imm, err := env.h.Immutable(view); err == nil && imm {
		return fail(fmt.Sprintf("%s is immutable (chattr +i): nobody can create files in it, not even root", dir),
			fix(fmt.Sprintf("write the capture elsewhere, or, if %s should take files, remove the attribute", dir), other, "chattr -i "+shquote.Join([]string{dir})))
	}
	if !mayAccess(uid, gid, st, accW|accX) {
		return fail(fmt.Sprintf("%s cannot write in %s (%s)", who, dir, statWords(st)),
			fix("write the capture where the primary's user may create files: a new directory (mkdir, without -p, refuses a /tmp/gzcap that is already there, which any user may have made; chmod would follow one made a symlink)", "mkdir -m 1777 /tmp/gzcap", env.checkWithFile("/tmp/gzcap/"+path.Base(out))))
	}
	return ok(fmt.Sprintf("%s can create %s", who, out))
}

// checkWithFile is the gzdoctor check command with another --capture-file.
func (e *Env) checkWithFile(file string) string {
	save := e.cfg.CaptureFile
	e.cfg.CaptureFile = ""
	defer func() { e.cfg.CaptureFile = save }()
	return e.gzdoctorCheck(e.targetName(context.Background()), "--capture-file", file)
}

// targetName is the resolved target prefix, "" when it is not resolved.
func (e *Env) targetName(ctx context.Context) string {
	if t, ok := e.target.peek(); ok && t != nil && !t.Ambiguous() {
		return t.Prefix
	}
	return e.cfg.Prefix
}

// otherMountNS reports whether p runs in another mount namespace than
// gzdoctor.
func (e *Env) otherMountNS(p *host.Process) bool {
	self, err := os.Readlink(e.h.Path("/proc/self/ns/mnt"))
	return err == nil && p.MountNS != "" && p.MountNS != self
}
