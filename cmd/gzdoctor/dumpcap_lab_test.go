package main

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gzdoctor/gzdoctor/host"
	"github.com/gzdoctor/gzdoctor/internal/lab"
	"github.com/gzdoctor/gzdoctor/ui"
)

// labPromisc reads port 0's promiscuous mode from the primary's telemetry.
func labPromisc(t *testing.T, p *lab.Primary) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	tl, err := host.New("/").DialTelemetry(ctx, filepath.Join(p.RuntimeDir, "dpdk_telemetry.v2"))
	if err != nil {
		t.Fatal(err)
	}
	defer tl.Close()
	pt, err := tl.Port(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	return pt.Promiscuous
}

// TestCaptureLabDumpcapPromisc holds the port's promiscuous mode, read from
// the primary's telemetry, before and after dumpcap captures. dpdk-dumpcap
// run by hand turns it on and, at exit, off, whatever it was: the lab's
// promiscuous port is left off. gzdoctor passes -p and leaves it as it
// was; --promisc lets dumpcap turn it on for the capture only.
func TestCaptureLabDumpcapPromisc(t *testing.T) {
	t.Parallel()
	needTools(t, "dpdk-dumpcap")
	p := lab.StartT(t, lab.Config{})
	dir := t.TempDir()
	if !labPromisc(t, p) {
		t.Fatal("the lab primary's port is not promiscuous to begin with")
	}

	code, res, errOut := captureJSON(t, "--prefix", p.Prefix, "--backend", "dumpcap", "-c", "200", "-w", filepath.Join(dir, "a.pcapng"))
	if code != 0 || res == nil {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	if !slices.Contains(res.Plan.Args, "-p") || res.Promisc == nil || res.Promisc.Before == nil || !*res.Promisc.Before || res.Promisc.After == nil || !*res.Promisc.After || !labPromisc(t, p) {
		t.Errorf("args %q, promiscuous %+v, now %v: want -p, on before and after", res.Plan.Args, res.Promisc, labPromisc(t, p))
	}

	// dpdk-dumpcap 22.11's clock: on the lab VM it stamps ~240 years
	// ahead. Then the summary gives the offset and an editcap command;
	// that command, run for real, gives a copy dated within the capture.
	if v := res.Validation; v != nil && v.ToolClockAhead != 0 {
		var cmdline string
		for _, w := range v.Warnings {
			if _, c, ok := strings.Cut(w, "a copy with the dates shifted back: "); ok {
				cmdline = c
			}
		}
		args := strings.Fields(cmdline)
		if len(args) != 5 || args[0] != "editcap" {
			t.Fatalf("clock %v s ahead, warnings %q: no editcap command", v.ToolClockAhead, v.Warnings)
		}
		if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", cmdline, err, out)
		}
		first := tsharkFields(t, args[4], "frame.time_epoch")[0]
		var ts float64
		fmt.Sscanf(first, "%f", &ts)
		start, _ := time.Parse(time.RFC3339Nano, v.WindowStart)
		end, _ := time.Parse(time.RFC3339Nano, v.WindowEnd)
		if ts < float64(start.Unix()) || ts > float64(end.Unix()+1) {
			t.Errorf("%s: the copy's first packet is at %f, the capture ran %s … %s", cmdline, ts, v.WindowStart, v.WindowEnd)
		}
		t.Logf("dumpcap's clock %.1f s ahead; %s gives a first packet at %f (window %s … %s)", v.ToolClockAhead, cmdline, ts, v.WindowStart, v.WindowEnd)
	} else if v == nil || len(v.Warnings) > 0 {
		t.Errorf("validation %+v", v)
	}

	// What gzdoctor protects against: dumpcap by hand leaves it off.
	out, err := exec.Command("dpdk-dumpcap", "--file-prefix", p.Prefix, "-i", "0", "-c", "10", "-q", "-w", filepath.Join(dir, "hand.pcapng")).CombinedOutput()
	if err != nil {
		t.Fatalf("dpdk-dumpcap: %v\n%s", err, out)
	}
	if labPromisc(t, p) {
		t.Fatal("dpdk-dumpcap without -p left the port promiscuous: its behaviour changed, revisit the -p default")
	}

	code, res, errOut = captureJSON(t, "--prefix", p.Prefix, "--backend", "dumpcap", "--promisc", "-c", "200", "-w", filepath.Join(dir, "b.pcapng"))
	if code != 0 || res == nil {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	if slices.Contains(res.Plan.Args, "-p") || res.Promisc == nil || !res.Promisc.Asked || *res.Promisc.Before || *res.Promisc.After || labPromisc(t, p) {
		t.Errorf("--promisc: args %q, promiscuous %+v", res.Plan.Args, res.Promisc)
	}
	var b strings.Builder
	_ = res.RenderText(&b, ui.Style{}, false)
	if !strings.Contains(b.String(), "promisc net_ring0: off before, off after (--promisc: on during the capture)") {
		t.Errorf("summary:\n%s", b.String())
	}
}
