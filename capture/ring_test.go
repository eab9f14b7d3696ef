package capture

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gzdoctor/gzdoctor/capture/pcapfile"
	"github.com/gzdoctor/gzdoctor/ui"
)

func TestParseRing(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want Ring
		err  string
	}{
		{args: []string{"filesize:100"}, want: Ring{FileSize: 100_000}},
		{args: []string{"duration:2.5", "files:3"}, want: Ring{Duration: 2500 * time.Millisecond, Files: 3}},
		{args: []string{"duration:1m30s"}, want: Ring{Duration: 90 * time.Second}},
		{args: []string{"duration:2000000000"}, err: "too long"},
		{args: []string{"packets:10"}, want: Ring{Packets: 10}},
		{args: []string{"filesize:0"}, err: "positive size in kB"},
		{args: []string{"files:100000"}, err: "from 1 to 99999"},
		{args: []string{"interval:10"}, err: "dumpcap's, not supported"},
		{args: []string{"size:10"}, err: `unknown option "size"`},
		{args: []string{"filesize"}, err: "want filesize:KB"},
	} {
		var o Options
		var err error
		for _, a := range tc.args {
			if err = o.ParseRing(a); err != nil {
				break
			}
		}
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("-b %v: error %v, want %q", tc.args, err, tc.err)
			}
			continue
		}
		if err != nil || o.Ring != tc.want {
			t.Errorf("-b %v: %+v, %v; want %+v", tc.args, o.Ring, err, tc.want)
		}
	}
}

func TestRingOptionRules(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    Options
		err  string
	}{
		{"files alone", Options{Ring: Ring{Files: 3}}, "need a condition that closes a file"},
		{"stop files alone", Options{StopFiles: 2}, "need a condition that closes a file"},
		{"rx tx", Options{Ring: Ring{Packets: 5}, RxFile: "r.pcap"}, "does not take --rx/--tx"},
		{"with -C", Options{Ring: Ring{Packets: 5}, MaxSize: 1000}, "bound the disk with -b files:N"},
		{"stdout", Options{Ring: Ring{Packets: 5}, Write: "-"}, "cannot write to stdout"},
		{"-z and stdout", Options{PostRotate: "gzip", Write: "-"}, "-z runs on files; -w - writes no file"},
		{"fine", Options{Ring: Ring{Packets: 5, Files: 2}, StopFiles: 4}, ""},
	} {
		tc.o.Port = -1
		err := tc.o.check()
		if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.err)
		}
	}
}

func TestRingParts(t *testing.T) {
	for _, tc := range []struct{ in, dir, prefix, suffix string }{
		{"/c/cap.pcapng", "/c", "cap", ".pcapng"},
		{"/c/cap", "/c", "cap", ""},
		{"/c/a.b.pcap", "/c", "a.b", ".pcap"},
		{"/c/.pcapng", "/c", ".pcapng", ""},
	} {
		d, p, s := ringParts(tc.in)
		if d != tc.dir || p != tc.prefix || s != tc.suffix {
			t.Errorf("%s: %q %q %q", tc.in, d, p, s)
		}
	}
}

// ringFileName is dumpcap's: NAME_NNNNN_YYYYmmddHHMMSS.EXT.
var ringFileName = regexp.MustCompile(`^(.*)_(\d{5})_(\d{14})(\.pcapng)$`)

// ringFiles lists the ring's files of base in order, and checks each is
// a whole, readable capture file.
func ringFiles(t *testing.T, base string) []string {
	t.Helper()
	dir, prefix, _ := ringParts(base)
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("left in %s: %s", dir, e.Name())
			continue
		}
		m := ringFileName.FindStringSubmatch(e.Name())
		if m == nil || m[1] != prefix {
			continue
		}
		out = append(out, filepath.Join(dir, e.Name()))
	}
	slices.Sort(out)
	return out
}

