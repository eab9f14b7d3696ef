package capture

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gzdoctor/gzdoctor/doctor"
	"github.com/gzdoctor/gzdoctor/host"
	"github.com/gzdoctor/gzdoctor/internal/shquote"
)

// One capture per primary. Two pdumps on one primary hot-plug vdevs of the
// same names and create rings and pools of the same names; seen on the lab,
// a second capture started while the first one's pdump was still attaching
// reopened the first's files and filled them with zero-length records, and
// both printed ✓. Looking at the primary's ports first does not help: the
// vdevs appear only once the first pdump is well under way. So every
// capture takes an exclusive lock keyed by the primary's runtime dir before
// anything starts, and keeps it until its backend has exited; the backend
// inherits the lock, so a gzdoctor killed mid-capture still holds it
// through its pdump until that pdump is gone.

// LockHolder describes the capture that holds a primary's capture lock (or
// another capture tool found attached to it).
type LockHolder struct {
	PID     int    `json:"pid"`
	Command string `json:"command"`
	Since   string `json:"since,omitempty"` // RFC 3339
	// Backend is the capture tool the holder started, when it runs.
	BackendPID     int    `json:"backend_pid,omitempty"`
	BackendCommand string `json:"backend_command,omitempty"`
	// Alive is false when the holder itself is gone and only its backend
	// still holds the lock.
	Alive bool `json:"alive"`
	// Foreign: a capture tool that gzdoctor did not start (a hand-started
	// dpdk-pdump, say), found by its mp_socket in the runtime dir.
	Foreign bool `json:"foreign,omitempty"`
}

// captureLock is a held lock.
type captureLock struct {
	f    *os.File
	path string
	info lockInfo
}

// lockInfo is what the lock file holds while locked.
type lockInfo struct {
	PID            int    `json:"pid"`
	Command        string `json:"command"`
	Since          string `json:"since"`
	Prefix         string `json:"prefix"`
	RuntimeDir     string `json:"runtime_dir,omitempty"`
	PrimaryPID     int    `json:"primary_pid,omitempty"`
	BackendPID     int    `json:"backend_pid,omitempty"`
	BackendCommand string `json:"backend_command,omitempty"`
}

// lockDir is where capture locks live: a directory only this user (root:
// /run/gzdoctor) can write, so nobody else can plant or remove a lock.
func lockDir(o *Options) (string, error) {
	dir := "/run/gzdoctor"
	switch {
	case o.lockDir != "":
		dir = o.lockDir
	case os.Geteuid() != 0:
		if x := os.Getenv("XDG_RUNTIME_DIR"); x != "" && filepath.IsAbs(x) {
			dir = filepath.Join(x, "gzdoctor")
		} else {
			dir = filepath.Join(os.TempDir(), "gzdoctor-"+strconv.Itoa(os.Geteuid()))
		}
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return "", fmt.Errorf("creating the capture lock dir %s: %w", dir, err)
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return "", fmt.Errorf("capture lock dir: %w", err)
	}
	owner := -1
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		owner = int(st.Uid)
	}
	if !fi.IsDir() || owner != os.Geteuid() || fi.Mode().Perm()&0o022 != 0 {
		return "", fmt.Errorf("capture lock dir %s is not a directory only uid %d can write (owner %d, mode %v): remove it (rm -r %s)", dir, os.Geteuid(), owner, fi.Mode(), dir)
	}
	return dir, nil
}

// lockKey names the lock of a primary: its runtime dir, or where it would
// be when the prefix has none yet.
func lockKey(p *Plan) string {
	dir := p.runtimeDir
	if dir == "" {
		dir = "prefix:" + p.Prefix
	}
	sum := sha256.Sum256([]byte(dir))
	name := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			return r
		}
		return '_'
	}, p.Prefix)
	if len(name) > 64 {
		name = name[:64]
	}
	return "capture-" + name + "-" + hex.EncodeToString(sum[:6]) + ".lock"
}

