package doctor

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gzdoctor/gzdoctor/host"
	"github.com/gzdoctor/gzdoctor/internal/junit"
	"github.com/gzdoctor/gzdoctor/internal/testenv"
	"github.com/gzdoctor/gzdoctor/ui"
	dto "github.com/prometheus/client_model/go"
)

func fixtureConfig(tree string) Config {
	return Config{User: root, Host: host.New(filepath.Join(fixtures, tree)), Env: []string{"PATH=/usr/bin:/bin"}}
}

// TestRunAllFixture: a host with two primaries gets one report per prefix,
// each as if that prefix had been named, and the machine's facts once.
func TestRunAllFixture(t *testing.T) {
	all, err := RunAll(context.Background(), fixtureConfig("chk-two-primaries"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(all.Prefixes, ","); got != "app1,app2" || len(all.Reports) != 2 {
		t.Fatalf("prefixes %q, %d reports", got, len(all.Reports))
	}
	for i, want := range []string{"app1", "app2"} {
		r := all.Reports[i]
		if r.Target.Prefix != want || r.Target.PrimaryPID != 5001+i || r.Machine != nil {
			t.Errorf("report %d: target %+v, machine %v", i, r.Target, r.Machine)
		}
		if res := mustResult(t, r, "prefix"); res.Status != OK || !strings.Contains(res.Finding, "--all-prefixes") {
			t.Errorf("report %d prefix: %s %s", i, res.Status, res.Finding)
		}
	}
	if all.Machine == nil || all.Machine.StalePrefixes == nil || all.Summary.Verdict != VerdictOK || all.Summary.Verdicts[VerdictOK] != 2 {
		t.Errorf("machine %+v, summary %+v", all.Machine, all.Summary)
	}

	// The same host without --all-prefixes: the prefix check fails and
	// offers --all-prefixes as the command it is.
	rep, err := Run(context.Background(), NewEnv(fixtureConfig("chk-two-primaries")), Options{})
	if err != nil {
		t.Fatal(err)
	}
	res := mustResult(t, rep, "prefix")
	want := "gzdoctor --root ../testdata/hosts/chk-two-primaries check --all-prefixes"
	if res.Status != Fail || res.Fix == nil || !strings.Contains(strings.Join(res.Fix.Commands, "\n"), want) {
		t.Errorf("prefix without --all-prefixes: %s %s %+v; want a fix with %q", res.Status, res.Finding, res.Fix, want)
	}

	if _, err := RunAll(context.Background(), Config{Prefix: "app1"}, Options{}); err == nil {
		t.Error("RunAll took a prefix")
	}
	if _, err := RunAll(context.Background(), fixtureConfig("chk-two-primaries"), Options{Only: []string{"nope"}}); err == nil {
		t.Error("RunAll took an unknown check")
	}
}

// With no primary running, --all-prefixes still reports: the default
// target's checks say nothing runs, and that fails.
func TestRunAllNoPrimary(t *testing.T) {
	all, err := RunAll(context.Background(), fixtureConfig("chk-stale"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all.Prefixes) != 0 || len(all.Reports) != 1 || !all.Failed() || all.Summary.Verdict != VerdictFail {
		t.Fatalf("prefixes %v, %d reports, summary %+v", all.Prefixes, len(all.Reports), all.Summary)
	}
	m := all.Machine
	if len(m.StalePrefixes) != 1 || m.StalePrefixes[0] != "/var/run/dpdk/gazelle" || *m.StaleHugepageFiles != 4 {
		t.Errorf("machine %+v", m)
	}
}

func TestAllReportTextGolden(t *testing.T) {
	all, err := RunAll(context.Background(), fixtureConfig("chk-two-primaries"), Options{Only: []string{"prefix", "primary", "pdump"}})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := all.RenderText(&b, ui.Style{}, false); err != nil {
		t.Fatal(err)
	}
	golden(t, "all-prefixes.txt", b.Bytes())
}

// promtool is the oracle for the exposition format: Prometheus' own linter,
// which also rejects what the text format allows but Prometheus advises
// against (a gauge named _total, missing HELP).
func promtoolCheck(t *testing.T, exposition []byte) {
	t.Helper()
	promtool := testenv.Tool(t, "promtool", "Debian package prometheus")
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(exposition)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s\n%s", err, out, exposition)
	}
}

func TestMetricsGolden(t *testing.T) {
	all, err := RunAll(context.Background(), fixtureConfig("chk-two-primaries"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	all.Duration = 1500 * time.Millisecond
	stale, err := Run(context.Background(), NewEnv(fixtureConfig("chk-stale")), Options{Machine: true})
	if err != nil {
		t.Fatal(err)
	}
	stale.Duration = 250 * time.Millisecond
	for name, res := range map[string]ui.MetricsRenderer{"all-prefixes.prom": all, "stale.prom": stale} {
		t.Run(name, func(t *testing.T) {
			reg, err := ui.Metrics(res, testMeta)
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			if err := ui.WriteMetrics(&b, reg); err != nil {
				t.Fatal(err)
			}
			golden(t, name, b.Bytes())
			promtoolCheck(t, b.Bytes())
		})
	}
}

// TestMetricsSeries: every check of every prefix has one series per status
// and exactly one of them is 1; label values are IDs, never free text.
func TestMetricsSeries(t *testing.T) {
	all, err := RunAll(context.Background(), fixtureConfig("chk-two-primaries"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	all.Reports[1].Results[0].Status = Fail // runtime-dir of app2
	reg, err := ui.Metrics(all, testMeta)
	if err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	type key struct{ check, prefix string }
	series, ones := map[key]int{}, map[key]string{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() != "revision" && l.GetName() != "version" && strings.ContainsAny(l.GetValue(), " :()/") {
					t.Errorf("%s: label %s=%q is free text", mf.GetName(), l.GetName(), l.GetValue())
				}
			}
			if mf.GetName() != "gzdoctor_check_status" {
				continue
			}
			k := key{label(m, "check"), label(m, "prefix")}
			series[k]++
			if m.GetGauge().GetValue() == 1 {
				ones[k] += label(m, "status")
			}
		}
	}
	if len(series) != 2*len(Checks()) {
		t.Errorf("%d check/prefix pairs, want %d", len(series), 2*len(Checks()))
	}
	for k, n := range series {
		if n != 5 || len(ones[k]) == 0 || strings.Contains(ones[k], "okok") {
			t.Errorf("%v: %d series, statuses at 1: %q", k, n, ones[k])
		}
	}
	if got := ones[key{"runtime-dir", "app2"}]; got != "fail" {
		t.Errorf("runtime-dir app2 is %q, want fail", got)
	}
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

func TestFailsOn(t *testing.T) {
	rep := func(ss ...Status) Report {
		var rs []Result
		for _, s := range ss {
			rs = append(rs, Result{Status: s})
		}
		return Report{Results: rs, Summary: summarize(rs, true)}
	}
	tests := []struct {
		rep               Report
		warn, fail, never bool
	}{
		{rep(OK, Skip), false, false, false},
		{rep(OK, Warn), true, false, false},
		{rep(OK, Fail), true, true, false},
		{rep(OK, Error), true, true, false},
		{rep(), false, false, false},
	}
	for i, tt := range tests {
		for policy, want := range map[string]bool{FailOnWarn: tt.warn, FailOnFail: tt.fail, FailOnNever: tt.never} {
			if got := tt.rep.FailsOn(policy); got != want {
				t.Errorf("%d %s: %v, want %v", i, policy, got, want)
			}
			all := AllReport{Reports: []Report{rep(OK), tt.rep}}
			if got := all.FailsOn(policy); got != want {
				t.Errorf("%d %s over all prefixes: %v, want %v", i, policy, got, want)
			}
		}
	}
	for _, bad := range []string{"", "warning", "error"} {
		if _, err := ParseFailOn(bad); err == nil {
			t.Errorf("--fail-on %q accepted", bad)
		}
	}
}

// TestReportJUnit: the report as JUnit, valid for the JUnit schema
// (xmllint), the fix under each failure, skips and errors counted.
func TestReportJUnit(t *testing.T) {
	rep := sampleReport()
	rep.Target.Prefix = "gazelle"
	suite := rep.JUnit("lab-host", testMeta.Time, FailOnFail)
	path := filepath.Join(t.TempDir(), "check.xml")
	if err := junit.WriteFile(path, "gzdoctor check", suite); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "report.junit.xml", b)
	xmllint := testenv.Tool(t, "xmllint", "Debian package libxml2-utils")
	if out, err := exec.Command(xmllint, "--noout", "--schema", "../internal/junit/testdata/junit.xsd", path).CombinedOutput(); err != nil {
		t.Errorf("xmllint: %v\n%s", err, out)
	}
	s := string(b)
	for _, want := range []string{
		`<testsuite name="gzdoctor check --prefix gazelle" tests="5" failures="1" errors="1" skipped="1"`,
		`hostname="lab-host"`, `classname="lab-host/check/gazelle"`,
		"gazelle-pdump --file-prefix gazelle", // the fix's command, in the failure's body
	} {
		if !strings.Contains(s, want) {
			t.Errorf("JUnit lacks %q:\n%s", want, s)
		}
	}
	// --fail-on warn: the warning is a failure in the report too.
	if got := rep.JUnit("h", testMeta.Time, FailOnWarn); got.Cases[2].Failure == "" {
		t.Errorf("warn under --fail-on warn is not a failure: %+v", got.Cases[2])
	}
}

// TestMetricsTimedOutIsError: a check that runs out of --timeout is
// status="error" in gzdoctor_check_status, never "fail"; build_match says
// nothing (no verdict), and capture_ready is 0 as for any errored check,
// which is why unattended runs give an honest --timeout (docs/fleet.md).
func TestMetricsTimedOutIsError(t *testing.T) {
	hang := make(chan struct{})
	defer close(hang)
	list := []Check{
		{ID: "primary", Run: fixed(ok("runs"))},
		{ID: "build-match", Run: func(context.Context, *Env) Result { <-hang; return ok("never") }},
	}
	rep, err := Run(context.Background(), testEnv(t), Options{Checks: list, Timeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := ui.Metrics(rep, testMeta)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := ui.WriteMetrics(&b, reg); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{`check="build-match",chk="",prefix="",status="error"} 1`, `check="build-match",chk="",prefix="",status="fail"} 0`, `gzdoctor_capture_ready{prefix=""} 0`} {
		if !strings.Contains(out, want) {
			t.Errorf("lacks %s:\n%s", want, out)
		}
	}
	if strings.Contains(out, "gzdoctor_build_match{") {
		t.Errorf("a timed-out build-match has a build_match series:\n%s", out)
	}
}
