package pcapfile

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// MergeOptions control Merge.
type MergeOptions struct {
	Format  Format // output format; default pcapng
	Comment string // pcapng section comment
	// Directions, when not nil, gives input i's packets the direction
	// Directions[i] where they carry none: pdump's rx-dev file inbound, its
	// tx-dev file outbound. Only pcapng output records directions.
	Directions []Direction
	// Salvage ends an input at its first damaged record (keeping what came
	// before) instead of failing the merge.
	Salvage bool
	// Names label the inputs in errors and in MergeResult.Damage.
	Names []string
}

// MergeResult counts what Merge wrote.
type MergeResult struct {
	Packets int64 `json:"packets"`
	Bytes   int64 `json:"bytes"` // captured bytes
	// Damage lists inputs that ended at damage (Salvage only).
	Damage []string `json:"damage,omitempty"`
}

type mergeIn struct {
	r     *Reader
	ifmap []int // input interface index → output interface index
	dir   Direction
	name  string
}

// Merge writes the packets of srcs to dst in timestamp order, as mergecap
// does (Packets: among equal timestamps the one from the last input in
// srcs). pcapng output has one
// interface per input interface, so nothing about where a packet came from
// is lost; pcap output needs all inputs to share a link type.
func Merge(ctx context.Context, dst io.Writer, srcs []*Reader, o MergeOptions) (MergeResult, error) {
	var res MergeResult
	if len(srcs) == 0 {
		return res, errors.New("nothing to merge")
	}
	if o.Format == 0 {
		o.Format = FormatPcapNG
	}
	ins := make([]mergeIn, len(srcs))
	var all []Interface
	for i, r := range srcs {
		ins[i] = mergeIn{r: r, name: fmt.Sprintf("input %d", i+1)}
		if i < len(o.Names) {
			ins[i].name = o.Names[i]
		}
		if i < len(o.Directions) {
			ins[i].dir = o.Directions[i]
		}
		for range r.Interfaces() {
			ins[i].ifmap = append(ins[i].ifmap, len(all))
			all = append(all, r.Interfaces()[len(ins[i].ifmap)-1])
		}
	}
	var w Writer
	var ng *PcapNGWriter
	if o.Format == FormatPcap {
		snap := uint32(0)
		for _, f := range all {
			if f.LinkType != all[0].LinkType {
				return res, fmt.Errorf("inputs have different link types (%d and %d): merge to pcapng instead", all[0].LinkType, f.LinkType)
			}
			snap = max(snap, f.SnapLen)
		}
		first := all[0]
		first.SnapLen = snap
		pw, err := NewWriter(dst, FormatPcap, append([]Interface{first}, all[1:]...), NGOptions{})
		if err != nil {
			return res, err
		}
		w = pw
	} else {
		var err error
		ng, err = NewPcapNGWriter(dst, NGOptions{Comment: o.Comment})
		if err != nil {
			return res, err
		}
		for _, f := range all {
			if _, err := ng.AddInterface(f); err != nil {
				return res, err
			}
		}
		w = ng
	}
	rs := make([]*Reader, len(ins))
	names := make([]string, len(ins))
	for i := range ins {
		rs[i], names[i] = ins[i].r, ins[i].name
	}
	pk, err := NewPackets(ctx, rs, PacketsOptions{Names: names, Salvage: o.Salvage})
	if err != nil {
		return res, err
	}
	for {
		i, p, err := pk.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			res.Damage = pk.Damage
			return res, err
		}
		in := &ins[i]
		if err := mapInterface(in, ng, p, o.Format); err != nil {
			return res, err
		}
		if in.dir != DirUnknown && p.Direction() == DirUnknown {
			p.SetDirection(in.dir)
		}
		if err := w.WritePacket(p); err != nil {
			return res, err
		}
		res.Packets++
		res.Bytes += int64(len(p.Data))
	}
	res.Damage = pk.Damage
	return res, w.Close()
}

// mapInterface renumbers p's interface for the output, adding interfaces
// that an input declared after the merge began (later pcapng sections).
func mapInterface(in *mergeIn, ng *PcapNGWriter, p *Packet, f Format) error {
	for p.Interface >= len(in.ifmap) {
		ifc := in.r.Interfaces()[len(in.ifmap)]
		if f == FormatPcap {
			if ifc.LinkType != in.r.Interfaces()[0].LinkType {
				return fmt.Errorf("%s: interface with link type %d cannot go into a pcap file of link type %d", in.name, ifc.LinkType, in.r.Interfaces()[0].LinkType)
			}
			in.ifmap = append(in.ifmap, 0)
			continue
		}
		idx, err := ng.AddInterface(ifc)
		if err != nil {
			return err
		}
		in.ifmap = append(in.ifmap, idx)
	}
	p.Interface = in.ifmap[p.Interface]
	return nil
}
