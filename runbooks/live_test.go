package runbooks

import (
	"strings"
	"testing"
)

// TestLivePortsPickAlternative: the tool's lines for a queue= past the
// port's queues are those of a wrong device_id (lab, 22.11); the
// primary's ports tell them apart, and only when they prove it.
func TestLivePortsPickAlternative(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	tool := func(arg string) string {
		return "$ dpdk-pdump --file-prefix gz -- --pdump '" + arg + ",rx-dev=/tmp/rx.pcap'\n" +
			"EAL: Multi-process socket /var/run/dpdk/gz/mp_socket_3438_bac7d844855\n" +
			"pdump_prepare_client_request(): client request for pdump enable/disable failed\n" +
			"EAL: Error - exiting with code: 1\n  Cause: Invalid argument\n"
	}
	one := []LivePort{{ID: 0, Name: "net_ring0", RxQueues: 1, TxQueues: 1}}
	for _, tc := range []struct {
		name     string
		log      string
		ports    []LivePort
		want     string
		promoted bool
		says     string
	}{
		{"queue past the port's queues", tool("device_id=net_ring0,queue=5"), one, "pdump-queue-invalid", true, "(1 rx and 1 tx queue)"},
		{"by port=", tool("port=0,queue=1"), one, "pdump-queue-invalid", true, "queue 1 of port 0"},
		{"tx queues fewer than rx", tool("device_id=net_ring0,queue=2"), []LivePort{{ID: 0, Name: "net_ring0", RxQueues: 4, TxQueues: 2}}, "pdump-queue-invalid", true, "4 rx and 2 tx queues"},
		{"queue in range", tool("device_id=net_ring0,queue=0"), one, "pdump-device-not-in-primary", false, ""},
		{"every queue", tool("device_id=net_ring0,queue=*"), one, "pdump-device-not-in-primary", false, ""},
		{"device the primary lacks", tool("device_id=net_bogus,queue=5"), one, "pdump-device-not-in-primary", false, ""},
		{"ports unknown", tool("device_id=net_ring0,queue=5"), nil, "pdump-device-not-in-primary", false, ""},
		{"port without queues", tool("device_id=net_ring0,queue=0"), []LivePort{{ID: 0, Name: "net_ring0"}}, "pdump-port-not-configured", true, ""},
		// The primary's own line names the cause: reported once, as the
		// log shows it.
		{"primary's log too", tool("device_id=net_ring0,queue=5") + "PDUMP: failed to add rx callback, errno=22\n", one, "pdump-queue-invalid", false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := c.NewMatcher()
			m.SetContext(Context{Ports: tc.ports})
			for _, l := range strings.Split(tc.log, "\n") {
				m.Feed(l)
			}
			fs := m.Findings()
			if len(fs) == 0 {
				t.Fatal("no finding")
			}
			f := fs[0]
			if f.ID != tc.want || (f.Promoted != nil) != tc.promoted {
				t.Fatalf("first finding %s (promoted %+v), want %s (promoted %v)", f.ID, f.Promoted, tc.want, tc.promoted)
			}
			n := 0
			for _, g := range fs {
				if g.ID == tc.want {
					n++
				}
			}
			if n != 1 {
				t.Errorf("%s reported %d times", tc.want, n)
			}
			if tc.promoted && f.Promoted.From != "pdump-device-not-in-primary" {
				t.Errorf("promoted from %q", f.Promoted.From)
			}
			if !strings.Contains(f.Cause, tc.says) {
				t.Errorf("cause %q lacks %q", f.Cause, tc.says)
			}
			for _, st := range f.Fix {
				// The live facts fill every value the fix needs.
				if tc.promoted && strings.Contains(st.Command, "<") {
					t.Errorf("fix holds a placeholder: %s", st.Command)
				}
			}
		})
	}
}
