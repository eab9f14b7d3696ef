package capture

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"

	"github.com/gzdoctor/gzdoctor/capture/pcapfile"
	"github.com/gzdoctor/gzdoctor/doctor"
	"github.com/gzdoctor/gzdoctor/host"
	"golang.org/x/sys/unix"
)

// The backend's files are opened by name by processes gzdoctor does not
// control: the primary (pcap PMD, fopen "w": follows symlinks, truncates)
// and pdump or dumpcap. A name another user can replace between its
// creation and those opens lets that user aim a root process's writes at
// any file (seen: a root-owned decoy overwritten with 449 kB of packets).
// So the files live in a fresh directory only gzdoctor's user can enter,
// whose every ancestor no other user can write, and nothing of gzdoctor's
// is ever opened by name in a directory another user can write.

// untrustedDir says why another user could redirect names in Dir.
type untrustedDir struct {
	Dir string
	Why string
}

func (e *untrustedDir) Error() string { return e.Dir + " " + e.Why }

// trustDir resolves dir's symlinks and checks the result and each of its
// ancestors: none may be writable by a user other than root and euid,
// except a sticky directory (where others cannot rename or remove what we
// create). It returns the resolved path, and an *untrustedDir naming the
// highest ancestor that fails.
func trustDir(dir string, euid int) (string, error) {
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return "", err
	}
	real, err = filepath.Abs(real)
	if err != nil {
		return "", err
	}
	var bad *untrustedDir
	for p := real; ; p = filepath.Dir(p) {
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			return "", &fs.PathError{Op: "lstat", Path: p, Err: err}
		}
		if st.Mode&unix.S_IFMT != unix.S_IFDIR {
			return "", fmt.Errorf("%s is not a directory", p)
		}
		if why := othersMayWrite(&st, euid); why != "" {
			bad = &untrustedDir{Dir: p, Why: why}
		}
		if p == "/" {
			break
		}
	}
	if bad != nil {
		return real, bad
	}
	return real, nil
}

// othersMayWrite says how a user other than root and euid can create,
// rename or remove entries of a directory: "" when none can. ACL entries
// count through the group bits, which hold the ACL's mask.
func othersMayWrite(st *unix.Stat_t, euid int) string {
	uid := int(st.Uid)
	sticky := st.Mode&unix.S_ISVTX != 0
	switch {
	case uid != 0 && uid != euid:
		return "is owned by " + userName(uid)
	case sticky:
		return ""
	case st.Mode&0o002 != 0:
		return fmt.Sprintf("is writable by every user (mode %04o)", st.Mode&0o7777)
	case st.Mode&0o020 != 0 && st.Gid != 0:
		return fmt.Sprintf("is writable by group %s (mode %04o)", groupName(int(st.Gid)), st.Mode&0o7777)
	}
	return ""
}

func userName(uid int) string {
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil {
		return u.Username + " (uid " + strconv.Itoa(uid) + ")"
	}
	return "uid " + strconv.Itoa(uid)
}

func groupName(gid int) string {
	if g, err := user.LookupGroupId(strconv.Itoa(gid)); err == nil {
		return g.Name + " (gid " + strconv.Itoa(gid) + ")"
	}
	return "gid " + strconv.Itoa(gid)
}

// tempPlace is where a capture's private directory goes.
type tempPlace struct {
	parent string
	// note explains a place other than the output's own directory.
	note string
}

// tempFallbacks are the places tried when no directory on the output's
// filesystem will do; tests replace them.
var tempFallbacks = func() []string {
	var dirs []string
	if d := os.Getenv("TMPDIR"); d != "" {
		dirs = append(dirs, d)
	}
	return append(dirs, "/var/tmp", "/tmp")
}

// chooseTempParent picks the directory that receives the capture's private
// directory: outDir itself when it and its ancestors are trusted and the
// paths fit in maxLen (pdump's limit; 0: none); else the nearest trusted
// ancestor on the same filesystem that fits (the temporaries then take the
// space the operator chose); else the first trusted fallback (TMPDIR,
// /var/tmp, /tmp), preferring one on the output's filesystem.
func chooseTempParent(outDir string, maxLen, euid int) (tempPlace, error) {
	fits := func(p string) bool { return maxLen <= 0 || len(p) <= maxLen }
	real, err := trustDir(outDir, euid)
	var bad *untrustedDir
	switch {
	case err == nil && fits(real):
		return tempPlace{parent: real}, nil
	case err != nil && !errors.As(err, &bad):
		return tempPlace{}, err
	}
	why := fmt.Sprintf("%s is longer than the %d bytes pdump keeps of a file name with the temporaries' names added", outDir, maxPdumpPath)
	tail := ""
	if bad != nil {
		why = fmt.Sprintf("%s can be written by another user (%s)", outDir, bad.Error())
		if bad.Dir == real {
			why = fmt.Sprintf("%s can be written by another user (it %s)", outDir, bad.Why)
		}
		tail = "; the final file still goes to " + outDir + ", where that user can replace it afterwards"
	}
	var outDev uint64
	var st unix.Stat_t
	if unix.Stat(real, &st) == nil {
		outDev = st.Dev
	}
	// Above the highest untrusted directory everything is trusted.
	start := filepath.Dir(real)
	if bad != nil {
		start = filepath.Dir(bad.Dir)
	}
	if real != "/" {
		for p := start; ; p = filepath.Dir(p) {
			if unix.Stat(p, &st) != nil || st.Dev != outDev {
				break
			}
			if fits(p) {
				if _, err := trustDir(p, euid); err == nil {
					return tempPlace{parent: p, note: why + ": the capture tool's files went to a new directory in " + p + " (same filesystem) that only " + userName(euid) + " can enter" + tail}, nil
				}
			}
			if p == "/" {
				break
			}
		}
	}
	var first string
	for _, f := range tempFallbacks() {
		p, err := trustDir(f, euid)
		if err != nil || !fits(p) {
			continue
		}
		if unix.Stat(p, &st) == nil && st.Dev == outDev {
			first = p
			break
		}
		if first == "" {
			first = p
		}
	}
	if first == "" {
		return tempPlace{}, fmt.Errorf("%s, and none of %v will do for the capture tool's files: set TMPDIR to a short directory that only root can write", why, tempFallbacks())
	}
	note := why + ": the capture tool's files went to a new directory in " + first + " that only " + userName(euid) + " can enter"
	if unix.Stat(first, &st) == nil && st.Dev != outDev {
		note += " (another filesystem: its free space bounds the capture, and the packets are copied at the end)"
	}
	note += tail
	return tempPlace{parent: first, note: note}, nil
}

