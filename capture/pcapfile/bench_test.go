package pcapfile

import (
	"context"

	"bytes"
	"github.com/gzdoctor/gzdoctor/capture/bpf"
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

// The tools' benchmarks run on an in-memory file of pcapgen traffic (the
// mix mkbig replicates for bench/pcap.bench.sh): b.SetBytes is the input's
// size, so MB/s compares with a plain read of the file.

// benchFilter is `udp and src host 10.0.0.1` as libpcap compiles it for
// Ethernet (tcpdump -r x -d), so that the benchmark needs no libpcap.
var benchFilter = []bpf.Instruction{
	{Op: 0x28, K: 12}, {Op: 0x15, Jt: 0, Jf: 5, K: 0x800},
	{Op: 0x30, K: 23}, {Op: 0x15, Jt: 0, Jf: 3, K: 17},
	{Op: 0x20, K: 26}, {Op: 0x15, Jt: 0, Jf: 1, K: 0x0a000001},
	{Op: 0x6, K: 262144}, {Op: 0x6, K: 0},
}

func BenchmarkFilter(b *testing.B) {
	prog, err := bpf.NewProgram(benchFilter)
	if err != nil {
		b.Fatal(err)
	}
	for _, f := range []Format{FormatPcap, FormatPcapNG} {
		b.Run(f.String(), func(b *testing.B) {
			data := benchFile(b, f)
			for range b.N {
				r, _ := NewReader(bytes.NewReader(data))
				_, err := Filter(context.Background(), r, io.Discard, FilterOptions{
					Matcher: func(Interface) (Matcher, error) { return prog, nil },
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkMerge(b *testing.B) {
	for _, f := range []Format{FormatPcap, FormatPcapNG} {
		b.Run(f.String(), func(b *testing.B) {
			data := benchFile(b, f)
			b.SetBytes(2 * int64(len(data)))
			for range b.N {
				r1, _ := NewReader(bytes.NewReader(data))
				r2, _ := NewReader(bytes.NewReader(data))
				if _, err := Merge(context.Background(), io.Discard, []*Reader{r1, r2}, MergeOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkStats(b *testing.B) {
	for _, f := range []Format{FormatPcap, FormatPcapNG} {
		b.Run(f.String(), func(b *testing.B) {
			data := benchFile(b, f)
			for range b.N {
				r, _ := NewReader(bytes.NewReader(data))
				if _, err := ComputeStats(context.Background(), r, StatsOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