// postLog is a -z program that appends its arguments, one per line, to a
// log, and fails when the file name holds "fail".
func postLog(t *testing.T) (prog, log string) {
	dir := t.TempDir()
	log = filepath.Join(dir, "z.log")
	prog = filepath.Join(dir, "post")
	script := "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\" >> " + log + "; done\ncase \"$1\" in *fail*) echo \"no room for $1\" >&2; exit 3;; esac\n"
	if err := os.WriteFile(prog, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return prog, log
}

func TestRingBySize(t *testing.T) {
	o := fakeOptions(t, fakeNormal)
	o.Ring = Ring{FileSize: 20_000}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	enough := whenRecords(&o, 2000)
	go func() { <-enough; cancel() }()
	res, err := Run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	files := ringFiles(t, o.Write)
	if len(files) < 5 || res.Ring == nil || res.Ring.Written != len(files) || len(res.Files) != len(files) {
		t.Fatalf("%d files %v, result %+v %+v", len(files), files, res.Ring, res.Files)
	}
	var sum int64
	var last uint64
	for i, f := range files {
		m := ringFileName.FindStringSubmatch(filepath.Base(f))
		if m[2] != fmt.Sprintf("%05d", i+1) {
			t.Errorf("file %d is numbered %s", i+1, m[2])
		}
		if m[3][:8] != time.Now().Format("20060102")[:8] && m[3][:8] != time.Now().Add(-time.Hour).Format("20060102") {
			t.Errorf("%s: stamp %s", f, m[3])
		}
		fi, err := os.Stat(f)
		if err != nil || fi.Size() > 20_000 || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, %v", f, fi, err)
		}
		pkts, r := readAll(t, f)
		if int64(len(pkts)) != res.Files[i].Packets || res.Files[i].Path != f || fi.Size() != res.Files[i].Size {
			t.Errorf("%s holds %d packets, %d bytes; result %+v", f, len(pkts), fi.Size(), res.Files[i])
		}
		if len(r.Interfaces()) != 2 {
			t.Errorf("%s: %d interfaces", f, len(r.Interfaces()))
		}
		// No packet twice: the files follow one another in time.
		for _, p := range pkts {
			if p.Timestamp < last {
				t.Fatalf("%s: a packet older than the one before it", f)
			}
			last = p.Timestamp
		}
		sum += int64(len(pkts))
		if i < len(files)-1 && fi.Size() < 20_000-2*pcapfile.RecordSize(pcapfile.FormatPcapNG, 100) {
			t.Errorf("%s: %d bytes, closed before it was full", f, fi.Size())
		}
	}
	// Nothing lost: every record the backend wrote is in one of them.
	v := res.Validation
	if v == nil || sum != v.RxRecords+v.TxRecords || sum != res.Counts.Packets() || !v.OK() || len(v.Warnings) > 0 {
		t.Errorf("files hold %d packets, backend wrote %+v, counts %+v", sum, v, res.Counts)
	}
	if tr := res.Backend.Transmitted; tr == nil || *tr > sum {
		t.Errorf("the backend says it wrote %v, the files hold %d", tr, sum)
	}
	noTemps(t, filepath.Dir(o.Write))
	if _, err := os.Stat(o.Write); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("-w's own name was written: %v", err)
	}
}

