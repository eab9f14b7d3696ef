package pcapfile

import (
	"bytes"
	"testing"
)

// TestRecordSize: the size a limit counts is what the writers write, for
// every padding remainder.
func TestRecordSize(t *testing.T) {
	for _, f := range []Format{FormatPcap, FormatPcapNG} {
		for n := 0; n <= 9; n++ {
			size := func(packets int) int64 {
				var buf bytes.Buffer
				w, err := NewWriter(&buf, f, []Interface{{LinkType: LinkTypeEthernet, SnapLen: 65535, TsResolution: Nano}}, NGOptions{})
				if err != nil {
					t.Fatal(err)
				}
				for range packets {
					p := Packet{Timestamp: 1, Data: make([]byte, n), OrigLen: uint32(n)}
					p.SetDirection(DirInbound)
					if err := w.WritePacket(&p); err != nil {
						t.Fatal(err)
					}
				}
				if err := w.Flush(); err != nil {
					t.Fatal(err)
				}
				return int64(buf.Len())
			}
			if got, want := size(2)-size(1), RecordSize(f, n); got != want {
				t.Errorf("%v, %d bytes: the writer wrote %d, RecordSize says %d", f, n, got, want)
			}
		}
	}
}
