package lab

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// Release is the DPDK release a lab primary runs on. The zero value is this
// machine's own DPDK (Debian 12, 22.11); the others are Debian chroots that
// lab/setup-releases makes with debootstrap, sharing this machine's
// hugetlbfs mount and /run/dpdk, so a primary in one is seen by the tools of
// the others.
type Release string

const (
	// ReleaseHost is the machine's own DPDK (Debian 12: 22.11).
	ReleaseHost Release = ""
	// ReleaseBullseye is Debian 11's DPDK 20.11 (no dpdk-dumpcap, telemetry
	// without port names, no rte_pdump_stats memzone).
	ReleaseBullseye Release = "bullseye"
	// ReleaseTrixie is Debian 13's DPDK 24.11.
	ReleaseTrixie Release = "trixie"
)

// Releases lists every release the lab runs on, oldest DPDK first.
func Releases() []Release { return []Release{ReleaseBullseye, ReleaseHost, ReleaseTrixie} }

// DPDK is the release's DPDK major version, as its packages carry it.
func (r Release) DPDK() string {
	switch r {
	case ReleaseBullseye:
		return "20.11"
	case ReleaseTrixie:
		return "24.11"
	}
	return "22.11"
}

// String names the release for test names and messages: "dpdk-20.11".
func (r Release) String() string { return "dpdk-" + r.DPDK() }

// DefaultVdev is the lab's port on the release: DefaultVdev, but net_null0
// on 20.11, whose ring PMD cannot be attached by a secondary (dpdk-pdump
// prints "RING: Cannot reserve memory", then "Invalid port_id=0").
func (r Release) DefaultVdev() string {
	if r == ReleaseBullseye {
		return "net_null0"
	}
	return DefaultVdev
}

// HasDumpcap reports whether the release ships dpdk-dumpcap (21.11 and later).
func (r Release) HasDumpcap() bool { return r != ReleaseBullseye }

// EnvReleasesDir overrides where the release chroots live.
const EnvReleasesDir = "LAB_RELEASES_DIR"

// ReleasesDir holds one chroot per suite (lab/setup-releases makes them).
func ReleasesDir() string {
	if d := os.Getenv(EnvReleasesDir); d != "" {
		return d
	}
	return "/var/lib/gzdoctor-lab"
}

// Root is the release's chroot ("" for the host).
func (r Release) Root() string {
	if r == ReleaseHost {
		return ""
	}
	return filepath.Join(ReleasesDir(), string(r))
}

// HostPath is where path inside the release is on this machine.
func (r Release) HostPath(path string) string {
	if r == ReleaseHost {
		return path
	}
	return filepath.Join(r.Root(), path)
}

// chrootPATH is the PATH programs run with inside a chroot: the host's
// (Go's test environment) may name directories the chroot lacks.
const chrootPATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Command runs name inside the release as an operator there would: chroot
// execs it, so the process's pid is the program's.
func (r Release) Command(name string, args ...string) *exec.Cmd {
	if r == ReleaseHost {
		return exec.Command(name, args...)
	}
	cmd := exec.Command("chroot", append([]string{r.Root(), name}, args...)...)
	cmd.Env = append(os.Environ(), chrootPATH)
	return cmd
}

// ready says why the release's chroot cannot be used, or nil.
func (r Release) ready() error {
	if r == ReleaseHost {
		return nil
	}
	if _, err := os.Stat(r.Root() + ".ready"); err != nil {
		return fmt.Errorf("the %s chroot (%s) is not made: run lab/setup-releases %s (as root, about 6 minutes)", r, r.Root(), string(r))
	}
	return nil
}

// mountState counts this process's users of a release's mounts. Across
// processes, each user process holds a shared flock on <root>.use; the
// last one to leave gets the exclusive lock and unmounts.
type mountState struct {
	users int
	use   *os.File
}

var (
	mountsMu sync.Mutex
	mounts   = map[Release]*mountState{}
)

// mountPoints are made in this order and removed in the reverse one.
// /run/dpdk is bound at <root>/run/dpdk, not <root>/var/run/dpdk: in the
// chroot /var/run is a symlink to /run, and a bind onto <root>/var/run/dpdk
// would follow the host's own symlink and land on the host's dir itself.
func (r Release) mountPoints() ([]mountPoint, error) {
	huge, err := hugetlbfsMounts()
	if err != nil || len(huge) == 0 {
		return nil, fmt.Errorf("no hugetlbfs mounted on this machine (run lab/setup)")
	}
	root := r.Root()
	return []mountPoint{
		{filepath.Join(root, "proc"), []string{"-t", "proc", "proc"}},
		{filepath.Join(root, "sys"), []string{"--rbind", "/sys"}},
		{filepath.Join(root, "dev"), []string{"--rbind", "/dev"}},
		{filepath.Join(root, huge[0]), []string{"--bind", huge[0]}},
		{filepath.Join(root, "run", "dpdk"), []string{"--bind", "/run/dpdk"}},
	}, nil
}

