package inittest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestNoRegexpAtInitInBinary is the gate `make vet` runs: every package of
// the module that the gzdoctor binary links, found by the go command
// rather than listed by hand, so a new package cannot slip past a guard
// each package had to remember to call. Test-only packages (internal/lab,
// internal/pcapgen, internal/telemetrytest) are not linked and pay nothing
// at a user's start.
func TestNoRegexpAtInitInBinary(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps",
		"-f", `{{if and .Module (eq .Module.Path "github.com/gzdoctor/gzdoctor")}}{{.Dir}}{{end}}`,
		"github.com/gzdoctor/gzdoctor/cmd/gzdoctor").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dirs := strings.Fields(string(out))
	if len(dirs) < 5 {
		t.Fatalf("go list found only %q: the guard would check nothing", dirs)
	}
	for _, p := range RegexpsAtInit(t, dirs...) {
		t.Errorf("%s: regexp compiled at package initialisation: wrap it in sync.OnceValue, or compile it where it is first needed", p)
	}
}

// TestRegexpsAtInitFindsOne: a guard that cannot fail guards nothing.
func TestRegexpsAtInitFindsOne(t *testing.T) {
	dir := t.TempDir()
	src := map[string]string{
		"a.go":      "package a\nimport \"regexp\"\nvar re = regexp.MustCompile(`x`)\n",
		"b.go":      "package a\nimport (\"regexp\"; \"sync\")\nvar re2 = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`y`) })\nfunc f() { _ = regexp.MustCompile(`z`) }\n",
		"a_test.go": "package a\nimport \"regexp\"\nvar re3 = regexp.MustCompile(`t`)\n",
	}
	for name, s := range src {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got := RegexpsAtInit(t, dir)
	if len(got) != 1 || !strings.Contains(got[0], "a.go:3:") {
		t.Fatalf("found %q, want only a.go:3", got)
	}
}
