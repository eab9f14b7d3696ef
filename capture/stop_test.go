package capture

import (
	"errors"

	"context"
	"fmt"
	"github.com/gzdoctor/gzdoctor/ui"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gzdoctor/gzdoctor/capture/pcapfile"
)

// fakeOptions runs the test binary as the backend.
func fakeOptions(t *testing.T, mode string) Options {
	t.Setenv(fakeEnv, mode)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return Options{Prefix: fakePrefix(), Device: "net_fake0", Port: -1, PdumpBin: exe, NoPreflight: true,
		Write: filepath.Join(t.TempDir(), "out.pcapng"), lockDir: t.TempDir()}
}

// readAll returns every packet of a capture file.
func readAll(t *testing.T, path string) ([]pcapfile.Packet, *pcapfile.Reader) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapfile.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var out []pcapfile.Packet
	for {
		var p pcapfile.Packet
		if err := r.Next(&p); err != nil {
			if err.Error() != "EOF" {
				t.Fatalf("%s: %v", path, err)
			}
			break
		}
		p.Data = append([]byte(nil), p.Data...)
		out = append(out, p)
	}
	return out, r
}

// whenRecords returns a channel closed once the backend's files hold n
// records, as the supervisor's own poll counts them: a stop sent after a
// sleep instead came, on a loaded machine, before the fake wrote anything.
func whenRecords(o *Options, n int64) <-chan struct{} {
	ch := make(chan struct{})
	var once sync.Once
	o.onPoll = func(records int64) {
		if records >= n {
			once.Do(func() { close(ch) })
		}
	}
	return ch
}