type mountPoint struct {
	target string
	args   []string // mount's arguments before the target
}

// Mount makes the release's mounts (proc, sys, dev, the hugetlbfs mount,
// /run/dpdk) unless they are there, and returns the function that gives
// them back: the last user, in any process, unmounts them.
func (r Release) Mount() (unmount func(), err error) {
	if r == ReleaseHost {
		return func() {}, nil
	}
	if err := r.ready(); err != nil {
		return nil, err
	}
	mountsMu.Lock()
	defer mountsMu.Unlock()
	st := mounts[r]
	if st == nil {
		st = &mountState{}
		mounts[r] = st
	}
	if st.users == 0 {
		f, err := os.OpenFile(r.Root()+".use", os.O_CREATE|os.O_RDWR, 0o644)
		if err != nil {
			return nil, err
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH); err != nil {
			f.Close()
			return nil, fmt.Errorf("locking %s: %w", f.Name(), err)
		}
		st.use = f
	}
	st.users++
	if err := r.withLock(".mount", r.mountAll); err != nil {
		r.leave(st)
		return nil, err
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			mountsMu.Lock()
			defer mountsMu.Unlock()
			r.leave(st)
		})
	}, nil
}

// leave drops one user; the last user of the last process unmounts.
// Called with mountsMu held.
func (r Release) leave(st *mountState) {
	st.users--
	if st.users > 0 {
		return
	}
	f := st.use
	st.use = nil
	defer f.Close()
	syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
		return // another process still uses the mounts
	}
	r.withLock(".mount", r.unmountAll)
}

// withLock runs fn holding an exclusive flock on <root><suffix>.
func (r Release) withLock(suffix string, fn func() error) error {
	f, err := os.OpenFile(r.Root()+suffix, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("locking %s: %w", f.Name(), err)
	}
	defer syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return fn()
}

func (r Release) mountAll() error {
	mps, err := r.mountPoints()
	if err != nil {
		return err
	}
	if err := os.MkdirAll("/run/dpdk", 0o700); err != nil {
		return err
	}
	for _, m := range mps {
		if mounted(m.target) {
			continue
		}
		if fi, err := os.Lstat(m.target); err == nil && fi.Mode()&os.ModeSymlink != 0 {
			return fmt.Errorf("%s is a symlink; a mount there would land outside the chroot", m.target)
		}
		if err := os.MkdirAll(m.target, 0o755); err != nil {
			return err
		}
		args := append(append([]string{}, m.args...), m.target)
		if out, err := exec.Command("mount", args...).CombinedOutput(); err != nil {
			return fmt.Errorf("mount %s: %v: %s", strings.Join(args, " "), err, out)
		}
		// A recursive bind shares propagation with the host's tree on
		// systems where / is shared: unmounting it later would unmount the
		// host's /dev/pts too. A slave receives, never sends.
		if m.args[0] == "--rbind" {
			if out, err := exec.Command("mount", "--make-rslave", m.target).CombinedOutput(); err != nil {
				return fmt.Errorf("mount --make-rslave %s: %v: %s", m.target, err, out)
			}
		}
	}
	return nil
}

func (r Release) unmountAll() error {
	mps, err := r.mountPoints()
	if err != nil {
		return err
	}
	var errs []string
	for i := len(mps) - 1; i >= 0; i-- {
		if !mounted(mps[i].target) {
			continue
		}
		if _, err := exec.Command("umount", "-R", mps[i].target).CombinedOutput(); err != nil {
			// Busy (a process of the release is still exiting): detach it
			// now, the kernel lets go when the last user does. These are
			// binds of the host's own mounts, which stay as they are.
			if out, err := exec.Command("umount", "-R", "-l", mps[i].target).CombinedOutput(); err != nil {
				errs = append(errs, fmt.Sprintf("umount -R -l %s: %v: %s", mps[i].target, err, out))
			}
		}
	}
	if errs != nil {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}

// Unmount removes the release's mounts now, whoever made them (for
// `lab/setup-releases --unmount`-like cleanups, not for tests).
func (r Release) Unmount() error {
	if r == ReleaseHost {
		return nil
	}
	return r.withLock(".mount", r.unmountAll)
}

// mounted reports whether dir is a mount point (in /proc/self/mountinfo).
func mounted(dir string) bool {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && strings.ReplaceAll(f[4], `\040`, " ") == dir {
			return true
		}
	}
	return false
}

