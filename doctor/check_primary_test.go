package doctor

import (
	"context"
	"strings"
	"testing"

	"github.com/gzdoctor/gzdoctor/host"
)

// A telemetry socket that greets and then answers nothing (a stuck
// primary; reproduced on the lab with a listener that only greets): the
// primary check must not report "0 ports" as a pass.
func TestPrimaryTelemetryPartlyAnswered(t *testing.T) {
	bound := true
	dir := &host.Prefix{Name: "gz", Dir: "/var/run/dpdk/gz", Base: "/var/run/dpdk", State: "live", MPSocketBound: &bound,
		Files: []host.RuntimeFile{{Name: "config"}, {Name: "mp_socket"}}}
	for _, tc := range []struct {
		name    string
		errs    map[string]string
		ports   []host.EthPort
		status  Status
		says    string
		refuses string
	}{
		{name: "all answered", ports: []host.EthPort{{ID: 0, Name: "net_ring0"}}, status: OK, says: "1 port (0:net_ring0)"},
		{name: "ports unanswered", errs: map[string]string{"ports": "sending /ethdev/list: no answer", "memzones": "no answer"},
			status: Warn, says: "did not answer for memzones, ports", refuses: "0 ports"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := NewEnv(Config{Host: host.New(t.TempDir()), User: root, Env: []string{}})
			env.target.get(func() (*TargetPrefix, error) { return &TargetPrefix{Name: "gz", Source: SourceFlag, Dir: dir}, nil })
			env.primary.get(func() (*host.Process, error) {
				return &host.Process{PID: 4242, Name: "lab-primary", Exe: "/usr/bin/lab-primary"}, nil
			})
			env.telemetry.get(func() (*host.TelemetryReport, error) {
				return &host.TelemetryReport{DPDKVersion: "DPDK 22.11.11", Ports: tc.ports, Errors: tc.errs}, nil
			})
			r := checkPrimary(context.Background(), env)
			if r.Status != tc.status || !strings.Contains(r.Finding, tc.says) {
				t.Errorf("got %s %q, want %s with %q", r.Status, r.Finding, tc.status, tc.says)
			}
			if tc.refuses != "" && strings.Contains(r.Finding, tc.refuses) {
				t.Errorf("finding %q says %q", r.Finding, tc.refuses)
			}
		})
	}
}
