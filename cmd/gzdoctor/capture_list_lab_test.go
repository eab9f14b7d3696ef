package main

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gzdoctor/gzdoctor/capture"
	gold "github.com/gzdoctor/gzdoctor/internal/golden"
	"github.com/gzdoctor/gzdoctor/internal/lab"
)

// listJSON runs `gzdoctor -o json [--prefix P] capture -D`.
func listJSON(t *testing.T, prefix string) (int, *capture.Interfaces, string) {
	t.Helper()
	args := []string{"-o", "json"}
	if prefix != "" {
		args = append(args, "--prefix", prefix)
	}
	code, out, errOut := run(t, append(args, "capture", "-D")...)
	var env struct{ Data *capture.Interfaces }
	if out != "" {
		if err := json.Unmarshal([]byte(out), &env); err != nil {
			t.Fatalf("-D: not JSON (%v):\n%s", err, out)
		}
	}
	return code, env.Data, errOut
}

func listed(l *capture.Interfaces, prefix string) *capture.ListedPrimary {
	if l == nil {
		return nil
	}
	for i := range l.Primaries {
		if l.Primaries[i].Prefix == prefix {
			return &l.Primaries[i]
		}
	}
	return nil
}

// TestCaptureLabListInterfaces: -D lists two live primaries of different
// shapes (the ltran-like one: af_packet and its bond; a two-ring one),
// each with its pid, program, DPDK release and ports, and tells a primary
// a capture holds from a free one.
func TestCaptureLabListInterfaces(t *testing.T) {
	t.Parallel()
	needTools(t, "dpdk-pdump")
	ltran := lab.StartT(t, lab.Config{Kind: lab.KindLtran})
	rings := lab.StartT(t, lab.Config{Vdevs: []string{"net_ring0", "net_ring1"}})

	// Other primaries may be live on the machine: ours must be among them.
	code, l, errOut := listJSON(t, "")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	for _, tt := range []struct {
		p     *lab.Primary
		ports []string
		drv   []string
	}{
		{ltran, []string{"net_af_packet0", "net_bonding0"}, []string{"net_af_packet", "net_bonding"}},
		{rings, []string{"net_ring0", "net_ring1"}, []string{"net_ring", "net_ring"}},
	} {
		lp := listed(l, tt.p.Prefix)
		if lp == nil {
			t.Fatalf("%s not listed: %+v", tt.p.Prefix, l)
		}
		if lp.PID != tt.p.Pid || lp.Exe != tt.p.Exe || !strings.HasPrefix(lp.DPDK, "22.11") || lp.Capture != nil || lp.RuntimeDir != tt.p.RuntimeDir {
			t.Errorf("%s: %+v (want pid %d, exe %s)", tt.p.Prefix, lp, tt.p.Pid, tt.p.Exe)
		}
		if len(lp.Ports) != len(tt.ports) {
			t.Fatalf("%s: ports %+v", tt.p.Prefix, lp.Ports)
		}
		for i, pt := range lp.Ports {
			if pt.ID != i || pt.Name != tt.ports[i] || pt.Driver != tt.drv[i] || pt.RxQueues == nil || *pt.RxQueues != 1 || pt.TxQueues == nil || *pt.TxQueues != 1 || !strings.HasPrefix(pt.Link, "up") || pt.MAC == "" {
				t.Errorf("%s port %d: %+v", tt.p.Prefix, i, pt)
			}
		}
	}

	// Text, one primary at a time: the golden holds what is stable (the
	// pid, the program's path, the prefix and the MACs vary).
	var b strings.Builder
	for _, p := range []*lab.Primary{ltran, rings} {
		code, out, errOut := run(t, "--prefix", p.Prefix, "capture", "--list-interfaces")
		if code != 0 {
			t.Fatalf("exit %d\n%s", code, errOut)
		}
		out = strings.ReplaceAll(out, p.Prefix, "<prefix>")
		out = strings.ReplaceAll(out, "pid "+strconv.Itoa(p.Pid), "pid <pid>")
		out = strings.ReplaceAll(out, p.Exe, "<exe>")
		out = regexp.MustCompile(`DPDK 22\.11\.\d+`).ReplaceAllString(out, "DPDK 22.11.x")
		out = regexp.MustCompile(`(?i)([0-9a-f]{2}:){5}[0-9a-f]{2}`).ReplaceAllString(out, "<mac>            ")
		b.WriteString(out)
	}
	gold.Check(t, filepath.Join("..", "..", "testdata", "capture", "list-interfaces.golden"), []byte(b.String()))

	// A capture holds the two-ring primary: -D names it, then frees it.
	f := filepath.Join(t.TempDir(), "held.pcapng")
	done := make(chan int, 1)
	go func() {
		code, _, _ := captureJSON(t, "--prefix", rings.Prefix, "-i", "net_ring0", "-a", "duration:8", "-w", f)
		done <- code
	}()
	var held *capture.ListedCapture
	for deadline := time.Now().Add(20 * time.Second); held == nil && time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		_, l, _ := listJSON(t, rings.Prefix)
		if lp := listed(l, rings.Prefix); lp != nil {
			held = lp.Capture
		}
	}
	if held == nil || held.By != "gzdoctor" || !strings.Contains(held.Command, rings.Prefix) {
		t.Errorf("while a capture runs: %+v", held)
	}
	code, out, _ := run(t, "--prefix", rings.Prefix, "capture", "-D")
	if !strings.Contains(out, "capture: held by gzdoctor pid ") {
		t.Errorf("text while held (exit %d):\n%s", code, out)
	}
	if code := <-done; code != 0 {
		t.Errorf("the capture exited %d", code)
	}
	if _, l, _ := listJSON(t, rings.Prefix); listed(l, rings.Prefix) == nil || listed(l, rings.Prefix).Capture != nil {
		t.Errorf("after the capture: %+v", l)
	}
	if code, _, errOut := listJSON(t, "gz_no_such_prefix"); code != exitProblem || !strings.Contains(errOut, "no live DPDK primary with prefix gz_no_such_prefix") {
		t.Errorf("unknown prefix: exit %d, %s", code, errOut)
	}
}

// TestCaptureLabListInterfaces2011: a DPDK 20.11 primary's telemetry lists
// port ids only (no /ethdev/info): -D names the port from its EAL
// arguments, as a capture does, and says its queues are unknown.
func TestCaptureLabListInterfaces2011(t *testing.T) {
	t.Parallel()
	p := lab.StartT(t, lab.Config{Release: lab.ReleaseBullseye})
	code, l, errOut := listJSON(t, p.Prefix)
	lp := listed(l, p.Prefix)
	if code != 0 || lp == nil {
		t.Fatalf("exit %d, %+v\n%s", code, l, errOut)
	}
	if !strings.HasPrefix(lp.DPDK, "20.11") || lp.PID != p.Pid || len(lp.Ports) != 1 || lp.Ports[0].Name != p.Device || lp.Ports[0].RxQueues != nil {
		t.Errorf("%+v", lp)
	}
	code, out, _ := run(t, "--prefix", p.Prefix, "capture", "-D")
	if want := "  0. " + p.Device; code != 0 || !strings.Contains(out, want) || !strings.Contains(out, "queues unknown") || !strings.Contains(out, "DPDK 20.11.") {
		t.Errorf("exit %d, want %q and queues unknown:\n%s", code, want, out)
	}
}
