package capture

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gzdoctor/gzdoctor/capture/pcapfile"
)

// writeTemp writes packets stamped at the given times into a backend file:
// pdump's pcap, or dumpcap's pcapng with direction flags.
func writeTemp(t *testing.T, path string, backend string, stamps []time.Time, zeroLen int) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	format := pcapfile.FormatPcap
	if backend == BackendDumpcap {
		format = pcapfile.FormatPcapNG
	}
	w, err := pcapfile.NewWriter(f, format, []pcapfile.Interface{{LinkType: pcapfile.LinkTypeEthernet, SnapLen: 65535, TsResolution: pcapfile.Nano}}, pcapfile.NGOptions{})
	if err != nil {
		t.Fatal(err)
	}
	frame := make([]byte, 60)
	for i, ts := range stamps {
		p := pcapfile.Packet{Timestamp: uint64(ts.Unix())*1e9 + uint64(ts.Nanosecond()), OrigLen: 60, Data: frame}
		if i < zeroLen {
			p.OrigLen, p.Data = 0, nil
		}
		if backend == BackendDumpcap {
			p.SetDirection(pcapfile.Direction(1 + i%2))
		}
		if err := w.WritePacket(&p); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestValidate(t *testing.T) {
	start := time.Now().Add(-3 * time.Second)
	end := start.Add(2 * time.Second)
	during := func(n int) []time.Time {
		var out []time.Time
		for i := range n {
			out = append(out, start.Add(time.Duration(i)*time.Millisecond))
		}
		return out
	}
	// dpdk-dumpcap 22.11.11 on the lab VM: every packet in 2251, spaced
	// as they came.
	y2251 := time.Date(2251, 3, 4, 5, 6, 7, 0, time.UTC)
	shifted := func(n int) []time.Time {
		var out []time.Time
		for i := range n {
			out = append(out, y2251.Add(time.Duration(i)*time.Millisecond))
		}
		return out
	}
	n64 := func(v int64) *int64 { return &v }
	tests := []struct {
		name     string
		backend  string
		stamps   []time.Time
		zero     int
		backendS BackendStats
		primary  *PrimaryStats
		problem  string // "" means none
		warning  string
	}{
		{name: "clean pdump capture", backend: BackendPdump, stamps: during(100),
			backendS: BackendStats{Transmitted: n64(100)}, primary: &PrimaryStats{Rx: PdumpCounters{Accepted: 100}}},
		// The damage a second pdump leaves: empty records stamped 1970.
		{name: "zero-length records (a second pdump reopened the file)", backend: BackendPdump,
			stamps: append([]time.Time{time.Unix(0, 1), time.Unix(0, 2), time.Unix(0, 3), time.Unix(0, 4)}, during(6)...), zero: 4,
			problem: "4 of the 10 records in dpdk-pdump's files have no data (zero length)"},
		{name: "an empty frame during the capture (seen on 20.11)", backend: BackendPdump,
			stamps: during(10), zero: 1,
			warning: "1 of the 10 records in dpdk-pdump's files have no data but were stamped during the capture"},
		{name: "stamped 1970", backend: BackendPdump, stamps: append(during(10), time.Unix(0, 5), time.Unix(1, 0)),
			problem: "2 of the 12 records carry timestamps outside the capture window (1970-01-01T00:00:00Z … 1970-01-01T00:00:01Z"},
		{name: "dumpcap's known year 2251", backend: BackendDumpcap, stamps: shifted(50),
			warning: "a known clock issue of dpdk-dumpcap 22.11"},
		// Past int64 nanoseconds (2262): read as int64 these showed as 1680.
		{name: "dumpcap's year 2265 (seen on the lab)", backend: BackendDumpcap, stamps: func() []time.Time {
			var out []time.Time
			for i := range 50 {
				out = append(out, time.Date(2265, 7, 6, 10, 35, 31, i*1000, time.UTC))
			}
			return out
		}(), warning: "(2265-07-06T10:35:31Z … 2265-07-06T10:35:31Z, the capture ran"},
		{name: "pdump in 2251 is damage", backend: BackendPdump, stamps: shifted(50),
			problem: "50 of the 50 records carry timestamps outside the capture window"},
		{name: "dumpcap, some in and some out", backend: BackendDumpcap, stamps: append(during(10), y2251),
			problem: "1 of the 11 records carry timestamps outside"},
		{name: "backend wrote more than the files hold", backend: BackendPdump, stamps: during(80),
			backendS: BackendStats{Transmitted: n64(100)}, problem: "dpdk-pdump says it wrote 100 packets, its files hold 80"},
		{name: "files hold more than the primary copied", backend: BackendPdump, stamps: during(5000),
			primary: &PrimaryStats{Rx: PdumpCounters{Accepted: 150, RingFull: 60}}, problem: "rx: the files hold 5,000 packets, the primary copied 90 for this capture"},
		// The primary zeroes its counters after adding the callback: a
		// few packets copied in between are in the files, not counted.
		{name: "files hold a few more than the primary counted", backend: BackendPdump, stamps: during(100),
			primary: &PrimaryStats{Rx: PdumpCounters{Accepted: 95}}},
		{name: "primary copied far more than the files hold", backend: BackendPdump, stamps: during(10),
			primary: &PrimaryStats{Rx: PdumpCounters{Accepted: 10 + DefaultRingSize + 1}}, warning: "rx: the primary copied 4,107 packets for this capture, the files hold 10: 4,097 lost"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			bin := "/usr/bin/dpdk-pdump"
			p := &Plan{Backend: tt.backend, Binary: bin, Outputs: []Output{{Path: filepath.Join(dir, "o"), Rx: true, Tx: tt.backend == BackendDumpcap}}}
			dirName := dirRx
			if tt.backend == BackendDumpcap {
				p.Binary, dirName = "/usr/bin/dpdk-dumpcap", dirBoth
			}
			p.Temps = []Temp{{Path: filepath.Join(dir, "t"), Dir: dirName}}
			writeTemp(t, p.Temps[0].Path, tt.backend, tt.stamps, tt.zero)
			res := &Result{Plan: p, Backend: tt.backendS, Primary: tt.primary, Stopped: StopDuration, ExitStatus: "exit status 0"}
			validate(p, &Options{}, res, start, end)
			v := res.Validation
			if got := strings.Join(v.Problems, "\n"); tt.problem == "" && got != "" || !strings.Contains(got, tt.problem) {
				t.Errorf("problems:\n%s\nwant %q", got, tt.problem)
			}
			if got := strings.Join(v.Warnings, "\n"); tt.warning == "" && got != "" || !strings.Contains(got, tt.warning) {
				t.Errorf("warnings:\n%s\nwant %q", got, tt.warning)
			}
			if res.Problem() != (tt.problem != "") {
				t.Errorf("Problem() = %v", res.Problem())
			}
			var b strings.Builder
			res.Files = []OutputFile{{Path: p.Outputs[0].Path}}
			if err := res.RenderText(&b, noStyle, false); err != nil {
				t.Fatal(err)
			}
			head := strings.SplitN(b.String(), "\n", 2)[0]
			switch {
			case tt.problem != "" && !strings.HasPrefix(head, "✗ captured, but the file failed validation"),
				tt.problem == "" && tt.warning != "" && !strings.HasPrefix(head, "!"),
				tt.problem == "" && tt.warning == "" && !strings.HasPrefix(head, "✓"):
				t.Errorf("headline %q", head)
			}
		})
	}
}

