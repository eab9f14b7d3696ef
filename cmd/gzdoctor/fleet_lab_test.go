package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gzdoctor/gzdoctor/doctor"
	"github.com/gzdoctor/gzdoctor/internal/lab"
	"github.com/gzdoctor/gzdoctor/internal/testenv"
)

// TestCheckAllPrefixesLab: two real primaries, the way an lstack host with
// two applications runs (one an executable primary, one liblstack.so
// preloaded into an application). check without --prefix fails on the
// ambiguity and offers --all-prefixes; --all-prefixes reports each, with its
// role, in JSON and in the Prometheus form. Other tests' primaries may run
// on this machine too: the test looks for its own two among the reports.
func TestCheckAllPrefixesLab(t *testing.T) {
	exe := lab.StartT(t, lab.Config{})
	lstack := lab.StartT(t, lab.Config{Kind: lab.KindLstack})

	// The lstack's LSTACK_CONF_PATH would choose its prefix (as it should
	// on a host whose config names one): a config that names none leaves
	// the choice open, whatever else runs on this machine.
	conf := filepath.Join(t.TempDir(), "lstack.conf")
	if err := os.WriteFile(conf, []byte("# names no --file-prefix\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, _ := run(t, "-o", "json", "--config", conf, "check", "--only", "prefix")
	if code != exitProblem || !strings.Contains(out, "several primaries are running") || !strings.Contains(out, "gzdoctor check --all-prefixes") {
		t.Errorf("check without --prefix on two primaries: exit %d\n%s", code, out)
	}

	// A generous limit: the machine is shared, and this test is about
	// which prefixes are reported, not about the timeout.
	code, out, errOut := run(t, "-o", "json", "check", "--all-prefixes", "--timeout", "10s", "--skip", "build-match")
	var env struct {
		Data doctor.AllReport `json:"data"`
	}
	if err := json.Unmarshal([]byte(out), &env); err != nil {
		t.Fatalf("exit %d, not JSON (%v):\n%s\n%s", code, err, out, errOut)
	}
	roles := map[string]string{}
	for _, r := range env.Data.Reports {
		res, _ := r.Result("primary")
		if r.Target.Prefix == exe.Prefix || r.Target.Prefix == lstack.Prefix {
			roles[r.Target.Prefix] = r.Target.PrimaryRole
			if res.Status != doctor.OK || r.Target.PrimaryPID == 0 {
				t.Errorf("%s: primary %s %s (pid %d)", r.Target.Prefix, res.Status, res.Finding, r.Target.PrimaryPID)
			}
		}
	}
	if roles[exe.Prefix] != doctor.RoleDPDK || roles[lstack.Prefix] != doctor.RoleLstack {
		t.Errorf("roles %v; want %s dpdk, %s lstack (prefixes %v)", roles, exe.Prefix, lstack.Prefix, env.Data.Prefixes)
	}
	if env.Data.Machine == nil || len(env.Data.Machine.Hugepages) == 0 {
		t.Errorf("machine %+v", env.Data.Machine)
	}

	code, prom, errOut := run(t, "-o", "prometheus", "check", "--all-prefixes", "--timeout", "10s", "--skip", "build-match", "--exit-zero")
	if code != exitOK {
		t.Fatalf("-o prometheus --exit-zero: exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		`gzdoctor_primary_up{prefix="` + exe.Prefix + `",role="dpdk"} 1`,
		`gzdoctor_primary_up{prefix="` + lstack.Prefix + `",role="lstack"} 1`,
		`gzdoctor_check_status{check="pdump",chk="CHK-11",prefix="` + lstack.Prefix + `",status="ok"} 1`,
		`gzdoctor_hugepages_free_pages{node="0",size_kb="2048"} `,
	} {
		if !strings.Contains(prom, want) {
			t.Errorf("-o prometheus lacks %s:\n%s", want, prom)
		}
	}
	promtool := testenv.Tool(t, "promtool", "Debian package prometheus")
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader([]byte(prom))
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, b)
	}
}
