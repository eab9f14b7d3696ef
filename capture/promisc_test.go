package capture

import (
	"slices"
	"testing"

	"github.com/gzdoctor/gzdoctor/host/telemetry"
)

// dumpcap gets -p unless --promisc, and with --promisc still gets it on a
// port already promiscuous: dpdk-dumpcap would turn that one off at exit.
func TestDumpcapPromiscArgs(t *testing.T) {
	for _, tc := range []struct {
		name    string
		known   bool
		on      bool
		promisc bool
		wantP   bool
	}{
		{"left alone, on", true, true, false, true},
		{"left alone, off", true, false, false, true},
		{"asked, off: dumpcap turns it on and back off", true, false, true, false},
		{"asked, already on: -p, or dumpcap's exit turns it off", true, true, true, true},
		{"asked, unknown", false, false, true, false},
		{"left alone, unknown", false, false, false, true},
	} {
		tg := &capTarget{prefix: "gz"}
		if tc.known {
			tg.ports = []telemetry.EthPort{{ID: 0, Name: "net_ring0", Promiscuous: tc.on}}
		}
		p := &Plan{Prefix: "gz", Backend: BackendDumpcap, Device: "net_ring0", Port: 0, Queue: "*", target: tg,
			Temps: []Temp{{Dir: dirBoth, Path: "/c/all.pcapng"}}}
		o := &Options{Port: -1, Queue: "*", Promisc: tc.promisc}
		if err := buildArgs(o, p); err != nil {
			t.Fatal(err)
		}
		if got := slices.Contains(p.Args, "-p"); got != tc.wantP {
			t.Errorf("%s: args %q, want -p %v", tc.name, p.Args, tc.wantP)
		}
	}
	p := &Plan{Prefix: "gz", Backend: BackendPdump, Device: "net_ring0", Port: 0, Queue: "*", Temps: []Temp{{Dir: dirRx, Path: "/c/rx.pcap"}}}
	if err := buildArgs(&Options{Port: -1, Queue: "*", Promisc: true}, p); err == nil {
		t.Error("--promisc with pdump accepted")
	}
}
