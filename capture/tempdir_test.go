package capture

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gzdoctor/gzdoctor/capture/pcapfile"
	"golang.org/x/sys/unix"
)

const nobody = 65534

// attackBase makes a directory every user may enter (t.TempDir's are
// 0700, which would keep "another user" out of the whole test).
func attackBase(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: the test plays another user against a root capture")
	}
	base, err := os.MkdirTemp("", "gzd")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	return base
}

func mkdir(t *testing.T, path string, mode os.FileMode, uid, gid int) string {
	t.Helper()
	if err := os.Mkdir(path, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(path, uid, gid); err != nil {
		t.Fatal(err)
	}
	// unix.Chmod: os.Chmod reads the sticky bit from os.ModeSticky only.
	if err := unix.Chmod(path, uint32(mode)); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestChooseTempParent: the capture tool's files go to a fresh directory
// in the output's directory only when no other user can write it or any
// of its ancestors; otherwise to the nearest trusted ancestor on the same
// filesystem, or a trusted fallback.
func TestChooseTempParent(t *testing.T) {
	base := attackBase(t)
	mkdir(t, filepath.Join(base, "root"), 0o755, 0, 0)
	mkdir(t, filepath.Join(base, "open"), 0o777, 0, 0)
	mkdir(t, filepath.Join(base, "open/sub"), 0o755, 0, 0)
	mkdir(t, filepath.Join(base, "theirs"), 0o755, nobody, nobody)
	mkdir(t, filepath.Join(base, "grp"), 0o775, 0, nobody)
	mkdir(t, filepath.Join(base, "sticky"), 0o1777, 0, 0)
	if err := os.Symlink("root", filepath.Join(base, "link")); err != nil {
		t.Fatal(err)
	}
	long := filepath.Join(base, "root", strings.Repeat("x", 40))
	mkdir(t, long, 0o755, 0, 0)
	fallback := mkdir(t, filepath.Join(base, "fb"), 0o755, 0, 0)
	defer func(f func() []string) { tempFallbacks = f }(tempFallbacks)
	tempFallbacks = func() []string { return []string{filepath.Join(base, "open"), fallback} }

	for _, tc := range []struct {
		dir, want, note string
		maxLen          int
	}{
		{dir: "root", want: "root"},
		{dir: "link", want: "root"},
		{dir: "sticky", want: "sticky"},
		{dir: "open", want: ".", note: "is writable by every user (mode 0777)"},
		{dir: "open/sub", want: ".", note: "/open is writable by every user"},
		{dir: "theirs", want: ".", note: "is owned by nobody (uid 65534)"},
		{dir: "grp", want: ".", note: "is writable by group"},
		{dir: "root/" + strings.Repeat("x", 40), want: "root", note: "longer than the 55 bytes", maxLen: len(base) + 10},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			got, err := chooseTempParent(filepath.Join(base, tc.dir), tc.maxLen, 0)
			if err != nil {
				t.Fatal(err)
			}
			if want := filepath.Clean(filepath.Join(base, tc.want)); got.parent != want {
				t.Errorf("parent %s, want %s (note %q)", got.parent, want, got.note)
			}
			if tc.note == "" && got.note != "" || !strings.Contains(got.note, tc.note) {
				t.Errorf("note %q, want one containing %q", got.note, tc.note)
			}
		})
	}
	// A filesystem whose root every user can write (a shared mount):
	// nothing on it will do, so the first trusted fallback, never the
	// one others can write.
	mnt := mkdir(t, filepath.Join(base, "mnt"), 0o755, 0, 0)
	if err := unix.Mount("tmpfs", mnt, "tmpfs", 0, "size=1m,mode=0777"); err != nil {
		t.Fatalf("mounting a tmpfs: %v", err)
	}
	defer unix.Unmount(mnt, unix.MNT_DETACH)
	got, err := chooseTempParent(mnt, 0, 0)
	if err != nil || got.parent != fallback || !strings.Contains(got.note, "writable by every user") || !strings.Contains(got.note, "another filesystem") {
		t.Errorf("shared mount: %+v, %v; want %s on another filesystem", got, err, fallback)
	}
	tempFallbacks = func() []string { return []string{filepath.Join(base, "open")} }
	if got, err := chooseTempParent(mnt, 0, 0); err == nil {
		t.Errorf("no trusted place, yet %+v", got)
	}
}

// attacker plays another user (nobody) who can write dir: on its own OS
// thread with nobody's filesystem uid, it replaces every file and
// directory that appears in dir by a symlink to decoy (directories: to a
// directory of such symlinks), until stop is closed. swept is closed after
// its first full pass.
func attacker(t *testing.T, dir, decoy string, swept chan<- struct{}, stop <-chan struct{}, wg *sync.WaitGroup) *[]string {
	var swapped []string
	wg.Add(1)
	ready := make(chan error, 1)
	go func() {
		defer wg.Done()
		runtime.LockOSThread() // never unlocked: the thread dies with its identity
		unix.Setfsgid(nobody)
		unix.Setfsuid(nobody)
		// The uid change dropped root's file capabilities on this thread:
		// prove it, or the test would prove nothing.
		if f, err := os.Create(filepath.Join(filepath.Dir(decoy), "root-only")); err == nil {
			f.Close()
			ready <- errors.New("the attacker thread can still write a root-only directory")
			return
		}
		evil := filepath.Join(dir, ".evil")
		if err := os.Mkdir(evil, 0o755); err != nil {
			ready <- err
			return
		}
		for _, n := range []string{"rx.pcap", "tx.pcap", "all.pcapng"} {
			os.Symlink(decoy, filepath.Join(evil, n))
		}
		ready <- nil
		first := true
		for {
			ents, _ := os.ReadDir(dir)
			for _, e := range ents {
				p := filepath.Join(dir, e.Name())
				switch {
				case e.Name() == ".evil" || strings.HasSuffix(e.Name(), ".moved") || e.Type()&os.ModeSymlink != 0:
				case e.IsDir():
					if os.Rename(p, p+".moved") == nil && os.Symlink(evil, p) == nil {
						swapped = append(swapped, e.Name()+"/")
					}
				default:
					if os.Remove(p) == nil && os.Symlink(decoy, p) == nil {
						swapped = append(swapped, e.Name())
					}
				}
			}
			if first {
				close(swept)
				first = false
			}
			select {
			case <-stop:
				return
			case <-time.After(200 * time.Microsecond):
			}
		}
	}()
	if err := <-ready; err != nil {
		t.Fatal(err)
	}
	return &swapped
}

