package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gzdoctor/gzdoctor/capture/pcapfile"
	"github.com/gzdoctor/gzdoctor/capture/pcapfile/pcapview"
	"github.com/gzdoctor/gzdoctor/internal/testenv"
	"github.com/gzdoctor/gzdoctor/ui"
)

// runIn runs gzdoctor in-process with stdin.
func runStdin(t *testing.T, stdin []byte, args ...string) (code int, stdout []byte, stderr string) {
	t.Helper()
	s, in, out, errOut := ui.Test()
	in.Write(stdin)
	code = Main(args, s)
	return code, out.Bytes(), errOut.String()
}

func readBytes(t *testing.T, b []byte) (*pcapfile.Reader, []pcapfile.Packet) {
	t.Helper()
	f := filepath.Join(t.TempDir(), "x")
	if err := os.WriteFile(f, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return readCapture(t, f)
}

// `-` is standard input and standard output for pcap filter, merge and
// stats; when stdout carries packets the report goes to stderr.
func TestPcapStdio(t *testing.T) {
	multi, err := os.ReadFile(filepath.Join(pcapFixtures, "multi.pcapng"))
	if err != nil {
		t.Fatal(err)
	}
	nano := filepath.Join(pcapFixtures, "le-nano.pcap")

	// filter - -w -: packets on stdout, ✓ on stderr.
	code, out, stderr := runStdin(t, multi, "pcap", "filter", "-", "udp", "-w", "-")
	if code != exitOK {
		t.Fatalf("filter - -w -: exit %d: %s", code, stderr)
	}
	if r, pk := readBytes(t, out); r.Format() != pcapfile.FormatPcapNG || len(pk) != 1 {
		t.Errorf("filter stdout: %v, %d packets", r.Format(), len(pk))
	}
	if !strings.Contains(stderr, "1 of 6 packets matched udp") || !strings.Contains(stderr, "wrote stdout (pcapng,") {
		t.Errorf("filter stderr %q", stderr)
	}
	if _, err := os.Stat("-"); err == nil {
		t.Error("a file named - was written")
	}

	// JSON: the report on stderr too, stdout is the capture alone.
	code, out, stderr = runStdin(t, multi, "-o", "json", "pcap", "filter", "-", "-F", "pcapng", "-w", "-")
	var env struct {
		Data pcapview.FilterReport `json:"data"`
	}
	if code != exitOK || json.Unmarshal([]byte(stderr), &env) != nil || env.Data.Matched != 6 || env.Data.Output != "-" || env.Data.Input != "-" {
		t.Errorf("json: exit %d, stderr %q", code, stderr)
	}
	if _, pk := readBytes(t, out); len(pk) != 6 {
		t.Errorf("json: stdout holds %d packets, want 6", len(pk))
	}

	// merge: a file and stdin, to stdout.
	code, out, stderr = runStdin(t, multi, "pcap", "merge", nano, "-", "-w", "-")
	if code != exitOK {
		t.Fatalf("merge: exit %d %s", code, stderr)
	}
	_, nk := readCapture(t, nano)
	if _, pk := readBytes(t, out); len(pk) != 6+len(nk) {
		t.Errorf("merge: %d packets, want %d", len(pk), 6+len(nk))
	}
	if !strings.Contains(stderr, "merged 2 files") {
		t.Errorf("merge stderr %q", stderr)
	}

	// merge - - is refused: standard input is read once.
	if code, _, stderr := runStdin(t, multi, "pcap", "merge", "-", "-", "-w", "-"); code != exitUsage || !strings.Contains(stderr, "given 2 times") {
		t.Errorf("merge - -: exit %d %q", code, stderr)
	}

	// stats -: the size is what was read.
	code, out, stderr = runStdin(t, multi, "-o", "json", "pcap", "stats", "-")
	var st struct {
		Data pcapview.StatsReport `json:"data"`
	}
	if code != exitOK || json.Unmarshal(out, &st) != nil || len(st.Data.Files) != 1 || st.Data.Files[0].Packets != 6 || st.Data.Files[0].FileSize != int64(len(multi)) {
		t.Errorf("stats -: exit %d %s %s", code, out, stderr)
	}
	code, out, _ = runStdin(t, multi, "pcap", "stats", "-")
	if code != exitOK || !strings.Contains(string(out), "standard input\n") {
		t.Errorf("stats - text: %q", out)
	}

	// Not a capture on stdin: a clear error, exit 3.
	if code, _, stderr := runStdin(t, []byte("hello"), "pcap", "stats", "-"); code != exitFailure || !strings.Contains(stderr, "standard input:") {
		t.Errorf("stats of junk: exit %d %q", code, stderr)
	}
}

// The real binary in a real pipeline: tcpdump writes to gzdoctor, gzdoctor
// to tcpdump and tshark, which must read exactly what tcpdump selects; a
// reader that goes away stops gzdoctor with exit 0 and a note on stderr.
func TestPcapStdioPipes(t *testing.T) {
	testenv.Tool(t, "tcpdump", "Debian package tcpdump")
	testenv.Tool(t, "tshark", "Debian package tshark")
	bin := testenv.Binary(t)
	dir := t.TempDir()
	in := filepath.Join(pcapFixtures, "multi.pcapng")
	nano := filepath.Join(pcapFixtures, "le-nano.pcap")

	sh := func(script string) (stdout, stderr string, code int) {
		t.Helper()
		cmd := exec.Command("bash", "-o", "pipefail", "-c", script)
		cmd.Env = append(os.Environ(), "G="+bin, "IN="+in, "NANO="+nano, "MICRO="+filepath.Join(pcapFixtures, "le-micro.pcap"), "D="+dir)
		var o, e bytes.Buffer
		cmd.Stdout, cmd.Stderr = &o, &e
		err := cmd.Run()
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return o.String(), e.String(), code
	}
	// filter from a pipe into a pipe, against tcpdump on the file.
	got, stderr, code := sh(`cat "$NANO" | "$G" pcap filter - 'ip or ip6' -F pcap -w - | tcpdump -nn -tt -r - 2>/dev/null`)
	want, _, _ := sh(`tcpdump -nn -tt -r "$NANO" 'ip or ip6' 2>/dev/null`)
	if code != 0 || got != want || want == "" {
		t.Errorf("filter pipe: exit %d, got\n%s\nwant\n%s\nstderr %s", code, got, want, stderr)
	}
	// merge into tshark.
	got, stderr, code = sh(`"$G" pcap merge "$MICRO" - -w - < "$NANO" | tshark -r - -T fields -e frame.time_epoch -e frame.len -e frame.protocols 2>/dev/null`)
	want, _, _ = sh(`mergecap -w "$D/m.pcapng" "$MICRO" "$NANO" && tshark -r "$D/m.pcapng" -T fields -e frame.time_epoch -e frame.len -e frame.protocols 2>/dev/null`)
	if code != 0 || got != want || strings.Count(want, "\n") < 5 {
		t.Errorf("merge pipe: exit %d, %q packets, mergecap %q; %s", code, got, want, stderr)
	}
	// stats of a pipe agrees with the file's.
	// The envelope's time differs from run to run.
	a, _, _ := sh(`"$G" -o json pcap stats - < "$IN" | sed 's/"file": "-"/"file": "X"/; /"file_size"/d; /^  "time"/d'`)
	b, _, _ := sh(`"$G" -o json pcap stats "$IN" | sed 's|"file": "[^"]*"|"file": "X"|; /"file_size"/d; /^  "time"/d'`)
	if a != b || a == "" {
		t.Errorf("stats of stdin differs from stats of the file:\n%s\n%s", a, b)
	}

	// A reader that leaves at once: a large input, head -c 100 reads the
	// start and exits. gzdoctor gets EPIPE, says so on stderr, exit 0.
	big := filepath.Join(dir, "big.pcap")
	var buf bytes.Buffer
	w, _ := pcapfile.NewPcapWriter(&buf, pcapfile.LinkTypeEthernet, 0, pcapfile.Nano)
	pk := pcapfile.Packet{Data: make([]byte, 1400), OrigLen: 1400}
	for i := 0; i < 20000; i++ { // 28 MB: more than any pipe buffers
		pk.Timestamp = uint64(i) * 1000
		w.WritePacket(&pk)
	}
	w.Close()
	if err := os.WriteFile(big, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "pcap", "filter", big, "-w", "-")
	pr, pw, _ := os.Pipe()
	cmd.Stdout = pw
	var e bytes.Buffer
	cmd.Stderr = &e
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	head := make([]byte, 100)
	if _, err := pr.Read(head); err != nil {
		t.Fatal(err)
	}
	pr.Close()
	err := cmd.Wait()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok && ee.Sys().(syscall.WaitStatus).Signaled() {
			t.Fatalf("gzdoctor died of %v when its reader left", ee.Sys().(syscall.WaitStatus).Signal())
		}
		t.Fatalf("reader left: %v: %s", err, e.String())
	}
	if !strings.Contains(e.String(), "stdout closed by its reader: stopped after") {
		t.Errorf("reader left: stderr %q", e.String())
	}
}