// labSources are the files lab/Makefile builds from.
func labSources() ([]string, error) {
	var files []string
	for _, pat := range []string{"*.c", "*.h", "Makefile"} {
		m, err := filepath.Glob(filepath.Join(LabDir(), pat))
		if err != nil {
			return nil, err
		}
		files = append(files, m...)
	}
	sort.Strings(files)
	if len(files) == 0 {
		return nil, fmt.Errorf("no lab sources in %q", LabDir())
	}
	return files, nil
}

// BuildDir is where the lab is built for the release, as seen from inside
// it: /opt/gzdoctor-lab/<hash of the sources>, so worktrees with different
// sources never share a build. The host's is BuildDir().
func (r Release) BuildDir() (string, error) {
	if r == ReleaseHost {
		return BuildDir(), nil
	}
	files, err := labSources()
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s %d\n", filepath.Base(f), len(b))
		h.Write(b)
	}
	return "/opt/gzdoctor-lab/" + hex.EncodeToString(h.Sum(nil))[:16], nil
}

// Build builds the lab inside the release (make with the release's gcc and
// DPDK) unless that build exists, and returns its directory inside the
// release. The release must be mounted.
func (r Release) Build() (string, error) {
	if r == ReleaseHost {
		return BuildDir(), ensureBuilt()
	}
	dir, err := r.BuildDir()
	if err != nil {
		return "", err
	}
	done := r.HostPath(filepath.Join(dir, "build", ".built"))
	if _, err := os.Stat(done); err == nil {
		return dir, nil
	}
	err = r.withLock(".build", func() error {
		if _, err := os.Stat(done); err == nil {
			return nil
		}
		files, err := labSources()
		if err != nil {
			return err
		}
		hostDir := r.HostPath(dir)
		if err := os.MkdirAll(hostDir, 0o755); err != nil {
			return err
		}
		for _, f := range files {
			if err := copyFile(f, filepath.Join(hostDir, filepath.Base(f)), 0o644); err != nil {
				return err
			}
		}
		out, err := r.Command("make", "-C", dir).CombinedOutput()
		if err != nil {
			return fmt.Errorf("building the lab in the %s chroot (chroot %s make -C %s): %v\n%s", r, r.Root(), dir, err, out)
		}
		return os.WriteFile(done, nil, 0o644)
	})
	return dir, err
}

// Install copies a host file (the gzdoctor binary `make build` made) into
// the release at /opt/gzdoctor-lab/bin/<pid>/i<n>/<name> and returns its path
// inside the release, as an operator of that release would run it.
func (r Release) Install(hostFile string) (string, error) {
	if r == ReleaseHost {
		return hostFile, nil
	}
	// A directory per call, not per process: parallel tests remove their
	// copy at cleanup, and a shared one vanished under another test's run
	// (chroot: failed to run command … No such file or directory).
	base := r.HostPath(fmt.Sprintf("/opt/gzdoctor-lab/bin/%d", os.Getpid()))
	if err := os.MkdirAll(base, 0o755); err != nil {
		return "", err
	}
	d, err := os.MkdirTemp(base, "i")
	if err != nil {
		return "", err
	}
	if err := os.Chmod(d, 0o755); err != nil {
		return "", err
	}
	dst := filepath.Join(d, filepath.Base(hostFile))
	in := strings.TrimPrefix(dst, r.HostPath("/"))
	if !strings.HasPrefix(in, "/") {
		in = "/" + in
	}
	return in, copyFile(hostFile, dst, 0o755)
}

// copyFile writes src to dst atomically (temp file + rename).
func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".*")
	if err != nil {
		return err
	}
	if _, err := io.Copy(tmp, in); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), dst)
}

// TempDir makes a directory inside the release that the test's cleanup
// removes, and returns it as a path of this machine and as the release
// sees it (the same for the host). Files a release's tools write must be
// under a path that exists in the release.
func (r Release) TempDir(t testing.TB) (host, inside string) {
	t.Helper()
	if r == ReleaseHost {
		d := t.TempDir()
		return d, d
	}
	d, err := os.MkdirTemp(r.HostPath("/tmp"), "gzlab-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d, strings.TrimPrefix(d, r.Root())
}

// Inside is path (of this machine, under the release's root) as the release
// sees it.
func (r Release) Inside(path string) string {
	if r == ReleaseHost {
		return path
	}
	return strings.TrimPrefix(path, r.Root())
}
