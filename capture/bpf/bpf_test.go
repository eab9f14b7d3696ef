package bpf

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gzdoctor/gzdoctor/capture/pcapfile"
	"github.com/gzdoctor/gzdoctor/internal/pcapgen"
	"github.com/gzdoctor/gzdoctor/internal/testenv"
)

func writeTraffic(t testing.TB, path string, n int) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := pcapfile.NewPcapWriter(f, pcapfile.LinkTypeEthernet, 65535, pcapfile.Nano)
	if err != nil {
		t.Fatal(err)
	}
	for _, fr := range pcapgen.Traffic(n, 7, 1_700_000_000e9, 1000) {
		p := pcapfile.Packet{Timestamp: fr.Timestamp, Data: fr.Data, OrigLen: fr.OrigLen}
		if err := w.WritePacket(&p); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

type rec struct {
	ts   uint64
	orig uint32
	data []byte
}

func readAll(t testing.TB, path string) (pcapfile.Interface, []rec) {
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
	var out []rec
	var p pcapfile.Packet
	for {
		err := r.Next(&p)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, rec{p.Timestamp, p.OrigLen, bytes.Clone(p.Data)})
	}
	return r.Interfaces()[0], out
}

// selected maps the packets of sub, a filtered copy of all, back to their
// indices in all. Identical packets get identical filter decisions, so a
// greedy walk is exact.
func selected(t testing.TB, all, sub []rec) []int {
	var idx []int
	j := 0
	for i, p := range all {
		if j < len(sub) && p.ts == sub[j].ts && p.orig == sub[j].orig && bytes.Equal(p.data, sub[j].data) {
			idx = append(idx, i)
			j++
		}
	}
	if j != len(sub) {
		t.Fatalf("tcpdump's output has %d packets that are not in the input", len(sub)-j)
	}
	return idx
}

// TestDifferentialTcpdump runs every expression through tcpdump and through
// Compile+Run and wants the same packets selected.
func TestDifferentialTcpdump(t *testing.T) {
	testenv.Tool(t, "tcpdump", "Debian package tcpdump")
	dir := t.TempDir()
	in := filepath.Join(dir, "in.pcap")
	writeTraffic(t, in, 3000)
	ifc, all := readAll(t, in)
	if len(differentialExprs) < 30 {
		t.Fatalf("only %d expressions", len(differentialExprs))
	}
	for _, expr := range differentialExprs {
		t.Run(expr, func(t *testing.T) {
			out := filepath.Join(dir, "out.pcap")
			os.Remove(out)
			args := []string{"--time-stamp-precision=nano", "-r", in, "-w", out}
			if expr != "" {
				args = append(args, expr)
			}
			if b, err := exec.Command("tcpdump", args...).CombinedOutput(); err != nil {
				t.Fatalf("tcpdump %v: %v\n%s", args, err, b)
			}
			_, sub := readAll(t, out)
			want := selected(t, all, sub)
			prog, err := Compile(expr, int(ifc.LinkType), int(ifc.SnapLen))
			if err != nil {
				t.Fatal(err)
			}
			var got []int
			for i, p := range all {
				if prog.Match(p.data, p.orig) {
					got = append(got, i)
				}
			}
			if !equalInts(got, want) {
				t.Errorf("selected %d packets, tcpdump %d; first difference at input packet %d", len(got), len(want), firstDiff(got, want))
			}
			if len(want) == 0 && expr != "not ip" {
				t.Logf("note: tcpdump selects nothing for %q", expr)
			}
		})
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func firstDiff(a, b []int) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return min(a[i], b[i])
		}
	}
	if len(a) > len(b) {
		return a[len(b)]
	}
	if len(b) > len(a) {
		return b[len(a)]
	}
	return -1
}

func TestCompileErrors(t *testing.T) {
	for _, expr := range []string{"hots 10.0.0.1", "port 99999", "tcp[", "ip and"} {
		if _, err := Compile(expr, 1, 65535); err == nil {
			t.Errorf("%q compiled", expr)
		}
	}
}

// TestCompileRefusesWhatTcpdumpRefusesOnFiles: inbound, outbound and
// ifindex need a live Linux capture's ancillary data; tcpdump -r refuses
// them, and so must Compile, rather than match nothing in silence.
func TestCompileRefusesWhatTcpdumpRefusesOnFiles(t *testing.T) {
	testenv.Tool(t, "tcpdump", "Debian package tcpdump")
	in := filepath.Join(t.TempDir(), "in.pcap")
	writeTraffic(t, in, 10)
	for _, tc := range []struct {
		expr   string
		refuse bool
	}{
		{"inbound", true}, {"outbound", true}, {"ifindex 1", true}, {"udp and not inbound", true},
		{"tcp", false}, {"vlan", false}, {"ether broadcast", false},
	} {
		tcpdumpErr := exec.Command("tcpdump", "-r", in, "-w", os.DevNull, tc.expr).Run()
		_, err := Compile(tc.expr, 1, 65535)
		if (tcpdumpErr != nil) != tc.refuse || (err != nil) != tc.refuse {
			t.Errorf("%q: tcpdump -r error %v, Compile error %v; want both refused: %v", tc.expr, tcpdumpErr, err, tc.refuse)
		}
	}
}

