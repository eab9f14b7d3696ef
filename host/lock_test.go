package host

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/gzdoctor/gzdoctor/internal/testenv"
	"golang.org/x/sys/unix"
)

func TestParseProcLocks(t *testing.T) {
	in := "1: POSIX  ADVISORY  WRITE 13976 fe:00:794679 136 17543\n" +
		"2: FLOCK  ADVISORY  READ 13976 00:27:19960 0 EOF\n" +
		"2: -> FLOCK  ADVISORY  WRITE 14000 00:27:19960 0 EOF\n" +
		"3: OFDLCK ADVISORY  WRITE -1 08:01:1234 0 EOF\n" +
		"4: LEASE  ACTIVE    READ 500 103:02:99 0 EOF\n"
	got, err := ParseProcLocks([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []ProcLock{
		{Class: "POSIX", Access: "WRITE", PID: 13976, Dev: "fe:00", Ino: 794679, Start: 136, End: 17543},
		{Class: "FLOCK", Access: "READ", PID: 13976, Dev: "00:27", Ino: 19960, Start: 0, End: -1},
		{Class: "OFDLCK", Access: "WRITE", PID: -1, Dev: "08:01", Ino: 1234, Start: 0, End: -1},
		{Class: "LEASE", Access: "READ", PID: 500, Dev: "103:02", Ino: 99, Start: 0, End: -1},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseProcLocks =\n%+v\nwant\n%+v", got, want)
	}
}

func TestParseProcLocksErrors(t *testing.T) {
	for _, in := range []string{
		"1: POSIX ADVISORY WRITE\n",
		"1: POSIX ADVISORY WRITE x fe:00:1 0 EOF\n",
		"1: POSIX ADVISORY WRITE 1 fe00 0 EOF\n",
		"1: POSIX ADVISORY WRITE 1 fe:00:x 0 EOF\n",
		"1: POSIX ADVISORY WRITE 1 zz:00:1 0 EOF\n",
		"1: POSIX ADVISORY WRITE 1 fe:00:1 a EOF\n",
		"1: POSIX ADVISORY WRITE 1 fe:00:1 0 b\n",
	} {
		if got, err := ParseProcLocks([]byte(in)); err == nil {
			t.Errorf("ParseProcLocks(%q) = %+v, want an error", in, got)
		}
	}
}

func FuzzParseProcLocks(f *testing.F) {
	f.Add([]byte("1: POSIX  ADVISORY  WRITE 13976 fe:00:794679 136 17543\n2: -> FLOCK ADVISORY READ 1 0:0:1 0 EOF\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		locks, err := ParseProcLocks(b)
		if err != nil && locks != nil {
			t.Errorf("error %v with %d locks", err, len(locks))
		}
	})
}

// TestConfigLockOwnProcess: F_GETLK hides a lock held by the asking
// process; F_OFD_GETLK does not, so the doctor sees it even in-process.
func TestConfigLockOwnProcess(t *testing.T) {
	p := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(p, make([]byte, 25344), 0o600); err != nil {
		t.Fatal(err)
	}
	h := New("/")
	if lc := h.ConfigLock(p); lc.Holder != nil || lc.Method != LockByFcntl {
		t.Fatalf("unlocked file: %+v, want no holder by fcntl", lc)
	}
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// The byte range DPDK 22.11's primary locks (mem_config->memsegs).
	lk := unix.Flock_t{Type: unix.F_WRLCK, Start: 136, Len: 17408}
	if err := unix.FcntlFlock(f.Fd(), unix.F_SETLK, &lk); err != nil {
		t.Fatal(err)
	}
	// /proc/locks first: closing the fcntl probe's descriptor drops every
	// POSIX lock this process holds on the file (POSIX semantics), which
	// only matters here, where the prober is also the holder.
	ph, err := h.procLocksHolder(p)
	if err != nil {
		t.Fatal(err)
	}
	if ph == nil || ph.PID != os.Getpid() || ph.Class != "POSIX" || ph.Start != 136 || ph.End != 136+17408-1 {
		t.Errorf("procLocksHolder = %+v, want pid %d POSIX 136..17543", ph, os.Getpid())
	}
	lc := h.ConfigLock(p)
	want := &LockHolder{PID: os.Getpid(), Start: 136, End: 136 + 17408 - 1}
	if lc.Method != LockByFcntl || !reflect.DeepEqual(lc.Holder, want) {
		t.Errorf("ConfigLock = %+v (holder %+v), want %+v by fcntl", lc, lc.Holder, want)
	}
}

// TestConfigLockOtherProcess holds the lock in a child process (Python's
// fcntl.lockf is POSIX F_SETLK, as DPDK's primary uses) and checks that both
// probes name the child.
func TestConfigLockOtherProcess(t *testing.T) {
	py := testenv.Tool(t, "python3", "a second process to hold the lock")
	p := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(p, make([]byte, 4096), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, "-c", `
import fcntl, os, sys
f = open(sys.argv[1], "r+b")
fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB, 200, 100, os.SEEK_SET)  # len 200 from 100
print("locked", flush=True)
sys.stdin.read()
`, p)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { stdin.Close(); cmd.Wait() }()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "locked" {
		t.Fatalf("child did not lock: %q %v", line, err)
	}
	h := New("/")
	lc := h.ConfigLock(p)
	if lc.Method != LockByFcntl || lc.Holder == nil || lc.Holder.PID != cmd.Process.Pid || lc.Holder.Start != 100 || lc.Holder.End != 299 {
		t.Errorf("ConfigLock = %+v holder %+v, want pid %d range 100..299", lc, lc.Holder, cmd.Process.Pid)
	}
	ph, err := h.procLocksHolder(p)
	if err != nil || ph == nil || ph.PID != cmd.Process.Pid {
		t.Errorf("procLocksHolder = %+v, %v, want pid %d", ph, err, cmd.Process.Pid)
	}
}

// TestConfigLockReadOnlyFile: the probe opens read-only, so a config file
// the caller may only read still answers.
func TestConfigLockReadOnlyFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(p, []byte("x"), 0o400); err != nil {
		t.Fatal(err)
	}
	if lc := New("/").ConfigLock(p); lc.Method != LockByFcntl || len(lc.Errors) != 0 {
		t.Errorf("ConfigLock = %+v, want an answer by fcntl", lc)
	}
}

func TestConfigLockFallbacks(t *testing.T) {
	// A fixture tree whose config has no dev/inode override and whose
	// /proc/locks names the real inode of the fixture file: "held by pid N"
	// without a sidecar.
	root := t.TempDir()
	dir := filepath.Join(root, "var", "run", "dpdk", "rte")
	mustMkdir(t, dir)
	mustMkdir(t, filepath.Join(root, "proc"))
	cfg := filepath.Join(dir, "config")
	if err := os.WriteFile(cfg, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	if err := unix.Stat(cfg, &st); err != nil {
		t.Fatal(err)
	}
	dev := strconv.FormatUint(uint64(unix.Major(st.Dev)), 16) + ":" + strconv.FormatUint(uint64(unix.Minor(st.Dev)), 16)
	locks := "1: POSIX  ADVISORY  WRITE 4711 " + dev + ":" + strconv.FormatUint(st.Ino, 10) + " 136 17543\n"
	if err := os.WriteFile(filepath.Join(root, "proc", "locks"), []byte(locks), 0o644); err != nil {
		t.Fatal(err)
	}
	h := New(root)
	lc := h.ConfigLock("/var/run/dpdk/rte/config")
	if lc.Method != LockByProcLocks || lc.Holder == nil || lc.Holder.PID != 4711 {
		t.Errorf("by real inode: %+v, want pid 4711 from proc-locks", lc)
	}

	// Without /proc/locks nothing can answer: no method, an error.
	os.Remove(filepath.Join(root, "proc", "locks"))
	lc = h.ConfigLock("/var/run/dpdk/rte/config")
	if lc.Method != "" || lc.Holder != nil || len(lc.Errors) == 0 {
		t.Errorf("no /proc/locks: %+v, want no method and an error", lc)
	}

	// Live machine, file missing: fcntl fails, /proc/locks cannot match.
	lc = New("/").ConfigLock(filepath.Join(t.TempDir(), "absent", "config"))
	if lc.Holder != nil || len(lc.Errors) != 2 || !strings.HasPrefix(lc.Errors[0], "fcntl: open:") {
		t.Errorf("missing file: %+v, want two errors", lc)
	}
}

func TestFcntlHolderDoesNotFollowSymlink(t *testing.T) {
	d := t.TempDir()
	target := filepath.Join(d, "real")
	os.WriteFile(target, nil, 0o600)
	link := filepath.Join(d, "config")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if _, err := fcntlHolder(link); !errors.Is(err, unix.ELOOP) {
		t.Errorf("fcntlHolder(symlink) err = %v, want ELOOP", err)
	}
}
