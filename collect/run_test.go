package collect

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCollectReplayCommand: the replay command works from the directory
// collect ran in, whatever -w named (another directory, a space, a quote):
// its unpacking half is run with sh there on a stand-in bundle.
func TestCollectReplayCommand(t *testing.T) {
	other := t.TempDir()
	for _, file := range []string{filepath.Join(other, "b.tar.gz"), "sub dir/it's.tar.gz"} {
		here := t.TempDir()
		t.Chdir(here)
		os.MkdirAll(filepath.Dir(file), 0o755)
		src := t.TempDir()
		os.MkdirAll(filepath.Join(src, "gzdoctor-collect-h-t"), 0o755)
		if out, err := exec.Command("tar", "-czf", file, "-C", src, "gzdoctor-collect-h-t").CombinedOutput(); err != nil {
			t.Fatalf("tar: %v\n%s", err, out)
		}
		cmd := ReplayCommand(file, "gzdoctor-collect-h-t", []string{"check", "--timeout", "1s"})
		unpack, replay, ok := strings.Cut(cmd, " && gzdoctor --root ")
		if !ok || replay != "b/gzdoctor-collect-h-t check --timeout 1s" {
			t.Fatalf("%s: want the check on b/gzdoctor-collect-h-t", cmd)
		}
		// gzdoctor need not be on PATH: the unpacking half, then the root.
		if out, err := exec.Command("sh", "-c", unpack+" && test -d b/gzdoctor-collect-h-t").CombinedOutput(); err != nil {
			t.Errorf("%s: %v\n%s", cmd, err, out)
		}
	}
}