// A backend whose files fill with zero-length records stamped 1970 (what
// a second pdump on the same primary did to the first's, on the lab)
// gives ✗ and exit 1, not ✓; the file is still written.
func TestCorruptedCaptureIsNotASuccess(t *testing.T) {
	o := fakeOptions(t, fakeZeroLen)
	o.Count = 200
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Problem() || res.Validation == nil || res.Validation.ZeroLength == 0 || res.Validation.OutOfWindow == 0 {
		t.Fatalf("problem %v validation %+v", res.Problem(), res.Validation)
	}
	if _, err := os.Stat(o.Write); err != nil {
		t.Errorf("the file was not kept: %v", err)
	}
}

// Losses are never ✓: the drops line counts the primary's too.
func TestLossIsFlagged(t *testing.T) {
	n := int64(0)
	res := &Result{Plan: &Plan{Backend: BackendPdump, Binary: "/usr/bin/dpdk-pdump"}, Stopped: StopDuration, ExitStatus: "exit status 0",
		Backend: BackendStats{Freed: &n, Dequeued: &n, Transmitted: &n},
		Primary: &PrimaryStats{Rx: PdumpCounters{Accepted: 1000, RingFull: 900}, Tx: PdumpCounters{Accepted: 500, NoMbuf: 3}}}
	var b strings.Builder
	if err := res.RenderText(&b, noStyle, false); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"! captured with losses: ", "drops  903 (primary: 903 lost; pdump: 0 dequeued, 0 written, 0 freed unwritten)"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("no %q in:\n%s", want, b.String())
		}
	}
	if res.Problem() {
		t.Error("a loss is a warning (exit 0), not a failure")
	}
	// dumpcap's "dropped" is the primary's loss: not counted twice.
	d, r := int64(903), int64(600)
	res.Plan.Backend, res.Backend = BackendDumpcap, BackendStats{Dropped: &d, Received: &r}
	if got := res.Drops(); got != 903 {
		t.Errorf("dumpcap drops %d, want 903", got)
	}
}
