package doctor

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/gzdoctor/gzdoctor/host"
	"github.com/gzdoctor/gzdoctor/host/target"
	"github.com/gzdoctor/gzdoctor/host/telemetry"
)

// A telemetry socket that greets and then answers nothing (a stuck
// primary; reproduced on the lab with a listener that only greets): the
// primary check must not report "0 ports" as a pass, and fails: a capture
// tool's requests would hang too. A stopped or dead lock holder fails
// before telemetry is asked.
func TestPrimaryTelemetryPartlyAnswered(t *testing.T) {
	bound := true
	dir := &host.Prefix{Name: "gz", Dir: "/var/run/dpdk/gz", Base: "/var/run/dpdk", State: "live", MPSocketBound: &bound,
		Files: []host.RuntimeFile{{Name: "config"}, {Name: "mp_socket"}}, Telemetry: []string{"/var/run/dpdk/gz/dpdk_telemetry.v2"}}
	noAnswer := fmt.Errorf("telemetry /var/run/dpdk/gz/dpdk_telemetry.v2: reading the greeting: no answer: %w", context.DeadlineExceeded)
	for _, tc := range []struct {
		name       string
		state      string
		errs       map[string]string
		unanswered []string
		telErr     error
		ports      []telemetry.EthPort
		status     Status
		says       string
		fixSays    string
		refuses    string
		version    string
		detail     string // in the details
	}{
		{name: "all answered", ports: []telemetry.EthPort{{ID: 0, Name: "net_ring0"}}, status: OK, says: "1 port (0:net_ring0)"},
		{name: "greeted, then silent", errs: map[string]string{"eal_params": "no answer", "ports": "sending /ethdev/list: no answer", "memzones": "no answer"},
			unanswered: []string{"eal_params", "memzones", "ports"},
			status:     Fail, says: "telemetry stopped answering (eal_params, memzones, ports)", fixSays: "check --prefix gz --timeout 5s", refuses: "0 ports"},
		{name: "answered, then out of time (slow, not stuck)", ports: []telemetry.EthPort{{ID: 0, Name: "net_ring0"}}, errs: map[string]string{"memzones": "no answer"},
			unanswered: []string{"memzones"}, status: Warn, says: "answered, but too slowly", fixSays: "--timeout 5s"},
		{name: "no greeting", telErr: noAnswer, status: Fail, says: "did not answer in time", fixSays: "cat /proc/4242/wchan"},
		{name: "refused commands (older DPDK)", ports: []telemetry.EthPort{{ID: 0, Name: "net_ring0"}}, errs: map[string]string{"memzones": "null reply"},
			status: Warn, says: "telemetry refused memzones"},
		{name: "20.11 has no memzone list", version: "20.11.10", ports: []telemetry.EthPort{{ID: 0, Name: "net_null0", NameFrom: host.PortNameFromEAL}},
			errs: map[string]string{"memzones": "null reply"}, status: OK, says: "1 port (0:net_null0)", refuses: "refused",
			detail: "DPDK 20.11.10 has no /eal/memzone_list (added in 21.11)"},
		{name: "20.11, names unknown", version: "20.11.10", ports: []telemetry.EthPort{{ID: 0}}, status: OK, says: "1 port (0:?)",
			detail: "port names unknown: telemetry lists port ids only"},
		{name: "stopped", state: "T", telErr: noAnswer, status: Fail, says: "is stopped (state T", fixSays: "kill -CONT 4242"},
		{name: "zombie", state: "Z", status: Fail, says: "has exited (state Z, zombie)", refuses: "kill"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := NewEnv(Config{Host: host.New(t.TempDir()), User: root, Env: []string{}})
			env.target.get(func() (*target.Target, error) {
				return &target.Target{Prefix: "gz", Via: target.ViaFlag, Dir: dir}, nil
			})
			env.primary.get(func() (*host.Process, error) {
				return &host.Process{PID: 4242, PPID: 1, Name: "lab-primary", Exe: "/usr/bin/lab-primary", State: tc.state}, nil
			})
			env.telemetry.get(func() (*host.TelemetryReport, error) {
				if tc.telErr != nil {
					return nil, tc.telErr
				}
				v := tc.version
				if v == "" {
					v = "DPDK 22.11.11"
				}
				return &host.TelemetryReport{DPDKVersion: v, Ports: tc.ports, Errors: tc.errs, Unanswered: tc.unanswered}, nil
			})
			r := checkPrimary(context.Background(), env)
			if r.Status != tc.status || !strings.Contains(r.Finding, tc.says) {
				t.Errorf("got %s %q, want %s with %q", r.Status, r.Finding, tc.status, tc.says)
			}
			if d := strings.Join(r.Details, "\n"); !strings.Contains(d, tc.detail) {
				t.Errorf("details lack %q:\n%s", tc.detail, d)
			}
			fixText := ""
			if r.Fix != nil {
				fixText = r.Fix.Text + "\n" + strings.Join(r.Fix.Commands, "\n")
			}
			if !strings.Contains(fixText, tc.fixSays) {
				t.Errorf("fix %q lacks %q", fixText, tc.fixSays)
			}
			for _, bad := range []string{"rm ", "restart the primary"} {
				if strings.Contains(fixText, bad) {
					t.Errorf("fix for a primary that holds its prefix says %q: %q", bad, fixText)
				}
			}
			if tc.refuses != "" && strings.Contains(r.Finding, tc.refuses) {
				t.Errorf("finding %q says %q", r.Finding, tc.refuses)
			}
		})
	}
}
