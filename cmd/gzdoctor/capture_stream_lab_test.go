package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gzdoctor/gzdoctor/capture"
	"github.com/gzdoctor/gzdoctor/internal/lab"
	"github.com/gzdoctor/gzdoctor/internal/testenv"
)

// streamEvents parses -o json's event lines on stderr; the last must be
// the summary.
func streamEvents(t *testing.T, stderr string) ([]capture.Event, *capture.Result) {
	t.Helper()
	var evs []capture.Event
	var res *capture.Result
	sc := bufio.NewScanner(strings.NewReader(stderr))
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		line := sc.Text()
		if res != nil {
			t.Errorf("a line after the summary: %q", line)
		}
		var head struct {
			Type string          `json:"type"`
			Data *capture.Result `json:"data"`
		}
		if err := json.Unmarshal([]byte(line), &head); err != nil {
			t.Fatalf("stderr line is not JSON (%v): %q", err, line)
		}
		if head.Type == "summary" {
			res = head.Data
			continue
		}
		var ev capture.Event
		json.Unmarshal([]byte(line), &ev)
		evs = append(evs, ev)
	}
	if res == nil {
		t.Fatalf("no summary line on stderr:\n%s", stderr)
	}
	return evs, res
}

// pipeline runs a shell pipeline with gzdoctor as $G and returns each
// command's exit status, stdout of the last and the file err.txt holds.
func pipeline(t *testing.T, dir, prefix, script string) (status []int, out, stderr string) {
	t.Helper()
	cmd := exec.Command("bash", "-c", script+`; echo "status ${PIPESTATUS[*]}" >&3`)
	cmd.Env = append(os.Environ(), "G="+testenv.Binary(t), "D="+dir, "TMPDIR="+dir, "P="+prefix)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.ExtraFiles = []*os.File{w}
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	st := bufio.NewScanner(r)
	var line string
	for st.Scan() {
		line = st.Text()
	}
	cmd.Wait()
	for _, f := range strings.Fields(strings.TrimPrefix(line, "status ")) {
		n, _ := strconv.Atoi(f)
		status = append(status, n)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "err.txt"))
	if e.Len() > 0 {
		t.Logf("pipeline stderr: %s", e.String())
	}
	return status, o.String(), string(b)
}

// primaryClean checks that nothing of a capture is left in the primary:
// the busy check (pdump vdevs in telemetry's port list, capture tools'
// memzones and sockets) passes, no secondary's mp socket is left, and a
// new capture can take the lock and capture.
func primaryClean(t *testing.T, p *lab.Primary, dir string, traffic bool) {
	t.Helper()
	code, out, errOut := run(t, "-o", "json", "check", "--prefix", p.Prefix, "--only", "busy")
	if code != exitOK || !strings.Contains(out, `"status": "ok"`) {
		t.Errorf("busy check after the stream: exit %d\n%s\n%s", code, out, errOut)
	}
	if m, _ := filepath.Glob(filepath.Join(p.RuntimeDir, "mp_socket_*")); len(m) > 0 {
		t.Errorf("secondary sockets left in the primary: %v", m)
	}
	f := filepath.Join(dir, fmt.Sprintf("after-%d.pcapng", time.Now().UnixNano()))
	stop := []string{"-c", "20"}
	if !traffic {
		stop = []string{"-a", "duration:1"}
	}
	if code, res, errOut := captureJSON(t, append([]string{"--prefix", p.Prefix, "-w", f}, stop...)...); code != exitOK || traffic && res.Counts.Packets() != 20 {
		t.Errorf("a capture after the stream: exit %d %+v\n%s", code, res, errOut)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, ".gzdoctor-*")); len(m) > 0 {
		t.Errorf("capture directories left in TMPDIR: %v", m)
	}
}

