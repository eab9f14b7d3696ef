package capture

import (
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
	}
	for _, tt := range tests {
		if got := rerunCommand(tt.argv, tt.t); got != tt.want {
			t.Errorf("%q %+v:\n got %s\nwant %s", tt.argv, tt.t, got, tt.want)
		}
	}
}
