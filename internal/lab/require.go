package lab

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// minFreeHugepages is what one lab primary (9 × 2 MiB on the lab machine)
// and a dpdk-pdump with small --total-num-mbufs need, with room to spare.
const minFreeHugepages = 32

// Env variables that decide what a lab test does when the lab is not usable.
const (
	EnvSkipLab    = "GZDOCTOR_SKIP_LAB"    // "1": skip lab tests, loudly
	EnvRequireLab = "GZDOCTOR_REQUIRE_LAB" // "1" (CI): an unusable lab fails the test
)

// Require makes t a lab test: it returns when the lab is usable (root,
// hugetlbfs mounted, free hugepages, primary built — it builds it if
// needed). Otherwise the test is skipped with a loud reason, or fails when
// GZDOCTOR_REQUIRE_LAB=1. GZDOCTOR_SKIP_LAB=1 skips every lab test.
func Require(t testing.TB) {
	t.Helper()
	if os.Getenv(EnvSkipLab) == "1" {
		t.Skipf("LAB TEST SKIPPED: %s=1 is set; this test needs the real DPDK lab (run `make setup` as root and unset it)", EnvSkipLab)
	}
	if err := usable(); err != nil {
		if os.Getenv(EnvRequireLab) == "1" {
			t.Fatalf("LAB NOT USABLE and %s=1: %v", EnvRequireLab, err)
		}
		t.Skipf("LAB TEST SKIPPED: the DPDK lab is not usable: %v (run `make setup` as root; set %s=1 to make this a failure)", err, EnvRequireLab)
	}
}

// RequireRelease is Require for a release: its chroot must be made
// (lab/setup-releases). A missing chroot skips the test, or fails it when
// GZDOCTOR_REQUIRE_LAB=1.
func RequireRelease(t testing.TB, r Release) {
	t.Helper()
	Require(t)
	if err := r.ready(); err != nil {
		if os.Getenv(EnvRequireLab) == "1" {
			t.Fatalf("LAB NOT USABLE and %s=1: %v", EnvRequireLab, err)
		}
		t.Skipf("LAB TEST SKIPPED: %v (set %s=1 to make this a failure)", err, EnvRequireLab)
	}
}

// StartT is Require + Start; the primary is stopped and its files removed
// when the test ends, whether it passed or not. cfg.Release says which DPDK
// release it runs on.
func StartT(t testing.TB, cfg Config) *Primary {
	t.Helper()
	RequireRelease(t, cfg.Release)
	p, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatalf("starting the lab primary: %v", err)
	}
	t.Cleanup(func() {
		if err := p.Stop(); err != nil {
			t.Errorf("stopping the lab primary: %v", err)
		}
		p.Cleanup()
	})
	return p
}

var buildMu sync.Mutex

// usable says why the lab cannot run here, or nil.
func usable() error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("not root (euid %d): the lab primary needs root for hugepages and /var/run/dpdk", os.Geteuid())
	}
	if LabDir() == "" {
		_, err := rootOnce()
		return err
	}
	mounts, err := hugetlbfsMounts()
	if err != nil {
		return fmt.Errorf("reading /proc/mounts: %w", err)
	}
	if len(mounts) == 0 {
		return fmt.Errorf("no hugetlbfs mounted")
	}
	sweepStale()
	free, err := freeHugepages()
	if err != nil {
		return err
	}
	if free < minFreeHugepages {
		return fmt.Errorf("only %d free hugepages, the lab needs %d (leftover <prefix>map_* files in %s?)", free, minFreeHugepages, strings.Join(mounts, ", "))
	}
	return ensureBuilt()
}

