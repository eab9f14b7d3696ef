package pcapfile

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// FuzzReader feeds arbitrary bytes to both readers. They must never panic,
// must end in io.EOF or a FormatError (never loop), must agree with each
// other, and every packet must lie within the input.
func FuzzReader(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(fixtures, "*.pcap*"))
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)/2])
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var want []Packet
		r, err := NewReaderOptions(bytes.NewReader(data), Options{BufferSize: 32})
		if err == nil {
			for n := 0; ; n++ {
				if n > len(data) {
					t.Fatal("more packets than bytes")
				}
				var p Packet
				err = r.Next(&p)
				if err != nil {
					break
				}
				if p.Offset < 0 || p.Offset >= int64(len(data)) || len(p.Data) > len(data) {
					t.Fatalf("packet outside the input: offset %d, %d bytes", p.Offset, len(p.Data))
				}
				if !bytes.Contains(data[p.Offset:], p.Data) {
					t.Fatal("packet data not from the input")
				}
				p.Data = bytes.Clone(p.Data)
				want = append(want, p)
			}
		}
		var fe *FormatError
		if err != io.EOF && !errors.As(err, &fe) {
			t.Fatalf("error %v (%T)", err, err)
		}
		// The incremental reader, fed the whole input, reads the same
		// packets and then needs more.
		tr := NewTailReader(bytes.NewReader(data))
		for i := 0; ; i++ {
			var p Packet
			err := tr.Next(&p)
			if err != nil {
				if !errors.Is(err, ErrNeedMore) && !errors.As(err, &fe) {
					t.Fatalf("tail reader: %v", err)
				}
				if i < len(want) && errors.Is(err, ErrNeedMore) {
					t.Fatalf("tail reader needs more after %d packets, reader read %d", i, len(want))
				}
				break
			}
			if i >= len(want) || p.Timestamp != want[i].Timestamp || !bytes.Equal(p.Data, want[i].Data) {
				t.Fatalf("tail reader packet %d differs", i)
			}
		}
	})
}
