package runbooks

import (
	"context"
	"strings"
	"testing"
)

// A value the failing line itself names beats one an evidence line
// happens to show earlier: the evidence is context, the trigger is the
// failure.
func TestTriggerValuesBeatEvidence(t *testing.T) {
	entries := []Entry{{
		ID: "bad-name", Title: "t", Severity: "fatal", Side: "tool", Phase: "tool", Cause: "no port {{.device}}",
		Fix:      []Step{{Text: "f"}},
		Patterns: []Pattern{{Regex: `asked for (?P<device>\S+) and failed`}},
		Evidence: []Pattern{{Regex: `probed (?P<device>\S+)`}},
		Extract:  map[string]Extraction{"device": {}},
	}}
	c, err := Compile(entries, nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.Diagnose(context.Background(), strings.NewReader("probed 0000:00:03.0\nasked for net_bogus and failed\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Findings) != 1 {
		t.Fatalf("findings %+v", r.Findings)
	}
	f := r.Findings[0]
	if f.Values["device"] != "net_bogus" || f.Cause != "no port net_bogus" {
		t.Errorf("values %v, cause %q", f.Values, f.Cause)
	}
	if len(f.Evidence) != 2 {
		t.Errorf("evidence %+v", f.Evidence)
	}
}

// The real case (dpdk-dumpcap 22.11 -i net_bogus on a primary with an
// unused PCI NIC): the device named is the one asked for.
func TestDumpcapBadInterfaceNamesIt(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	log := "Device 0000:00:03.0 is not driven by the primary process\n" +
		"EAL: Requested device 0000:00:03.0 cannot be used\n" +
		"EAL: Error - exiting with code: 1\n" +
		"  Cause: Specified port_number \"net_bogus\" is not a valid number\n"
	r, err := c.Diagnose(context.Background(), strings.NewReader(log))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Findings) == 0 || r.Findings[0].ID != "pdump-device-not-in-primary" {
		t.Fatalf("findings %+v", r.Findings)
	}
	v := r.Findings[0].Values
	if v["device_id"] != "net_bogus" || v["probed_device"] != "0000:00:03.0" {
		t.Errorf("device_id = %q, probed_device = %q; want net_bogus, 0000:00:03.0", v["device_id"], v["probed_device"])
	}
	if !strings.Contains(r.Findings[0].Cause, "no port called net_bogus") {
		t.Errorf("cause %q", r.Findings[0].Cause)
	}
}