// notifyBuf signals once it holds at least n bytes.
type notifyBuf struct {
	mu   sync.Mutex
	b    bytes.Buffer
	n    int
	full chan struct{}
}

func (w *notifyBuf) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.b.Write(p)
	if w.b.Len() >= w.n && w.full != nil {
		close(w.full)
		w.full = nil
	}
	return len(p), nil
}

// pcap filter - -w - in a live pipeline: a packet goes out as soon as it
// came in, not when 4 MiB have gathered or the input ends.
func TestPcapFilterStdioIsLive(t *testing.T) {
	in, inW := io.Pipe()
	var hdr bytes.Buffer
	w, _ := pcapfile.NewPcapWriter(&hdr, pcapfile.LinkTypeEthernet, 0, pcapfile.Nano)
	w.Flush()
	pk := pcapfile.Packet{Timestamp: 1, Data: make([]byte, 60), OrigLen: 60}
	var rec bytes.Buffer
	rw, _ := pcapfile.NewPcapWriter(&rec, pcapfile.LinkTypeEthernet, 0, pcapfile.Nano)
	rw.WritePacket(&pk)
	rw.Flush()
	one := rec.Bytes()[24:] // the record without its file header

	out := &notifyBuf{n: 24 + len(one), full: make(chan struct{})}
	full := out.full
	s, _, _, errOut := ui.Test()
	s.In, s.Out = in, out
	done := make(chan int, 1)
	go func() { done <- Main([]string{"pcap", "filter", "-", "-F", "pcap", "-w", "-"}, s) }()
	inW.Write(hdr.Bytes())
	inW.Write(one)
	select {
	case <-full:
	case <-time.After(10 * time.Second):
		t.Fatalf("the packet did not come out while the input stayed open (%d bytes out)", out.b.Len())
	}
	inW.Write(one)
	inW.Close()
	if code := <-done; code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if _, pks := readBytes(t, out.b.Bytes()); len(pks) != 2 {
		t.Errorf("%d packets out, want 2", len(pks))
	}
}
