package capture

import (
	"fmt"
	"io"

	"github.com/gzdoctor/gzdoctor/capture/pcapfile"
	"github.com/gzdoctor/gzdoctor/internal/shquote"
)

// -C counts whole files: the file header (pcap) or section header and
// interface blocks (pcapng), every packet record, and the interface
// statistics blocks a pcapng file ends with, all output files together.
// The packet records are what is left after the overhead.

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	return n, err
}

// sectionComment is the pcapng section comment: gzdoctor's and the
// backend's command lines.
func sectionComment(p *Plan, o *Options) string {
	comment := "captured by gzdoctor"
	if len(o.CommandLine) > 0 {
		comment += ": " + shquote.Join(o.CommandLine)
	}
	return comment + "\nbackend: " + p.Command
}

// ifKey is one interface of a final file: a port (its index in
// Plan.Ports) and a direction.
type ifKey struct {
	index int
	dir   string
}

// newOutputWriter starts one final file on w: its header, and for pcapng
// one interface per port and direction it holds, described from link (the
// backend's interface). It returns the writer and the interface index of
// each port and direction.
func newOutputWriter(w io.Writer, out Output, p *Plan, o *Options, link pcapfile.Interface) (pcapfile.Writer, map[ifKey]int, error) {
	ifcs := map[ifKey]int{}
	var ifaces []pcapfile.Interface
	for i, pp := range planPorts(p) {
		device := pp.label()
		for _, d := range []string{dirRx, dirTx} {
			if d == dirRx && !out.Rx || d == dirTx && !out.Tx {
				continue
			}
			ifc := link
			// Wireshark shows if_name in its interface column and reads
			// the direction from each packet's epb_flags.
			ifc.Name = device + ":" + d
			ifc.Description = map[string]string{dirRx: "packets received by ", dirTx: "packets transmitted by "}[d] + device + " (" + p.Backend + ")"
			if pp.Device != "" && pp.Port >= 0 {
				ifc.Description += fmt.Sprintf(", DPDK port %d", pp.Port)
			}
			ifc.Filter = p.Filter
			if p.SnapLen > 0 {
				ifc.SnapLen = uint32(p.SnapLen)
			}
			ifcs[ifKey{i, d}] = len(ifaces)
			ifaces = append(ifaces, ifc)
		}
	}
	if out.Format == pcapfile.FormatPcap && len(planPorts(p)) > 1 {
		return nil, nil, usagef("%s: a pcap file cannot tell %d ports apart (it has no interfaces): write pcapng (-F pcapng)", out.Path, len(planPorts(p)))
	}
	wr, err := pcapfile.NewWriter(w, out.Format, ifaces, pcapfile.NGOptions{Comment: sectionComment(p, o)})
	return wr, ifcs, err
}

// markPacket points pk at the interface of port idx's direction dir in
// an output whose interfaces are ifc, with that direction in its flags
// (the backend's own flags say nothing gzdoctor's files keep). It returns
// that interface's index, ok false when the output has none for it.
func markPacket(pk *pcapfile.Packet, ifc map[ifKey]int, idx int, dir string) (index int, ok bool) {
	index, ok = ifc[ifKey{idx, dir}]
	pk.Interface = index
	pk.Flags = 0
	if dir == dirRx {
		pk.SetDirection(pcapfile.DirInbound)
	} else {
		pk.SetDirection(pcapfile.DirOutbound)
	}
	return index, ok
}

// setInterfaceStats writes, in a pcapng output whose interfaces are ifc,
// each interface's statistics: the span first..last and the packets
// delivered there. A pcap output has no place for them.
func setInterfaceStats(w pcapfile.Writer, ifc map[ifKey]int, first, last uint64, delivered func(ifKey) int64) {
	ng, ok := w.(*pcapfile.PcapNGWriter)
	if !ok {
		return
	}
	for k, i := range ifc {
		ng.SetStats(i, pcapfile.InterfaceStats{StartTime: first, EndTime: last, Delivered: uint64(delivered(k))})
	}
}

// pcapLink is the interface of the pcap PMD's files (pdump): Ethernet,
// nanoseconds. Before the backend has written, the overhead is estimated
// with it; finalize measures it again with the backend's own.
var pcapLink = pcapfile.Interface{LinkType: pcapfile.LinkTypeEthernet, TsResolution: pcapfile.Nano}

// overhead is the bytes of p's output files that are not packet records:
// headers and interface blocks as written at the start, and the
// statistics blocks written at the end (their largest size: both times
// set).
func overhead(p *Plan, o *Options, link pcapfile.Interface) (int64, error) {
	var n int64
	for _, out := range p.Outputs {
		cw := &countingWriter{w: io.Discard}
		w, ifcs, err := newOutputWriter(cw, out, p, o, link)
		if err != nil {
			return 0, err
		}
		if ng, ok := w.(*pcapfile.PcapNGWriter); ok {
			for _, i := range ifcs {
				ng.SetStats(i, pcapfile.InterfaceStats{StartTime: 1, EndTime: 1, Delivered: 1})
			}
		}
		if err := w.Close(); err != nil {
			return 0, err
		}
		n += cw.n
	}
	return n, nil
}
