package capture

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gzdoctor/gzdoctor/host"
)

// The capture lock is exclusive and names its holder; it is free again
// once released, and a refused capture learns the holder's backend.
func TestCaptureLockNamesTheHolder(t *testing.T) {
	dir := t.TempDir()
	o := &Options{lockDir: dir, CommandLine: []string{"gzdoctor", "capture", "--prefix", "gz", "-c", "10"}}
	p := &Plan{Prefix: "gz", runtimeDir: "/var/run/dpdk/gz", primaryPID: 42}
	l, err := takeCaptureLock(o, p)
	if err != nil {
		t.Fatal(err)
	}
	backend := exec.Command("sleep", "30")
	if err := backend.Start(); err != nil {
		t.Fatal(err)
	}
	defer backend.Process.Kill()
	l.backendStarted(backend.Process.Pid, "/usr/bin/dpdk-pdump --file-prefix gz -- --pdump '…'")

	_, err = takeCaptureLock(&Options{lockDir: dir}, &Plan{Prefix: "gz", runtimeDir: "/var/run/dpdk/gz"})
	var le *errLocked
	if !errors.As(err, &le) {
		t.Fatalf("second lock: %v, want errLocked", err)
	}
	h := le.holder
	if h.PID != os.Getpid() || h.Command != "gzdoctor capture --prefix gz -c 10" || !h.Alive || h.BackendPID != backend.Process.Pid {
		t.Errorf("holder %+v", h)
	}
	if since, err := time.Parse(time.RFC3339, h.Since); err != nil || time.Since(since) > time.Minute {
		t.Errorf("since %q (%v)", h.Since, err)
	}
	words := busyHolderWords(p, h)
	for _, want := range []string{"another capture is running on the primary of prefix gz", "gzdoctor pid " + itoa(os.Getpid()), "`gzdoctor capture --prefix gz -c 10`", "with dpdk-pdump pid " + itoa(backend.Process.Pid)} {
		if !strings.Contains(words, want) {
			t.Errorf("%q lacks %q", words, want)
		}
	}
	// Another primary has another lock.
	l2, err := takeCaptureLock(o, &Plan{Prefix: "gz", runtimeDir: "/run/user/1000/dpdk/gz"})
	if err != nil {
		t.Errorf("another runtime dir's lock: %v", err)
	}
	l2.release()

	l.release()
	l3, err := takeCaptureLock(o, p)
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	if fi, err := os.Stat(filepath.Join(dir, lockKey(p))); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("lock file: %v %v", fi, err)
	}
	// Someone who opened the file before it was released and removed
	// locks a file no longer there: takeCaptureLock must not count that.
	stale, err := os.Open(filepath.Join(dir, lockKey(p)))
	if err != nil {
		t.Fatal(err)
	}
	defer stale.Close()
	l3.release()
	if _, err := os.Stat(filepath.Join(dir, lockKey(p))); !os.IsNotExist(err) {
		t.Errorf("lock file left after release: %v", err)
	}
	if sameFile(stale, filepath.Join(dir, lockKey(p))) {
		t.Error("a removed lock file still counts as the lock")
	}
}

// A lock dir someone else could write (or a symlink to one) is refused,
// not used: whoever can write it could hold or remove every lock.
func TestCaptureLockDirMustBePrivate(t *testing.T) {
	base := t.TempDir()
	open := filepath.Join(base, "open")
	if err := os.Mkdir(open, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(open, 0o777); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(base, "link")
	if err := os.Symlink(t.TempDir(), link); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{open, link} {
		if _, err := takeCaptureLock(&Options{lockDir: dir}, &Plan{Prefix: "gz"}); err == nil || !strings.Contains(err.Error(), "is not a directory only uid") {
			t.Errorf("%s: %v, want a refusal", dir, err)
		}
	}
	if _, err := takeCaptureLock(&Options{lockDir: filepath.Join(base, "new")}, &Plan{Prefix: "gz"}); err != nil {
		t.Errorf("a fresh dir: %v", err)
	}
	if fi, err := os.Stat(filepath.Join(base, "new")); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("fresh lock dir: %v %v", fi, err)
	}
}

// A capture tool that gzdoctor did not start is found by its command line
// while it is still starting, and named.
func TestForeignCaptureToolFound(t *testing.T) {
	dir := t.TempDir()
	tool := filepath.Join(dir, "dpdk-pdump")
	if err := os.WriteFile(tool, []byte("#!/bin/sh\nread x\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	prefix := "gzfor" + itoa(os.Getpid())
	cmd := exec.Command("/bin/sh", tool, "--file-prefix", prefix, "--", "--pdump", "device_id=net_ring0,queue=*,rx-dev=/tmp/x.pcap")
	// It waits on stdin, which stays open until the test ends: no child
	// outlives the shell.
	if _, err := cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	var found []LockHolder
	for i := 0; i < 50 && len(found) == 0; i++ {
		found = foreignCaptures(host.New("/"), prefix, "")
		time.Sleep(20 * time.Millisecond)
	}
	if len(found) != 1 || found[0].PID != cmd.Process.Pid || !found[0].Foreign || !strings.Contains(found[0].Command, "--file-prefix "+prefix) {
		t.Fatalf("found %+v, want pid %d", found, cmd.Process.Pid)
	}
	if other := foreignCaptures(host.New("/"), prefix+"x", ""); len(other) != 0 {
		t.Errorf("a tool on another prefix counts: %+v", other)
	}
	words := busyHolderWords(&Plan{Prefix: prefix}, found[0])
	if !strings.Contains(words, "is capturing on the primary of prefix "+prefix) || !strings.Contains(words, "kill -INT "+itoa(cmd.Process.Pid)) {
		t.Errorf("words %q", words)
	}
}

func TestFilePrefix(t *testing.T) {
	for _, tt := range []struct {
		cmd  []string
		want string
	}{
		{[]string{"dpdk-pdump", "--file-prefix", "gazelle", "--", "--pdump", "x"}, "gazelle"},
		{[]string{"dpdk-pdump", "--file-prefix=g2", "--", "--pdump", "x"}, "g2"},
		{[]string{"dpdk-pdump", "--", "--file-prefix", "no"}, "rte"},
		{[]string{"dpdk-dumpcap", "-i", "0"}, "rte"},
	} {
		if got := filePrefix(tt.cmd); got != tt.want {
			t.Errorf("%q: %q, want %q", tt.cmd, got, tt.want)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