// TestCaptureLabStream: `gzdoctor capture -w -` against a real primary
// with dpdk-pdump, read by tshark and tcpdump as they would be by an
// operator, and readers that leave early.
func TestCaptureLabStream(t *testing.T) {
	t.Parallel()
	needTools(t, "dpdk-pdump", "dpdk-dumpcap", "tshark", "tcpdump")
	p := lab.StartT(t, lab.Config{})
	dir := t.TempDir()

	t.Run("tshark reads exactly -c packets in time order", func(t *testing.T) {
		st, out, stderr := pipeline(t, dir, p.Prefix, `"$G" -o json capture --prefix "$P" -c 3000 -w - 2>"$D/err.txt" | tshark -r - -T fields -e frame.interface_id -e frame.packet_flags_direction -e frame.time_epoch 2>/dev/null`)
		if len(st) != 2 || st[0] != 0 || st[1] != 0 {
			t.Fatalf("exit statuses %v\n%s", st, stderr)
		}
		evs, res := streamEvents(t, stderr)
		rows := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if len(rows) != 3000 {
			t.Fatalf("tshark read %d packets from stdout, want exactly 3000", len(rows))
		}
		perIfc := map[string]int64{}
		var inversions int64
		var latest string
		for _, r := range rows {
			c := strings.Split(r, "\t")
			perIfc[c[0]+"/"+c[1]]++
			// Same-length decimal strings of one era compare as numbers.
			if c[2] < latest {
				inversions++
			}
			latest = max(latest, c[2])
		}
		// In order, but for what the summary owns up to (a direction
		// silent for longer than the hold, on a loaded machine).
		if inversions != res.Stream.OutOfOrder {
			t.Errorf("tshark sees %d packets older than one before them, the summary says %d", inversions, res.Stream.OutOfOrder)
		}
		// Interface 0 is rx (inbound, 0x1), 1 tx (outbound, 0x2).
		if perIfc["0/0x00000001"] != res.Counts.RxPackets || perIfc["1/0x00000002"] != res.Counts.TxPackets || res.Counts.RxPackets == 0 || res.Counts.TxPackets == 0 {
			t.Errorf("tshark per interface/direction %v, gzdoctor %+v", perIfc, res.Counts)
		}
		if res.Stopped != capture.StopCount || !res.Validation.OK() || res.Stream == nil || res.Stream.Packets != 3000 || len(res.Files) != 1 || res.Files[0].Path != "-" {
			t.Errorf("summary: stopped %q, validation %+v, stream %+v, files %+v", res.Stopped, res.Validation, res.Stream, res.Files)
		}
		if res.Primary == nil || res.Primary.Rx.Copied() < uint64(res.Counts.RxPackets) || res.Primary.Tx.Copied() < uint64(res.Counts.TxPackets) {
			t.Errorf("primary %+v does not cover %+v", res.Primary, res.Counts)
		}
		// The per-port result, as a file's (none before: -w - left it out).
		if len(res.Ports) != 1 || res.Ports[0].Counts != res.Counts || res.Ports[0].Primary == nil {
			t.Errorf("ports %+v, want one with the stream's counts %+v and the primary's copies", res.Ports, res.Counts)
		}
		if len(evs) == 0 || evs[0].Type != "start" || evs[0].Backend != "pdump" || !evs[0].Stream {
			t.Errorf("first event %+v", evs)
		}
		var stopping bool
		for _, e := range evs {
			stopping = stopping || e.Type == "stopping" && e.Reason == capture.StopCount
		}
		if !stopping {
			t.Errorf("no stopping event for the count: %+v", evs)
		}
		t.Logf("3000 packets, %d bytes on stdout, max hold %.0f ms, out of order %d", res.Stream.Bytes, res.Stream.MaxLatencyMs, res.Stream.OutOfOrder)
	})

	t.Run("json to a file: the document on stdout, event lines on stderr", func(t *testing.T) {
		f := filepath.Join(dir, "j.pcapng")
		code, doc, errOut := captureJSON(t, "--prefix", p.Prefix, "-c", "500", "-w", f)
		if code != exitOK || doc == nil {
			t.Fatalf("exit %d\n%s", code, errOut)
		}
		evs, sum := streamEvents(t, errOut)
		if sum.Counts != doc.Counts || sum.Stopped != doc.Stopped || len(sum.Files) != 1 || sum.Files[0].Path != f {
			t.Errorf("summary line %+v, document %+v", sum.Counts, doc.Counts)
		}
		if len(evs) < 2 || evs[0].Type != "start" || evs[0].Stream || evs[len(evs)-1].Type != "stopping" {
			t.Errorf("events %+v", evs)
		}
	})

	t.Run("pcap to tcpdump", func(t *testing.T) {
		st, out, stderr := pipeline(t, dir, p.Prefix, `"$G" capture --prefix "$P" -c 200 -F pcap -w - 2>"$D/err.txt" | tcpdump -nn -r - 2>/dev/null | wc -l`)
		if len(st) != 3 || st[0] != 0 || st[1] != 0 || strings.TrimSpace(out) != "200" {
			t.Errorf("statuses %v, tcpdump read %q lines\n%s", st, out, stderr)
		}
		if !strings.Contains(stderr, "✓ captured: 200 packets reached (exit status 0)") || !strings.Contains(stderr, "stdout 200 packets") {
			t.Errorf("summary on stderr:\n%s", stderr)
		}
	})

	t.Run("dumpcap", func(t *testing.T) {
		st, out, stderr := pipeline(t, dir, p.Prefix, `"$G" capture --prefix "$P" --backend dumpcap -c 100 -w - 2>"$D/err.txt" | tshark -r - -T fields -e frame.packet_flags_direction 2>/dev/null | sort | uniq -c`)
		if len(st) != 4 || st[0] != 0 || st[1] != 0 {
			t.Fatalf("statuses %v\n%s", st, stderr)
		}
		// One pcapng from dumpcap, split by its direction flags.
		var in, outb int
		fmt.Sscanf(strings.ReplaceAll(out, "\n", " "), "%d 0x00000001 %d 0x00000002", &in, &outb)
		if in+outb != 100 || in == 0 || outb == 0 {
			t.Errorf("tshark: %q, want 100 packets in both directions", out)
		}
		if !strings.Contains(stderr, "captured: 100 packets reached (exit status 0)") || !strings.Contains(stderr, "stdout 100 packets") {
			t.Errorf("summary:\n%s", stderr)
		}
	})

	t.Run("reader leaves: tshark -c 5", func(t *testing.T) {
		start := time.Now()
		st, out, stderr := pipeline(t, dir, p.Prefix, `"$G" capture --prefix "$P" -w - 2>"$D/err.txt" | tshark -r - -c 5 2>/dev/null | wc -l`)
		took := time.Since(start)
		if len(st) != 3 || st[0] != 0 || strings.TrimSpace(out) != "5" {
			t.Fatalf("statuses %v, tshark printed %q\n%s", st, out, stderr)
		}
		if !strings.Contains(stderr, "✓ captured: stdout closed by its reader (exit status 0)") || !strings.Contains(stderr, "! the reader closed stdout") {
			t.Errorf("summary:\n%s", stderr)
		}
		t.Logf("the capture ended %s after it started", took.Round(time.Millisecond))
		primaryClean(t, p, dir, true)
	})
}

