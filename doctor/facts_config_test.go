package doctor

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gzdoctor/gzdoctor/host"
)

// The live lstack's own LSTACK_CONF_PATH names the file it really read;
// the capture user's environment usually does not have it. The healthy
// fixture, with its lstack.conf moved to /opt/app and the primary's
// environ pointing there.
func TestConfigFromPrimaryEnviron(t *testing.T) {
	tree := filepath.Join(t.TempDir(), "tree")
	if out, err := exec.Command("cp", "-a", filepath.Join(fixtures, "chk-healthy-2211"), tree).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v: %s", err, out)
	}
	if err := os.MkdirAll(filepath.Join(tree, "opt/app"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(tree, "etc/gazelle/lstack.conf"), filepath.Join(tree, "opt/app/lstack.conf")); err != nil {
		t.Fatal(err)
	}
	environ := "LD_PRELOAD=/usr/lib64/liblstack.so\x00LSTACK_CONF_PATH=/opt/app/lstack.conf\x00"
	if err := os.WriteFile(filepath.Join(tree, "proc/4242/environ"), []byte(environ), 0o644); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name     string
		cfg      Config
		wantPath string
		wantFrom string
	}{
		{name: "primary's environ", cfg: Config{}, wantPath: "/opt/app/lstack.conf", wantFrom: "pid 4242"},
		{name: "--prefix of that primary", cfg: Config{Prefix: "gazelle"}, wantPath: "/opt/app/lstack.conf", wantFrom: "pid 4242"},
		{name: "--prefix of another primary", cfg: Config{Prefix: "other"}},
		{name: "--config wins", cfg: Config{ConfigPath: "/opt/app/lstack.conf"}, wantPath: "/opt/app/lstack.conf"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.Host, cfg.User, cfg.Env = host.New(tree), root, []string{}
			cf, err := NewEnv(cfg).GazelleConfig(context.Background())
			if tc.wantPath == "" {
				if err == nil {
					t.Fatalf("found %s, want none", cf.Path)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cf.Path != tc.wantPath || !strings.Contains(cf.PathFrom, tc.wantFrom) || tc.wantFrom == "" && cf.PathFrom != "" {
				t.Errorf("path %s from %q, want %s from %q", cf.Path, cf.PathFrom, tc.wantPath, tc.wantFrom)
			}
		})
	}
}

// Two lstack applications that read different configs (their own
// LSTACK_CONF_PATH) choose nothing between them, even when a default
// /etc/gazelle/lstack.conf exists and names one: that file is neither's.
// Before, their disagreement fell back to the default file, which then
// chose app1 without a word.
func TestTargetLstacksReadDifferentConfigs(t *testing.T) {
	tree := filepath.Join(t.TempDir(), "tree")
	if out, err := exec.Command("cp", "-a", filepath.Join(fixtures, "chk-two-primaries"), tree).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v: %s", err, out)
	}
	conf := func(prefix string) string {
		return `dpdk_args=["--socket-mem", "2048,0,0,0", "--file-prefix", "` + prefix + `"]` + "\nuse_ltran=0\n"
	}
	for file, body := range map[string]string{
		"opt/app1/lstack.conf":    conf("app1"),
		"opt/app2/lstack.conf":    conf("app2"),
		"etc/gazelle/lstack.conf": conf("app1"),
		"proc/5001/environ":       "LD_PRELOAD=/usr/lib64/liblstack.so\x00LSTACK_CONF_PATH=/opt/app1/lstack.conf\x00",
		"proc/5002/environ":       "LD_PRELOAD=/usr/lib64/liblstack.so\x00LSTACK_CONF_PATH=/opt/app2/lstack.conf\x00",
	} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(tree, file)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(tree, file), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name, prefix, config string
		want                 string // "" ambiguous
		why                  string
	}{
		{name: "nothing chooses", why: "several primaries are running (app1, app2)"},
		{name: "--prefix", prefix: "app2", want: "app2", why: "--prefix app2"},
		{name: "--config", config: "/opt/app2/lstack.conf", want: "app2", why: "/opt/app2/lstack.conf"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := NewEnv(Config{Host: host.New(tree), User: root, Env: []string{}, Prefix: tc.prefix, ConfigPath: tc.config})
			tg, err := env.Target(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if tg.Prefix != tc.want || !strings.Contains(tg.Why, tc.why) {
				t.Fatalf("target %q (%s), want %q (%s)", tg.Prefix, tg.Why, tc.want, tc.why)
			}
			if tc.want == "" && strings.Join(tg.CandidateNames(), ",") != "app1,app2" {
				t.Errorf("candidates %v", tg.CandidateNames())
			}
			if tc.want == "" {
				// The prefix check says why /etc/gazelle/lstack.conf,
				// which names app1, did not choose.
				rep, err := Run(context.Background(), env, Options{Only: []string{"prefix"}})
				if err != nil {
					t.Fatal(err)
				}
				r, _ := rep.Result("prefix")
				d := strings.Join(r.Details, "\n")
				if r.Status != Fail || !strings.Contains(d, "no config chooses: the running lstacks read different ones") || !strings.Contains(d, "/opt/app2/lstack.conf (pid 5002") {
					t.Errorf("prefix: %s %s, details:\n%s", r.Status, r.Finding, d)
				}
			}
		})
	}
}

// An lstack.conf in ltran mode with no ltran.conf cannot name the prefix
// (ltran owns the NIC, and its config is not here); with no primary
// running either, rte would be a guess. The prefix check fails saying so,
// where it used to pass on rte ("DPDK's default").
func TestPrefixConfigCannotNameItNothingRuns(t *testing.T) {
	tree := t.TempDir()
	if err := os.MkdirAll(filepath.Join(tree, "etc/gazelle"), 0o755); err != nil {
		t.Fatal(err)
	}
	conf := `dpdk_args=["--socket-mem", "2048,0,0,0", "--legacy-mem", "--map-perfect"]` + "\nuse_ltran=1\n"
	if err := os.WriteFile(filepath.Join(tree, "etc/gazelle/lstack.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err := Run(context.Background(), NewEnv(Config{Host: host.New(tree), User: root, Env: []string{}}), Options{Only: []string{"prefix"}})
	if err != nil {
		t.Fatal(err)
	}
	r, _ := rep.Result("prefix")
	if r.Status != Fail || !strings.Contains(r.Finding, "nothing says which prefix the capture is for") || !strings.Contains(r.Finding, "no ltran.conf was found; and no primary is running") ||
		r.Fix == nil || !strings.Contains(r.Fix.Text, "--config with the ltran.conf in use") {
		t.Fatalf("prefix: %s %s (fix %+v)", r.Status, r.Finding, r.Fix)
	}
	if rep.Target.Prefix != "" {
		t.Errorf("target prefix %q, want none", rep.Target.Prefix)
	}
}
