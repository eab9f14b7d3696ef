package pcapfile

import (
	"context"
	"fmt"
	"io"
)

// Matcher decides whether a packet is kept: data is the captured bytes,
// wireLen the length on the wire. *bpf.Program is one.
type Matcher interface {
	Match(data []byte, wireLen uint32) bool
}

// FilterOptions control Filter.
type FilterOptions struct {
	// Format of the output; default the input's.
	Format Format
	// Matcher returns the matcher for packets of an interface; it is
	// called once per interface, when its first packet arrives (a tcpdump
	// expression compiles differently for each link type).
	Matcher func(ifc Interface) (Matcher, error)
	// Salvage stops at the first damaged record and keeps what came
	// before, instead of failing.
	Salvage bool
	// Comment is the pcapng output's section comment; default the input's.
	Comment string
	// Live flushes the output whenever the input has nothing buffered
	// (the next read may wait for a writer): in a pipeline (capture -w - |
	// pcap filter - -w - | tshark) each packet goes on as soon as it came.
	Live bool
}

// FilterResult counts what Filter read and wrote.
type FilterResult struct {
	Read    int64  `json:"packets_read"`
	Matched int64  `json:"packets_written"`
	Bytes   int64  `json:"bytes_written"` // captured bytes of the packets written
	Damage  string `json:"damage,omitempty"`
}

// Filter copies the packets of r that their interface's matcher accepts to
// dst, in order.
func Filter(ctx context.Context, r *Reader, dst io.Writer, o FilterOptions) (FilterResult, error) {
	var res FilterResult
	if o.Format == 0 {
		o.Format = r.Format()
	}
	if o.Comment == "" {
		o.Comment = r.Comment()
	}
	w, err := NewWriter(dst, o.Format, r.Interfaces(), NGOptions{Comment: o.Comment})
	if err != nil {
		return res, err
	}
	ng, _ := w.(*PcapNGWriter)
	written := len(r.Interfaces()) // interfaces already in the output
	var matchers []Matcher
	po := PacketsOptions{Salvage: o.Salvage}
	if o.Live {
		po.Flush = w.Flush
	}
	pk, err := NewPackets(ctx, []*Reader{r}, po)
	if err != nil {
		return res, err
	}
	for {
		_, p, err := pk.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return res, err
		}
		res.Read++
		for p.Interface >= len(matchers) {
			ifc := r.Interfaces()[len(matchers)]
			m, err := o.Matcher(ifc)
			if err != nil {
				return res, err
			}
			matchers = append(matchers, m)
		}
		if !matchers[p.Interface].Match(p.Data, p.OrigLen) {
			continue
		}
		for ; written <= p.Interface; written++ {
			ifc := r.Interfaces()[written]
			if ng == nil {
				if ifc.LinkType != r.Interfaces()[0].LinkType {
					return res, fmt.Errorf("packet at byte offset %d has link type %d, which a pcap file of link type %d cannot hold: write pcapng", p.Offset, ifc.LinkType, r.Interfaces()[0].LinkType)
				}
				continue
			}
			if _, err := ng.AddInterface(ifc); err != nil {
				return res, err
			}
		}
		if err := w.WritePacket(p); err != nil {
			return res, err
		}
		res.Matched++
		res.Bytes += int64(len(p.Data))
	}
	if len(pk.Damage) > 0 {
		res.Damage = pk.Damage[0]
	}
	return res, w.Close()
}
