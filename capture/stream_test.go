package capture

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gzdoctor/gzdoctor/capture/pcapfile"
	"golang.org/x/sys/unix"
)

// streamBuf is a writer the stream's goroutine and the test share.
type streamBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *streamBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *streamBuf) bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.b.Bytes())
}

// shortTmp sets TMPDIR to a fresh directory with a path short enough for
// pdump's (t.TempDir's is not: the capture's files would go to /tmp) and
// returns it; it is removed with what is in it.
func shortTmp(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("/tmp", "gzs")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	t.Setenv("TMPDIR", dir)
	return dir
}

func parseStream(t *testing.T, b []byte) []pcapfile.Packet {
	t.Helper()
	r, err := pcapfile.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("stdout is not a capture: %v", err)
	}
	var out []pcapfile.Packet
	for {
		var p pcapfile.Packet
		err := r.Next(&p)
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
}

// testStreamer is a streamer of pdump's two files (rx 0, tx 1) with -c
// count, writing into out; add hands it a 3-byte packet of a file,
// stamped ts and read at at.
func testStreamer(t *testing.T, count int64) (*streamer, *streamBuf, func(file int, ts uint64, at time.Time)) {
	p := &Plan{Backend: BackendPdump, Device: "d", Port: -1, Count: count, Outputs: []Output{{Path: "-", Format: pcapfile.FormatPcapNG, Rx: true, Tx: true}}}
	out := &streamBuf{}
	s, err := newStreamer(p, &Options{Stdout: out}, 2)
	if err != nil {
		t.Fatal(err)
	}
	add := func(file int, ts uint64, at time.Time) {
		t.Helper()
		dir := dirRx
		if file == 1 {
			dir = dirTx
		}
		if err := s.add(file, pcapLink, dir, &pcapfile.Packet{Timestamp: ts, Data: []byte{1, 2, 3}, OrigLen: 3}, at); err != nil {
			t.Fatal(err)
		}
	}
	return s, out, add
}

// The merge holds a packet until every other file has shown a later one,
// or for streamHold; what comes older after that is written and counted.
func TestStreamerHoldsForOrder(t *testing.T) {
	s, out, add := testStreamer(t, 0)
	t0 := time.Now()
	// release returns how many packets went out.
	release := func(at time.Time) int64 {
		t.Helper()
		before := s.counts.Packets()
		if err := s.release(at, false); err != nil {
			t.Fatal(err)
		}
		return s.counts.Packets() - before
	}
	// rx 10, 30; tx 20: 10 and 20 go, 30 waits for tx (or the hold).
	add(0, 10, t0)
	add(0, 30, t0)
	add(1, 20, t0)
	if n := (release(t0.Add(time.Millisecond))); n != 2 {
		t.Errorf("released %d, want 2 (30 waits for tx)", n)
	}
	if n := (release(t0.Add(streamHold / 2))); n != 0 {
		t.Errorf("released %d inside the hold, want 0", n)
	}
	if n := (release(t0.Add(streamHold))); n != 1 {
		t.Errorf("released %d once the hold passed, want 1", n)
	}
	// tx then delivers an older packet: written, and owned up to.
	t1 := t0.Add(time.Second)
	add(1, 25, t1)
	add(0, 40, t1)
	if n := (release(t1)); n != 1 {
		t.Errorf("released %d, want 1 (25; 40 waits for tx)", n)
	}
	if err := s.finish(t1); err != nil {
		t.Fatal(err)
	}
	var ts []uint64
	for _, pk := range parseStream(t, out.bytes()) {
		ts = append(ts, pk.Timestamp)
	}
	if want := []uint64{10, 20, 30, 25, 40}; len(ts) != 5 || ts[0] != 10 || ts[1] != 20 || ts[2] != 30 || ts[3] != 25 || ts[4] != 40 {
		t.Errorf("written %v, want %v", ts, want)
	}
	if s.stats.OutOfOrder != 1 || s.stats.Packets != 5 || s.stats.Closed {
		t.Errorf("stats %+v", s.stats)
	}
}