// ensureBuilt runs `make -C lab` when the primary or its plugin dir copy
// is missing or older than its source. An flock keeps test binaries of
// different packages from building at the same time.
func ensureBuilt() error {
	buildMu.Lock()
	defer buildMu.Unlock()
	if built() {
		return nil
	}
	if err := os.MkdirAll(BuildDir(), 0o755); err != nil {
		return err
	}
	lock, err := os.OpenFile(filepath.Join(BuildDir(), ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("locking %s: %w", lock.Name(), err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	if built() {
		return nil
	}
	out, err := exec.Command("make", "-C", LabDir()).CombinedOutput()
	if err != nil {
		return fmt.Errorf("building the lab (make -C %s): %v\n%s", LabDir(), err, out)
	}
	return nil
}

func built() bool {
	var oldest time.Time
	for _, out := range []string{PrimaryBinary(), LstackLibrary(), AppBinary(), PdumpHold()} {
		st, err := os.Stat(out)
		if err != nil {
			return false
		}
		if oldest.IsZero() || st.ModTime().Before(oldest) {
			oldest = st.ModTime()
		}
	}
	for _, src := range []string{"primary.c", "primary.h", "main.c", "lstack.c", "app.c", "pdumphold.c", "Makefile"} {
		s, err := os.Stat(filepath.Join(LabDir(), src))
		if err != nil || s.ModTime().After(oldest) {
			return false
		}
	}
	_, err := os.Stat(filepath.Join(BuildDir(), "pmds-nopcap", ".done"))
	return err == nil
}

// freeHugepages is HugePages_Free from /proc/meminfo (default page size).
func freeHugepages() (int, error) {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "HugePages_Free:"); ok {
			return strconv.Atoi(strings.TrimSpace(v))
		}
	}
	return 0, fmt.Errorf("no HugePages_Free in /proc/meminfo")
}

var (
	sweepOnce  sync.Once
	ourPrefix  = regexp.MustCompile(`^gzlab_(\d+)_\d+$`)
	ourHugeMap = regexp.MustCompile(`^(gzlab_(\d+)_\d+)map_\d+$`)
)

// sweepStale removes what lab primaries of dead test processes left behind
// (a test binary killed by a timeout runs no cleanups): runtime dirs and
// hugepage files of gzlab_<pid>_<n> prefixes whose <pid> is gone and whose
// config no process holds locked. Other prefixes are never touched.
func sweepStale() {
	sweepOnce.Do(func() {
		base := filepath.Dir(RuntimeDir("x"))
		ents, _ := os.ReadDir(base)
		for _, e := range ents {
			m := ourPrefix.FindStringSubmatch(e.Name())
			if m == nil || pidAlive(m[1]) || configLocked(filepath.Join(base, e.Name(), "config")) {
				continue
			}
			removePrefixFiles(e.Name(), filepath.Join(base, e.Name()))
		}
		// Network namespaces of KindAfPacket/KindLtran primaries (their
		// veth pairs go with them).
		nss, _ := os.ReadDir("/var/run/netns")
		for _, e := range nss {
			m := ourPrefix.FindStringSubmatch(e.Name())
			if m == nil || pidAlive(m[1]) {
				continue
			}
			(&Netns{Name: e.Name(), HostIf: "gzv" + strings.TrimPrefix(e.Name(), "gzlab_")}).remove()
		}
		mounts, _ := hugetlbfsMounts()
		for _, mnt := range mounts {
			ents, _ := os.ReadDir(mnt)
			for _, e := range ents {
				m := ourHugeMap.FindStringSubmatch(e.Name())
				if m == nil || pidAlive(m[2]) || configLocked(filepath.Join(base, m[1], "config")) {
					continue
				}
				os.Remove(filepath.Join(mnt, e.Name()))
			}
		}
	})
}

func pidAlive(pid string) bool {
	n, err := strconv.Atoi(pid)
	if err != nil || n <= 0 {
		return false
	}
	err = syscall.Kill(n, 0)
	return err == nil || err == syscall.EPERM
}

// configLocked reports whether a process holds a lock on a prefix's config
// file, as a live primary does (F_GETLK over the whole file).
func configLocked(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	lk := syscall.Flock_t{Type: syscall.F_WRLCK, Whence: 0, Start: 0, Len: 0}
	if err := syscall.FcntlFlock(f.Fd(), syscall.F_GETLK, &lk); err != nil {
		return false
	}
	return lk.Type != syscall.F_UNLCK
}
