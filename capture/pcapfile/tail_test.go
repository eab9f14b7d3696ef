package pcapfile

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// growingFile hands out its content in steps, like a file another process
// is still writing: Read returns io.EOF at the current end, and more data
// once the writer has appended it.
type growingFile struct {
	data []byte
	end  int // bytes written so far
	pos  int
}

func (g *growingFile) Read(b []byte) (int, error) {
	if g.pos >= g.end {
		return 0, io.EOF
	}
	n := copy(b, g.data[g.pos:g.end])
	g.pos += n
	return n, nil
}

func TestTailReader(t *testing.T) {
	for _, name := range []string{"le-nano.pcap", "be-micro.pcap", "multi.pcapng"} {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(fixtures, name))
			if err != nil {
				t.Fatal(err)
			}
			_, want := readAll(t, data)
			for _, step := range []int{1, 3, 7, 64, len(data)} {
				g := &growingFile{data: data}
				r := NewTailReader(g)
				var got []Packet
				needMore := 0
				for {
					var p Packet
					err := r.Next(&p)
					if errors.Is(err, ErrNeedMore) {
						needMore++
						if g.end == len(data) {
							break
						}
						g.end = min(g.end+step, len(data))
						continue
					}
					if err != nil {
						t.Fatalf("step %d: %v", step, err)
					}
					p.Data = bytes.Clone(p.Data)
					got = append(got, p)
				}
				if len(got) != len(want) {
					t.Fatalf("step %d: %d packets, want %d", step, len(got), len(want))
				}
				for i := range got {
					if got[i].Timestamp != want[i].Timestamp || !bytes.Equal(got[i].Data, want[i].Data) || got[i].Offset != want[i].Offset {
						t.Fatalf("step %d: packet %d differs", step, i)
					}
				}
				if r.Offset() != int64(len(data)) {
					t.Errorf("step %d: offset %d at the end, want %d", step, r.Offset(), len(data))
				}
				if step == 1 && needMore < len(want) {
					t.Errorf("byte by byte, only %d need-more answers", needMore)
				}
			}
		})
	}
}

// TestTailReaderRealFile appends to a real file between reads.
func TestTailReaderRealFile(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(fixtures, "le-micro.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "growing.pcap")
	w, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := NewTailReader(f)
	var p Packet
	if err := r.Next(&p); !errors.Is(err, ErrNeedMore) {
		t.Fatalf("empty file: %v", err)
	}
	w.Write(data[:30]) // header and 6 bytes of a record header
	if err := r.Next(&p); !errors.Is(err, ErrNeedMore) {
		t.Fatalf("partial record: %v", err)
	}
	w.Write(data[30 : 24+16+54+10])
	if err := r.Next(&p); err != nil || p.OrigLen != 54 {
		t.Fatalf("first record: %v %+v", err, p)
	}
	if err := r.Next(&p); !errors.Is(err, ErrNeedMore) {
		t.Fatalf("second, partial: %v", err)
	}
	w.Write(data[24+16+54+10:])
	n := 0
	for r.Next(&p) == nil {
		n++
	}
	if n != 2 || r.Offset() != int64(len(data)) {
		t.Errorf("read %d more packets up to %d, want 2 up to %d", n, r.Offset(), len(data))
	}
}

func TestRepair(t *testing.T) {
	for _, name := range []string{"le-micro.pcap", "multi.pcapng"} {
		data, err := os.ReadFile(filepath.Join(fixtures, name))
		if err != nil {
			t.Fatal(err)
		}
		_, all := readAll(t, data)
		last := all[len(all)-1].Offset
		for _, cut := range []int{len(data), len(data) - 1, int(last) + 5, int(last) + 1} {
			path := filepath.Join(t.TempDir(), name)
			if err := os.WriteFile(path, data[:cut], 0o600); err != nil {
				t.Fatal(err)
			}
			res, err := Repair(path)
			if err != nil {
				t.Fatalf("%s cut at %d: %v", name, cut, err)
			}
			fi, _ := os.Stat(path)
			wantKept, wantPackets := last, int64(len(all)-1)
			if cut == len(data) {
				wantKept, wantPackets = int64(len(data)), int64(len(all))
			}
			if res.Kept != wantKept || fi.Size() != wantKept || res.Packets != wantPackets || res.Truncated() != (cut != len(data)) {
				t.Errorf("%s cut at %d: %+v, size %d; want kept %d, %d packets", name, cut, res, fi.Size(), wantKept, wantPackets)
			}
			if cut != len(data) && res.Damage == "" {
				t.Errorf("%s cut at %d: no damage reported", name, cut)
			}
			// The repaired file reads cleanly.
			fixed, _ := os.ReadFile(path)
			if _, got := readAll(t, fixed); len(got) != int(wantPackets) {
				t.Errorf("%s cut at %d: repaired file has %d packets", name, cut, len(got))
			}
		}
	}
	if _, err := Repair(filepath.Join(t.TempDir(), "missing.pcap")); err == nil {
		t.Error("missing file repaired")
	}
	bad := filepath.Join(t.TempDir(), "bad.pcap")
	os.WriteFile(bad, []byte("not a capture at all"), 0o600)
	if _, err := Repair(bad); err == nil {
		t.Error("a file with a bad header was repaired")
	}
	if b, _ := os.ReadFile(bad); string(b) != "not a capture at all" {
		t.Error("Repair changed a file it could not read")
	}
}
