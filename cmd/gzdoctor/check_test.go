package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gzdoctor/gzdoctor/doctor"
	"github.com/gzdoctor/gzdoctor/host/target"
)

func TestCheckList(t *testing.T) {
	code, out, _ := run(t, "check", "--list")
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	for _, c := range doctor.Checks() {
		if !strings.Contains(out, c.ID) {
			t.Errorf("--list lacks %s:\n%s", c.ID, out)
		}
	}
}

func TestCheckUsage(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"check", "--only", "no-such-check"}, `unknown check "no-such-check"`},
		{[]string{"check", "--skip", "CHK-77"}, `unknown check "CHK-77"`},
		{[]string{"check", "--timeout", "0s"}, "--timeout must be positive"},
		{[]string{"check", "--timeout", "0"}, "--timeout must be positive"},
		{[]string{"check", "--timeout", "soon"}, `invalid argument "soon" for "--timeout" flag: want a duration such as 500ms, 2s or 1m30s (a bare number is seconds)`},
		{[]string{"check", "extra"}, "unknown command"},
		// A prefix is a name under the runtime dir: ../x would be
		// /var/run/x, and an empty one read as no --prefix at all.
		{[]string{"check", "--prefix", "../x"}, `invalid argument "../x" for "--prefix" flag: a DPDK file prefix is a name, not a path`},
		{[]string{"check", "--prefix="}, `invalid argument "" for "--prefix" flag: empty`},
		{[]string{"capture", "--prefix", "a/b", "-w", "x.pcap"}, "a DPDK file prefix is a name, not a path"},
		{[]string{"diagnose", "--live", "--prefix", "..", "x.log"}, "a DPDK file prefix is a name, not a path"},
	}
	for _, tt := range tests {
		code, _, stderr := run(t, tt.args...)
		if code != exitUsage || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and %q", tt.args, code, stderr, tt.want)
		}
	}
}

func TestCheckJSONOnly(t *testing.T) {
	code, out, _ := run(t, "-o", "json", "check", "--only", "CHK-09")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, out)
	}
	var env struct {
		Command string        `json:"command"`
		Data    doctor.Report `json:"data"`
	}
	if err := json.Unmarshal([]byte(out), &env); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if env.Command != "check" || len(env.Data.Results) != 1 || env.Data.Results[0].ID != "aslr" {
		t.Errorf("got %+v", env)
	}
}

func TestCheckFixtureExitCodes(t *testing.T) {
	tests := []struct {
		tree     string
		args     []string
		wantCode int
		wantOut  string
	}{
		{"chk-healthy-2211", nil, exitOK, "capture should work"},
		{"chk-stale", nil, exitProblem, "primary of prefix gazelle is gone"},
		{"chk-wrong-prefix", []string{"--only", "prefix"}, exitProblem, "--file-prefix gazelle"},
		{"chk-healthy-2211", []string{"--device", "0000:02:08.0", "--only", "CHK-07"}, exitProblem, "device_id=0000:01:00.0"},
		{"chk-1911", []string{"--only", "pdump"}, exitOK, "weakest evidence"},
	}
	for _, tt := range tests {
		args := append([]string{"--root", "../../testdata/hosts/" + tt.tree, "check"}, tt.args...)
		code, out, stderr := run(t, args...)
		if code != tt.wantCode || !strings.Contains(out, tt.wantOut) {
			t.Errorf("%v: exit %d, want %d, output lacks %q:\n%s%s", args, code, tt.wantCode, tt.wantOut, out, stderr)
		}
	}
}

func TestCheckFixtureJSON(t *testing.T) {
	code, out, _ := run(t, "-o", "json", "--root", "../../testdata/hosts/chk-stale", "check", "--only", "prefix,primary")
	if code != exitProblem {
		t.Fatalf("exit %d", code)
	}
	var env struct {
		Data doctor.Report `json:"data"`
	}
	if err := json.Unmarshal([]byte(out), &env); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	r, ok := env.Data.Result("primary")
	if !ok || r.Status != doctor.Fail || r.Fix == nil || len(r.Fix.Commands) != 1 {
		t.Errorf("primary result %+v", r)
	}
	if env.Data.Target.Prefix != "gazelle" || env.Data.Target.PrefixSource != target.ViaConfig || env.Data.Target.Config != "/etc/gazelle/lstack.conf" {
		t.Errorf("target %+v", env.Data.Target)
	}
	if env.Data.Summary.Fail != 1 || env.Data.Summary.OK != 1 {
		t.Errorf("summary %+v", env.Data.Summary)
	}
}

// check prints the primary's command line from /proc: a process named to
// drive the terminal is shown escaped.
func TestCheckEscapesProcCmdline(t *testing.T) {
	root := t.TempDir()
	if out, err := exec.Command("cp", "-a", "../../testdata/hosts/chk-healthy-2211/.", root).CombinedOutput(); err != nil {
		t.Fatalf("copying the fixture: %v %s", err, out)
	}
	cmdline := "redis-server\x00--title\x1b]0;owned\x07\x1b[2K\r✓ all good\x00"
	if err := os.WriteFile(filepath.Join(root, "proc/4242/cmdline"), []byte(cmdline), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stdout, stderr := run(t, "check", "--root", root, "--only", "primary", "-v")
	if rawControls(stdout) || !strings.Contains(stdout, `--title\x1b]0;owned\x07\x1b[2K\r✓ all good`) {
		t.Errorf("the command line reaches the terminal raw, or not at all:\nstdout %q\nstderr %q", stdout, stderr)
	}
}

// TestDashIsNotAFile: "-" means stdout for capture and pcap -w alone; the
// report-side file flags refuse it (exit 2) rather than create ./-.
func TestDashIsNotAFile(t *testing.T) {
	failing, err := filepath.Abs(fixtureHosts + "chk-hugepages")
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--root", failing, "check", "--junit", "-", "-o", "prometheus"}, "--junit -: only capture and pcap -w"},
		{[]string{"--root", failing, "check", "--textfile-dir", "-"}, "-o prometheus prints the series"},
		{[]string{"collect", "-w", "-"}, "-w -: only capture and pcap -w"},
		{[]string{"collect", "--logs-since", "-1h"}, "--logs-since must not be negative"},
		{[]string{"specpatch", "--check", "--junit", "-", "x.spec"}, "--junit -:"},
	}
	for _, tt := range tests {
		code, _, stderr := run(t, tt.args...)
		if code != exitUsage || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and %q", tt.args, code, stderr, tt.want)
		}
		if _, err := os.Lstat("-"); err == nil {
			t.Errorf("%v created ./-", tt.args)
			os.Remove("-")
		}
	}
}
