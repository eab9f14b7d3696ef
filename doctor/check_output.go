package doctor

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
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
	if p != nil {
		// The primary opens the capture's files by name in its own root
		// and mount namespace: they must be this shell's directory there,
		// which capture itself tests before it starts (PrimaryDirProblem).
		v, err := viewOf(env.h, p.PID, dir)
		if err == nil && v.separate() && !v.Same && !errors.Is(v.Err, errNotDir) {
			return fail(v.Problem()+"; a capture cannot write there (capture refuses to start)", sharedDirFix(env, v, p, out))
		}
	}
	st, err := env.h.Stat(view)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		mk := "mkdir -p " + shquote.Join([]string{dir})
		if p != nil && p.UID != 0 {
			mk = fmt.Sprintf("install -d -o %d %s", p.UID, shquote.Join([]string{dir}))
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

// separate: the primary's file system view is not this shell's (another
// root or mount namespace), so the same name may be another directory.
func (v *primaryView) separate() bool { return v.NS != "" || v.Root != "" && v.Root != "/" }

// sharedDirFix is where a capture for a primary with its own view can
// write: a directory both sides resolve to the same one, or, for a chroot
// in this mount namespace, this shell's directory bind-mounted at the same
// name in its root (onto a directory the command creates, so it hides
// nothing; mkdir without -p stops it when the name exists there).
func sharedDirFix(env *Env, v *primaryView, p *host.Process, out string) *Fix {
	base := path.Base(out)
	for _, c := range []string{"/var/tmp", "/tmp", sharedCaptureDir} {
		if c == v.Dir {
			continue
		}
		cv, err := viewOf(env.h, p.PID, c)
		if err == nil && cv.Same && mayAccess(p.UID, -1, cv.Theirs, accW|accX) {
			return fix(fmt.Sprintf("write the capture into a directory the primary shares with this shell (%s is the same directory on both sides)", c),
				env.checkWithFile(path.Join(c, base)))
		}
	}
	if v.NS == "" && v.Root != "" && v.Root != "/" {
		dir := v.Dir
		if !v.Missing {
			dir = sharedCaptureDir // its own dir of that name stays as it is
		}
		in := path.Join(v.Root, dir)
		q := func(s string) string { return shquote.Join([]string{s}) }
		return fix(fmt.Sprintf("make this shell's %s the primary's %s: bind-mount it onto a new, empty directory in the primary's root %s, then check again", dir, dir, v.Root),
			fmt.Sprintf("mkdir -p %s %s && mkdir %s && mount --bind %s %s", q(dir), q(path.Dir(in)), q(in), q(dir), q(in)),
			env.checkWithFile(path.Join(dir, base)))
	}
	return fix(fmt.Sprintf("a capture writes only where pid %d sees this shell's directory, and neither /var/tmp nor /tmp is: share one with its mount namespace (a bind mount there), or capture from inside it", p.PID))
}

// sharedCaptureDir is the directory sharedDirFix has a chrooted primary
// share when the capture's own directory name exists in its root.
const sharedCaptureDir = "/var/tmp/gzcap"
