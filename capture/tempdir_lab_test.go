package capture

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gzdoctor/gzdoctor/doctor"
	"github.com/gzdoctor/gzdoctor/host"
	"github.com/gzdoctor/gzdoctor/internal/lab"
)

// TestLabPrimarySeesPrivateDir: capture refuses to start pdump when the
// primary has its own directory under the capture's directory name (a
// private /tmp in its mount namespace, adv3 F6), with the words check's
// output-path prints, and leaves nothing behind.
func TestLabPrimarySeesPrivateDir(t *testing.T) {
	lab.Require(t)
	dir := t.TempDir()
	p := lab.StartT(t, lab.Config{PrivateDirs: []string{dir}, Rate: -1})
	tmp := filepath.Join(dir, ".gzdoctor-test")
	pl := &Plan{Backend: BackendPdump, primaryPID: p.Pid, TempDir: tmp, Temps: []Temp{{Path: filepath.Join(tmp, "rx.pcap")}}}
	err := createTemps(pl)
	want := doctor.PrimaryDirProblem(host.New("/"), p.Pid, dir)
	if want == "" || !strings.Contains(want, "sees another directory at "+dir) {
		t.Fatalf("PrimaryDirProblem(%s) = %q, want another directory", dir, want)
	}
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("createTemps: %v, want it to start with output-path's %q", err, want)
	}
	if _, err := os.Lstat(tmp); !os.IsNotExist(err) {
		t.Errorf("the refused capture left %s (%v)", tmp, err)
	}
}