// errLocked means another capture holds the lock.
type errLocked struct{ holder LockHolder }

func (e *errLocked) Error() string { return "another capture holds the lock" }

// takeCaptureLock takes the primary's capture lock without waiting. It
// returns *errLocked, with the holder, when another capture has it.
func takeCaptureLock(o *Options, p *Plan) (*captureLock, error) {
	dir, err := lockDir(o)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, lockKey(p))
	var f *os.File
	for try := 0; ; try++ {
		// O_NOFOLLOW and no O_TRUNC: the file is only written once locked.
		f, err = os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0o600)
		if err != nil {
			return nil, fmt.Errorf("opening the capture lock %s: %w", path, err)
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			f.Close()
			if errors.Is(err, syscall.EWOULDBLOCK) {
				return nil, &errLocked{holder: readHolder(path)}
			}
			return nil, fmt.Errorf("locking %s: %w", path, err)
		}
		// The holder before us removes the file as it releases it: a
		// lock on a file no longer at path locks nothing. Try again.
		if sameFile(f, path) {
			break
		}
		f.Close()
		if try == 10 {
			return nil, fmt.Errorf("locking %s: it keeps being replaced", path)
		}
	}
	cmd := strings.Join(o.CommandLine, " ")
	if cmd == "" {
		cmd = "gzdoctor capture"
	}
	l := &captureLock{f: f, path: path, info: lockInfo{PID: os.Getpid(), Command: cmd, Since: time.Now().UTC().Format(time.RFC3339),
		Prefix: p.Prefix, RuntimeDir: p.runtimeDir, PrimaryPID: p.primaryPID}}
	if err := l.write(); err != nil {
		l.release()
		return nil, err
	}
	return l, nil
}

func (l *captureLock) write() error {
	b, _ := json.Marshal(l.info)
	if err := l.f.Truncate(0); err != nil {
		return fmt.Errorf("writing the capture lock %s: %w", l.path, err)
	}
	if _, err := l.f.WriteAt(append(b, '\n'), 0); err != nil {
		return fmt.Errorf("writing the capture lock %s: %w", l.path, err)
	}
	return nil
}

// backendStarted records the backend in the lock file, for whoever is
// refused while it runs.
func (l *captureLock) backendStarted(pid int, command string) {
	if l == nil {
		return
	}
	l.info.BackendPID, l.info.BackendCommand = pid, command
	_ = l.write()
}

// release ends the lock and removes its file, still locked: whoever
// opened it meanwhile finds it gone once locked (takeCaptureLock), and
// lock files of finished captures do not pile up.
func (l *captureLock) release() {
	if l == nil || l.f == nil {
		return
	}
	if sameFile(l.f, l.path) {
		os.Remove(l.path)
	}
	l.f.Close()
	l.f = nil
}

// sameFile reports whether path names the file f has open.
func sameFile(f *os.File, path string) bool {
	a, err := f.Stat()
	if err != nil {
		return false
	}
	b, err := os.Lstat(path)
	return err == nil && os.SameFile(a, b)
}