// TestCaptureAttackerCannotRedirect is issue 12's first finding: a root
// capture into a directory another user can write. The backend opens its
// files by name, following symlinks (the pcap PMD's fopen "w"), so a swap
// between gzdoctor's creation and that open made root overwrite any file.
// The attacker sweeps once after the files exist and before the backend
// starts (the window, provoked), and keeps sweeping until the end (the
// final file's temporary name). The decoy must stay untouched.
func TestCaptureAttackerCannotRedirect(t *testing.T) {
	base := attackBase(t)
	dir := mkdir(t, filepath.Join(base, "shared"), 0o755, nobody, nobody)
	decoy := filepath.Join(base, "decoy")
	const precious = "root's precious file\n"
	if err := os.WriteFile(decoy, []byte(precious), 0o644); err != nil {
		t.Fatal(err)
	}
	o := fakeOptions(t, fakeNormal)
	o.Write = filepath.Join(dir, "out.pcapng")
	o.Count = 500
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var swapped *[]string
	o.beforeBackend = func(p *Plan) {
		swept := make(chan struct{})
		swapped = attacker(t, dir, decoy, swept, stop, &wg)
		<-swept
	}
	res, err := Run(context.Background(), o)
	close(stop)
	wg.Wait()
	if b, _ := os.ReadFile(decoy); string(b) != precious {
		t.Fatalf("the decoy was overwritten through the attacker's symlink (%d bytes now); swapped %v", len(b), *swapped)
	}
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasPrefix(res.Plan.TempDir, dir+"/") {
		t.Errorf("the capture tool's files went to %s, inside the directory nobody can write", res.Plan.TempDir)
	}
	if !strings.Contains(res.Plan.TempNote, "owned by nobody") {
		t.Errorf("no note says the output's directory belongs to another user: %q", res.Plan.TempNote)
	}
	var b strings.Builder
	res.RenderText(&b, noStyle, false)
	if !strings.Contains(b.String(), "! "+res.Plan.TempNote) {
		t.Errorf("the summary does not say where the tool's files went:\n%s", b.String())
	}
	// The final file's temporary name may have been swapped too: then
	// the result must say the file is not ours, never a ✓ for it.
	if res.WriteError == "" {
		fi, err := os.Lstat(o.Write)
		if err != nil || !fi.Mode().IsRegular() {
			t.Fatalf("result says written, but %s is %v (%v)", o.Write, fi, err)
		}
		if pkts, _ := readAll(t, o.Write); len(pkts) != 500 {
			t.Errorf("%s holds %d packets, want 500", o.Write, len(pkts))
		}
	} else if !strings.Contains(res.WriteError, "replaced while being written") || len(res.TempFiles) == 0 {
		t.Errorf("write error %q, kept %v", res.WriteError, res.TempFiles)
	}
	t.Logf("attacker swapped %v; temp dir %s; write error %q", *swapped, res.Plan.TempDir, res.WriteError)
	if res.WriteError == "" {
		if ents, _ := os.ReadDir(res.Plan.TempDir); ents != nil {
			t.Errorf("private directory left: %v", ents)
		}
	} else {
		os.RemoveAll(res.Plan.TempDir)
	}
}

// TestMakePrivateDirRace: another gzdoctor cleaning the same parent of
// dead captures' directories, at the worst moment (the directory made,
// not yet renamed to its name), removes nothing of a capture that starts:
// it is locked before it has a name a cleaner looks for.
func TestMakePrivateDirRace(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, tempDirPrefix+"4242-7")
	var found []pcapfile.Leftover
	beforeRename = func(staging string) {
		if _, err := os.Stat(staging); err != nil {
			t.Errorf("staging dir: %v", err)
		}
		found = pcapfile.FindLeftovers(parent, true)
	}
	t.Cleanup(func() { beforeRename = nil })
	f, err := makePrivateDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if len(found) != 0 {
		t.Errorf("a cleaner racing the start found %+v", found)
	}
	if again := pcapfile.FindLeftovers(parent, true); len(again) != 0 {
		t.Errorf("a cleaner after the start found %+v", again)
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
		t.Fatalf("%s: %v %v", dir, fi, err)
	}
	if _, err := os.Stat(dir + ".new"); !os.IsNotExist(err) {
		t.Errorf("the staging name remains: %v", err)
	}
	// Never over an existing directory, even an empty one.
	other := filepath.Join(parent, tempDirPrefix+"4242-8")
	if err := os.Mkdir(other, 0o700); err != nil {
		t.Fatal(err)
	}
	beforeRename = nil
	if g, err := makePrivateDir(other); err == nil || !errors.Is(err, fs.ErrExist) {
		if g != nil {
			g.Close()
		}
		t.Errorf("makePrivateDir over an existing dir: %v, want it to exist already", err)
	}
}
