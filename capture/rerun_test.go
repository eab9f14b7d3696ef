package capture

import (
	"github.com/gzdoctor/gzdoctor/host/telemetry"
	"github.com/gzdoctor/gzdoctor/internal/shquote"
	"testing"

	"github.com/gzdoctor/gzdoctor/runbooks"
)

func TestRerunCommand(t *testing.T) {
	tests := []struct {
		argv []string
		t    runbooks.CaptureTarget
		want string
	}{
		{[]string{"gzdoctor", "capture", "--prefix", "gazele", "-i", "net_ring0", "-w", "/tmp/a.pcapng"},
			runbooks.CaptureTarget{Prefix: "gazelle", Device: "net_ring0", Queue: "*"},
			"gzdoctor capture --prefix gazelle -i net_ring0 -w /tmp/a.pcapng"},
		{[]string{"gzdoctor", "capture", "--prefix=gazelle", "--device=net_ring0", "--queue", "5", "-c", "10"},
			runbooks.CaptureTarget{Prefix: "gazelle", Device: "net_ring0", Queue: "*"},
			"gzdoctor capture --prefix gazelle --device net_ring0 -c 10"},
		{[]string{"gzdoctor", "-v", "capture", "--port", "3", "-w", "x.pcap"},
			runbooks.CaptureTarget{Prefix: "gazelle", Device: "net_ring0"},
			"gzdoctor -v capture --prefix gazelle -i net_ring0 -w x.pcap"},
		// <your …>: the log does not show it, the operator's value stands;
		// <the primary's device>: theirs may be the mistake, so it is asked.
		{[]string{"gzdoctor", "capture", "-i", "net_ring0", "--queue", "5"},
			runbooks.CaptureTarget{Prefix: "gazelle", Device: "<your device>", Queue: "*"},
			"gzdoctor capture --prefix gazelle -i net_ring0"},
		{[]string{"gzdoctor", "capture", "-i", "net_null0"},
			runbooks.CaptureTarget{Prefix: "gazelle", Device: "<the primary's device>", Queue: "*"},
			"gzdoctor capture --prefix gazelle -i '<the primary'\\''s device>'"},
		{[]string{"gzdoctor", "capture", "-w", "x.pcap"},
			runbooks.CaptureTarget{Device: "<your device>"},
			"gzdoctor capture -i '<your device>' -w x.pcap"},
		{nil, runbooks.CaptureTarget{Prefix: "gazelle"}, "gzdoctor capture --prefix gazelle"},
		// Every spelling pflag takes is the operator's flag (one parser
		// with replaceDevice): replaced, not kept beside an added -i.
		{[]string{"gzdoctor", "capture", "-inet_bogus", "-w", "x.pcap"},
			runbooks.CaptureTarget{Device: "net_ring0"},
			"gzdoctor capture -i net_ring0 -w x.pcap"},
		{[]string{"gzdoctor", "capture", "-i=net_bogus", "--port=2"},
			runbooks.CaptureTarget{Device: "net_ring0"},
			"gzdoctor capture -i net_ring0"},
	}
	for _, tt := range tests {
		if got := rerunCommand(tt.argv, tt.t); got != tt.want {
			t.Errorf("%q %+v:\n got %s\nwant %s", tt.argv, tt.t, got, tt.want)
		}
	}
}

