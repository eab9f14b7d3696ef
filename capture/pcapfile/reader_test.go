package pcapfile

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const fixtures = "../../testdata/pcap"

type got struct {
	ts     uint64
	caplen int
	orig   uint32
	iface  int
	dir    Direction
}

func readFile(t testing.TB, path string) (*Reader, []got) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewReaderOptions(bytes.NewReader(b), Options{BufferSize: 64})
	if err != nil {
		t.Fatal(err)
	}
	var out []got
	var p Packet
	for {
		err := r.Next(&p)
		if err == io.EOF {
			return r, out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, got{p.Timestamp, len(p.Data), p.OrigLen, p.Interface, p.Direction()})
	}
}

// TestReadFixtures checks the fixtures against what tshark 4.0 prints for
// them (frame.time_epoch, cap_len, len, interface_id, direction); tshark
// numbers the interfaces of a second pcapng section from 0 again, where
// gzdoctor numbers all interfaces of a file in one sequence.
func TestReadFixtures(t *testing.T) {
	micro := []got{
		{1700000000_000001000, 54, 54, 0, 0},
		{1700000000_999999000, 24, 100, 0, 0},
		{1700000001_000000000, 74, 74, 0, 0},
	}
	nano := []got{
		{1700000000_123456789, 54, 54, 0, 0},
		{1700000000_999999999, 54, 54, 0, 0},
		{1700000002_000000005, 14, 14, 0, 0},
	}
	tests := []struct {
		file   string
		format Format
		res    uint64
		want   []got
		ifaces int
	}{
		{"be-micro.pcap", FormatPcap, Micro, micro, 1},
		{"le-micro.pcap", FormatPcap, Micro, micro, 1},
		{"be-nano.pcap", FormatPcap, Nano, nano, 1},
		{"le-nano.pcap", FormatPcap, Nano, nano, 1},
		{"multi.pcapng", FormatPcapNG, Nano, []got{
			{0, 34, 34, 0, 0},
			{1700000000_000000001, 54, 54, 0, DirInbound},
			{1700000010_500000000, 28, 28, 1, DirOutbound},
			{1700000001_500000000, 54, 54, 0, DirInbound},
			{1700000002_000001000, 54, 54, 2, 0},
			{1700000002_000002000, 17, 60, 2, DirOutbound},
		}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			r, pk := readFile(t, filepath.Join(fixtures, tt.file))
			if r.Format() != tt.format || r.Resolution() != tt.res || len(r.Interfaces()) != tt.ifaces {
				t.Errorf("format %v res %d ifaces %d", r.Format(), r.Resolution(), len(r.Interfaces()))
			}
			if len(pk) != len(tt.want) {
				t.Fatalf("%d packets, want %d: %+v", len(pk), len(tt.want), pk)
			}
			for i := range pk {
				if pk[i] != tt.want[i] {
					t.Errorf("packet %d: %+v, want %+v", i, pk[i], tt.want[i])
				}
			}
		})
	}
	r, _ := readFile(t, filepath.Join(fixtures, "multi.pcapng"))
	ifs := r.Interfaces()
	if ifs[0].Name != "dpdk:0" || ifs[0].Description != "net_null0 rx" || ifs[0].Filter != "udp" || ifs[0].SnapLen != 262144 {
		t.Errorf("interface 0: %+v", ifs[0])
	}
	if ifs[1].LinkType != LinkTypeIPv4 || ifs[1].TsResolution != 1<<20 || ifs[1].TsOffset != 10 {
		t.Errorf("interface 1: %+v", ifs[1])
	}
	if r.Comment() != "gzdoctor fixture: two sections" {
		t.Errorf("comment %q", r.Comment())
	}
}

func TestDamagedFiles(t *testing.T) {
	good, err := os.ReadFile(filepath.Join(fixtures, "le-micro.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	ng, err := os.ReadFile(filepath.Join(fixtures, "multi.pcapng"))
	if err != nil {
		t.Fatal(err)
	}
	set32 := func(b []byte, off int, v uint32) []byte {
		c := bytes.Clone(b)
		c[off], c[off+1], c[off+2], c[off+3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
		return c
	}
	set32be := func(b []byte, off int, v uint32) []byte {
		c := bytes.Clone(b)
		c[off], c[off+1], c[off+2], c[off+3] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
		return c
	}
	tests := []struct {
		name    string
		data    []byte
		offset  int64
		msg     string
		intact  int // packets readable before the damage
		atStart bool
	}{
		{"empty", nil, 0, "empty file", 0, true},
		{"short header", good[:10], 0, "truncated in the pcap file header", 0, true},
		{"wrong magic", append([]byte("GIF89a"), good[6:]...), 0, "not a pcap or pcapng file (magic number 0x38464947)", 0, true},
		{"text file", []byte("hello, world\n"), 0, "not a pcap or pcapng file", 0, true},
		{"truncated record header", good[:24+16+54+5], 94, "truncated in a record header: 5 of 16", 1, false},
		{"truncated packet", good[:len(good)-3], 134, "truncated in a packet record: 87 of 90", 2, false},
		{"absurd length", set32(good, 24+16+54+8, 0x7fffffff), 94, "claims 2147483647 captured bytes", 1, false},
		{"ng wrong byte order magic", set32(ng, 8, 0x01020304), 0, "no valid byte-order magic", 0, true},
		{"ng absurd block length", set32be(ng, 0xf0+4, 0x40000000), 0xf0, "impossible length 1073741824", 1, false},
		{"ng odd block length", set32be(ng, 0xf0+4, 13), 0xf0, "impossible length 13", 1, false},
		{"ng mismatched trailer", set32be(ng, 0xf0+4, 0x38), 0xf0, "says length 56 at its start but", 1, false},
		{"ng truncated", ng[:len(ng)-10], int64(len(ng) - 64), "truncated in a block of type 0x6", 5, false},
		{"ng packet on missing interface", set32be(ng, 0xf8, 7), 0xf0, "packet for interface 7", 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewReader(bytes.NewReader(tt.data))
			n := 0
			if err == nil {
				var p Packet
				for err == nil {
					if err = r.Next(&p); err == nil {
						n++
					}
				}
			} else if !tt.atStart {
				t.Fatalf("header rejected: %v", err)
			}
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v (%T), want a FormatError", err, err)
			}
			if fe.Offset != tt.offset || !strings.Contains(fe.Msg, tt.msg) {
				t.Errorf("got %q at %d, want %q at %d", fe.Msg, fe.Offset, tt.msg, tt.offset)
			}
			if n != tt.intact {
				t.Errorf("%d packets before the damage, want %d", n, tt.intact)
			}
		})
	}
}
