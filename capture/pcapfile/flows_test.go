package pcapfile

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

// TestFlowTable checks the table against a Go map on keys that share most
// words (as IPv4 keys do) and on full IPv6-like keys, across growth.
func TestFlowTable(t *testing.T) {
	for _, tc := range []struct {
		name string
		key  func(r *rand.Rand) flowKey
		n    int // draws
	}{
		{"ipv4 talkers", func(r *rand.Rand) flowKey { return flowKey{uint64(r.Uint32N(5000)) << 32, 0, 0, 0, 4 << 40} }, 50000},
		{"ipv4 conversations", func(r *rand.Rand) flowKey {
			return flowKey{uint64(r.Uint32N(64)) << 32, 0, uint64(r.Uint32N(64)) << 32, 0, 4<<40 | 17<<32 | uint64(r.Uint32N(4))}
		}, 100000},
		{"ipv6 conversations", func(r *rand.Rand) flowKey {
			return flowKey{r.Uint64N(3), r.Uint64N(3000), r.Uint64N(3), r.Uint64N(3), 6<<40 | 6<<32}
		}, 100000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, 2))
			var tab flowTable
			want := map[flowKey]counter{}
			for i := range tc.n {
				k := tc.key(r)
				c := tab.get(&k)
				if c == nil {
					t.Fatalf("draw %d: table refused key %v with %d keys", i, k, len(tab.e))
				}
				c.packets++
				c.bytes += int64(i)
				w := want[k]
				w.packets++
				w.bytes += int64(i)
				want[k] = w
			}
			got := map[flowKey]counter{}
			tab.each(func(k *flowKey, c counter) {
				if _, dup := got[*k]; dup {
					t.Errorf("key %v twice", *k)
				}
				got[*k] = c
			})
			if len(got) != len(want) {
				t.Fatalf("%d keys, want %d", len(got), len(want))
			}
			for k, w := range want {
				if got[k] != w {
					t.Errorf("key %v: %+v, want %+v", k, got[k], w)
				}
			}
		})
	}
}

// TestStatsTruncated: past MaxTracked addresses and conversations the rest
// are not ranked and the result says so; what was tracked keeps counting.
func TestStatsTruncated(t *testing.T) {
	c := NewStatsCollector()
	const n = MaxTracked + 100
	for i := range n {
		data := make([]byte, 14+20+8)
		binary.BigEndian.PutUint16(data[12:], etherIPv4)
		ip := data[14:]
		ip[0], ip[9] = 0x45, 17
		binary.BigEndian.PutUint32(ip[12:], 0x0a000000+uint32(i)) // 10.x.y.z, each new
		binary.BigEndian.PutUint32(ip[16:], 0xc0a80101)           // 192.168.1.1
		c.Add(LinkTypeEthernet, &Packet{Data: data, OrigLen: 100, Timestamp: uint64(i)})
	}
	s := c.Result(1)
	if !s.TalkersTruncated {
		t.Error("TalkersTruncated not set")
	}
	if len(c.talkers.e) != MaxTracked || len(c.convs.e) != MaxTracked {
		t.Errorf("tracked %d talkers and %d conversations, want %d each", len(c.talkers.e), len(c.convs.e), MaxTracked)
	}
	if len(s.TopTalkers) != 1 || s.TopTalkers[0].Address != "192.168.1.1" || s.TopTalkers[0].Packets != n {
		t.Errorf("top talker %+v, want 192.168.1.1 with %d packets", s.TopTalkers, n)
	}
}