// -w - with the fake pdump: exactly -c packets on stdout, rx and tx
// merged in time order, the summary's counts are stdout's, nothing left
// in TMPDIR.
func TestStreamCountExactly(t *testing.T) {
	tmp := shortTmp(t)
	o := fakeOptions(t, fakeNormal)
	o.Write, o.Count = "-", 777
	out := &streamBuf{}
	o.Stdout = out
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	pk := parseStream(t, out.bytes())
	if len(pk) != 777 || res.Stopped != StopCount || res.Problem() || res.Stream == nil || res.Stream.Packets != 777 || res.Counts.Packets() != 777 {
		t.Fatalf("%d packets on stdout; stopped %q, stream %+v, counts %+v", len(pk), res.Stopped, res.Stream, res.Counts)
	}
	var rx int64
	for i, p := range pk {
		if i > 0 && p.Timestamp < pk[i-1].Timestamp {
			t.Fatalf("packet %d out of time order", i)
		}
		if p.Direction() == pcapfile.DirInbound {
			rx++
		}
	}
	if rx != res.Counts.RxPackets || rx == 0 || rx == 777 {
		t.Errorf("rx %d, counts %+v", rx, res.Counts)
	}
	if !strings.HasPrefix(res.Plan.TempDir, tmp+"/") {
		t.Errorf("the tool's files went to %s, not TMPDIR %s", res.Plan.TempDir, tmp)
	}
	if len(res.Files) != 1 || res.Files[0].Path != "-" || res.Files[0].Size != int64(len(out.bytes())) {
		t.Errorf("files %+v, %d bytes written", res.Files, len(out.bytes()))
	}
	noTemps(t, tmp)
}

// A reader that leaves stops the capture the gentle way: the backend gets
// SIGINT and exits 0, the capture is no problem, its files are removed.
func TestStreamReaderLeaves(t *testing.T) {
	tmp := shortTmp(t)
	o := fakeOptions(t, fakeNormal)
	o.Write = "-"
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	o.Stdout = w
	go func() {
		// Read the header and a few packets, then go away.
		b := make([]byte, 2000)
		io.ReadFull(r, b)
		r.Close()
	}()
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Stopped != StopReaderGone || res.Problem() || res.Killed || res.ExitStatus != "exit status 0" || res.Stream == nil || !res.Stream.Closed {
		t.Fatalf("stopped %q problem %v killed %v %s, stream %+v", res.Stopped, res.Problem(), res.Killed, res.ExitStatus, res.Stream)
	}
	if res.Stream.Bytes < 2000 || res.Stream.Packets == 0 {
		t.Errorf("stream %+v: the reader read 2000 bytes", res.Stream)
	}
	noTemps(t, tmp)
}

// A reader that stops reading (wireshark paused, a stuck ssh) holds up
// the end of a capture: after Ctrl+C gzdoctor waits for it to take what
// is queued and says so; a second Ctrl+C gives up on it and keeps the
// tool's files with the command that saves them.
func TestStreamPausedReaderCtrlC(t *testing.T) {
	shortTmp(t)
	o := fakeOptions(t, fakeNormal)
	o.Write = "-"
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close() // nobody reads it until the end: a paused reader
	defer w.Close()
	o.Stdout = w
	progress := &streamBuf{}
	o.Progress = progress
	sigs := make(chan os.Signal, 2)
	o.Interrupts = sigs
	// 2000 records of 144 bytes are more than the pipe's 64 KiB.
	wrote := whenRecords(&o, 2000)
	done := make(chan struct{})
	var res *Result
	go func() {
		defer close(done)
		res, err = Run(context.Background(), o)
	}()
	<-wrote
	sigs <- syscall.SIGINT
	deadline := time.Now().Add(20 * time.Second)
	for !bytes.Contains(progress.bytes(), []byte("waiting for the reader of stdout")) {
		select {
		case <-done:
			t.Fatalf("the capture ended with packets queued for a reader that did not read: %+v", res)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no word of the waiting reader: %q", progress.bytes())
		}
	}
	// Not a terminal: no line-clearing escape, no Ctrl+C.
	if p := progress.bytes(); bytes.Contains(p, []byte("\033[K")) || bytes.Contains(p, []byte("Ctrl+C")) || !bytes.Contains(p, []byte("a second SIGINT or SIGTERM gives up on it")) {
		t.Errorf("non-tty progress: %q", p)
	}
	sigs <- syscall.SIGINT
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("a second Ctrl+C did not give up on the reader")
	}
	if err != nil {
		t.Fatal(err)
	}
	// Kept on purpose; shortTmp's cleanup removes them.
	if !strings.Contains(res.WriteError, "interrupted while the reader of stdout was not reading") || len(res.TempFiles) == 0 || !strings.Contains(res.Recover, "gzdoctor-stream.pcapng") || !res.Failed() {
		t.Errorf("write error %q, kept %v, recover %q", res.WriteError, res.TempFiles, res.Recover)
	}
	for _, f := range res.TempFiles {
		if pk, _ := readAll(t, f); len(pk) == 0 {
			t.Errorf("%s kept without packets", f)
		}
	}
}

