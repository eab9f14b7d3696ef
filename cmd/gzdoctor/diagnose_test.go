package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gzdoctor/gzdoctor/runbooks"
	"github.com/gzdoctor/gzdoctor/ui"
)

const logs = "../../testdata/logs/"

// runIn executes gzdoctor in-process with stdin.
func runIn(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	s, in, out, errOut := ui.Test()
	in.WriteString(stdin)
	code = Main(args, s)
	return code, out.String(), errOut.String()
}

func TestDiagnoseExitCodes(t *testing.T) {
	tests := []struct {
		name     string
		stdin    string
		args     []string
		wantCode int
		wantOut  string
		wantErr  string
	}{
		{"known cause from a file", "", []string{"diagnose", logs + "public/03-gazelle-pdump-pcap-pmd-not-in-primary.log"}, exitProblem, "pcap-pmd-missing-primary", ""},
		{"known cause from stdin", "EAL: Cannot open '/var/run/dpdk/gazelle/config' for rte_mem_config\n", []string{"diagnose"}, exitProblem, "no-primary-config", ""},
		{"dash is stdin", "EAL: Primary and secondary process DPDK version mismatch\n", []string{"diagnose", "-"}, exitProblem, "dpdk-version-mismatch", ""},
		{"healthy", "", []string{"diagnose", logs + "public/23-gazelle-ltran-healthy-null-prefix.log"}, exitOK, "No known cause found", ""},
		{"unrecognised errors are shown", "myapp: fatal: giving up\n", []string{"diagnose"}, exitOK, "myapp: fatal: giving up", ""},
		{"missing file", "", []string{"diagnose", "/nonexistent/gz.log"}, exitFailure, "", "no such file"},
		{"directory", "", []string{"diagnose", logs}, exitFailure, "", "is a directory"},
		{"stdin twice", "", []string{"diagnose", "-", "-"}, exitUsage, "", "stdin"},
		{"quiet keeps the code", "", []string{"-q", "diagnose", logs + "public/08-seastar-second-primary-same-prefix.log"}, exitProblem, "", ""},
		{"bad runbooks dir", "", []string{"diagnose", "--runbooks", "/nonexistent-rb", "-"}, exitFailure, "", "/nonexistent-rb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runIn(t, tt.stdin, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.wantCode, out, errOut)
			}
			if !strings.Contains(out, tt.wantOut) {
				t.Errorf("stdout lacks %q:\n%s", tt.wantOut, out)
			}
			if !strings.Contains(strings.ToLower(errOut), strings.ToLower(tt.wantErr)) {
				t.Errorf("stderr lacks %q: %s", tt.wantErr, errOut)
			}
			if strings.Contains(tt.name, "quiet") && out != "" {
				t.Errorf("-q printed %q", out)
			}
		})
	}
}

func TestDiagnoseJSON(t *testing.T) {
	code, out, _ := runIn(t, "", "-o", "json", "diagnose",
		logs+"lab/pcap-pmd-hidden-pdump.log", logs+"lab/pcap-pmd-hidden-primary.log")
	if code != exitProblem {
		t.Fatalf("exit %d", code)
	}
	var env struct {
		SchemaVersion int             `json:"schema_version"`
		Command       string          `json:"command"`
		Data          runbooks.Report `json:"data"`
	}
	if err := json.Unmarshal([]byte(out), &env); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if env.Command != "diagnose" || env.SchemaVersion != ui.SchemaVersion {
		t.Errorf("envelope %d %q", env.SchemaVersion, env.Command)
	}
	d := env.Data
	if len(d.Sources) != 2 || len(d.Findings) != 1 || d.Findings[0].ID != "pcap-pmd-missing-primary" {
		t.Fatalf("data %+v", d)
	}
	f := d.Findings[0]
	if f.Values["line"] != "764" || f.Values["device"] != "net_pcap_rx_0" {
		t.Errorf("values %v", f.Values)
	}
	// Evidence from both logs, with their own line numbers.
	sources := map[string]bool{}
	for _, e := range f.Evidence {
		sources[filepath.Base(e.Source)] = true
	}
	if !sources["pcap-pmd-hidden-pdump.log"] || !sources["pcap-pmd-hidden-primary.log"] {
		t.Errorf("evidence sources %v", sources)
	}
}

func TestRunbooksCommands(t *testing.T) {
	code, out, _ := runIn(t, "", "runbooks", "list")
	if code != exitOK || !strings.Contains(out, "mp-primary-unreachable") {
		t.Errorf("list: exit %d\n%s", code, out)
	}
	code, out, _ = runIn(t, "", "runbooks", "list", "--patterns")
	if code != exitOK || strings.Count(out, "\n") < 150 || strings.Contains(out, "(?P<") {
		t.Errorf("list --patterns: exit %d, %d lines", code, strings.Count(out, "\n"))
	}
	code, out, _ = runIn(t, "", "runbooks", "show", "pcap-pmd-missing-primary")
	if code != exitOK || !strings.Contains(out, "vdev creation failed") {
		t.Errorf("show: exit %d\n%s", code, out)
	}
	code, _, errOut := runIn(t, "", "runbooks", "show", "no-such-cause")
	if code != exitUsage || !strings.Contains(errOut, "no-such-cause") {
		t.Errorf("show unknown: exit %d %s", code, errOut)
	}
}

