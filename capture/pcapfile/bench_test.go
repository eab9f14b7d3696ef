package pcapfile

import (
	"bytes"
	"io"
	"testing"

	"github.com/gopacket/gopacket/pcapgo"
)

func benchFile(b *testing.B, f Format) []byte {
	var buf bytes.Buffer
	w, _ := NewWriter(&buf, f, []Interface{{LinkType: LinkTypeEthernet, SnapLen: 65535, TsResolution: Nano}}, NGOptions{})
	pk := frames(20000)
	for i := range pk {
		w.WritePacket(&pk[i])
	}
	w.Close()
	b.SetBytes(int64(buf.Len()))
	b.ReportAllocs()
	b.ResetTimer()
	return buf.Bytes()
}

// BenchmarkRead compares this package's readers with gopacket's pcapgo on
// the same in-memory file: the choice of readers rests on it.
func BenchmarkRead(b *testing.B) {
	for _, f := range []Format{FormatPcap, FormatPcapNG} {
		b.Run("pcapfile/"+f.String(), func(b *testing.B) {
			data := benchFile(b, f)
			for range b.N {
				r, _ := NewReader(bytes.NewReader(data))
				var p Packet
				for r.Next(&p) == nil {
				}
			}
		})
	}
	b.Run("pcapgo/pcap/ReadPacketData", func(b *testing.B) {
		data := benchFile(b, FormatPcap)
		for range b.N {
			r, _ := pcapgo.NewReader(bytes.NewReader(data))
			for {
				if _, _, err := r.ReadPacketData(); err == io.EOF {
					break
				}
			}
		}
	})
	b.Run("pcapgo/pcap/ZeroCopyReadPacketData", func(b *testing.B) {
		data := benchFile(b, FormatPcap)
		for range b.N {
			r, _ := pcapgo.NewReader(bytes.NewReader(data))
			for {
				if _, _, err := r.ZeroCopyReadPacketData(); err == io.EOF {
					break
				}
			}
		}
	})
	b.Run("pcapgo/pcapng/ZeroCopyReadPacketData", func(b *testing.B) {
		data := benchFile(b, FormatPcapNG)
		for range b.N {
			r, _ := pcapgo.NewNgReader(bytes.NewReader(data), pcapgo.DefaultNgReaderOptions)
			for {
				if _, _, err := r.ZeroCopyReadPacketData(); err == io.EOF {
					break
				}
			}
		}
	})
}