// files:N keeps N files; -z runs on every file closed, removed ones and the
// last one included, before the ring removes it; and -a files:N stops.
func TestRingKeepsNAndRunsPostRotate(t *testing.T) {
	prog, log := postLog(t)
	o := fakeOptions(t, fakeNormal)
	// A name a shell would trip over: -z gets it as one argument.
	o.Write = filepath.Join(filepath.Dir(o.Write), `a b'$(touch pwned)".pcapng`)
	o.Ring = Ring{Packets: 150, Files: 3}
	o.StopFiles = 8
	o.PostRotate = prog
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Stopped != StopRingFiles || res.Problem() {
		t.Errorf("stopped %q, problem %v, notes %q", res.Stopped, res.Problem(), res.Notes)
	}
	files := ringFiles(t, o.Write)
	if len(files) != 3 || res.Ring.Written != 8 || res.Ring.Removed != 5 || res.Ring.RemovedPackets != 5*150 {
		t.Fatalf("files %v, ring %+v", files, res.Ring)
	}
	for i, f := range files {
		if pkts, _ := readAll(t, f); len(pkts) != 150 {
			t.Errorf("%s: %d packets, want 150", f, len(pkts))
		}
		if !strings.Contains(filepath.Base(f), []string{"_00006_", "_00007_", "_00008_"}[i]) {
			t.Errorf("kept %s, want the last three", f)
		}
	}
	if res.Counts.Packets() != 8*150 {
		t.Errorf("counts %+v, want %d", res.Counts, 8*150)
	}
	b, _ := os.ReadFile(log)
	ran := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(ran) != 8 || res.PostRotate == nil || res.PostRotate.Ran != 8 || res.PostRotate.Failures != 0 {
		t.Fatalf("-z ran on %q, result %+v", ran, res.PostRotate)
	}
	for i, r := range ran {
		if !strings.HasPrefix(r, "/") || !strings.Contains(r, `a b'$(touch pwned)"_0000`+strconv.Itoa(i+1)+"_") {
			t.Errorf("-z call %d got %q", i+1, r)
		}
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(o.Write), "pwned")); err == nil {
		t.Error("a file name was run by a shell")
	}
}

func TestPostRotateFailure(t *testing.T) {
	prog, _ := postLog(t)
	o := fakeOptions(t, fakeNormal)
	o.Write = filepath.Join(filepath.Dir(o.Write), "fail.pcapng")
	o.Ring = Ring{Packets: 100}
	o.StopFiles = 2
	o.PostRotate = prog
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	pr := res.PostRotate
	if pr == nil || pr.Ran != 2 || pr.Failures != 2 || len(pr.Failed) != 2 || !res.Problem() {
		t.Fatalf("post-rotate %+v, problem %v", pr, res.Problem())
	}
	if f := pr.Failed[0]; f.Status != "exit status 3" || !strings.HasPrefix(f.Output, "no room for /") || f.File != res.Files[0].Path {
		t.Errorf("failure %+v", f)
	}
	// The files stay: -z failing is said, nothing is undone.
	if len(ringFiles(t, o.Write)) != 2 {
		t.Errorf("files %v", ringFiles(t, o.Write))
	}
}

// Without -b, -z runs once, on the one file.
func TestPostRotateOneFile(t *testing.T) {
	prog, log := postLog(t)
	o := fakeOptions(t, fakeNormal)
	o.Count = 50
	o.PostRotate = prog
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(log)
	if string(b) != o.Write+"\n" || res.PostRotate == nil || res.PostRotate.Ran != 1 {
		t.Errorf("-z log %q, result %+v", b, res.PostRotate)
	}
}

