package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gzdoctor/gzdoctor/capture"
	"github.com/gzdoctor/gzdoctor/internal/lab"
)

// TestCaptureLabTwoPorts captures two ports of one primary into one
// pcapng, with one backend: tshark must see one interface per port and
// direction, named, each packet flagged with its direction, and each
// port's packets must equal what the primary copied for that port.
func TestCaptureLabTwoPorts(t *testing.T) {
	t.Parallel()
	needTools(t, "dpdk-pdump", "tshark")
	p := lab.StartT(t, lab.Config{Vdevs: []string{"net_ring0", "net_ring1"}})
	dir := t.TempDir()
	wantIfcs := []string{"net_ring0:rx", "net_ring0:tx", "net_ring1:rx", "net_ring1:tx"}

	// A device the primary lacks, second of two, gets the preflight's
	// verdict as a single -i does, not a diagnosis blaming the first.
	t.Run("second device unknown", func(t *testing.T) {
		code, res, errOut := captureJSON(t, "--prefix", p.Prefix, "-i", "net_ring0", "-i", "net_bogus", "-c", "10", "-w", filepath.Join(dir, "bogus.pcapng"))
		if code != exitProblem || res == nil || res.Stopped != capture.StopPreflight || res.Preflight == nil {
			t.Fatalf("exit %d, result %+v\n%s", code, res, errOut)
		}
		if r, ok := res.Preflight.Result("device"); !ok || r.Status != "fail" || !strings.Contains(r.Finding, "net_bogus") {
			t.Errorf("device check %+v", r)
		}
	})
	for _, tt := range []struct {
		name string
		args []string
	}{
		{"pdump -i -i", []string{"-i", "net_ring0", "-i", "net_ring1"}},
		{"pdump --port --port", []string{"--port", "0", "--port", "1"}},
		{"pdump --all-ports", []string{"--all-ports"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "_")+".pcapng")
			code, res, errOut := captureJSON(t, append(append([]string{"--prefix", p.Prefix}, tt.args...), "-c", "4000", "-w", f)...)
			if code != 0 || res == nil || res.Stopped != capture.StopCount {
				t.Fatalf("exit %d, result %+v\n%s", code, res, errOut)
			}
			if n := strings.Count(res.Plan.Command, "--pdump "); res.Plan.Backend == capture.BackendPdump && n != 2 {
				t.Errorf("backend command %s: %d --pdump tuples, want 2 (one pdump for both ports)", res.Plan.Command, n)
			}
			if len(res.Ports) != 2 || res.Ports[0].Device != "net_ring0" || res.Ports[1].Device != "net_ring1" {
				t.Fatalf("ports %+v", res.Ports)
			}
			// The oracle: tshark's reading of the file, per interface.
			rows := tsharkFields(t, f, "frame.interface_id", "frame.interface_name", "frame.packet_flags_direction")
			if len(rows) != 4000 {
				t.Fatalf("tshark reads %d packets, want exactly 4000", len(rows))
			}
			per := map[string]int64{}
			for i, row := range rows {
				c := strings.Split(row, "\t")
				if len(c) != 3 {
					t.Fatalf("packet %d: %q", i+1, row)
				}
				want := map[string]string{"rx": "0x00000001", "tx": "0x00000002"}[c[1][strings.LastIndex(c[1], ":")+1:]]
				if c[0] != fmt.Sprint(indexOf(wantIfcs, c[1])) || c[2] != want {
					t.Fatalf("packet %d: interface %s named %q, direction %s", i+1, c[0], c[1], c[2])
				}
				per[c[1]]++
			}
			for i, pt := range res.Ports {
				rx, tx := per[wantIfcs[2*i]], per[wantIfcs[2*i+1]]
				if rx != pt.Counts.RxPackets || tx != pt.Counts.TxPackets || rx < 500 || tx < 500 {
					t.Errorf("%s: tshark rx %d tx %d, gzdoctor says %+v (the lab sends round-robin on both ports)", pt.Device, rx, tx, pt.Counts)
				}
				// Each port's records in the backend's files against the
				// primary's copies for that port (rte_pdump_stats).
				if pt.Primary == nil {
					t.Fatalf("%s: no primary stats: %s", pt.Device, res.PrimaryUnavailable)
				}
				if int64(pt.Primary.Rx.Copied()) != pt.RxRecords || int64(pt.Primary.Tx.Copied()) != pt.TxRecords {
					t.Errorf("%s: primary copied rx %d tx %d, the backend's files hold rx %d tx %d",
						pt.Device, pt.Primary.Rx.Copied(), pt.Primary.Tx.Copied(), pt.RxRecords, pt.TxRecords)
				}
				t.Logf("%s: file rx %d tx %d; backend's files rx %d tx %d; primary copied rx %d tx %d",
					pt.Device, rx, tx, pt.RxRecords, pt.TxRecords, pt.Primary.Rx.Copied(), pt.Primary.Tx.Copied())
			}
			if v := res.Validation; v == nil || len(v.Problems)+len(v.Warnings) > 0 {
				t.Errorf("validation %+v", v)
			}
		})
	}
}