func TestReplaceDevice(t *testing.T) {
	argv := func(s ...string) []string { return append([]string{"gzdoctor", "capture", "--prefix", "p"}, s...) }
	tests := []struct {
		name     string
		argv     []string
		old, new string
		want     string
	}{
		{"replace the bad one, keep the good", argv("-i", "net_ring0", "-i", "net_bogus", "-c", "10"), "net_bogus", "net_ring1",
			"gzdoctor capture --prefix p -i net_ring0 -i net_ring1 -c 10"},
		{"drop the bad one", argv("-i", "net_ring0", "-i", "net_bogus", "-w", "/tmp/x y.pcap"), "net_bogus", "",
			"gzdoctor capture --prefix p -i net_ring0 -w '/tmp/x y.pcap'"},
		{"--device=", argv("--device=net_bogus", "-i", "net_ring0"), "net_bogus", "net_ring1",
			"gzdoctor capture --prefix p --device net_ring1 -i net_ring0"},
		{"--device", argv("--device", "net_bogus"), "net_bogus", "net_ring0",
			"gzdoctor capture --prefix p --device net_ring0"},
		{"-iX", argv("-inet_bogus"), "net_bogus", "net_ring0", "gzdoctor capture --prefix p -i net_ring0"},
		{"-i=X", argv("-i=net_bogus"), "net_bogus", "", "gzdoctor capture --prefix p"},
		{"a value equal to the device under another flag stays", argv("-w", "net_bogus", "-i", "net_bogus"), "net_bogus", "net_ring0",
			"gzdoctor capture --prefix p -w net_bogus -i net_ring0"},
		{"the same device twice: only the first", argv("-i", "net_bogus", "-i", "net_bogus"), "net_bogus", "",
			"gzdoctor capture --prefix p -i net_bogus"},
		{"not on the line (from --port or the config)", argv("--port", "1"), "net_ring1", "net_ring0", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ""
			if fixed := replaceDevice(tt.argv, tt.old, tt.new); fixed != nil {
				got = shquote.Join(fixed)
			}
			if got != tt.want {
				t.Errorf("replaceDevice(%q, %q, %q)\n got %s\nwant %s", tt.argv, tt.old, tt.new, got, tt.want)
			}
		})
	}
}

// A multi-port capture one of whose devices the primary lacks: the
// finding is about that device (not the first -i its command names), and
// the fix changes only its -i.
func TestRerunLacking(t *testing.T) {
	ports := func(names ...string) []telemetry.EthPort {
		var out []telemetry.EthPort
		for i, n := range names {
			out = append(out, telemetry.EthPort{ID: i, Name: n})
		}
		return out
	}
	plan := func(tel []telemetry.EthPort, devs ...string) *Plan {
		p := &Plan{target: &capTarget{ports: tel}}
		for _, d := range devs {
			p.Ports = append(p.Ports, PlanPort{Device: d, Port: -1})
		}
		return p
	}
	argv := []string{"gzdoctor", "capture", "--prefix", "p", "-i", "net_ring0", "-i", "net_bogus", "-c", "10"}
	tests := []struct {
		name   string
		p      *Plan
		lacked string
		t      runbooks.CaptureTarget
		want   string
	}{
		{"the fix's device is one the capture has: the lacked -i goes", plan(ports("net_ring0"), "net_ring0", "net_bogus"), "net_bogus",
			runbooks.CaptureTarget{Prefix: "p", Device: "net_ring0", Queue: "*"},
			"gzdoctor capture --prefix p -i net_ring0 -c 10"},
		{"another device: only the lacked -i changes", plan(ports("net_ring0", "net_ring1"), "net_ring0", "net_bogus"), "net_bogus",
			runbooks.CaptureTarget{Prefix: "p", Device: "net_ring1"},
			"gzdoctor capture --prefix p -i net_ring0 -i net_ring1 -c 10"},
		{"asked of the operator: in the lacked -i's place", plan(ports("net_ring0", "net_ring1"), "net_ring0", "net_bogus"), "net_bogus",
			runbooks.CaptureTarget{Prefix: "p", Device: "<the primary's device>"},
			"gzdoctor capture --prefix p -i net_ring0 -i '<the primary'\\''s device>' -c 10"},
		{"two lacked: not known which, the old rule", plan(ports("net_ring1"), "net_ring0", "net_bogus"), "",
			runbooks.CaptureTarget{Prefix: "p", Device: "net_ring1"},
			"gzdoctor capture --prefix p -i net_ring1 -c 10"},
		{"unnamed ports (20.11): not known", plan([]telemetry.EthPort{{ID: 0}}, "net_ring0", "net_bogus"), "",
			runbooks.CaptureTarget{Prefix: "p", Device: "net_ring0"},
			"gzdoctor capture --prefix p -i net_ring0 -c 10"},
		{"no telemetry: not known", plan(nil, "net_ring0", "net_bogus"), "",
			runbooks.CaptureTarget{Prefix: "p"},
			"gzdoctor capture --prefix p -i net_ring0 -i net_bogus -c 10"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lacked := lackedDevice(tt.p)
			if lacked != tt.lacked {
				t.Fatalf("lackedDevice = %q, want %q", lacked, tt.lacked)
			}
			if got := rerunLacking(argv, tt.t, lacked, tt.p.Ports); got != tt.want {
				t.Errorf("\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}
