package pcapfile

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gzdoctor/gzdoctor/internal/pcapgen"
	"github.com/gzdoctor/gzdoctor/internal/testenv"
)

func frames(n int) []Packet {
	var out []Packet
	for _, f := range pcapgen.Traffic(n, 3, 1_700_000_000_123456789, 50_000) {
		out = append(out, Packet{Timestamp: f.Timestamp, Data: f.Data, OrigLen: f.OrigLen})
	}
	return out
}

func readAll(t testing.TB, b []byte) (*Reader, []Packet) {
	t.Helper()
	r, err := NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	var out []Packet
	for {
		var p Packet
		err := r.Next(&p)
		if err == io.EOF {
			return r, out
		}
		if err != nil {
			t.Fatal(err)
		}
		p.Data = bytes.Clone(p.Data)
		out = append(out, p)
	}
}

func TestWriteReadRoundTrip(t *testing.T) {
	in := frames(500)
	// Records around and beyond the write buffer (written in pieces),
	// each padding of pcapng, and an empty packet, between small ones.
	for i, n := range []int{0, 1, 2, 3, writeBufSize - 40, writeBufSize - 16, writeBufSize, maxSnapLen, 5} {
		at := 100 + 10*i
		p := in[at]
		p.Data = bytes.Repeat([]byte{byte(i + 1)}, n)
		p.OrigLen = uint32(n)
		in[at] = p
	}
	for i := range in {
		in[i].SetDirection(Direction(i % 3))
	}
	tests := []struct {
		name  string
		make  func(w io.Writer) (Writer, error)
		trunc uint64 // timestamp granularity in ns
		dirs  bool
	}{
		{"pcap µs", func(w io.Writer) (Writer, error) { return NewPcapWriter(w, LinkTypeEthernet, 0, Micro) }, 1000, false},
		{"pcap ns", func(w io.Writer) (Writer, error) { return NewPcapWriter(w, LinkTypeEthernet, 0, Nano) }, 1, false},
		{"pcapng µs", func(w io.Writer) (Writer, error) {
			return NewWriter(w, FormatPcapNG, []Interface{{LinkType: LinkTypeEthernet}}, NGOptions{Comment: "c"})
		}, 1000, true},
		{"pcapng ns", func(w io.Writer) (Writer, error) {
			return NewWriter(w, FormatPcapNG, []Interface{{LinkType: LinkTypeEthernet, TsResolution: Nano}}, NGOptions{})
		}, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			w, err := tt.make(&buf)
			if err != nil {
				t.Fatal(err)
			}
			for i := range in {
				if err := w.WritePacket(&in[i]); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			_, out := readAll(t, buf.Bytes())
			if len(out) != len(in) {
				t.Fatalf("%d packets back, wrote %d", len(out), len(in))
			}
			for i := range in {
				want := in[i]
				want.Timestamp -= want.Timestamp % tt.trunc
				if !tt.dirs {
					want.Flags = 0
				}
				g := out[i]
				if g.Timestamp != want.Timestamp || g.OrigLen != want.OrigLen || g.Flags != want.Flags || !bytes.Equal(g.Data, want.Data) {
					t.Fatalf("packet %d: got ts %d orig %d flags %d len %d, want ts %d orig %d flags %d len %d",
						i, g.Timestamp, g.OrigLen, g.Flags, len(g.Data), want.Timestamp, want.OrigLen, want.Flags, len(want.Data))
				}
			}
		})
	}
}

// TestPcapNGWriterWithTshark has tshark read what the pcapng writer wrote:
// interface options, directions, the section comment and the statistics.
func TestPcapNGWriterWithTshark(t *testing.T) {
	testenv.Tool(t, "tshark", "Debian package tshark")
	path := filepath.Join(t.TempDir(), "w.pcapng")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := NewPcapNGWriter(f, NGOptions{Comment: "rx and tx of net_ring0"})
	if err != nil {
		t.Fatal(err)
	}
	rx, _ := w.AddInterface(Interface{LinkType: LinkTypeEthernet, SnapLen: 65535, Name: "net_ring0 rx", Description: "lab", Filter: "udp", TsResolution: Nano})
	tx, _ := w.AddInterface(Interface{LinkType: LinkTypeEthernet, SnapLen: 128, Name: "net_ring0 tx"})
	in := frames(10)
	for i := range in {
		in[i].Interface = []int{rx, tx}[i%2]
		in[i].SetDirection([]Direction{DirInbound, DirOutbound}[i%2])
		if err := w.WritePacket(&in[i]); err != nil {
			t.Fatal(err)
		}
	}
	w.SetStats(rx, InterfaceStats{StartTime: in[0].Timestamp, EndTime: in[9].Timestamp, Received: 7, Dropped: 2, Delivered: 5})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	out, err := exec.Command("tshark", "-r", path, "-T", "fields", "-e", "frame.interface_name", "-e", "frame.packet_flags_direction", "-e", "frame.time_epoch", "-e", "frame.len").Output()
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 10 {
		t.Fatalf("tshark sees %d packets:\n%s", len(lines), out)
	}
	for i, l := range lines {
		fs := strings.Split(l, "\t")
		wantName := []string{"net_ring0 rx", "net_ring0 tx"}[i%2]
		wantDir := []string{"0x00000001", "0x00000002"}[i%2]
		ts := in[i].Timestamp
		if i%2 == 1 {
			ts -= ts % 1000 // tx interface is in µs
		}
		wantTS := strconv.FormatUint(ts/1e9, 10) + "." + leftPad(ts%1e9)
		if fs[0] != wantName || fs[1] != wantDir || fs[2] != wantTS || fs[3] != strconv.Itoa(int(in[i].OrigLen)) {
			t.Errorf("packet %d: tshark %q, want %s %s %s %d", i, fs, wantName, wantDir, wantTS, in[i].OrigLen)
		}
	}
	info, err := exec.Command("capinfos", path).CombinedOutput()
	if err != nil {
		t.Fatalf("capinfos: %v\n%s", err, info)
	}
	for _, want := range []string{"rx and tx of net_ring0", "Capture length = 128", "Filter string = udp", "Number of stat entries = 1"} {
		if !strings.Contains(string(info), want) {
			t.Errorf("capinfos does not show %q:\n%s", want, info)
		}
	}
}

func leftPad(n uint64) string {
	s := strconv.FormatUint(n, 10)
	return strings.Repeat("0", 9-len(s)) + s
}
