package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gzdoctor/gzdoctor/capture/pcapfile"
	"github.com/gzdoctor/gzdoctor/capture/pcapfile/pcapview"
	"github.com/gzdoctor/gzdoctor/internal/testenv"
	"golang.org/x/sys/unix"
)

const pcapFixtures = "../../testdata/pcap"

func readCapture(t *testing.T, path string) (*pcapfile.Reader, []pcapfile.Packet) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := pcapfile.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var out []pcapfile.Packet
	for {
		var p pcapfile.Packet
		err := r.Next(&p)
		if err == io.EOF {
			return r, out
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		p.Data = bytes.Clone(p.Data)
		out = append(out, p)
	}
}

func TestPcapFilterCommand(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(pcapFixtures, "multi.pcapng")
	out := filepath.Join(dir, "out.pcapng")
	// The fixture's Ethernet frames carry EtherType 0x0800; the raw IPv4
	// interface's packet is UDP.
	code, stdout, stderr := run(t, "pcap", "filter", in, "-f", "udp", "-w", out)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "1 of 6 packets matched udp") {
		t.Errorf("stdout %q", stdout)
	}
	r, pk := readCapture(t, out)
	if r.Format() != pcapfile.FormatPcapNG || len(pk) != 1 || pk[0].Direction() != pcapfile.DirOutbound || r.Interfaces()[pk[0].Interface].LinkType != pcapfile.LinkTypeIPv4 {
		t.Errorf("output: format %v, %d packets %+v", r.Format(), len(pk), pk)
	}
	fi, _ := os.Stat(out)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}

	// Exists without --force: usage error, file untouched.
	before, _ := os.ReadFile(out)
	code, _, stderr = run(t, "pcap", "filter", in, "-w", out)
	if code != exitUsage || !strings.Contains(stderr, "file exists") {
		t.Errorf("overwrite without --force: exit %d %q", code, stderr)
	}
	if after, _ := os.ReadFile(out); !bytes.Equal(before, after) {
		t.Error("output changed without --force")
	}

	// tcpdump's positional form, -F pcap, --force.
	code, _, stderr = run(t, "pcap", "filter", filepath.Join(pcapFixtures, "le-micro.pcap"), "ether", "proto", "0x86dd", "-w", out, "--force", "-F", "pcap")
	if code != exitOK {
		t.Fatalf("positional: exit %d %s", code, stderr)
	}
	if r, pk := readCapture(t, out); r.Format() != pcapfile.FormatPcap || len(pk) != 1 || pk[0].OrigLen != 74 {
		t.Errorf("positional: %v %d packets", r.Format(), len(pk))
	}

	// JSON.
	code, stdout, _ = run(t, "-o", "json", "pcap", "filter", filepath.Join(pcapFixtures, "be-nano.pcap"), "-w", out, "--force")
	var env struct {
		Data pcapview.FilterReport `json:"data"`
	}
	if code != exitOK || json.Unmarshal([]byte(stdout), &env) != nil || env.Data.Read != 3 || env.Data.Matched != 3 || env.Data.Format != pcapfile.FormatPcap {
		t.Errorf("json: exit %d %s", code, stdout)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

func TestPcapCommandErrors(t *testing.T) {
	dir := t.TempDir()
	nano, _ := os.ReadFile(filepath.Join(pcapFixtures, "le-nano.pcap"))
	cut := filepath.Join(dir, "cut.pcap")
	os.WriteFile(cut, nano[:len(nano)-5], 0o600)
	junk := filepath.Join(dir, "junk.pcap")
	os.WriteFile(junk, []byte("hello"), 0o600)
	empty := filepath.Join(dir, "empty.pcap")
	os.WriteFile(empty, nil, 0o600)
	out := filepath.Join(dir, "out.pcap")
	tests := []struct {
		name string
		args []string
		code int
		err  string
	}{
		{"bad expression", []string{"pcap", "filter", cut, "-f", "hots 1.2.3.4", "-w", out}, exitUsage, "syntax error"},
		{"both expression forms", []string{"pcap", "filter", cut, "udp", "-f", "tcp", "-w", out}, exitUsage, "not both"},
		{"no -w", []string{"pcap", "filter", cut}, exitUsage, "--write is required"},
		{"--prefix is not pcap's", []string{"pcap", "stats", "--prefix", "x", cut}, exitUsage, "unknown flag: --prefix (only check, capture, collect and diagnose read --prefix)"},
		{"bad -F", []string{"pcap", "merge", cut, "-w", out, "-F", "erf"}, exitUsage, "unknown capture format"},
		{"truncated", []string{"pcap", "filter", cut, "-w", out}, exitFailure, "at byte offset 164: file truncated in a packet record"},
		{"wrong magic", []string{"pcap", "stats", junk}, exitFailure, "not a pcap or pcapng file"},
		{"empty", []string{"pcap", "merge", empty, "-w", out}, exitFailure, "empty file"},
		{"missing", []string{"pcap", "stats", filepath.Join(dir, "nope.pcap")}, exitFailure, "no such file"},
		{"stats truncated", []string{"pcap", "stats", cut}, exitFailure, "byte offset 164"},
		{"output is a directory", []string{"pcap", "filter", filepath.Join(pcapFixtures, "le-nano.pcap"), "-w", dir, "--force"}, exitFailure, dir + ": is a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := run(t, tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.err) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr, tt.code, tt.err)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("output written on error")
			}
		})
	}
	// --salvage keeps the intact packets and says where the damage is.
	code, stdout, stderr := run(t, "pcap", "filter", cut, "--salvage", "-w", out)
	if code != exitOK || !strings.Contains(stdout, "damaged at byte offset 164") {
		t.Errorf("salvage: exit %d %q %q", code, stdout, stderr)
	}
	if _, pk := readCapture(t, out); len(pk) != 2 {
		t.Errorf("salvage kept %d packets, want 2", len(pk))
	}
	code, stdout, _ = run(t, "pcap", "stats", "--salvage", cut)
	if code != exitOK || !strings.Contains(stdout, "Packets:       2") {
		t.Errorf("stats --salvage: exit %d %q", code, stdout)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 4 {
		t.Errorf("files left behind: %v", entries)
	}
}