// makePrivateDir creates dir with mode 0700 and takes an exclusive flock
// on it, held until the returned file is closed: the next run tells a live
// capture's directory from a dead one's by that lock (the kernel drops it
// when the process dies, kill -9 included), across pid namespaces.
//
// The directory gets its name only once locked: made and locked under a
// name no capture looks for, then renamed (never over an existing one).
// Made under its own name, it stood unlocked for a moment, and another
// gzdoctor's capture writing to the same parent took it for a dead
// capture's and removed it (seen in the lab suite: "creating the capture's
// private directory: open /tmp/.gzdoctor-29847-22: no such file or
// directory").
func makePrivateDir(dir string) (*os.File, error) {
	if _, err := os.Lstat(dir); err == nil {
		return nil, &os.PathError{Op: "mkdir", Path: dir, Err: fs.ErrExist}
	}
	staging := dir + ".new"
	if err := os.Mkdir(staging, 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(staging, os.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW, 0)
	if err != nil {
		os.Remove(staging)
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		os.Remove(staging)
		return nil, fmt.Errorf("locking %s: %w", staging, err)
	}
	if beforeRename != nil {
		beforeRename(staging)
	}
	if err := unix.Renameat2(unix.AT_FDCWD, staging, unix.AT_FDCWD, dir, unix.RENAME_NOREPLACE); err != nil {
		f.Close()
		os.Remove(staging)
		return nil, &os.PathError{Op: "rename", Path: dir, Err: err}
	}
	return f, nil
}

// beforeRename runs between the lock and the rename: tests race it there.
var beforeRename func(staging string)

// createTemps makes the capture's private directory and the backend's
// files in it, mode 0600, before the backend opens them: pdump's pcap PMD
// (fopen "w") and dumpcap keep the mode of an existing file, so captured
// traffic is never world-readable.
func createTemps(p *Plan) error {
	lock, err := makePrivateDir(p.TempDir)
	if err != nil {
		return fmt.Errorf("creating the capture's private directory: %w", err)
	}
	p.tempLock = lock
	for _, t := range p.Temps {
		f, err := os.OpenFile(t.Path, os.O_CREATE|os.O_EXCL|os.O_WRONLY|unix.O_NOFOLLOW, 0o600)
		if err != nil {
			removeTemps(p)
			return fmt.Errorf("creating the capture's temporary file: %w", err)
		}
		f.Close()
	}
	if err := primarySees(p); err != nil {
		removeTemps(p)
		return err
	}
	return nil
}

// primarySees checks that the primary, which opens pdump's files by name
// in its own root and mount namespace, finds there the very directory
// gzdoctor made in: another namespace (a container) or a chroot may have
// no such path, or another directory under it. check's output-path goes
// by the same test and says the same (doctor.PrimaryDirProblem).
func primarySees(p *Plan) error {
	if p.Backend != BackendPdump || p.primaryPID <= 0 {
		return nil
	}
	if _, err := os.Stat(p.TempDir); err != nil {
		return err
	}
	if prob := doctor.PrimaryDirProblem(host.New("/"), p.primaryPID, filepath.Dir(p.TempDir)); prob != "" {
		return fmt.Errorf("%s; a capture cannot write there (pdump's files go in %s): write the capture (-w) into a directory the primary shares with this shell", prob, p.TempDir)
	}
	return nil
}

func tempPaths(p *Plan) []string {
	var out []string
	for _, t := range p.Temps {
		out = append(out, t.Path)
	}
	return out
}

// removeTemps removes the backend's files and the private directory, and
// drops the lock.
func removeTemps(p *Plan) {
	for _, t := range p.Temps {
		os.Remove(t.Path)
	}
	os.Remove(p.TempDir)
	releaseTemps(p)
}

// releaseTemps drops the lock and keeps the files: the final file could
// not be written, so they hold the only copy of the packets.
func releaseTemps(p *Plan) {
	if p.tempLock != nil {
		p.tempLock.Close()
		p.tempLock = nil
	}
}

// findLeftovers reports (and, where only gzdoctor's user can write,
// removes when empty) what dead captures and writers left where this
// capture writes: the private directory's parent and the outputs'
// directories.
func findLeftovers(p *Plan) []pcapfile.Leftover {
	dirs := []string{filepath.Dir(p.TempDir)}
	for _, o := range p.Outputs {
		dirs = append(dirs, filepath.Dir(o.Path))
	}
	seen := map[string]bool{}
	var out []pcapfile.Leftover
	for _, d := range dirs {
		real, err := trustDir(d, os.Geteuid())
		if real == "" || seen[real] {
			continue
		}
		seen[real] = true
		out = append(out, pcapfile.FindLeftovers(real, err == nil)...)
	}
	return out
}
