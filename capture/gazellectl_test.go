package capture

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const gzctlData = "../testdata/capture/gazellectl/"

func readCtl(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(gzctlData + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseLstackShow(t *testing.T) {
	for _, tc := range []struct {
		file                          string
		threads                       int
		rx, rxDrop, tx, txDrop, alloc uint64
		bad                           string
	}{
		{file: "master-show-after.txt", threads: 2, rx: 13000, rxDrop: 35, tx: 12700, txDrop: 2, alloc: 4},
		// ltran's own view (rx_drop 800) comes first and is not lstack's.
		{file: "1.0.2-ltran-mode-show.txt", threads: 1, rx: 5000, rxDrop: 12, tx: 4000, txDrop: 3},
		{file: "connect-failed.txt", bad: "no stack thread in its output: Connect lstack(path:/var/run/gazelle/lstack_cmd.sock) failed, errno: 2"},
		{file: "xstats-after.txt", bad: "no stack thread"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			r, err := parseLstackShow(readCtl(t, tc.file))
			if tc.bad != "" {
				if err == nil || !strings.Contains(err.Error(), tc.bad) {
					t.Fatalf("error %v, want one saying %q", err, tc.bad)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.threads != tc.threads || r.rxPkts != tc.rx || r.rxDrop != tc.rxDrop || r.txPkts != tc.tx || r.txDrop != tc.txDrop || r.allocFail != tc.alloc {
				t.Errorf("got %+v, want threads %d rx %d rx_drop %d tx %d tx_drop %d alloc %d", r, tc.threads, tc.rx, tc.rxDrop, tc.tx, tc.txDrop, tc.alloc)
			}
		})
	}
}

func TestLstackDeltaPlacesTheLoss(t *testing.T) {
	before, err := parseLstackShow(readCtl(t, "master-show-before.txt"))
	if err != nil {
		t.Fatal(err)
	}
	after, err := parseLstackShow(readCtl(t, "master-show-after.txt"))
	if err != nil {
		t.Fatal(err)
	}
	parseNICXstats(readCtl(t, "xstats-before.txt"), &before)
	parseNICXstats(readCtl(t, "xstats-after.txt"), &after)
	s := lstackDelta("gazellectl lstack show 192.168.1.10", before, after)
	if s.RxPkts != 10000 || s.RxDrop != 30 || s.TxDrop != 2 || s.AllocFail != 4 || s.Lost() != 36 {
		t.Errorf("delta %+v, want rx 10000, rx_drop 30, tx_drop 2, alloc 4, lost 36", s)
	}
	if s.NICMissed == nil || *s.NICMissed != 120 || *s.NICErrors != 2 {
		t.Fatalf("NIC missed %v errors %v, want 120 and 2", s.NICMissed, s.NICErrors)
	}
	r := &Result{Lstack: s}
	text := strings.Join(r.lstackLines(func(string) string { return "!" }, false), "\n")
	for _, want := range []string{
		"lstack: 10,000 rx / 10,000 tx packets, 30 rx_drop, 2 tx_drop, 4 mbuf allocation failures over 2 stack threads (gazellectl lstack show 192.168.1.10)",
		"nic:    120 rx_missed_errors, 2 rx_errors (gazellectl lstack show 192.168.1.10 -x)",
		"! the NIC dropped 120 packets (rx_missed_errors): neither lstack nor the capture saw them",
		"! lstack dropped 36 packets after the NIC",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("summary lacks %q:\n%s", want, text)
		}
	}
	// A restarted lstack's counters start again: no wrap-around.
	if d := lstackDelta("x", after, before); d.RxDrop != before.rxDrop {
		t.Errorf("counters that went down: rx_drop %d, want %d", d.RxDrop, before.rxDrop)
	}
	// Without gazellectl: nothing, or the reason with -v.
	r = &Result{LstackUnavailable: "gazellectl is not on PATH"}
	if l := r.lstackLines(func(string) string { return "!" }, false); l != nil {
		t.Errorf("not verbose: %q", l)
	}
	if l := r.lstackLines(func(string) string { return "!" }, true); len(l) != 1 || !strings.Contains(l[0], "lstack: unknown (gazellectl is not on PATH)") {
		t.Errorf("verbose: %q", l)
	}
}

// fakeGazellectl writes a gazellectl that prints a recorded output (and
// -x's), or sleeps: the exec path, its arguments and its time limit.
func fakeGazellectl(t *testing.T, body string) string {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, "gazellectl")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestGazellectlRuns(t *testing.T) {
	abs, _ := filepath.Abs(gzctlData)
	log := filepath.Join(t.TempDir(), "args")
	bin := fakeGazellectl(t, `echo "$@" >>`+log+`
case "$*" in *-x) cat `+abs+`/xstats-after.txt ;; *) cat `+abs+`/master-show-after.txt ;; esac`)
	g := &gazellectl{bin: bin, args: []string{"lstack", "show", "192.168.1.10", "-u", "a"}}
	r, err := g.read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if r.threads != 2 || !r.haveNIC || r.nicMissed != 120 {
		t.Errorf("reading %+v", r)
	}
	args, _ := os.ReadFile(log)
	if got := string(args); got != "lstack show 192.168.1.10 -u a\nlstack show 192.168.1.10 -u a -x\n" {
		t.Errorf("gazellectl was run with %q", got)
	}

	// gazellectl's connect failure: exit 255 and its message.
	g.bin = fakeGazellectl(t, "cat "+abs+"/connect-failed.txt; exit 255")
	if _, err := g.read(context.Background()); err == nil || !strings.Contains(err.Error(), "exit status 255: Connect lstack(path:/var/run/gazelle/lstack_cmd.sock) failed") {
		t.Errorf("connect failure: %v", err)
	}

	// A gazellectl that hangs is cut off at the time limit.
	defer func(d time.Duration) { gazellectlTimeout = d }(gazellectlTimeout)
	gazellectlTimeout = 200 * time.Millisecond
	g.bin = fakeGazellectl(t, "exec sleep 30")
	start := time.Now()
	_, err = g.read(context.Background())
	if err == nil || !strings.Contains(err.Error(), "did not answer within 200ms") {
		t.Errorf("hung gazellectl: %v", err)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("waited %s for a hung gazellectl", el)
	}
}