func noTemps(t *testing.T, dir string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.Contains(e.Name(), ".gzdoctor-") {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
}

func TestStopAtCountExactly(t *testing.T) {
	o := fakeOptions(t, fakeNormal)
	o.Count = 777
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Stopped != StopCount || res.Problem() {
		t.Errorf("stopped %q problem %v, want count", res.Stopped, res.Problem())
	}
	pkts, r := readAll(t, o.Write)
	if len(pkts) != 777 || res.Counts.Packets() != 777 {
		t.Fatalf("file holds %d packets, result says %d; want 777", len(pkts), res.Counts.Packets())
	}
	var in, out int
	for i, p := range pkts {
		if i > 0 && p.Timestamp < pkts[i-1].Timestamp {
			t.Fatalf("packet %d out of time order", i)
		}
		switch {
		case p.Direction() == pcapfile.DirInbound && p.Interface == 0:
			in++
		case p.Direction() == pcapfile.DirOutbound && p.Interface == 1:
			out++
		default:
			t.Fatalf("packet %d: interface %d direction %v", i, p.Interface, p.Direction())
		}
	}
	if in == 0 || out == 0 || int64(in) != res.Counts.RxPackets {
		t.Errorf("in %d out %d, counts %+v", in, out, res.Counts)
	}
	if names := []string{r.Interfaces()[0].Name, r.Interfaces()[1].Name}; names[0] != "net_fake0:rx" || names[1] != "net_fake0:tx" {
		t.Errorf("interface names %q", names)
	}
	if fi, _ := os.Stat(o.Write); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	if res.Backend.Transmitted == nil || *res.Backend.Transmitted < 777 {
		t.Errorf("pdump's stats not read: %+v", res.Backend)
	}
	noTemps(t, filepath.Dir(o.Write))
}

func TestStopAtDuration(t *testing.T) {
	o := fakeOptions(t, fakeNormal)
	o.Duration = 500 * time.Millisecond
	start := time.Now()
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Stopped != StopDuration || res.Counts.Packets() == 0 {
		t.Errorf("stopped %q with %d packets", res.Stopped, res.Counts.Packets())
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("a 0.5 s capture took %v", el)
	}
}

// The size limit counts whole files: headers, interface blocks, packet
// records and the pcapng statistics written at close, all output files
// together. The fake writes 100-byte frames, so a full file ends within
// one record (at most 144 bytes in pcapng) of the limit.
func TestStopAtSize(t *testing.T) {
	for _, tc := range []struct {
		name   string
		limit  int64
		format pcapfile.Format
		split  bool // --rx/--tx
	}{
		{"pcapng", 50_000, pcapfile.FormatPcapNG, false},
		{"pcap", 50_000, pcapfile.FormatPcap, false},
		{"split pcap", 30_000, pcapfile.FormatPcap, true},
		{"split pcapng", 30_000, pcapfile.FormatPcapNG, true},
		{"tiny", 1500, pcapfile.FormatPcapNG, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := fakeOptions(t, fakeNormal)
			o.MaxSize, o.Format = tc.limit, tc.format
			files := []string{o.Write}
			if tc.split {
				dir := filepath.Dir(o.Write)
				o.Write, o.RxFile, o.TxFile = "", filepath.Join(dir, "rx.pcap"), filepath.Join(dir, "tx.pcap")
				files = []string{o.RxFile, o.TxFile}
			}
			res, err := Run(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			var total, pkts int64
			for _, f := range files {
				fi, err := os.Stat(f)
				if err != nil {
					t.Fatal(err)
				}
				total += fi.Size()
				got, _ := readAll(t, f)
				pkts += int64(len(got))
			}
			if res.Stopped != StopSize || total > tc.limit || total < tc.limit-2*144 {
				t.Errorf("stopped %q, files %d bytes together for -C %d", res.Stopped, total, tc.limit)
			}
			var sum int64
			for _, f := range res.Files {
				sum += f.Size
			}
			if sum != total || pkts != res.Counts.Packets() || pkts == 0 {
				t.Errorf("result says %d bytes %d packets, files hold %d bytes %d packets", sum, res.Counts.Packets(), total, pkts)
			}
		})
	}
}

// A limit the file's own headers exceed can hold no packet: a usage
// error before anything starts, not an empty file over the limit.
func TestSizeBelowHeaders(t *testing.T) {
	o := fakeOptions(t, fakeNormal)
	o.MaxSize = 200
	_, err := Run(context.Background(), o)
	var ue *UsageError
	if !asUsage(err, &ue) || !strings.Contains(err.Error(), "-C") {
		t.Fatalf("err = %v, want a usage error about -C", err)
	}
	if _, err := os.Stat(o.Write); !os.IsNotExist(err) {
		t.Errorf("%s written (%v)", o.Write, err)
	}
	noTemps(t, filepath.Dir(o.Write))
}

func TestStopOnContextKeepsEveryPacket(t *testing.T) {
	o := fakeOptions(t, fakeNormal)
	ctx, cancel := context.WithCancel(context.Background())
	wrote := whenRecords(&o, 100)
	go func() { <-wrote; cancel() }()
	res, err := Run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	pkts, _ := readAll(t, o.Write)
	if res.Stopped != StopInterrupt || res.Problem() {
		t.Errorf("stopped %q problem %v", res.Stopped, res.Problem())
	}
	// Everything the backend wrote before it flushed and left is there.
	if res.Backend.Transmitted == nil || int64(len(pkts)) != *res.Backend.Transmitted {
		t.Errorf("file holds %d packets, the backend wrote %v", len(pkts), res.Backend.Transmitted)
	}
}

func TestSecondInterruptKills(t *testing.T) {
	o := fakeOptions(t, fakeDeaf)
	sigs := make(chan os.Signal, 2)
	o.Interrupts = sigs
	wrote := whenRecords(&o, 100)
	go func() {
		<-wrote
		sigs <- syscall.SIGINT // ignored: the fake is deaf
		sigs <- syscall.SIGINT
	}()
	start := time.Now()
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Killed || res.Stopped != StopInterrupt || time.Since(start) > 5*time.Second {
		t.Errorf("killed %v stopped %q after %v", res.Killed, res.Stopped, time.Since(start))
	}
	if pkts, _ := readAll(t, o.Write); len(pkts) == 0 {
		t.Error("no packets kept after a hard stop")
	}
}

func TestKnownFailureIsDiagnosed(t *testing.T) {
	o := fakeOptions(t, fakeWrongPfx)
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Stopped != StopDiagnosis || !res.Problem() || len(res.Findings) == 0 || res.Findings[0].ID != "no-primary-config" {
		t.Fatalf("stopped %q findings %+v", res.Stopped, res.Findings)
	}
	if _, err := os.Stat(o.Write); !os.IsNotExist(err) {
		t.Errorf("a failed capture left %s (%v)", o.Write, err)
	}
	noTemps(t, filepath.Dir(o.Write))
}

func TestEarlyExitIsExplained(t *testing.T) {
	o := fakeOptions(t, fakeDie)
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Stopped != StopBackendEnd || !res.Problem() || res.ExitStatus != "exit status 1" || len(res.LastLines) == 0 {
		t.Fatalf("stopped %q exit %q last %q", res.Stopped, res.ExitStatus, res.LastLines)
	}
	// What it wrote before dying is kept.
	if pkts, _ := readAll(t, o.Write); len(pkts) < 100 {
		t.Errorf("kept %d packets, the backend wrote at least 100", len(pkts))
	}
	var b strings.Builder
	res.RenderText(&b, noStyle, false)
	if !strings.Contains(b.String(), "exited by itself (exit status 1)") {
		t.Errorf("no explanation:\n%s", b.String())
	}
}

func TestTornRecordIsRepaired(t *testing.T) {
	o := fakeOptions(t, fakeTorn)
	sigs := make(chan os.Signal, 2)
	o.Interrupts = sigs
	// The fake hangs after 60 intact records and half of one.
	wrote := whenRecords(&o, 60)
	go func() {
		<-wrote
		sigs <- syscall.SIGINT // ignored: the fake hangs
		sigs <- syscall.SIGINT
	}()
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Repaired) != 1 {
		t.Errorf("repaired %q, want the rx file", res.Repaired)
	}
	if pkts, _ := readAll(t, o.Write); len(pkts) != 60 {
		t.Errorf("kept %d packets, want the 60 intact ones (3 bursts of 10 per direction)", len(pkts))
	}
}

