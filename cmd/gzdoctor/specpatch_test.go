package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const refSpecs = "../../testdata/specs/reference"

func copySpec(t *testing.T, name string, mode os.FileMode) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(refSpecs, name))
	if err != nil {
		t.Fatalf("reference spec missing from the repository: %v", err)
	}
	p := filepath.Join(t.TempDir(), "dpdk.spec")
	if err := os.WriteFile(p, data, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSpecpatchCLI(t *testing.T) {
	t.Setenv("RPM_PACKAGER", "Jane Doe <jane@example.com>")
	tests := []struct {
		name     string
		spec     string
		args     []string
		wantCode int
		wantOut  string
		changed  bool
	}{
		{"diff only", "openeuler-19.11-abfe846.spec", nil, exitOK, "+sed -ri 's,(LIBRTE_PMD_PCAP=).*,\\1y,'", false},
		{"check needs change", "openeuler-19.11-abfe846.spec", []string{"--check"}, exitProblem, "needs 1 change", false},
		{"check good", "fedora-22.11.1-d484aba.spec", []string{"--check"}, exitOK, "already builds", false},
		{"blocked", "daos-21.11.2-5f4a8cf.spec", nil, exitProblem, "pdump-dropped-by-patch", false},
		{"write", "rhel9-22.11-e5a5f71.spec", []string{"-i", "--backup", "--bump", "Build pdump"}, exitOK, "written to", true},
		{"write good spec", "fedora-22.11.1-d484aba.spec", []string{"--write"}, exitOK, "already builds", false},
		{"backup without write", "fedora-22.11.1-d484aba.spec", []string{"--backup"}, exitUsage, "", false},
		{"check and write", "fedora-22.11.1-d484aba.spec", []string{"--check", "-i"}, exitUsage, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := copySpec(t, tt.spec, 0o640)
			before, _ := os.ReadFile(spec)
			code, out, stderr := run(t, append(append([]string{"specpatch"}, tt.args...), spec)...)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d\n%s%s", code, tt.wantCode, out, stderr)
			}
			if !strings.Contains(out, tt.wantOut) {
				t.Errorf("output lacks %q:\n%s", tt.wantOut, out)
			}
			after, _ := os.ReadFile(spec)
			if (string(after) != string(before)) != tt.changed {
				t.Errorf("spec changed: %v, want %v", string(after) != string(before), tt.changed)
			}
			if tt.changed {
				fi, _ := os.Stat(spec)
				if fi.Mode().Perm() != 0o640 {
					t.Errorf("mode %v, want 0640", fi.Mode().Perm())
				}
				orig, err := os.ReadFile(spec + ".orig")
				if err != nil || string(orig) != string(before) {
					t.Errorf("backup missing or different: %v", err)
				}
				if !strings.Contains(string(after), "Jane Doe <jane@example.com> - 2:22.11-5") {
					t.Errorf("no changelog entry by RPM_PACKAGER")
				}
				// Now the spec is good.
				if code, _, _ := run(t, "specpatch", "--check", spec); code != exitOK {
					t.Errorf("--check after --write: exit %d", code)
				}
			}
		})
	}
}

func TestSpecpatchOutAndJSON(t *testing.T) {
	spec := copySpec(t, "rhel8-21.11-2671cc7.spec", 0o644)
	before, _ := os.ReadFile(spec)
	outFile := filepath.Join(t.TempDir(), "patched.spec")
	code, out, stderr := run(t, "-o", "json", "specpatch", "-O", outFile, spec)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var env struct {
		Command string `json:"command"`
		Data    struct {
			Style    string `json:"style"`
			Verdict  string `json:"verdict"`
			Written  string `json:"written"`
			Findings []struct {
				ID    string `json:"id"`
				Fixed bool   `json:"fixed"`
			} `json:"findings"`
			Changes []struct {
				Line int    `json:"line"`
				Kind string `json:"kind"`
			} `json:"changes"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(out), &env); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if env.Command != "specpatch" || env.Data.Style != "meson-macro-arrays" || env.Data.Verdict != "patch" || env.Data.Written != outFile || len(env.Data.Changes) != 4 {
		t.Errorf("unexpected: %+v", env)
	}
	after, _ := os.ReadFile(spec)
	if string(after) != string(before) {
		t.Error("--out modified the input")
	}
	patched, err := os.ReadFile(outFile)
	if err != nil || !strings.Contains(string(patched), "    net/pcap\n") {
		t.Errorf("--out file: %v", err)
	}
}

func TestSpecpatchBadInput(t *testing.T) {
	dir := t.TempDir()
	notSpec := filepath.Join(dir, "README")
	os.WriteFile(notSpec, []byte("hello\nworld\n"), 0o644)
	code, _, stderr := run(t, "specpatch", "-i", notSpec)
	if code != exitFailure || !strings.Contains(stderr, "not an RPM spec") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	if b, _ := os.ReadFile(notSpec); string(b) != "hello\nworld\n" {
		t.Error("bad input was modified")
	}
	code, _, stderr = run(t, "specpatch", filepath.Join(dir, "missing.spec"))
	if code != exitFailure || !strings.Contains(stderr, "reading") {
		t.Errorf("missing file: exit %d, stderr %q", code, stderr)
	}
	spec := copySpec(t, "rhel8-21.11-2671cc7.spec", 0o644)
	code, _, stderr = run(t, "specpatch", "-O", dir, spec)
	if code != exitFailure || !strings.Contains(stderr, dir+": is a directory") {
		t.Errorf("--out a directory: exit %d, stderr %q", code, stderr)
	}
	// An older backup is the only copy of an earlier original.
	os.WriteFile(spec+".orig", []byte("earlier original\n"), 0o644)
	before, _ := os.ReadFile(spec)
	code, _, stderr = run(t, "specpatch", "-i", "--backup", spec)
	if code != exitFailure || !strings.Contains(stderr, ".orig exists and differs") {
		t.Errorf("existing backup: exit %d, stderr %q", code, stderr)
	}
	if b, _ := os.ReadFile(spec + ".orig"); string(b) != "earlier original\n" {
		t.Error("existing backup was replaced")
	}
	if b, _ := os.ReadFile(spec); string(b) != string(before) {
		t.Error("spec was written although its backup could not be")
	}
}