// TestRunbooksLintAndLocal exercises the contributor path: a local entry
// with its sample lints clean and is used by diagnose --runbooks; broken
// entries are reported with exit 1.
func TestRunbooksLintAndLocal(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("local.yaml", `entries:
  - id: site-nic-firmware
    title: The NIC firmware is too old
    severity: fatal
    side: primary
    phase: probe
    patterns:
      - regex: 'firmware version (?P<version>\S+) is not supported'
    extract:
      version: {}
    cause: Firmware {{.version}} is too old for this PMD.
    fix:
      - text: Update the firmware.
`)
	write("samples/fw.log", "# expected: site-nic-firmware\nnet_hinic: firmware version 1.2 is not supported\n")
	code, out, errOut := runIn(t, "", "runbooks", "lint", dir)
	if code != exitOK {
		t.Fatalf("lint good dir: exit %d\n%s%s", code, out, errOut)
	}
	code, out, _ = runIn(t, "net_hinic: firmware version 0.9 is not supported\n", "diagnose", "--runbooks", dir)
	if code != exitProblem || !strings.Contains(out, "Firmware 0.9 is too old") {
		t.Errorf("diagnose --runbooks: exit %d\n%s", code, out)
	}

	write("local.yaml", `entries:
  - id: Bad_ID
    title: ""
    severity: deadly
    side: primary
    phase: probe
    patterns:
      - regex: 'unclosed (group'
    cause: x
    fix:
      - text: '{{.nope}}'
  - id: no-primary-config
    title: reuses a built-in id
    severity: fatal
    side: primary
    phase: probe
    patterns:
      - regex: 'something else entirely'
    cause: x
    fix:
      - text: x
`)
	code, out, _ = runIn(t, "", "runbooks", "lint", dir)
	for _, want := range []string{"kebab-case", "title is empty", "severity \"deadly\"", "missing closing )", "nope", "already defined"} {
		if !strings.Contains(out, want) {
			t.Errorf("lint output lacks %q", want)
		}
	}
	if code != exitProblem {
		t.Errorf("lint bad dir: exit %d", code)
	}

	// The catalogue's own directory, edited in a checkout, lints as a
	// replacement of the embedded one, not as 60 clashing IDs.
	code, out, _ = runIn(t, "", "runbooks", "lint", "../../runbooks/catalogue", "--samples", "../../testdata/logs")
	if code != exitOK || strings.Contains(out, "already defined") {
		t.Errorf("lint runbooks/catalogue: exit %d\n%s", code, out)
	}
}

// TestDiagnoseLive runs the findings' checks against fixture machines: the
// wrong-prefix machine confirms "no primary on gazele" and names the live
// prefix; on a healthy machine the same cause is not confirmed.
func TestDiagnoseLive(t *testing.T) {
	tests := []struct {
		name, root, log string
		wantVerdict     string
		wantCheck       string // a check that must be among the outcomes
		wantText        string
	}{
		{"wrong prefix", "../../testdata/hosts/chk-wrong-prefix", logs + "lab/wrong-prefix-pdump.log", "confirmed", "prefix", "--file-prefix gazelle"},
		{"paste with two prefixes", "../../testdata/hosts/chk-healthy-2211", logs + "synthetic/file-prefix-mismatch-19.11-lstack-and-pdump.log", "confirmed", "prefix", "--file-prefix gazelle"},
		{"device the primary drives", "../../testdata/hosts/chk-healthy-2211", logs + "synthetic/pdump-device-not-in-primary-19.11-primary.log", "not-confirmed", "device", "0000:01:00.0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Through stdin without the corpus headers: they quote format
			// strings ("device id=%s") that would read as values.
			data, err := os.ReadFile(tt.log)
			if err != nil {
				t.Fatal(err)
			}
			var body []string
			for _, l := range strings.Split(string(data), "\n") {
				if !strings.HasPrefix(l, "# ") {
					body = append(body, l)
				}
			}
			code, out, errOut := runIn(t, strings.Join(body, "\n"), "-o", "json", "--root", tt.root, "diagnose", "--live")
			if code != exitProblem {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			var env struct {
				Data runbooks.Report `json:"data"`
			}
			if err := json.Unmarshal([]byte(out), &env); err != nil {
				t.Fatal(err)
			}
			f := env.Data.Findings[0]
			if f.Live == nil {
				t.Fatalf("no live verification on %s", f.ID)
			}
			if tt.wantVerdict != "" && f.Live.Verdict != tt.wantVerdict {
				t.Errorf("verdict %s, want %s", f.Live.Verdict, tt.wantVerdict)
			}
			found := false
			for _, c := range f.Live.Checks {
				if c.ID == tt.wantCheck {
					found = true
				}
			}
			if !found {
				t.Errorf("no %s check among %+v", tt.wantCheck, f.Live.Checks)
			}
			if !strings.Contains(out, tt.wantText) {
				t.Errorf("output lacks %q", tt.wantText)
			}
		})
	}
	code, out, _ := runIn(t, "", "--root", "../../testdata/hosts/chk-healthy-2211", "diagnose", "--live",
		logs+"synthetic/file-prefix-mismatch-19.11-lstack-and-pdump.log")
	if code != exitProblem || !strings.Contains(out, "live:") {
		t.Errorf("text --live: exit %d\n%s", code, out)
	}
}