// readHolder reads who holds a lock. The holder writes right after it
// locked; give it a moment.
func readHolder(path string) LockHolder {
	var info lockInfo
	for i := 0; i < 20; i++ {
		b, err := os.ReadFile(path)
		if err == nil && len(bytes.TrimSpace(b)) > 0 && json.Unmarshal(b, &info) == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	h := LockHolder{PID: info.PID, Command: info.Command, Since: info.Since, BackendPID: info.BackendPID, BackendCommand: info.BackendCommand}
	h.Alive = info.PID > 0 && syscall.Kill(info.PID, 0) != syscall.ESRCH
	if h.BackendPID > 0 && syscall.Kill(h.BackendPID, 0) == syscall.ESRCH {
		h.BackendPID, h.BackendCommand = 0, ""
	}
	return h
}

// foreignCaptures lists the capture tools attached to the primary that no
// gzdoctor started: a secondary's mp_socket_<pid>_<tsc> in the runtime dir
// whose process is a pdump or dumpcap, and a capture tool still starting
// (no socket yet) whose command line names the prefix. Called with the
// lock held, so a gzdoctor's own backend is never among them.
func foreignCaptures(h *host.Host, prefix, runtimeDir string) []LockHolder {
	var out []LockHolder
	seen := map[int]bool{}
	add := func(pid int, cmdline []string) {
		seen[pid] = true
		out = append(out, LockHolder{PID: pid, Command: shquote.Join(cmdline), Since: processStart(h, pid), Alive: true, Foreign: true})
	}
	if runtimeDir != "" {
		if pre, err := h.ScanPrefix(runtimeDir); err == nil {
			for _, s := range pre.Secondaries {
				if seen[s.PID] || s.Bound != nil && !*s.Bound {
					continue // a dead secondary's leftover socket
				}
				proc, err := h.ReadProcess(s.PID)
				if err == nil && doctor.IsCaptureTool(proc.Exe, proc.Cmdline) {
					add(s.PID, proc.Cmdline)
				}
			}
		}
	}
	pids, _ := h.PIDs()
	for _, pid := range pids {
		if seen[pid] || pid == os.Getpid() {
			continue
		}
		b, err := h.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil || len(b) == 0 {
			continue
		}
		cmdline := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
		if doctor.IsCaptureTool("", cmdline) && filePrefix(cmdline) == prefix {
			add(pid, cmdline)
		}
	}
	return out
}

// filePrefix is the --file-prefix a capture tool's command line gives
// EAL, read as EAL reads it.
func filePrefix(cmdline []string) string {
	if len(cmdline) == 0 {
		return host.DefaultFilePrefix
	}
	return host.ParseEALArgs(cmdline[1:]).Prefix()
}

// processStart is when pid started (RFC 3339); "" when unknown.
func processStart(h *host.Host, pid int) string {
	t, err := h.ProcessStarted(pid)
	if err != nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// busyHolderWords explains a refused capture.
func busyHolderWords(p *Plan, h LockHolder) string {
	since := ""
	if h.Since != "" {
		since = " since " + h.Since
	}
	switch {
	case h.Foreign:
		return fmt.Sprintf("%s (pid %d%s) is capturing on the primary of prefix %s: `%s`. Two captures on one primary collide (the second reopens the first's files); wait until it ends, or stop it (kill -INT %d; never -9, which leaves its vdevs in the primary)",
			firstWord(h.Command), h.PID, since, p.Prefix, h.Command, h.PID)
	case !h.Alive && h.BackendPID > 0:
		return fmt.Sprintf("another capture on the primary of prefix %s is still running: %s (pid %d), started by gzdoctor pid %d%s, which is gone (`%s`); it ends by itself once it has flushed (or: kill -INT %d; never -9)",
			p.Prefix, firstWord(h.BackendCommand), h.BackendPID, h.PID, since, h.Command, h.BackendPID)
	case h.PID > 0:
		s := fmt.Sprintf("another capture is running on the primary of prefix %s: gzdoctor pid %d%s (`%s`)", p.Prefix, h.PID, since, h.Command)
		if h.BackendPID > 0 {
			s += fmt.Sprintf(", with %s pid %d", firstWord(h.BackendCommand), h.BackendPID)
		}
		return s + ". One capture per primary: wait until it ends, or stop it (Ctrl+C in its terminal, or kill -INT " + strconv.Itoa(h.PID) + ")"
	}
	return fmt.Sprintf("another capture is starting on the primary of prefix %s (its lock is held); one capture per primary: try again when it has ended", p.Prefix)
}

func firstWord(cmd string) string {
	f := strings.Fields(cmd)
	if len(f) == 0 {
		return "the capture tool"
	}
	return filepath.Base(strings.Trim(f[0], "'"))
}
