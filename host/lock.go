package host

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// LockCheck is the answer to "does a process hold the write lock on this
// config file" (eal-errors.md CHK-02).
type LockCheck struct {
	// Holder is nil when nobody holds a write lock (or no method worked).
	Holder *LockHolder `json:"holder,omitempty"`
	// Method is the probe that answered; empty when none could.
	Method LockMethod `json:"method,omitempty"`
	// Errors say why a probe could not answer, e.g.
	// "fcntl: open: permission denied".
	Errors []string `json:"errors,omitempty"`
}

// LockMethod is the probe that found whether a process holds a lock.
type LockMethod string

const (
	LockByFcntl     LockMethod = "fcntl"      // F_OFD_GETLK/F_GETLK on the live machine
	LockByProcLocks LockMethod = "proc-locks" // /proc/locks matched by inode
	// LockBySocket: the config is out of reach (a runtime dir the user
	// cannot list), but the primary's bound mp_socket (/proc/net/unix)
	// shows it alive; doctor's unlistable prefixes.
	LockBySocket LockMethod = "proc-net-unix"
)

// LockHolder is a process holding a lock on the file.
type LockHolder struct {
	// PID is the holder's pid as seen from our pid namespace; 0 means a
	// lock is held but the holder is not visible (another pid namespace).
	PID   int    `json:"pid"`
	Class string `json:"class,omitempty"` // POSIX, OFDLCK (from /proc/locks)
	Start int64  `json:"start"`
	// End is the last byte locked; -1 means to end of file.
	End int64 `json:"end"`
}

// ConfigLock finds who holds a write lock on the machine file p (a
// prefix's config). DPDK's primary locks only the byte range of
// mem_config->memsegs, so the probe asks about the whole file.
//
// On the live machine it asks the kernel with F_OFD_GETLK (which, unlike
// F_GETLK, also reports a lock held by this very process) and falls back
// to F_GETLK on kernels without OFD locks; /proc/locks is the fallback
// when the file cannot be opened and the only source in fixture trees.
func (h *Host) ConfigLock(p string) LockCheck {
	var lc LockCheck
	if h.Live() {
		holder, err := fcntlHolder(p)
		if err == nil {
			lc.Method = LockByFcntl
			if holder != nil && holder.PID > 0 {
				lc.Holder = holder
				return lc
			}
			if holder == nil {
				return lc
			}
			// An OFD lock reports no pid; /proc/locks may still name it.
			lc.Holder = holder
		} else {
			lc.Errors = append(lc.Errors, "fcntl: "+err.Error())
		}
	}
	holder, err := h.procLocksHolder(p)
	if err != nil {
		lc.Errors = append(lc.Errors, "proc-locks: "+err.Error())
		return lc
	}
	if lc.Method == "" || holder != nil {
		lc.Method = LockByProcLocks
	}
	if holder != nil {
		lc.Holder = holder
	}
	return lc
}

func fcntlHolder(p string) (*LockHolder, error) {
	// F_GETLK with F_WRLCK needs no write access (verified on Linux 6.x):
	// read-only is enough, and never creates or truncates the file.
	// Closing it drops any POSIX lock this process holds on the file;
	// gzdoctor never holds one.
	f, err := os.OpenFile(p, os.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("open: %w", unwrapPathErr(err))
	}
	defer f.Close()
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: 0, Start: 0, Len: 0}
	err = unix.FcntlFlock(f.Fd(), unix.F_OFD_GETLK, &lk)
	if errors.Is(err, unix.EINVAL) {
		lk = unix.Flock_t{Type: unix.F_WRLCK}
		err = unix.FcntlFlock(f.Fd(), unix.F_GETLK, &lk)
	}
	if err != nil {
		return nil, fmt.Errorf("F_GETLK: %w", err)
	}
	if lk.Type == unix.F_UNLCK {
		return nil, nil
	}
	end := int64(-1)
	if lk.Len > 0 {
		end = lk.Start + lk.Len - 1
	}
	pid := int(lk.Pid)
	if pid < 0 {
		pid = 0
	}
	return &LockHolder{PID: pid, Start: lk.Start, End: end}, nil
}

func unwrapPathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// ProcLock is one line of /proc/locks.
type ProcLock struct {
	Class  string `json:"class"` // POSIX, FLOCK, OFDLCK, LEASE, ...
	Access string `json:"access"`
	PID    int    `json:"pid"`
	Dev    string `json:"dev"` // hex major:minor, as printed
	Ino    uint64 `json:"ino"`
	Start  int64  `json:"start"`
	End    int64  `json:"end"` // -1 for EOF
}

// ProcLocks parses /proc/locks. Lines for blocked waiters ("->") are
// skipped: they hold nothing.
func (h *Host) ProcLocks() ([]ProcLock, error) {
	b, err := h.ReadFile("/proc/locks")
	if err != nil {
		return nil, fmt.Errorf("reading /proc/locks: %w", err)
	}
	return ParseProcLocks(b)
}

// ParseProcLocks parses the text of /proc/locks.
func ParseProcLocks(b []byte) ([]ProcLock, error) {
	var out []ProcLock
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if len(f) > 1 && f[1] == "->" {
			continue
		}
		if len(f) < 8 {
			return nil, fmt.Errorf("/proc/locks line %d: %d fields, want 8", n, len(f))
		}
		l := ProcLock{Class: f[1], Access: f[3]}
		var err error
		if l.PID, err = strconv.Atoi(f[4]); err != nil {
			return nil, fmt.Errorf("/proc/locks line %d: pid %q", n, f[4])
		}
		i := strings.LastIndex(f[5], ":")
		if i < 0 {
			return nil, fmt.Errorf("/proc/locks line %d: file id %q", n, f[5])
		}
		if l.Dev, err = parseDevHex(f[5][:i]); err != nil {
			return nil, fmt.Errorf("/proc/locks line %d: %w", n, err)
		}
		if l.Ino, err = strconv.ParseUint(f[5][i+1:], 10, 64); err != nil {
			return nil, fmt.Errorf("/proc/locks line %d: inode %q", n, f[5][i+1:])
		}
		if l.Start, err = strconv.ParseInt(f[6], 10, 64); err != nil {
			return nil, fmt.Errorf("/proc/locks line %d: start %q", n, f[6])
		}
		if f[7] == "EOF" {
			l.End = -1
		} else if l.End, err = strconv.ParseInt(f[7], 10, 64); err != nil {
			return nil, fmt.Errorf("/proc/locks line %d: end %q", n, f[7])
		}
		out = append(out, l)
	}
	return out, sc.Err()
}

// procLocksHolder finds a write lock on p's dev:inode in /proc/locks.
func (h *Host) procLocksHolder(p string) (*LockHolder, error) {
	st, err := h.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("stat: %w", unwrapPathErr(err))
	}
	locks, err := h.ProcLocks()
	if err != nil {
		return nil, err
	}
	for _, l := range locks {
		if l.Ino != st.Ino || l.Dev != st.Dev || l.Access != "WRITE" {
			continue
		}
		if l.Class != "POSIX" && l.Class != "OFDLCK" {
			continue
		}
		pid := l.PID
		if pid < 0 {
			pid = 0
		}
		return &LockHolder{PID: pid, Class: l.Class, Start: l.Start, End: l.End}, nil
	}
	return nil, nil
}
