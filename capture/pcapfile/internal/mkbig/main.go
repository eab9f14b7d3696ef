// Command mkbig writes a large capture for benchmarks by replicating a
// source capture (a lab capture, or synthetic traffic when none is given)
// with timestamps shifted so that each copy follows the one before.
//
//	go run ./capture/pcapfile/internal/mkbig -in rx.pcap -size 1G -o /tmp/big.pcap
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/gzdoctor/gzdoctor/capture/pcapfile"
	"github.com/gzdoctor/gzdoctor/internal/pcapgen"
)

func main() {
	in := flag.String("in", "", "source capture (default: synthetic traffic)")
	out := flag.String("o", "", "output file")
	size := flag.String("size", "1G", "target size (K, M, G suffixes)")
	format := flag.String("F", "pcap", "output format: pcap or pcapng")
	seed := flag.Uint64("seed", 1, "synthetic traffic seed")
	offset := flag.Duration("offset", 0, "shift every timestamp by this much")
	flag.Parse()
	if err := run(*in, *out, *size, *format, *seed, offset.Nanoseconds()); err != nil {
		fmt.Fprintln(os.Stderr, "mkbig:", err)
		os.Exit(1)
	}
}

func parseSize(s string) (int64, error) {
	mul := int64(1)
	switch {
	case strings.HasSuffix(s, "G"):
		mul, s = 1<<30, strings.TrimSuffix(s, "G")
	case strings.HasSuffix(s, "M"):
		mul, s = 1<<20, strings.TrimSuffix(s, "M")
	case strings.HasSuffix(s, "K"):
		mul, s = 1<<10, strings.TrimSuffix(s, "K")
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n * mul, err
}

func run(in, out, sizeStr, formatStr string, seed uint64, offset int64) error {
	if out == "" {
		return fmt.Errorf("-o is required")
	}
	target, err := parseSize(sizeStr)
	if err != nil {
		return fmt.Errorf("-size: %w", err)
	}
	format, err := pcapfile.ParseFormat(formatStr)
	if err != nil {
		return err
	}
	var src []pcapfile.Packet
	link := pcapfile.LinkTypeEthernet
	if in != "" {
		b, err := os.ReadFile(in)
		if err != nil {
			return err
		}
		r, err := pcapfile.NewReader(bytes.NewReader(b))
		if err != nil {
			return fmt.Errorf("%s: %w", in, err)
		}
		link = r.Interfaces()[0].LinkType
		for {
			var p pcapfile.Packet
			err := r.Next(&p)
			if err == io.EOF {
				break
			}
			if err != nil {
				return fmt.Errorf("%s: %w", in, err)
			}
			if r.Interfaces()[p.Interface].LinkType != link {
				continue
			}
			p.Interface = 0
			p.Data = bytes.Clone(p.Data) // Data aliases the reader's buffer
			src = append(src, p)
		}
	} else {
		for _, f := range pcapgen.Traffic(20000, seed, 1_700_000_000e9, 100_000) {
			src = append(src, pcapfile.Packet{Timestamp: f.Timestamp, Data: f.Data, OrigLen: f.OrigLen})
		}
	}
	if len(src) == 0 {
		return fmt.Errorf("no packets to replicate")
	}
	span := src[len(src)-1].Timestamp - src[0].Timestamp + 1000
	f, err := os.OpenFile(out, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	cw := &countWriter{w: f}
	w, err := pcapfile.NewWriter(cw, format, []pcapfile.Interface{{LinkType: link, SnapLen: 262144, TsResolution: pcapfile.Nano}}, pcapfile.NGOptions{})
	if err != nil {
		return err
	}
	for copyN := int64(0); cw.n < target; copyN++ {
		for i := range src {
			p := src[i]
			p.Timestamp += uint64(copyN)*span + uint64(offset)
			if err := w.WritePacket(&p); err != nil {
				return err
			}
		}
	}
	if err := w.Close(); err != nil {
		return err
	}
	return f.Close()
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	return n, err
}
