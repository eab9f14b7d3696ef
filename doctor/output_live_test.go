package doctor

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gzdoctor/gzdoctor/host"
	"github.com/gzdoctor/gzdoctor/internal/testenv"
	"golang.org/x/sys/unix"
)

// TestOutputPathLive makes a real read-only mount and a real immutable
// directory: root passes permission bits, not these, so the check must
// fail both, and pass a plain directory.
func TestOutputPathLive(t *testing.T) {
	if os.Geteuid() != 0 {
		if testenv.Required() {
			t.Fatal("needs root (mount, chattr); CI runs as root")
		}
		t.Skip("needs root (mount, chattr)")
	}
	chattr := testenv.Tool(t, "chattr", "e2fsprogs")
	base := t.TempDir()
	ro, frozen, open := filepath.Join(base, "ro"), filepath.Join(base, "frozen"), filepath.Join(base, "open")
	for _, d := range []string{ro, frozen, open} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := unix.Mount("tmpfs", ro, "tmpfs", unix.MS_RDONLY, "size=64k"); err != nil {
		t.Fatalf("mounting a read-only tmpfs: %v", err)
	}
	t.Cleanup(func() { unix.Unmount(ro, unix.MNT_DETACH) })
	if out, err := exec.Command(chattr, "+i", frozen).CombinedOutput(); err != nil {
		t.Skipf("chattr +i on %s: %v %s (filesystem without attributes)", frozen, err, out)
	}
	t.Cleanup(func() { exec.Command(chattr, "-i", frozen).Run() })

	// A prefix nobody runs: the capture user's own view is checked.
	prefix := fmt.Sprintf("gzdoctor_none_%d", os.Getpid())
	for _, tc := range []struct {
		dir    string
		status Status
		says   string
	}{
		{ro, Fail, "is on a read-only mount (tmpfs on " + ro + ")"},
		{frozen, Fail, "is immutable (chattr +i)"},
		{open, OK, "can create"},
		{filepath.Join(base, "missing"), Fail, "does not exist"},
	} {
		rep, err := Run(context.Background(), NewEnv(Config{Host: host.New("/"), User: root, Prefix: prefix, CaptureFile: tc.dir + "/x.pcap"}),
			Options{Only: []string{"output-path"}})
		if err != nil {
			t.Fatal(err)
		}
		r := mustResult(t, rep, "output-path")
		if r.Status != tc.status || !strings.Contains(r.Finding, tc.says) {
			t.Errorf("%s: %s %q, want %s %q", tc.dir, r.Status, r.Finding, tc.status, tc.says)
		}
		if tc.status == Fail && tc.dir != filepath.Join(base, "missing") && r.Fix != nil && strings.Contains(strings.Join(r.Fix.Commands, " "), "mkdir") {
			t.Errorf("%s: fix says mkdir for an existing dir: %+v", tc.dir, r.Fix)
		}
	}
	// The oracle: root really cannot create a file in either.
	for _, d := range []string{ro, frozen} {
		if f, err := os.Create(filepath.Join(d, "probe")); err == nil {
			f.Close()
			t.Errorf("root could create a file in %s: the test's premise is wrong", d)
		}
	}
}