// TestDiagnoseLiveGatesRemoval: the fix of a dead primary's runtime dir
// (rm -r, guarded by fuser) is printed with --live only when the machine
// shows the dir stale; a live primary's dir is named and kept.
func TestDiagnoseLiveGatesRemoval(t *testing.T) {
	log := "EAL: Multi-process socket /var/run/dpdk/gazelle/mp_socket_4242_ab12\n" +
		"EAL: failed to send to (/var/run/dpdk/gazelle/mp_socket) due to Connection refused\n" +
		"EAL: Cannot send message to primary\n"
	tests := []struct {
		root    string
		live    bool
		want    string // in the fix
		removes bool
	}{
		{"../../testdata/hosts/chk-healthy-2211", true, "Keep /var/run/dpdk/gazelle: pid", false},
		{"../../testdata/hosts/chk-stale", true, "rm -r '/var/run/dpdk/gazelle'", true},
		{"../../testdata/hosts/chk-no-runtime", true, "/var/run/dpdk/gazelle is gone already", false},
		// Without --live the step stays, guarded by fuser.
		{"../../testdata/hosts/chk-healthy-2211", false, "fuser -s '/var/run/dpdk/gazelle'/*; [ $? = 1 ] && rm -r", true},
	}
	for _, tt := range tests {
		args := []string{"--root", tt.root, "diagnose"}
		if tt.live {
			args = append(args, "--live")
		}
		code, out, errOut := runIn(t, log, args...)
		if code != exitProblem {
			t.Fatalf("%s: exit %d: %s", tt.root, code, errOut)
		}
		if !strings.Contains(out, tt.want) {
			t.Errorf("%s live=%v: output lacks %q:\n%s", tt.root, tt.live, tt.want, out)
		}
		if got := strings.Contains(out, "rm -r"); got != tt.removes {
			t.Errorf("%s live=%v: rm -r printed %v, want %v:\n%s", tt.root, tt.live, got, tt.removes, out)
		}
	}
}

// TestDiagnoseFixesFilled: the printed fixes name the pdump installed on
// the machine (here a --root tree with only dpdk-pdump) and aim every
// gzdoctor check at the log's prefix, or at --prefix when given.
func TestDiagnoseFixesFilled(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "usr/bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "usr/bin/dpdk-pdump"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	log := logs + "lab/device-mismatch-vdev-pdump.log"
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"--root", root, "diagnose", log}, []string{
			"$ dpdk-pdump --file-prefix gzrec -- --pdump",
			"$ gzdoctor check --prefix gzrec --only CHK-16",
			"confirm: gzdoctor check --prefix gzrec --only CHK-16,CHK-04,CHK-07"}},
		{[]string{"--root", root, "--prefix", "gazelle", "diagnose", log}, []string{
			"$ gzdoctor check --prefix gazelle --only CHK-16",
			"confirm: gzdoctor check --prefix gazelle --only"}},
	}
	for _, tt := range tests {
		code, out, errOut := runIn(t, "", tt.args...)
		if code != exitProblem {
			t.Fatalf("%v: exit %d: %s", tt.args, code, errOut)
		}
		for _, w := range tt.want {
			if !strings.Contains(out, w) {
				t.Errorf("%v: output lacks %q:\n%s", tt.args, w, out)
			}
		}
		if strings.Contains(out, "$ gazelle-pdump") {
			t.Errorf("%v: prints gazelle-pdump, which the machine lacks:\n%s", tt.args, out)
		}
	}
	// With --live the one live primary fills <primary's prefix>.
	code, out, _ := runIn(t, "", "--root", "../../testdata/hosts/chk-wrong-prefix", "diagnose", "--live", logs+"lab/wrong-prefix-pdump.log")
	if code != exitProblem || !strings.Contains(out, "       $ dpdk-pdump --file-prefix gazelle -- --pdump 'device_id=") || strings.Contains(out, "<primary's prefix>") ||
		strings.Contains(out, "$ gazelle-pdump") {
		t.Errorf("--live: exit %d, want the live prefix gazelle in the fix:\n%s", code, out)
	}
	// The checks resolve the log's prefix as the target and say so; --prefix
	// is the operator's.
	if !strings.Contains(out, `prefix "gazele" (from the capture tool's log)`) {
		t.Errorf("--live: the prefix check does not say the prefix came from the log:\n%s", out)
	}
	_, out, _ = runIn(t, "", "--root", "../../testdata/hosts/chk-wrong-prefix", "diagnose", "--live", "--prefix", "gazele", logs+"lab/wrong-prefix-pdump.log")
	if !strings.Contains(out, `prefix "gazele" (from --prefix)`) {
		t.Errorf("--live --prefix: the prefix check does not say the prefix came from --prefix:\n%s", out)
	}
}
