package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gzdoctor/gzdoctor/internal/lab"
)

// TestCaptureLabNoHuge (adv3 F8): on a primary started with --no-huge the
// preflight refuses, naming --no-huge; forced past it, pdump aborts, and
// the capture removes the mp_socket_<pid>_… its own pdump left in the
// live primary's runtime dir (and nothing else there).
func TestCaptureLabNoHuge(t *testing.T) {
	t.Parallel()
	needTools(t, "dpdk-pdump")
	p := lab.StartT(t, lab.Config{ExtraEAL: []string{"--no-huge", "-m", "256"}, Rate: -1})
	out := filepath.Join(t.TempDir(), "nh.pcapng")
	code, _, errOut := captureJSON(t, "--prefix", p.Prefix, "-i", p.Device, "-c", "10", "-w", out)
	if code == exitOK || !strings.Contains(errOut, "runs with --no-huge") {
		t.Errorf("preflight: exit %d, want a refusal naming --no-huge:\n%s", code, errOut)
	}
	before, err := os.ReadDir(p.RuntimeDir)
	if err != nil {
		t.Fatal(err)
	}
	code, res, errOut := captureJSON(t, "--prefix", p.Prefix, "-i", p.Device, "-c", "10", "-w", out, "--no-preflight")
	if code == exitOK {
		t.Fatalf("a capture on a --no-huge primary succeeded:\n%s", errOut)
	}
	if res != nil {
		found := false
		for _, f := range res.Findings {
			found = found || f.ID == "secondary-hugepage-info-missing"
		}
		if !found {
			t.Errorf("findings %+v lack secondary-hugepage-info-missing\n%s", res.Findings, errOut)
		}
	}
	after, err := os.ReadDir(p.RuntimeDir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range after {
		names = append(names, e.Name())
		if strings.HasPrefix(e.Name(), "mp_socket_") {
			t.Errorf("the aborted pdump's %s is left in %s", e.Name(), p.RuntimeDir)
		}
	}
	if len(after) != len(before) {
		t.Errorf("runtime dir before %d entries, after %v", len(before), names)
	}
}
