package doctor

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gzdoctor/gzdoctor/host"
	"github.com/gzdoctor/gzdoctor/internal/lab"
)

// TestLabOutputPathPrivateDir: a primary in its own mount namespace with
// its own directory under the capture file's directory name (a private
// /tmp, adv3 F6) must fail output-path, as capture refuses it, with the
// sentence capture prints (PrimaryDirProblem); a directory it lacks (F7)
// too; and the fix's --capture-file must pass.
func TestLabOutputPathPrivateDir(t *testing.T) {
	lab.Require(t)
	dir := t.TempDir()
	p := lab.StartT(t, lab.Config{PrivateDirs: []string{dir}, Rate: -1})
	sub := filepath.Join(dir, "sub") // made after the primary's tmpfs: it has none
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ dir, says string }{
		{dir, "sees another directory at " + dir + ": it runs in another mount namespace"},
		{sub, "cannot see " + sub + " (no such file or directory): it runs in another mount namespace"},
	} {
		rep := liveRun(t, Config{Prefix: p.Prefix, CaptureFile: filepath.Join(tc.dir, "x.pcapng")}, "output-path")
		r := mustResult(t, rep, "output-path")
		if r.Status != Fail || !strings.Contains(r.Finding, tc.says) {
			t.Fatalf("%s: %s %q, want fail %q\n%s", tc.dir, r.Status, r.Finding, tc.says, dump(rep))
		}
		if prob := PrimaryDirProblem(host.New("/"), p.Pid, tc.dir); prob == "" || !strings.HasPrefix(r.Finding, prob) {
			t.Errorf("capture's words %q are not output-path's %q", prob, r.Finding)
		}
		if r.Fix == nil || len(r.Fix.Commands) != 1 {
			t.Fatalf("%s: fix %+v, want one check command", tc.dir, r.Fix)
		}
		_, file, ok := strings.Cut(r.Fix.Commands[0], "--capture-file ")
		if !ok || strings.HasPrefix(file, dir) {
			t.Fatalf("%s: fix %q gives no other --capture-file", tc.dir, r.Fix.Commands[0])
		}
		again := liveRun(t, Config{Prefix: p.Prefix, CaptureFile: file}, "output-path")
		if r := mustResult(t, again, "output-path"); r.Status != OK {
			t.Errorf("the fix's %s: %s %q, want ok", file, r.Status, r.Finding)
		}
	}
}
