package pcapfile

import (
	"bytes"
	"io"
	"testing"
)

// DPDK 22.11's dpdk-dumpcap stamps packets from a clock that runs ahead on
// some machines: on the lab VM it reached 9,325,452,570 s (the year 2265),
// past int64 nanoseconds (2262). Such files must read, sort, count and
// round-trip with the right times, as capinfos and tcpdump show them.
func TestTimestampsPast2262(t *testing.T) {
	const sec = 9_325_452_570 // seen in a real dpdk-dumpcap file on the lab
	for _, res := range []uint64{Micro, Nano} {
		// pcapng only: classic pcap holds 32-bit seconds and cannot say 2265.
		{
			var buf bytes.Buffer
			w, err := NewWriter(&buf, FormatPcapNG, []Interface{{LinkType: LinkTypeEthernet, SnapLen: 65535, TsResolution: res}}, NGOptions{})
			if err != nil {
				t.Fatal(err)
			}
			in := []uint64{sec*Nano + 872_756_000, sec*Nano + 973_375_000}
			for _, ts := range in {
				p := Packet{Timestamp: ts, OrigLen: 60, Data: make([]byte, 60)}
				if err := w.WritePacket(&p); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			r, err := NewReader(&buf)
			if err != nil {
				t.Fatal(err)
			}
			sc := NewStatsCollector()
			var p Packet
			for i := 0; ; i++ {
				err := r.Next(&p)
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if p.Timestamp != in[i] {
					t.Errorf("res %d: packet %d read back as %d, wrote %d", res, i, p.Timestamp, in[i])
				}
				if y := p.Time().UTC().Year(); y != 2265 {
					t.Errorf("res %d: packet %d in the year %d, want 2265", res, i, y)
				}
				sc.Add(LinkTypeEthernet, &p)
			}
			s := sc.Result(0)
			if s.Packets != 2 || s.First == nil || s.First.Unix() != sec || s.SpanSeconds < 0.1006 || s.SpanSeconds > 0.1007 {
				t.Errorf("res %d: stats %d packets, first %v, span %v s", res, s.Packets, s.First, s.SpanSeconds)
			}
		}
	}
}

// A timestamp past what uint64 nanoseconds hold saturates instead of
// wrapping into the past, and a negative if_tsoffset cannot go before 1970.
func TestTimestampConversionBounds(t *testing.T) {
	for _, tc := range []struct {
		name   string
		res    uint64
		offset int64
		units  uint64
		want   uint64
	}{
		{"micro", Micro, 0, 1_700_000_000_000_000, 1_700_000_000_000_000_000},
		{"micro past 2554", Micro, 0, ^uint64(0) / 2, maxTimestamp},
		{"2^-10 s units", 1024, 0, 1024 * 3, 3 * Nano},
		{"2^-10 s past 2554", 1024, 0, ^uint64(0), maxTimestamp},
		{"offset back", Micro, -10, 5_000_000, 0},
		{"offset forward", Micro, 10, 5_000_000, 15 * Nano},
		{"offset past the end", Nano, 10, maxTimestamp - 5, maxTimestamp},
	} {
		c := newConv(tc.res, tc.offset)
		if got := c.ns(tc.units); got != tc.want {
			t.Errorf("%s: %d units → %d ns, want %d", tc.name, tc.units, got, tc.want)
		}
	}
}