// -o json's event lines: one JSON object per line, the start first, a
// progress line a second with growing counts, the stop with its reason.
func TestEventLines(t *testing.T) {
	o := fakeOptions(t, fakeNormal)
	o.Duration = 2500 * time.Millisecond
	ev := &streamBuf{}
	o.Events = ev
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	var evs []Event
	for _, l := range bytes.Split(bytes.TrimSpace(ev.bytes()), []byte("\n")) {
		var e Event
		if err := json.Unmarshal(l, &e); err != nil || e.Type == "" || e.Time == "" {
			t.Fatalf("not an event line (%v): %q", err, l)
		}
		evs = append(evs, e)
	}
	if len(evs) < 3 || evs[0].Type != "start" || evs[0].PID == 0 || evs[0].Command != res.Plan.Command {
		t.Fatalf("events %+v", evs)
	}
	var progress []*Counts
	var stop string
	for _, e := range evs {
		switch e.Type {
		case "progress":
			progress = append(progress, e.Counts)
		case "stopping":
			stop = e.Reason
		}
	}
	if len(progress) < 1 || progress[len(progress)-1].Packets() == 0 || progress[len(progress)-1].Packets() > res.Counts.Packets() {
		t.Errorf("progress %v, result %+v", progress, res.Counts)
	}
	if stop != StopDuration {
		t.Errorf("stopping reason %q, want duration", stop)
	}
}

