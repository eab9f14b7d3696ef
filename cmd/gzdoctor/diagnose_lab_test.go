package main

import (
	"strings"
	"testing"

	"github.com/gzdoctor/gzdoctor/internal/lab"
)

// TestDiagnoseLabFillsPrimaryDevice: with --live, the primary's one port
// (from its telemetry) is the device the fix sends the capture to, where
// the log could only say "<the primary's device>".
func TestDiagnoseLabFillsPrimaryDevice(t *testing.T) {
	t.Parallel()
	p := lab.StartT(t, lab.Config{})
	log := logs + "lab/device-mismatch-vdev-pdump.log"
	code, out, errOut := runIn(t, "", "--prefix", p.Prefix, "diagnose", "--live", log)
	if code != exitProblem {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	want := "--file-prefix " + p.Prefix + " -- --pdump 'device_id=" + p.Device + ",queue=*"
	if !strings.Contains(out, want) || strings.Contains(out, "<the primary's device>") {
		t.Errorf("output lacks %q or still asks for the device:\n%s", want, out)
	}
	// Without --live nothing is asked of the machine.
	_, out, _ = runIn(t, "", "--prefix", p.Prefix, "diagnose", log)
	if !strings.Contains(out, "device_id=<the primary's device>") {
		t.Errorf("without --live the fix should ask for the device:\n%s", out)
	}
}
