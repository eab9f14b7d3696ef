package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// gen-man writes one page per command that is not hidden, dated by
// SOURCE_DATE_EPOCH (two builds of one tree give the same pages), and man
// (the oracle) formats them.
func TestGenMan(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "1700000000")
	a, b := t.TempDir(), t.TempDir()
	for _, d := range []string{a, b} {
		if code, _, stderr := run(t, "-q", "gen-man", d); code != exitOK {
			t.Fatalf("gen-man %s: exit %d: %s", d, code, stderr)
		}
	}
	pages, _ := filepath.Glob(filepath.Join(a, "*.1"))
	names := map[string]bool{}
	for _, p := range pages {
		names[filepath.Base(p)] = true
		x, _ := os.ReadFile(p)
		y, err := os.ReadFile(filepath.Join(b, filepath.Base(p)))
		if err != nil || string(x) != string(y) {
			t.Errorf("%s differs between two runs", filepath.Base(p))
		}
	}
	for _, want := range []string{"gzdoctor.1", "gzdoctor-check.1", "gzdoctor-collect.1", "gzdoctor-capture.1", "gzdoctor-pcap-filter.1"} {
		if !names[want] {
			t.Errorf("no %s among %v", want, names)
		}
	}
	if names["gzdoctor-gen-man.1"] {
		t.Errorf("the hidden gen-man got a page")
	}
	check, _ := os.ReadFile(filepath.Join(a, "gzdoctor-check.1"))
	if !strings.Contains(string(check), "Nov 2023") || !strings.Contains(string(check), `\fB--prefix\fP`) {
		t.Errorf("gzdoctor-check.1 lacks the SOURCE_DATE_EPOCH date or --prefix:\n%.600s", check)
	}
	if _, err := exec.LookPath("man"); err == nil {
		cmd := exec.Command("man", "-l", filepath.Join(a, "gzdoctor-collect.1"))
		cmd.Env = append(os.Environ(), "MANPAGER=cat", "MANWIDTH=100")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "support bundle") {
			t.Errorf("man -l gzdoctor-collect.1: %v\n%.400s", err, out)
		}
	}
	if code, _, _ := run(t, "gen-man", filepath.Join(a, "missing")); code != exitUsage {
		t.Errorf("gen-man into a missing dir: exit %d, want %d", code, exitUsage)
	}
}