func TestPcapMergeCommand(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "m.pcapng")
	a, b := filepath.Join(pcapFixtures, "le-micro.pcap"), filepath.Join(pcapFixtures, "be-nano.pcap")
	code, stdout, stderr := run(t, "pcap", "merge", a, b, "-w", out)
	if code != exitOK || !strings.Contains(stdout, "merged 2 files: 6 packets") {
		t.Fatalf("exit %d %q %q", code, stdout, stderr)
	}
	r, pk := readCapture(t, out)
	if len(r.Interfaces()) != 2 || len(pk) != 6 {
		t.Fatalf("%d interfaces, %d packets", len(r.Interfaces()), len(pk))
	}
	for i := 1; i < len(pk); i++ {
		if pk[i].Timestamp < pk[i-1].Timestamp {
			t.Errorf("packet %d out of time order", i)
		}
	}
	// Mixed link types cannot go to pcap.
	code, _, stderr = run(t, "pcap", "merge", filepath.Join(pcapFixtures, "multi.pcapng"), "-F", "pcap", "-w", filepath.Join(dir, "x.pcap"))
	if code != exitFailure || !strings.Contains(stderr, "cannot go into a pcap file") {
		t.Errorf("mixed link types to pcap: exit %d %q", code, stderr)
	}
}

func TestPcapStatsCommand(t *testing.T) {
	code, stdout, _ := run(t, "-o", "json", "pcap", "stats", filepath.Join(pcapFixtures, "le-nano.pcap"), filepath.Join(pcapFixtures, "be-micro.pcap"))
	var env struct {
		Command string               `json:"command"`
		Data    pcapview.StatsReport `json:"data"`
	}
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	if err := json.Unmarshal([]byte(stdout), &env); err != nil {
		t.Fatal(err)
	}
	if env.Command != "pcap stats" || len(env.Data.Files) != 2 || env.Data.Files[0].Packets != 3 || env.Data.Files[1].OriginalBytes != 228 || env.Data.Files[1].FileSize != 224 {
		t.Errorf("json: %s", stdout)
	}
}