func TestNewProgramRejects(t *testing.T) {
	tests := []struct {
		name string
		ins  []Instruction
	}{
		{"empty", nil},
		{"no return", []Instruction{{Op: 0x28, K: 12}}},
		{"jump out", []Instruction{{Op: 0x15, Jt: 5, K: 1}, {Op: 0x06, K: 1}}},
		{"ja out", []Instruction{{Op: 0x05, K: 1}, {Op: 0x06, K: 1}}},
		{"divide by zero", []Instruction{{Op: 0x34, K: 0}, {Op: 0x06, K: 1}}},
		{"memory slot", []Instruction{{Op: 0x02, K: 16}, {Op: 0x06, K: 1}}},
		{"unknown opcode", []Instruction{{Op: 0xff}, {Op: 0x06, K: 1}}},
	}
	for _, tt := range tests {
		if _, err := NewProgram(tt.ins); err == nil {
			t.Errorf("%s: accepted", tt.name)
		}
	}
}

// TestRunEdges checks libpcap's bpf_filter rules that compiled filters
// rarely reach: loads past the captured data, division by a zero X,
// shifts by 32 or more.
func TestRunEdges(t *testing.T) {
	pkt := []byte{1, 2, 3, 4, 5, 6}
	tests := []struct {
		name string
		ins  []Instruction
		want uint32
	}{
		{"word at end", []Instruction{{Op: 0x20, K: 2}, {Op: 0x16}}, 0x03040506},
		{"word past end", []Instruction{{Op: 0x20, K: 3}, {Op: 0x16}}, 0},
		{"half past end", []Instruction{{Op: 0x28, K: 5}, {Op: 0x16}}, 0},
		{"byte at end", []Instruction{{Op: 0x30, K: 5}, {Op: 0x16}}, 6},
		{"byte past end", []Instruction{{Op: 0x30, K: 6}, {Op: 0x16}}, 0},
		{"indexed", []Instruction{{Op: 0x01, K: 2}, {Op: 0x48, K: 2}, {Op: 0x16}}, 0x0506},
		{"indexed overflow", []Instruction{{Op: 0x01, K: 0xffffffff}, {Op: 0x50, K: 2}, {Op: 0x06, K: 1}}, 0},
		{"msh", []Instruction{{Op: 0xb1, K: 0}, {Op: 0x87}, {Op: 0x16}}, 4},
		{"len", []Instruction{{Op: 0x80}, {Op: 0x16}}, 60},
		{"div by zero X", []Instruction{{Op: 0x00, K: 7}, {Op: 0x3c}, {Op: 0x06, K: 1}}, 0},
		{"lsh X 32", []Instruction{{Op: 0x00, K: 7}, {Op: 0x01, K: 32}, {Op: 0x6c}, {Op: 0x16}}, 0},
		{"mod", []Instruction{{Op: 0x00, K: 7}, {Op: 0x94, K: 4}, {Op: 0x16}}, 3},
		{"neg", []Instruction{{Op: 0x00, K: 1}, {Op: 0x84}, {Op: 0x16}}, 0xffffffff},
		{"memory", []Instruction{{Op: 0x00, K: 9}, {Op: 0x02, K: 3}, {Op: 0x00, K: 0}, {Op: 0x60, K: 3}, {Op: 0x16}}, 9},
		{"jset", []Instruction{{Op: 0x00, K: 6}, {Op: 0x45, Jt: 0, Jf: 1, K: 2}, {Op: 0x06, K: 11}, {Op: 0x06, K: 22}}, 11},
		{"jgt X", []Instruction{{Op: 0x00, K: 6}, {Op: 0x01, K: 5}, {Op: 0x2d, Jt: 1, Jf: 0}, {Op: 0x06, K: 11}, {Op: 0x06, K: 22}}, 22},
	}
	for _, tt := range tests {
		p, err := NewProgram(tt.ins)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got := p.Run(pkt, 60); got != tt.want {
			t.Errorf("%s: got %#x, want %#x", tt.name, got, tt.want)
		}
	}
}

// The compiled program is libpcap's own, instruction for instruction: what
// tcpdump -ddd prints for the same file and expression.
func TestCompileIsTcpdumpsProgram(t *testing.T) {
	testenv.Tool(t, "tcpdump", "Debian package tcpdump")
	in := filepath.Join(t.TempDir(), "in.pcap")
	writeTraffic(t, in, 10)
	ifc, _ := readAll(t, in)
	for _, expr := range []string{"", "udp port 53", "vlan and tcp[tcpflags] & tcp-syn != 0", "ip6 and not icmp6", "ether broadcast or less 64"} {
		args := []string{"-r", in, "-ddd"}
		if expr != "" {
			args = append(args, expr)
		}
		b, err := exec.Command("tcpdump", args...).Output()
		if err != nil {
			t.Fatalf("tcpdump %v: %v", args, err)
		}
		var want []Instruction
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		for _, l := range lines[1:] {
			var in Instruction
			if _, err := fmt.Sscan(l, &in.Op, &in.Jt, &in.Jf, &in.K); err != nil {
				t.Fatalf("tcpdump -ddd line %q: %v", l, err)
			}
			want = append(want, in)
		}
		prog, err := Compile(expr, int(ifc.LinkType), int(ifc.SnapLen))
		if err != nil {
			t.Fatal(err)
		}
		if got := prog.Instructions(); !slices.Equal(got, want) {
			t.Errorf("%q: compiled %d instructions %v, tcpdump -ddd %d %v", expr, len(got), got, len(want), want)
		}
	}
}

// Without libpcap, Compile says what to install and that only filters need it.
func TestCompileWithoutLibpcap(t *testing.T) {
	err := openLibpcap([]string{"libpcap.so.no-such-version"})
	if !errors.Is(err, ErrNoLibpcap) {
		t.Fatalf("got %v, want ErrNoLibpcap", err)
	}
	for _, want := range []string{"filter expressions need libpcap", "apt install libpcap0.8", "dnf install libpcap", "everything else works", "libpcap.so.no-such-version"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q lacks %q", err, want)
		}
	}
}