// -b duration closes a file when its time is up, also when no packet
// comes to push it out, and the backend's files give back what was read.
func TestRingByDurationReleasesTemps(t *testing.T) {
	// Freed from 1 MiB on, by 1 MiB (the defaults wait for 64 MiB).
	const punchStep = 1 << 20
	pa, pe := punchAfter, punchEvery
	punchAfter, punchEvery = punchStep, punchStep
	t.Cleanup(func() { punchAfter, punchEvery = pa, pe })
	o := fakeOptions(t, fakeNormal)
	o.Ring = Ring{Duration: 400 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	var sizes [2]int64 // logical size, allocated bytes of the biggest temp seen
	o.beforeBackend = func(p *Plan) {
		go func() {
			for ctx.Err() == nil {
				for _, tp := range p.Temps {
					var st syscall.Stat_t
					if syscall.Stat(tp.Path, &st) == nil {
						mu.Lock()
						if st.Size > sizes[0] {
							sizes = [2]int64{st.Size, st.Blocks * 512}
						}
						mu.Unlock()
					}
				}
				time.Sleep(50 * time.Millisecond)
			}
		}()
	}
	o.onPoll = func(records int64) {
		mu.Lock()
		defer mu.Unlock()
		// Enough for a hole: over 2 MB written into one file.
		if sizes[0] > 2*punchStep+punchStep/2 {
			cancel()
		}
	}
	res, err := Run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	files := ringFiles(t, o.Write)
	if len(files) < 3 || res.Ring.Written != len(files) {
		t.Fatalf("files %v ring %+v", files, res.Ring)
	}
	var sum int64
	for _, f := range files {
		pkts, _ := readAll(t, f)
		sum += int64(len(pkts))
		if span := time.Duration(pkts[len(pkts)-1].Timestamp - pkts[0].Timestamp); span > 400*time.Millisecond {
			t.Errorf("%s spans %v, more than -b duration:0.4", f, span)
		}
	}
	if v := res.Validation; sum != v.RxRecords+v.TxRecords {
		t.Errorf("files hold %d, the backend wrote %d", sum, v.RxRecords+v.TxRecords)
	}
	mu.Lock()
	defer mu.Unlock()
	if sizes[1] > sizes[0]-punchStep {
		t.Errorf("the backend's file: %d bytes, %d allocated; what was read was not given back", sizes[0], sizes[1])
	}
	t.Logf("biggest temp %d bytes, %d allocated; %d files", sizes[0], sizes[1], len(files))
}

// -c counts across the ring: exactly N packets in all its files together.
func TestRingStopsAtCountExactly(t *testing.T) {
	o := fakeOptions(t, fakeNormal)
	o.Ring = Ring{Packets: 100}
	o.Count = 777
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	files := ringFiles(t, o.Write)
	var sum int
	for _, f := range files {
		pkts, _ := readAll(t, f)
		sum += len(pkts)
	}
	if res.Stopped != StopCount || len(files) != 8 || sum != 777 || res.Counts.Packets() != 777 {
		t.Errorf("stopped %q, %d files holding %d packets, counts %+v; want 8 files, 777", res.Stopped, len(files), sum, res.Counts)
	}
}

// -c keeps the first N packets in time order across the directions, as
// -w file and -w - do: the fake writes rx and tx in turns, so N packets
// are (N+1)/2 rx and N/2 tx. Counting as the files were read kept 8 rx
// and no tx for -c 8 (pdump's rx file is read first).
func TestRingCountFirstInTimeOrder(t *testing.T) {
	for _, n := range []int64{8, 777} {
		o := fakeOptions(t, fakeNormal)
		o.Ring = Ring{Packets: 1000}
		o.Count = n
		res, err := Run(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		var rx, tx int64
		var last uint64
		for _, f := range ringFiles(t, o.Write) {
			pkts, _ := readAll(t, f)
			for _, p := range pkts {
				if p.Timestamp < last {
					t.Errorf("-c %d: %s: out of time order", n, f)
				}
				last = p.Timestamp
				if p.Direction() == pcapfile.DirInbound {
					rx++
				} else {
					tx++
				}
			}
		}
		if rx != (n+1)/2 || tx != n/2 || res.Counts.RxPackets != rx || res.Counts.TxPackets != tx || res.Problem() {
			t.Errorf("-c %d: files hold rx %d tx %d, counts %+v, problem %v %+v; want rx %d tx %d",
				n, rx, tx, res.Counts, res.Problem(), res.Validation, (n+1)/2, n/2)
		}
	}
}

// A ring name that exists is never replaced and never costs the capture:
// the file takes the next free number. When no name is free the capture
// stops and the tool's files are kept with the packets (before: the
// capture stopped at the first taken name and deleted them).
func TestRingNameTaken(t *testing.T) {
	for _, taken := range []int{1, maxNameTries + 5} {
		o := fakeOptions(t, fakeNormal)
		o.Write = filepath.Join(t.TempDir(), "r.pcapng")
		o.Ring = Ring{Packets: 300}
		o.Count = 600
		dir, prefix, suffix := ringParts(o.Write)
		// Every second the capture may open a file in: it opens its
		// first some seconds after Run starts (8 s were too few on a
		// loaded machine: the name it took was free, and "taken all"
		// saw no write error).
		now := time.Now()
		for s := -1; s < 60; s++ {
			stamp := now.Add(time.Duration(s) * time.Second).Format("20060102150405")
			for n := 1; n <= taken; n++ {
				f := filepath.Join(dir, fmt.Sprintf("%s_%05d_%s%s", prefix, n, stamp, suffix))
				if err := os.WriteFile(f, []byte("theirs"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
		}
		res, err := Run(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		if taken == 1 {
			var sum int
			for _, f := range res.Files {
				pkts, _ := readAll(t, f.Path)
				sum += len(pkts)
			}
			if res.WriteError != "" || res.Problem() || len(res.Files) != 2 || sum != 600 || len(res.Ring.NamesTaken) == 0 {
				t.Errorf("taken 1: write error %q, files %+v (%d packets), ring %+v; want 2 files of 600 packets", res.WriteError, res.Files, sum, res.Ring)
			}
		} else {
			if res.WriteError == "" || len(res.TempFiles) == 0 || res.Recover == "" {
				t.Fatalf("taken all: write error %q, temps %v, recover %q", res.WriteError, res.TempFiles, res.Recover)
			}
			var sum int
			for _, f := range res.TempFiles {
				pkts, _ := readAll(t, f)
				sum += len(pkts)
			}
			if sum == 0 {
				t.Errorf("the kept files %v hold no packet", res.TempFiles)
			}
			os.RemoveAll(res.Plan.TempDir)
		}
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			if b, err := os.ReadFile(filepath.Join(dir, e.Name())); strings.Contains(e.Name(), "_00001_") && (err != nil || string(b) != "theirs") {
				t.Errorf("%s was replaced", e.Name())
			}
		}
	}
}

// -z gzip moves every file: the ring finds nothing to remove, and the
// summary says so instead of claiming files:N bounds the disk, and marks
// the files as missing (before: "the oldest 3 removed (files:2)" and
// .pcapng paths that did not exist).
func TestRingPostRotateMovesFiles(t *testing.T) {
	gz, err := exec.LookPath("gzip")
	if err != nil {
		t.Fatal(err)
	}
	o := fakeOptions(t, fakeNormal)
	o.Write = filepath.Join(t.TempDir(), "g.pcapng")
	o.Ring = Ring{Packets: 100, Files: 2}
	o.StopFiles = 5
	o.PostRotate = gz
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	r := res.Ring
	if r == nil || r.Written != 5 || r.Removed != 0 || r.Gone != 3 || len(r.GonePaths) != 3 {
		t.Fatalf("ring %+v; want 5 written, 0 removed, 3 gone", r)
	}
	for _, f := range res.Files {
		if f.State != "missing" {
			t.Errorf("%s: state %q, want missing", f.Path, f.State)
		}
		if _, err := os.Stat(f.Path + ".gz"); err != nil {
			t.Error(err)
		}
	}
	for _, f := range r.GonePaths {
		if _, err := os.Stat(f + ".gz"); err != nil {
			t.Errorf("gone file %s: %v", f, err)
		}
	}
	var sb strings.Builder
	if err := res.RenderText(&sb, ui.Style{}, false); err != nil {
		t.Fatal(err)
	}
	text := sb.String()
	if strings.Contains(text, "oldest 3 removed") || !strings.Contains(text, "files:2 does not bound the disk") || !strings.Contains(text, "no longer there after -z") {
		t.Errorf("summary:\n%s", text)
	}
}