func TestExistingOutputUntouched(t *testing.T) {
	o := fakeOptions(t, fakeNormal)
	o.Count = 10
	if err := os.WriteFile(o.Write, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Run(context.Background(), o)
	var ue *UsageError
	if err == nil || !strings.Contains(err.Error(), "--force") || !asUsage(err, &ue) {
		t.Fatalf("err = %v, want a usage error naming --force", err)
	}
	if b, _ := os.ReadFile(o.Write); string(b) != "precious" {
		t.Errorf("the existing file was touched: %q", b)
	}
	noTemps(t, filepath.Dir(o.Write))
	o.Force = true
	if _, err := Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if pkts, _ := readAll(t, o.Write); len(pkts) != 10 {
		t.Errorf("--force: %d packets", len(pkts))
	}
}

var noStyle = ui.Style{}

func asUsage(err error, ue **UsageError) bool { return errors.As(err, ue) }

// The capture ends with its backend even when a process the backend
// started still holds its stdout and stderr (the pipes then never close):
// CI once waited 12 minutes for a capture whose backend was gone.
func TestBackendExitEndsCaptureDespiteHeldOutput(t *testing.T) {
	o := fakeOptions(t, fakeOrphan)
	type ran struct {
		res *Result
		err error
	}
	done := make(chan ran, 1)
	start := time.Now()
	go func() {
		res, err := Run(context.Background(), o)
		done <- ran{res, err}
	}()
	var r ran
	select {
	case r = <-done:
	case <-time.After(linesGrace + 60*time.Second):
		t.Fatalf("the capture still runs %v after the backend exited", time.Since(start))
	}
	if r.err != nil {
		t.Fatal(r.err)
	}
	res := r.res
	for _, l := range res.LastLines {
		var pid int
		if _, err := fmt.Sscanf(l, "orphan %d", &pid); err == nil && pid > 0 {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	if res.Stopped != StopBackendEnd || res.ExitStatus != "exit status 1" {
		t.Errorf("stopped %q exit %q, want backend-end, exit status 1", res.Stopped, res.ExitStatus)
	}
	if !slices.ContainsFunc(res.Notes, func(n string) bool { return strings.Contains(n, "output stayed open after it exited") }) {
		t.Errorf("notes %q do not say the output stayed open", res.Notes)
	}
	if pkts, _ := readAll(t, o.Write); len(pkts) < 100 {
		t.Errorf("kept %d packets, the backend wrote at least 100", len(pkts))
	}
}

// -c and -C reached in one poll (the fake writes a burst every 2 ms, the
// supervisor reads every 100 ms): the file ends at -C, short of -c's
// packets, and the result says size, not "20 packets reached" over a file
// of a few (the adversarial tester saw it on the lab: 100 reached, 2 kept).
func TestCountAndSizeInOnePoll(t *testing.T) {
	o := fakeOptions(t, fakeNormal)
	o.Count, o.MaxSize = 20, 1500
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := readAll(t, o.Write)
	if len(got) == 0 || len(got) >= 20 {
		t.Fatalf("the file holds %d packets; want some, fewer than -c 20 (-C 1500 ends it)", len(got))
	}
	if res.Stopped != StopSize || res.Counts.Packets() != int64(len(got)) {
		t.Errorf("stopped %q with %d packets; the file holds %d: want %q", res.Stopped, res.Counts.Packets(), len(got), StopSize)
	}
}
