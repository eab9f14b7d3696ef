package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gzdoctor/gzdoctor/internal/testenv"
	"github.com/gzdoctor/gzdoctor/ui"
)

const fixtureHosts = "../../testdata/hosts/"

// TestCheckExitPolicy: --fail-on and --exit-zero decide exit 1; usage
// errors and unwritable outputs stay 2 whatever the policy.
func TestCheckExitPolicy(t *testing.T) {
	failing, warning := fixtureHosts+"chk-hugepages", fixtureHosts+"chk-debris"
	dir := t.TempDir()
	tests := []struct {
		args []string
		want int
	}{
		{[]string{"--root", failing, "check"}, exitProblem},
		{[]string{"--root", failing, "check", "--exit-zero"}, exitOK},
		{[]string{"--root", failing, "check", "--fail-on", "never"}, exitOK},
		{[]string{"--root", failing, "check", "--fail-on", "fail"}, exitProblem},
		{[]string{"--root", warning, "check"}, exitOK},
		{[]string{"--root", warning, "check", "--fail-on", "warn"}, exitProblem},
		{[]string{"--root", warning, "check", "--all-prefixes", "--fail-on", "warn"}, exitProblem},
		{[]string{"--root", failing, "check", "--fail-on", "error"}, exitUsage},
		{[]string{"--root", failing, "check", "--fail-on", "never", "--exit-zero"}, exitUsage},
		{[]string{"--root", failing, "check", "--exit-zero", "--textfile-dir", filepath.Join(dir, "missing")}, exitUsage},
		{[]string{"--root", failing, "check", "--exit-zero", "--junit", filepath.Join(dir, "missing", "x.xml")}, exitUsage},
		{[]string{"--root", failing, "check", "--all-prefixes", "--prefix", "gazelle"}, exitUsage},
		{[]string{"--root", failing, "check", "--all-prefixes", "--device", "0000:01:00.0"}, exitUsage},
		{[]string{"-o", "prometheus", "version"}, exitUsage},
		{[]string{"-o", "prometheus", "check", "--list"}, exitUsage},
	}
	for _, tt := range tests {
		code, _, stderr := run(t, append([]string{"-q"}, tt.args...)...)
		if code != tt.want {
			t.Errorf("%v: exit %d, want %d (%s)", tt.args, code, tt.want, stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "missing")); err == nil {
		t.Error("a refused output was created")
	}
	// --all-prefixes cannot list the runtime dirs: gzdoctor could not do
	// its job (3), whatever --exit-zero says; not a usage error.
	broken := t.TempDir()
	os.MkdirAll(filepath.Join(broken, "var", "run"), 0o755)
	os.WriteFile(filepath.Join(broken, "var", "run", "dpdk"), []byte("not a dir"), 0o644)
	if code, _, stderr := run(t, "--root", broken, "check", "--all-prefixes", "--exit-zero"); code != exitFailure || !strings.Contains(stderr, "listing the DPDK runtime dirs") {
		t.Errorf("unlistable runtime dir: exit %d, %s", code, stderr)
	}
}

// TestCheckEnvelope: every JSON document names gzdoctor's version, the
// host and the time; under --root the host is the tree's.
func TestCheckEnvelope(t *testing.T) {
	before := time.Now().Add(-time.Second)
	code, out, _ := run(t, "-o", "json", "check", "--only", "aslr")
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	var env ui.Envelope
	if err := json.Unmarshal([]byte(out), &env); err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	at, err := time.Parse(time.RFC3339, env.Time)
	if env.SchemaVersion != 2 || env.Host != host || env.Version == "" || err != nil || at.Before(before) || at.After(time.Now()) {
		t.Errorf("envelope %+v (time: %v)", env, err)
	}

	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	os.WriteFile(filepath.Join(root, "etc", "hostname"), []byte("gz-node-17\n"), 0o644)
	if _, out, _ = run(t, "--root", root, "-o", "json", "check", "--only", "aslr"); !strings.Contains(out, `"host": "gz-node-17"`) {
		t.Errorf("--root's hostname not in the envelope:\n%s", out)
	}
}

// TestCheckTextfile: the textfile node_exporter reads, written atomically
// (no temporary file left, mode 0644), valid for promtool, and the same
// series -o prometheus prints.
func TestCheckTextfile(t *testing.T) {
	dir := t.TempDir()
	tree := fixtureHosts + "chk-two-primaries"
	code, stdout, stderr := run(t, "--root", tree, "-q", "check", "--exit-zero", "--all-prefixes", "--textfile-dir", dir)
	if code != exitOK || stdout != "" {
		t.Fatalf("exit %d, stdout %q, stderr %s", code, stdout, stderr)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 || ents[0].Name() != "gzdoctor.prom" {
		t.Fatalf("dir holds %v", ents)
	}
	fi, _ := ents[0].Info()
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v", fi.Mode())
	}
	b, _ := os.ReadFile(filepath.Join(dir, "gzdoctor.prom"))
	for _, want := range []string{
		`gzdoctor_primary_up{prefix="app1",role="dpdk"} 1`,
		`gzdoctor_check_status{check="pdump",chk="CHK-11",prefix="app2",status="ok"} 1`,
		`gzdoctor_info{revision=`,
	} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("textfile lacks %s:\n%s", want, b)
		}
	}
	promtool := testenv.Tool(t, "promtool", "Debian package prometheus")
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(b)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool: %v\n%s", err, out)
	}
	_, prom, _ := run(t, "--root", tree, "-o", "prometheus", "check", "--all-prefixes")
	if strip(prom) != strip(string(b)) {
		t.Errorf("-o prometheus and the textfile differ:\n%s\n---\n%s", prom, b)
	}
}