// A stream has no final file: the working directory's filesystem (where
// filepath.Dir("-") points) is none of its business, while TMPDIR's, which
// holds the tool's files, is watched as for any capture.
func TestStreamDiskWatch(t *testing.T) {
	t.Run("a full working directory does not matter", func(t *testing.T) {
		t.Chdir(smallFS(t, "256k", true))
		shortTmp(t)
		o := fakeOptions(t, fakeNormal)
		o.Write, o.Duration = "-", 1500*time.Millisecond
		o.Stdout = &streamBuf{}
		res, err := Run(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		if res.Stopped != StopDuration || res.Stream.Bytes < 512<<10 {
			t.Errorf("stopped %q (%s) after %d bytes streamed, want duration and more than the 256 kB of the working directory", res.Stopped, res.DiskFull, res.Stream.Bytes)
		}
	})
	t.Run("a full TMPDIR stops it", func(t *testing.T) {
		t.Setenv("TMPDIR", smallFS(t, "2m", true))
		o := fakeOptions(t, fakeNormal)
		o.Write, o.Duration = "-", 20*time.Second
		out := &streamBuf{}
		o.Stdout = out
		res, err := Run(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		if res.Stopped != StopDiskFull || !res.Failed() || res.Stream.Packets == 0 || len(parseStream(t, out.bytes())) != int(res.Stream.Packets) {
			t.Errorf("stopped %q failed %v, stream %+v", res.Stopped, res.Failed(), res.Stream)
		}
	})
}

// The live scan a stream validates with counts as reading the files back
// at the end does (scanTemps), records stamped in the future included.
func TestLiveScanMatchesScanTemps(t *testing.T) {
	start := time.Now()
	from := uint64(start.Add(-windowSlack).UnixNano())
	end := start.Add(3 * time.Second)
	to := uint64(end.Add(windowSlack).UnixNano())
	ns := func(d time.Duration) uint64 { return uint64(start.Add(d).UnixNano()) }
	recs := []struct {
		ts    uint64
		empty bool
	}{
		{1, true},                    // 1970, empty: the reopened-file damage
		{ns(-time.Hour), false},      // before the window
		{ns(time.Second), false},     // inside
		{ns(time.Second), true},      // an empty frame inside
		{ns(4 * time.Second), false}, // later than its reading, inside the final window
		{ns(time.Hour), false},       // later, outside it
		{ns(300 * time.Hour), true},  // later, outside, empty
		{ns(2 * time.Second), false}, // inside
	}
	path := filepath.Join(t.TempDir(), "rx.pcap")
	var b bytes.Buffer
	w, _ := pcapfile.NewPcapWriter(&b, pcapfile.LinkTypeEthernet, 0, pcapfile.Nano)
	plan := &Plan{Temps: []Temp{{Path: path, Dir: dirRx}}}
	live := newLiveScan(plan, from)
	for _, r := range recs {
		pk := pcapfile.Packet{Timestamp: r.ts, Data: []byte{1, 2}, OrigLen: 2}
		if r.empty {
			pk.Data, pk.OrigLen = nil, 0
		}
		w.WritePacket(&pk)
		live.add(dirRx, 0, &pk, start) // all read at the start
	}
	w.Close()
	os.WriteFile(path, b.Bytes(), 0o600)
	want, err := scanTemps(plan, from, to)
	if err != nil {
		t.Fatal(err)
	}
	if got := live.result(to); !reflect.DeepEqual(got, want) {
		t.Errorf("live scan %+v, read back %+v", *got, *want)
	}
}

// A stream frees what it has read of the tool's files as it goes, so a
// long one does not hold the whole capture in TMPDIR; the validation,
// made while reading, still holds.
func TestStreamFreesWhatItRead(t *testing.T) {
	defer func(a, e int64) { punchAfter, punchEvery = a, e }(punchAfter, punchEvery)
	punchAfter, punchEvery = 64<<10, 64<<10
	tmp := shortTmp(t)
	o := fakeOptions(t, fakeNormal)
	o.Write, o.Count = "-", 30000
	out := &streamBuf{}
	o.Stdout = out
	var plan *Plan
	o.beforeBackend = func(p *Plan) { plan = p }
	var maxSize, minAllocated int64 = 0, -1
	o.onPoll = func(int64) {
		var size, alloc int64
		for _, tp := range plan.Temps {
			var st unix.Stat_t
			if unix.Stat(tp.Path, &st) == nil {
				size += st.Size
				alloc += st.Blocks * 512
			}
		}
		if size > 2<<20 && size > maxSize {
			maxSize = size
			minAllocated = alloc
		}
	}
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Stopped != StopCount || res.Problem() || !res.Validation.OK() || res.Stream.Packets != 30000 || len(parseStream(t, out.bytes())) != 30000 {
		t.Fatalf("stopped %q, validation %+v, stream %+v", res.Stopped, res.Validation, res.Stream)
	}
	if res.Validation.RxRecords+res.Validation.TxRecords < 30000 {
		t.Errorf("validation saw %d+%d records", res.Validation.RxRecords, res.Validation.TxRecords)
	}
	if maxSize == 0 || minAllocated > maxSize/2 {
		t.Errorf("the tool's files took %d bytes on disk at %d bytes long: not freed as streamed", minAllocated, maxSize)
	}
	t.Logf("at %d bytes long the tool's files took %d on disk", maxSize, minAllocated)
	noTemps(t, tmp)
}

// TestStreamerLatePastCount: with -c, rx packets go after the hold while
// tx has delivered nothing (pdump has not written its buffer yet); tx's
// older packets come after the count: the stream owns up to them.
func TestStreamerLatePastCount(t *testing.T) {
	s, out, add := testStreamer(t, 2)
	t0 := time.Now()
	add(0, 10, t0)
	add(0, 30, t0)
	add(0, 50, t0)
	if err := s.release(t0.Add(streamHold), false); err != nil {
		t.Fatal(err)
	}
	// The count is reached with rx alone; tx then delivers 20 (older
	// than 30, the last written), 40 and 60.
	t1 := t0.Add(time.Second)
	add(1, 20, t1)
	add(1, 40, t1)
	add(1, 60, t1)
	if err := s.finish(t1); err != nil {
		t.Fatal(err)
	}
	var ts []uint64
	for _, pk := range parseStream(t, out.bytes()) {
		ts = append(ts, pk.Timestamp)
	}
	if len(ts) != 2 || ts[0] != 10 || ts[1] != 30 {
		t.Errorf("written %v, want [10 30]", ts)
	}
	// 20 belongs in the first two (10, 20); 40 and 60 come after 30 and
	// would not.
	if s.stats.LatePastCount != 1 || s.stats.OutOfOrder != 0 {
		t.Errorf("stats %+v, want 1 late past the count (20), none out of order", s.stats)
	}
}