// Without an expression nothing needs compiling: a link type libpcap does
// not know (1000; libpcap 1.10 knows up to 289) is copied as pcap merge
// copies it, where it used to fail with exit 2 ("unknown data link type").
// With an expression libpcap still decides.
func TestPcapFilterNoExpressionAnyLinkType(t *testing.T) {
	dir := t.TempDir()
	b, err := os.ReadFile(filepath.Join(pcapFixtures, "le-micro.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	b = bytes.Clone(b)
	b[20], b[21], b[22], b[23] = 0xe8, 0x03, 0, 0 // the file header's link type: 1000
	in := filepath.Join(dir, "lt1000.pcap")
	os.WriteFile(in, b, 0o600)
	_, want := readCapture(t, in)
	for _, args := range [][]string{{in}, {in, "-f", "  "}} {
		out := filepath.Join(dir, "out.pcap")
		code, _, stderr := run(t, append([]string{"pcap", "filter", "--force", "-w", out}, args...)...)
		if code != exitOK {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
		r, got := readCapture(t, out)
		if r.Interfaces()[0].LinkType != 1000 || len(got) != len(want) {
			t.Errorf("%v: link type %d, %d packets; want 1000 and %d", args, r.Interfaces()[0].LinkType, len(got), len(want))
		}
	}
	code, _, stderr := run(t, "pcap", "filter", in, "udp", "-w", filepath.Join(dir, "udp.pcap"))
	if code != exitUsage || stderr == "" {
		t.Errorf("an expression on link type 1000: exit %d, stderr %q; want libpcap's refusal (exit 2)", code, stderr)
	}
}

// hostileName is what a crafted file puts in a name: set the window title,
// erase the line, return to its start and print a fake verdict.
const hostileName = "eth0\x1b]0;owned\x07\x1b[2K\r✓ all good"

// rawControls reports whether out holds a byte a terminal would act on
// (other than newline and tab): the output is uncoloured in tests.
func rawControls(out string) bool {
	for _, r := range out {
		if (r < 0x20 && r != '\n' && r != '\t') || r == 0x7f || (r >= 0x80 && r <= 0x9f) {
			return true
		}
	}
	return false
}

// pcap stats printed a pcapng interface name raw: a crafted file set the
// window title, erased the line and printed "✓ all good".
func TestPcapStatsEscapesInterfaceName(t *testing.T) {
	var b bytes.Buffer
	w, err := pcapfile.NewWriter(&b, pcapfile.FormatPcapNG, []pcapfile.Interface{{LinkType: pcapfile.LinkTypeEthernet, SnapLen: 65535, Name: hostileName}}, pcapfile.NGOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WritePacket(&pcapfile.Packet{Timestamp: 1e18, OrigLen: 60, Data: make([]byte, 60)}); err != nil {
		t.Fatal(err)
	}
	w.Close()
	in := filepath.Join(t.TempDir(), "hostile.pcapng")
	os.WriteFile(in, b.Bytes(), 0o600)
	code, stdout, stderr := run(t, "pcap", "stats", in)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if rawControls(stdout) || !strings.Contains(stdout, `eth0\x1b]0;owned\x07\x1b[2K\r✓ all good`) {
		t.Errorf("the interface name reaches the terminal raw, or not at all:\n%q", stdout)
	}
}

// TestPcapOutputNotRegular: -w at a device node, a FIFO or a symlink is
// refused (exit 2) even with --force, and the node or link is left as it
// was: --force used to rename a 0600 regular file over it (-w /dev/null
// --force, as root, broke /dev/null for every other program).
func TestPcapOutputNotRegular(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mknod needs root")
	}
	dir := t.TempDir()
	in := filepath.Join(pcapFixtures, "le-nano.pcap")
	null := filepath.Join(dir, "mynull")
	if err := unix.Mknod(null, unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "myfifo")
	if err := unix.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	real := filepath.Join(dir, "real.pcap")
	os.WriteFile(real, []byte("keep"), 0o644)
	link := filepath.Join(dir, "latest.pcap")
	os.Symlink("real.pcap", link)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"pcap", "filter", in, "udp", "-w", null, "--force"}, null + " is a character device, not a regular file: gzdoctor never replaces it, even with --force (to write into it, stream the output there: -w - >" + null + ")"},
		{[]string{"pcap", "filter", in, "-w", null}, null + " is a character device"},
		{[]string{"pcap", "merge", in, in, "-w", fifo, "--force"}, fifo + " is a FIFO (named pipe), not a regular file"},
		{[]string{"pcap", "merge", in, "-w", link, "--force"}, link + " is a symbolic link, not a regular file: gzdoctor never replaces it, even with --force (it points to " + real + ": give that file itself (with --force to replace it), or remove the link)"},
	} {
		code, out, stderr := run(t, tc.args...)
		if code != exitUsage || out != "" || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want 2 and %q", tc.args, code, out, stderr, tc.want)
		}
	}
	for path, mode := range map[string]os.FileMode{null: os.ModeDevice | os.ModeCharDevice, fifo: os.ModeNamedPipe, link: os.ModeSymlink} {
		if fi, err := os.Lstat(path); err != nil || fi.Mode().Type() != mode {
			t.Errorf("%s is now %v (%v)", path, fi.Mode(), err)
		}
	}
	if b, _ := os.ReadFile(real); string(b) != "keep" {
		t.Errorf("the link's target was written: %q", b)
	}
	// The stream the message proposes writes into the node.
	f, err := os.OpenFile(null, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(testenv.Binary(t), "pcap", "filter", in, "udp", "-w", "-")
	var stderr strings.Builder
	cmd.Stdout, cmd.Stderr = f, &stderr
	if err := cmd.Run(); err != nil {
		t.Errorf("-w - >%s: %v %s", null, err, stderr.String())
	}
}