// strip drops the series that differ from one run to the next.
func strip(s string) string {
	var keep []string
	for _, l := range strings.Split(s, "\n") {
		if !strings.HasPrefix(l, "gzdoctor_last_run_timestamp_seconds ") && !strings.HasPrefix(l, "gzdoctor_run_duration_seconds ") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

// xmllintJUnit validates a JUnit file against the JUnit schema.
func xmllintJUnit(t *testing.T, path string) {
	t.Helper()
	xmllint := testenv.Tool(t, "xmllint", "Debian package libxml2-utils")
	if out, err := exec.Command(xmllint, "--noout", "--schema", "../../internal/junit/testdata/junit.xsd", path).CombinedOutput(); err != nil {
		b, _ := os.ReadFile(path)
		t.Errorf("xmllint %s: %v\n%s\n%s", path, err, out, b)
	}
}

func TestCheckJUnit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "check.xml")
	code, _, stderr := run(t, "--root", fixtureHosts+"chk-hugepages", "-q", "check", "--junit", path)
	if code != exitProblem {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	xmllintJUnit(t, path)
	b, _ := os.ReadFile(path)
	for _, want := range []string{`failures="1"`, `<testcase name="hugepages"`, `<failure message=`, "fix: "} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JUnit lacks %q:\n%s", want, b)
		}
	}
}

// TestSpecpatchJUnit: specpatch --check --junit, one test case per
// finding, the change and the command that makes it under a failure.
func TestSpecpatchJUnit(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		spec     string
		want     int
		contains []string
	}{
		{"openeuler-19.11-33cc19f.spec", exitProblem, []string{`failures="1"`, `<testcase name="pcap-pmd-off (line 69)"`, "after line 68 insert: sed -ri", "fix: gzdoctor specpatch --in-place --backup "}},
		{"fedora-22.11.1-d484aba.spec", exitOK, []string{`failures="0"`, `<testcase name="pcap-pmd-and-pdump"`}},
	}
	for _, tt := range tests {
		path := filepath.Join(dir, tt.spec+".xml")
		code, _, stderr := run(t, "specpatch", "--check", "--junit", path, "../../testdata/specs/reference/"+tt.spec)
		if code != tt.want {
			t.Errorf("%s: exit %d, want %d (%s)", tt.spec, code, tt.want, stderr)
			continue
		}
		xmllintJUnit(t, path)
		b, _ := os.ReadFile(path)
		for _, want := range tt.contains {
			if !strings.Contains(string(b), want) {
				t.Errorf("%s: JUnit lacks %q:\n%s", tt.spec, want, b)
			}
		}
	}
	if code, _, _ := run(t, "specpatch", "--junit", filepath.Join(dir, "x.xml"), "../../testdata/specs/reference/fedora-22.11.1-d484aba.spec"); code != exitUsage {
		t.Errorf("--junit without --check: exit %d", code)
	}
}
