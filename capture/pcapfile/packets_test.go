package pcapfile

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
)

func readerOf(t *testing.T, ts ...uint64) *Reader {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, FormatPcap, []Interface{{LinkType: LinkTypeEthernet, SnapLen: 65535, TsResolution: Nano}}, NGOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i, x := range ts {
		p := Packet{Timestamp: x, Data: []byte{byte(i), 0, 0, 0}, OrigLen: 4}
		if err := w.WritePacket(&p); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	r, err := NewReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestPacketsOrderAndTies: time order across inputs; among equal
// timestamps the last input first (mergecap's rule, one for pcap merge and
// capture's finalisation).
func TestPacketsOrderAndTies(t *testing.T) {
	pk, err := NewPackets(context.Background(), []*Reader{readerOf(t, 10, 20, 30), readerOf(t, 20, 25), readerOf(t, 5, 20)}, PacketsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	type got struct {
		in int
		ts uint64
	}
	var seq []got
	for {
		i, p, err := pk.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		p.Timestamp = 0 // the caller may change the packet it got
		seq = append(seq, got{i, uint64(len(seq))})
	}
	want := []int{2, 0, 2, 1, 0, 1, 0} // 5 10 20(c) 20(b) 20(a) 25 30
	if len(seq) != len(want) {
		t.Fatalf("got %d packets, want %d", len(seq), len(want))
	}
	for k := range want {
		if seq[k].in != want[k] {
			t.Fatalf("packet %d from input %d, want %d (order %v)", k, seq[k].in, want[k], seq)
		}
	}
	if _, _, err := pk.Next(); err != io.EOF {
		t.Fatalf("after the end: %v", err)
	}
}

func TestPacketsDamageAndCancel(t *testing.T) {
	r := readerOf(t, 1, 2, 3)
	// Cut the last record in half: damage after two intact packets.
	var buf bytes.Buffer
	w, _ := NewWriter(&buf, FormatPcap, []Interface{{LinkType: LinkTypeEthernet, SnapLen: 65535, TsResolution: Nano}}, NGOptions{})
	for i := range 3 {
		w.WritePacket(&Packet{Timestamp: uint64(i + 1), Data: make([]byte, 40), OrigLen: 40})
	}
	w.Close()
	cut := buf.Bytes()[:buf.Len()-20]
	damaged := func() *Reader {
		r, err := NewReader(bytes.NewReader(cut))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	count := func(pk *Packets) (int, error) {
		n := 0
		for {
			_, _, err := pk.Next()
			if err != nil {
				return n, err
			}
			n++
		}
	}

	pk, _ := NewPackets(context.Background(), []*Reader{damaged(), r}, PacketsOptions{Names: []string{"a", "b"}, Salvage: true})
	if n, err := count(pk); err != io.EOF || n != 5 || len(pk.Damage) != 1 || !bytes.HasPrefix([]byte(pk.Damage[0]), []byte("a: ")) {
		t.Fatalf("salvage: %d packets, %v, damage %q", n, err, pk.Damage)
	}
	pk, _ = NewPackets(context.Background(), []*Reader{damaged()}, PacketsOptions{Names: []string{"a"}})
	var fe *FormatError
	if n, err := count(pk); n != 2 || !errors.As(err, &fe) || !bytes.HasPrefix([]byte(err.Error()), []byte("a: ")) {
		t.Fatalf("without salvage: %d packets, %v", n, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	pk, _ = NewPackets(ctx, []*Reader{readerOf(t, 1, 2)}, PacketsOptions{})
	cancel()
	if _, err := count(pk); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}