// TestCaptureLabStreamSessionEnds: an SSH session that ends closes
// stdout and stderr together and sends SIGHUP: the capture stops the
// gentle way and exits 0 though nobody reads its summary.
func TestCaptureLabStreamSessionEnds(t *testing.T) {
	t.Parallel()
	needTools(t, "dpdk-pdump")
	p := lab.StartT(t, lab.Config{})
	dir := t.TempDir()
	outR, outW, _ := os.Pipe()
	errR, errW, _ := os.Pipe()
	cmd := exec.Command(testenv.Binary(t), "capture", "--prefix", p.Prefix, "-w", "-")
	cmd.Env = append(os.Environ(), "TMPDIR="+dir)
	cmd.Stdout, cmd.Stderr = outW, errW
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	outW.Close()
	errW.Close()
	// Packets flow: the capture runs.
	b := make([]byte, 64<<10)
	if _, err := io.ReadAtLeast(outR, b, len(b)); err != nil {
		t.Fatalf("reading the stream: %v", err)
	}
	outR.Close()
	errR.Close()
	cmd.Process.Signal(syscall.SIGHUP)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("gzdoctor after its session ended: %v, want exit 0", err)
		}
	case <-time.After(60 * time.Second):
		cmd.Process.Signal(syscall.SIGINT)
		t.Fatal("gzdoctor did not end after its session did")
	}
	primaryClean(t, p, dir, true)
}

// TestCaptureLabStreamQuietReaderLeaves: on a port without traffic nothing
// is ever written after the header, so no write fails: gzdoctor must see
// the reader leave by itself, and stop cleanly.
func TestCaptureLabStreamQuietReaderLeaves(t *testing.T) {
	t.Parallel()
	needTools(t, "dpdk-pdump")
	p := lab.StartT(t, lab.Config{Rate: -1})
	dir := t.TempDir()
	// head reads the pcapng header's first 4 bytes and exits 2 s later:
	// the capture has started by then (the lock holder names the tool).
	st, out, stderr := pipeline(t, dir, p.Prefix, `"$G" capture --prefix "$P" -w - 2>"$D/err.txt" | { head -c 4 | od -An -tx1; sleep 2; }`)
	if len(st) != 2 || st[0] != 0 || strings.TrimSpace(out) != "0a 0d 0d 0a" {
		t.Fatalf("statuses %v, header %q\n%s", st, out, stderr)
	}
	if !strings.Contains(stderr, "stdout closed by its reader") {
		t.Errorf("summary:\n%s", stderr)
	}
	primaryClean(t, p, dir, false)
}