// TestCaptureLabLtranBothPorts captures ltran's two ports, the NIC
// (net_af_packet0) and the bond over it (net_bonding0), with --all-ports:
// what the primary sends out of the bond leaves through its member, so
// tshark sees it on both interfaces, and each port's records equal the
// primary's copies for that port.
func TestCaptureLabLtranBothPorts(t *testing.T) {
	t.Parallel()
	needTools(t, "dpdk-pdump", "tshark")
	p := lab.StartT(t, lab.Config{Kind: lab.KindLtran})
	f := filepath.Join(t.TempDir(), "ltran.pcapng")
	code, res, errOut := captureJSON(t, "--prefix", p.Prefix, "--all-ports", "-a", "duration:1", "-w", f)
	if code != 0 || res == nil || res.Stopped != capture.StopDuration || len(res.Ports) != 2 {
		t.Fatalf("exit %d, result %+v\n%s", code, res, errOut)
	}
	per := map[string]int64{}
	for _, row := range tsharkFields(t, f, "frame.interface_name") {
		per[row]++
	}
	for _, pt := range res.Ports {
		rx, tx := per[pt.Device+":rx"], per[pt.Device+":tx"]
		if rx != pt.Counts.RxPackets || tx != pt.Counts.TxPackets || tx < 1000 {
			t.Errorf("%s: tshark rx %d tx %d, gzdoctor says %+v", pt.Device, rx, tx, pt.Counts)
		}
		if pt.Primary == nil || int64(pt.Primary.Rx.Copied()) != pt.RxRecords || int64(pt.Primary.Tx.Copied()) != pt.TxRecords {
			t.Errorf("%s: primary %+v, the backend's files rx %d tx %d (%s)", pt.Device, pt.Primary, pt.RxRecords, pt.TxRecords, res.PrimaryUnavailable)
		}
		t.Logf("%s: file rx %d tx %d; primary copied rx %d tx %d", pt.Device, rx, tx, pt.Primary.Rx.Copied(), pt.Primary.Tx.Copied())
	}
	t.Logf("backend ran %.1f s", res.Elapsed)
}

// TestCaptureLabEALArgs: --eal-args reach pdump before "--", and a -d
// naming a driver pdump already loads from its plugin dir is harmless.
func TestCaptureLabEALArgs(t *testing.T) {
	t.Parallel()
	needTools(t, "dpdk-pdump")
	b, err := os.ReadFile(filepath.Join(lab.BuildDir(), "pmds-dir"))
	if err != nil {
		t.Skip(err)
	}
	ring, _ := filepath.Glob(filepath.Join(strings.TrimSpace(string(b)), "librte_net_ring.so*"))
	if len(ring) == 0 {
		t.Skip("no librte_net_ring in the plugin dir")
	}
	p := lab.StartT(t, lab.Config{})
	f := filepath.Join(t.TempDir(), "e.pcapng")
	code, res, errOut := captureJSON(t, "--prefix", p.Prefix, "-i", p.Device, "--eal-args", "-d "+ring[0]+" --log-level 'pmd.net.ring:info'", "-c", "200", "-w", f)
	if code != 0 || res == nil || res.Stopped != capture.StopCount || res.Counts.Packets() != 200 {
		t.Fatalf("exit %d, result %+v\n%s", code, res, errOut)
	}
	want := "--file-prefix " + p.Prefix + " -d " + ring[0] + " --log-level pmd.net.ring:info -- --pdump "
	if !strings.Contains(res.Plan.Command, want) {
		t.Errorf("command %s, want it to contain %q", res.Plan.Command, want)
	}
}

func indexOf(xs []string, x string) int {
	for i, s := range xs {
		if s == x {
			return i
		}
	}
	return -1
}
