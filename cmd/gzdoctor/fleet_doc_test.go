package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gzdoctor/gzdoctor/doctor"
	"github.com/gzdoctor/gzdoctor/internal/testenv"
)

const examples = "../../docs/examples/"

// TestFleetDocShowsExamples: docs/fleet.md shows each example file as it
// is, so what the tests below run is what the page says.
func TestFleetDocShowsExamples(t *testing.T) {
	doc, err := os.ReadFile("../../docs/fleet.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"gzdoctor.rules.yml", "gzdoctor.fact", "zabbix_agentd.gzdoctor.conf"} {
		b, err := os.ReadFile(examples + f)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(doc), string(b)) {
			t.Errorf("docs/fleet.md does not show docs/examples/%s as it is", f)
		}
	}
}

// TestFleetAlertRules: the rules are valid (promtool check rules) and fire
// on a sick host's series, after their `for`, and not on a healthy one
// (promtool test rules).
func TestFleetAlertRules(t *testing.T) {
	promtool := testenv.Tool(t, "promtool", "Debian package prometheus")
	for _, args := range [][]string{{"check", "rules", "gzdoctor.rules.yml"}, {"test", "rules", "gzdoctor.rules.test.yml"}} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = examples
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// fleetPath puts the gzdoctor an operator installs first on PATH, for the
// examples that call it by name.
func fleetPath(t *testing.T) string {
	return filepath.Dir(testenv.Binary(t)) + string(os.PathListSeparator) + os.Getenv("PATH")
}

// TestFleetZabbix runs each UserParameter of the example through the Zabbix
// agent's own test mode (-t): the discovery rules give arrays of objects
// keyed by LLD macros, the master item gzdoctor's report, and the selection
// the dependent items' JSONPath makes finds a status there.
func TestFleetZabbix(t *testing.T) {
	agent := testenv.Tool(t, "zabbix_agentd", "Debian package zabbix-agent")
	testenv.Tool(t, "jq", "Debian package jq")
	conf, err := os.ReadFile(examples + "zabbix_agentd.gzdoctor.conf")
	if err != nil {
		t.Fatal(err)
	}
	// The test runs as root, where the example's sudo is a no-op that
	// needs a sudoers entry: drop it. AllowRoot lets the agent run as root.
	text := strings.ReplaceAll(string(conf), "sudo -n ", "")
	cfg := filepath.Join(t.TempDir(), "agent.conf")
	if err := os.WriteFile(cfg, []byte("AllowRoot=1\nLogType=console\nTimeout=30\n"+text), 0o644); err != nil {
		t.Fatal(err)
	}
	item := func(key string) string {
		cmd := exec.Command(agent, "-c", cfg, "-t", key)
		cmd.Env = append(os.Environ(), "PATH="+fleetPath(t))
		out, err := cmd.CombinedOutput()
		s := strings.TrimSpace(string(out))
		i := strings.Index(s, "[t|")
		if err != nil || i < 0 || !strings.HasSuffix(s, "]") {
			t.Fatalf("zabbix_agentd -t %s: %v\n%s", key, err, out)
		}
		return s[i+3 : len(s)-1]
	}
	var checks []map[string]string
	if err := json.Unmarshal([]byte(item("gzdoctor.checks.discovery")), &checks); err != nil || len(checks) != len(doctor.Checks()) {
		t.Fatalf("checks discovery: %v, %d entries", err, len(checks))
	}
	for i, c := range doctor.Checks() {
		if checks[i]["{#CHECK}"] != c.ID || checks[i]["{#CHK}"] != strings.Join(c.Covers, ",") || checks[i]["{#TITLE}"] == "" {
			t.Errorf("discovery entry %d: %v, want %s", i, checks[i], c.ID)
		}
	}
	var prefixes []map[string]string
	if err := json.Unmarshal([]byte(item("gzdoctor.prefixes.discovery")), &prefixes); err != nil {
		t.Fatalf("prefixes discovery: %v", err)
	}
	for _, p := range prefixes {
		if p["{#PREFIX}"] == "" || p["{#ROLE}"] == "" || len(p) != 2 {
			t.Errorf("prefix discovery entry %v", p)
		}
	}
	var report struct {
		SchemaVersion int              `json:"schema_version"`
		Host          string           `json:"host"`
		Data          doctor.AllReport `json:"data"`
	}
	if err := json.Unmarshal([]byte(item("gzdoctor.report")), &report); err != nil || report.SchemaVersion != 2 || report.Host == "" || len(report.Data.Reports) == 0 {
		t.Fatalf("report: %v %+v", err, report)
	}
	// $.data.reports[?(@.target.prefix == "{#PREFIX}")].results[?(@.id == "{#CHECK}")].status.first()
	for _, r := range report.Data.Reports {
		if r.Target.Prefix == "" {
			continue
		}
		res, ok := r.Result("pdump")
		if !ok || res.Status == "" {
			t.Errorf("prefix %s: no pdump status in the report", r.Target.Prefix)
		}
	}
}

// TestFleetAnsibleFact runs the facts.d example through Ansible's setup
// module: ansible_local.gzdoctor is gzdoctor's report.
func TestFleetAnsibleFact(t *testing.T) {
	ansible := testenv.Tool(t, "ansible", "Debian package ansible-core")
	dir := t.TempDir()
	b, err := os.ReadFile(examples + "gzdoctor.fact")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "gzdoctor.fact"), b, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(ansible, "localhost", "-c", "local", "-i", "localhost,", "-m", "ansible.builtin.setup", "-a", "fact_path="+dir+" filter=ansible_local")
	cmd.Env = append(os.Environ(), "PATH="+fleetPath(t), "ANSIBLE_LOAD_CALLBACK_PLUGINS=1", "ANSIBLE_STDOUT_CALLBACK=json",
		"ANSIBLE_LOCAL_TEMP="+t.TempDir(), "HOME="+t.TempDir())
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ansible: %v\n%s", err, out)
	}
	var res struct {
		Plays []struct {
			Tasks []struct {
				Hosts map[string]struct {
					Facts struct {
						Local struct {
							Gzdoctor struct {
								SchemaVersion int              `json:"schema_version"`
								Command       string           `json:"command"`
								Data          doctor.AllReport `json:"data"`
							} `json:"gzdoctor"`
						} `json:"ansible_local"`
					} `json:"ansible_facts"`
				} `json:"hosts"`
			} `json:"tasks"`
		} `json:"plays"`
	}
	if err := json.Unmarshal(out, &res); err != nil || len(res.Plays) == 0 || len(res.Plays[0].Tasks) == 0 {
		t.Fatalf("ansible output: %v\n%s", err, out)
	}
	g := res.Plays[0].Tasks[0].Hosts["localhost"].Facts.Local.Gzdoctor
	if g.SchemaVersion != 2 || g.Command != "check" || len(g.Data.Reports) == 0 || g.Data.Summary.Verdict == "" {
		t.Errorf("ansible_local.gzdoctor = %+v\n%s", g, out)
	}
}

// TestFleetTextfileRunsHaveTimeout: every unattended textfile run (the
// RPM's service, the fleet page, the README) gives --timeout: the default
// 1 s, meant for a terminal, runs out on a loaded host and turns healthy
// primaries' gzdoctor_capture_ready to 0.
func TestFleetTextfileRunsHaveTimeout(t *testing.T) {
	n := 0
	for _, f := range []string{"../../packaging/gzdoctor-textfile.service", "../../docs/fleet.md", "../../README.md"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			if strings.Contains(line, "check --all-prefixes") && strings.Contains(line, "--textfile-dir /") {
				n++
				if !strings.Contains(line, "--timeout 30s") {
					t.Errorf("%s: no --timeout 30s: %s", f, line)
				}
			}
		}
	}
	if n < 4 {
		t.Errorf("found %d textfile runs, want the service's, fleet.md's two and the README's", n)
	}
}
