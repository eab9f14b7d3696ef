package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/gzdoctor/gzdoctor/ui"
)

// run executes gzdoctor in-process and returns its exit code and output.
func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	s, _, out, errOut := ui.Test()
	code = Main(args, s)
	return code, out.String(), errOut.String()
}

func TestExitCodes(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"version", []string{"version"}, exitOK, ""},
		{"unknown command", []string{"frobnicate"}, exitUsage, `unknown command "frobnicate"`},
		{"unknown flag", []string{"version", "--frob"}, exitUsage, "unknown flag: --frob"},
		{"bad output format", []string{"-o", "yaml", "version"}, exitUsage, `unknown output format "yaml"`},
		{"extra argument", []string{"version", "x"}, exitUsage, "unknown command"},
		{"root not a dir", []string{"--root", "/nonexistent-gzdoctor", "version"}, exitUsage, "--root /nonexistent-gzdoctor: not a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := run(t, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit code %d, want %d (stderr %q)", code, tt.wantCode, stderr)
			}
			if !strings.Contains(stderr, tt.wantErr) {
				t.Errorf("stderr %q does not contain %q", stderr, tt.wantErr)
			}
		})
	}
}

func TestVersionJSON(t *testing.T) {
	code, out, _ := run(t, "-o", "json", "--root", "../../testdata/hosts/healthy-2211", "version")
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	var env struct {
		SchemaVersion int         `json:"schema_version"`
		Command       string      `json:"command"`
		Data          versionInfo `json:"data"`
	}
	if err := json.Unmarshal([]byte(out), &env); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if env.SchemaVersion != ui.SchemaVersion || env.Command != "version" {
		t.Errorf("envelope %+v", env)
	}
	if env.Data.DPDK == nil || env.Data.DPDK.Version != "22.11.11" || env.Data.DPDK.ABI != "23" || env.Data.DPDK.Release != "22.11" {
		t.Errorf("dpdk %+v", env.Data.DPDK)
	}
}

func TestVersionTextNamesTheRoot(t *testing.T) {
	root := t.TempDir()
	code, out, _ := run(t, "--root", root, "version")
	if code != exitOK || !strings.Contains(out, "DPDK: not found under "+root) {
		t.Errorf("exit %d, output %q", code, out)
	}
}
