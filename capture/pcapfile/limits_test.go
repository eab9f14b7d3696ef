package pcapfile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
)

// ngFile builds a little-endian pcapng file: a section header, n interface
// description blocks named name, then one Ethernet packet on interface 0.
func ngFile(n int, name string) []byte {
	var b bytes.Buffer
	le := binary.LittleEndian
	block := func(typ uint32, body []byte) {
		for len(body)%4 != 0 {
			body = append(body, 0)
		}
		l := uint32(12 + len(body))
		b.Write(le.AppendUint32(le.AppendUint32(nil, typ), l))
		b.Write(body)
		b.Write(le.AppendUint32(nil, l))
	}
	shb := le.AppendUint32(nil, 0x1A2B3C4D)
	shb = le.AppendUint16(le.AppendUint16(shb, 1), 0)
	shb = le.AppendUint64(shb, ^uint64(0))
	block(0x0A0D0D0A, shb)
	idb := le.AppendUint32(le.AppendUint16(le.AppendUint16(nil, uint16(LinkTypeEthernet)), 0), 65535)
	idb = le.AppendUint16(le.AppendUint16(idb, 2), uint16(len(name)))
	idb = append(idb, name...)
	for len(idb)%4 != 0 {
		idb = append(idb, 0)
	}
	idb = append(idb, 0, 0, 0, 0) // opt_endofopt
	for range n {
		block(1, idb)
	}
	epb := le.AppendUint32(nil, 0)
	for _, v := range []uint32{0, 0, 60, 60} {
		epb = le.AppendUint32(epb, v)
	}
	block(6, append(epb, make([]byte, 60)...))
	return b.Bytes()
}

func readAllPackets(data []byte) (int, error) {
	r, err := NewReader(bytes.NewReader(data))
	if err != nil {
		return 0, err
	}
	n := 0
	var p Packet
	for {
		if err := r.Next(&p); err != nil {
			if errors.Is(err, io.EOF) {
				return n, nil
			}
			return n, err
		}
		n++
	}
}

// A pcapng with 10^6 interface blocks cost 450-730 MB in pcap stats and
// merge: the reader now stops at MaxInterfaces with a clear error, having
// allocated a bounded amount; at the limit a file still reads.
func TestPcapngInterfaceLimit(t *testing.T) {
	if n, err := readAllPackets(ngFile(MaxInterfaces, "eth0")); err != nil || n != 1 {
		t.Fatalf("%d interfaces (the limit): %d packets, %v", MaxInterfaces, n, err)
	}
	million := ngFile(1_000_000, "eth0")
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := readAllPackets(million)
	runtime.ReadMemStats(&after)
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("10^6 interface blocks (%d MB file): %d kB allocated before the error", len(million)>>20, alloc>>10)
	if err == nil || !strings.Contains(err.Error(), "more than 4096 interface description blocks (the limit") {
		t.Fatalf("err = %v", err)
	}
	if alloc > 8<<20 {
		t.Errorf("reading up to the limit allocated %d MB; want under 8 MB", alloc>>20)
	}
	// Long names: the text of all interfaces together is bounded too.
	long := strings.Repeat("n", 60000)
	if _, err := readAllPackets(ngFile(MaxInterfaceText/len(long)+1, long)); err == nil || !strings.Contains(err.Error(), "exceed 1048576 bytes together") {
		t.Errorf("long interface names: err = %v", err)
	}
}
