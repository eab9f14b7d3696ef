package pcapfile

import (
	"encoding/binary"
	"fmt"
	"io"
	"runtime"
)

// Writer writes packets to a capture file.
type Writer interface {
	// WritePacket appends p (its Data, OrigLen, Timestamp, and for pcapng
	// its Interface and Flags). It buffers; Flush or Close pushes the
	// records to the underlying writer.
	WritePacket(p *Packet) error
	// Flush writes buffered records to the underlying writer.
	Flush() error
	// Close finishes the file (pcapng: interface statistics) and flushes.
	// It does not close the underlying writer.
	Close() error
}

// writeBufSize matches the reader's buffer, so that both stay in the CPU's
// L2 cache while a filter or merge copies records from one to the other.
const writeBufSize = 256 << 10

var le = binary.LittleEndian

// PcapWriter writes classic pcap in little-endian order.
type PcapWriter struct {
	bw      *wbuf
	div     uint64 // nanoseconds per timestamp unit
	snapLen uint32
	hdr     [16]byte
}

// NewPcapWriter writes a pcap file header for link and snapLen (0 means
// 262144) with timestamps in res (Micro or Nano) and returns the writer.
func NewPcapWriter(w io.Writer, link LinkType, snapLen uint32, res uint64) (*PcapWriter, error) {
	magic := uint32(magicMicro)
	div := uint64(1000)
	switch res {
	case Micro, 0:
	case Nano:
		magic, div = magicNano, 1
	default:
		return nil, fmt.Errorf("pcap files store microseconds or nanoseconds, not 1/%d s", res)
	}
	if snapLen == 0 {
		snapLen = maxSnapLen
	}
	pw := &PcapWriter{bw: newWbuf(w), div: div, snapLen: snapLen}
	var h [24]byte
	le.PutUint32(h[0:], magic)
	le.PutUint16(h[4:], 2)
	le.PutUint16(h[6:], 4)
	le.PutUint32(h[16:], snapLen)
	le.PutUint32(h[20:], uint32(link))
	if _, err := pw.bw.Write(h[:]); err != nil {
		return nil, err
	}
	return pw, nil
}

// WritePacket implements Writer.
func (w *PcapWriter) WritePacket(p *Packet) error {
	ts := p.Timestamp
	sec, frac := ts/Nano, ts%Nano
	if uint64(len(p.Data)) > MaxRecord {
		return fmt.Errorf("packet of %d bytes is too large for a capture file", len(p.Data))
	}
	orig := p.OrigLen
	if orig < uint32(len(p.Data)) {
		orig = uint32(len(p.Data))
	}
	h := w.bw.reserve(16 + len(p.Data))
	if h == nil {
		h = w.hdr[:]
	}
	le.PutUint32(h[0:], uint32(sec))
	le.PutUint32(h[4:], uint32(frac/w.div))
	le.PutUint32(h[8:], uint32(len(p.Data)))
	le.PutUint32(h[12:], orig)
	if len(h) > 16 || len(p.Data) == 0 {
		copy(h[16:], p.Data)
		return w.bw.err
	}
	if _, err := w.bw.Write(h); err != nil {
		return err
	}
	_, err := w.bw.Write(p.Data)
	return err
}

// Flush implements Writer.
func (w *PcapWriter) Flush() error { return w.bw.Flush() }

// Close implements Writer.
func (w *PcapWriter) Close() error { return w.bw.Flush() }

// NGOptions are the section header's options of a pcapng file.
type NGOptions struct {
	Comment     string // shb_comment
	Hardware    string // shb_hardware
	OS          string // shb_os
	Application string // shb_userappl; default "gzdoctor"
}

// InterfaceStats are written as an Interface Statistics Block per
// interface when a pcapng writer closes.
type InterfaceStats struct {
	StartTime uint64 // ns since the epoch; 0 leaves isb_starttime out
	EndTime   uint64 // ns since the epoch; 0 leaves isb_endtime out
	Received  uint64 // isb_ifrecv: packets the interface received
	Dropped   uint64 // isb_ifdrop: packets dropped for lack of resources
	Delivered uint64 // isb_usrdeliv: packets delivered to the capture file
}

// PcapNGWriter writes one pcapng section in little-endian order.
type PcapNGWriter struct {
	bw     *wbuf
	ifaces []ngIface
	big    [28]byte // header of a record larger than the buffer
	tail   [3 + 16]byte
}

type ngIface struct {
	Interface
	div   uint64 // ns per timestamp unit
	stats *InterfaceStats
}

// NewPcapNGWriter writes the section header and returns the writer; add
// interfaces with AddInterface before writing their packets.
func NewPcapNGWriter(w io.Writer, o NGOptions) (*PcapNGWriter, error) {
	nw := &PcapNGWriter{bw: newWbuf(w)}
	if o.Application == "" {
		o.Application = "gzdoctor"
	}
	if o.OS == "" {
		o.OS = runtime.GOOS
	}
	var opts []byte
	opts = appendOpt(opts, 1, []byte(o.Comment))
	opts = appendOpt(opts, 2, []byte(o.Hardware))
	opts = appendOpt(opts, 3, []byte(o.OS))
	opts = appendOpt(opts, 4, []byte(o.Application))
	opts = appendEnd(opts)
	body := make([]byte, 16, 16+len(opts))
	le.PutUint32(body[0:], byteOrderMagic)
	le.PutUint16(body[4:], 1)
	le.PutUint16(body[6:], 0)
	le.PutUint64(body[8:], ^uint64(0)) // section length unknown
	body = append(body, opts...)
	if err := nw.block(blockSHB, body); err != nil {
		return nil, err
	}
	return nw, nil
}

func appendOpt(b []byte, code uint16, v []byte) []byte {
	if len(v) == 0 || len(v) > 0xffff {
		return b
	}
	b = le.AppendUint16(b, code)
	b = le.AppendUint16(b, uint16(len(v)))
	b = append(b, v...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func appendEnd(b []byte) []byte {
	if len(b) == 0 {
		return b
	}
	return append(b, 0, 0, 0, 0)
}

func (w *PcapNGWriter) block(typ uint32, body []byte) error {
	tlen := uint32(12 + len(body))
	var h [8]byte
	le.PutUint32(h[0:], typ)
	le.PutUint32(h[4:], tlen)
	w.bw.Write(h[:])
	w.bw.Write(body)
	le.PutUint32(h[0:], tlen)
	_, err := w.bw.Write(h[:4])
	return err
}

// AddInterface writes an Interface Description Block (name, description,
// filter, OS, snaplen, timestamp resolution) and returns the interface's
// index for Packet.Interface. Timestamps are written in the interface's
// resolution when it is a power of ten down to nanoseconds, else in
// nanoseconds. TsOffset is not written: packets carry absolute times.
func (w *PcapNGWriter) AddInterface(ifc Interface) (int, error) {
	res := ifc.TsResolution
	exp := -1
	for e, r := 0, uint64(1); e <= 9; e, r = e+1, r*10 {
		if r == res {
			exp = e
		}
	}
	if res == 0 {
		res, exp = Micro, 6
	}
	if exp < 0 {
		res, exp = Nano, 9
	}
	ifc.TsResolution, ifc.TsOffset = res, 0
	var opts []byte
	opts = appendOpt(opts, 2, []byte(ifc.Name))
	opts = appendOpt(opts, 3, []byte(ifc.Description))
	if exp != 6 {
		opts = appendOpt(opts, 9, []byte{byte(exp)})
	}
	if ifc.Filter != "" {
		opts = appendOpt(opts, 11, append([]byte{0}, ifc.Filter...))
	}
	opts = appendOpt(opts, 12, []byte(ifc.OS))
	opts = appendEnd(opts)
	body := make([]byte, 8, 8+len(opts))
	le.PutUint16(body[0:], uint16(ifc.LinkType))
	le.PutUint32(body[4:], ifc.SnapLen)
	body = append(body, opts...)
	if err := w.block(blockIDB, body); err != nil {
		return 0, err
	}
	w.ifaces = append(w.ifaces, ngIface{Interface: ifc, div: Nano / res})
	return len(w.ifaces) - 1, nil
}

// Interfaces lists the interfaces added so far.
func (w *PcapNGWriter) Interfaces() []Interface {
	out := make([]Interface, len(w.ifaces))
	for i, f := range w.ifaces {
		out[i] = f.Interface
	}
	return out
}

// SetStats records an interface's counters, written when the writer closes.
func (w *PcapNGWriter) SetStats(iface int, s InterfaceStats) error {
	if iface < 0 || iface >= len(w.ifaces) {
		return fmt.Errorf("no interface %d", iface)
	}
	w.ifaces[iface].stats = &s
	return nil
}

// WritePacket implements Writer: an Enhanced Packet Block with epb_flags
// when p.Flags is not zero (direction: SetDirection).
func (w *PcapNGWriter) WritePacket(p *Packet) error {
	if p.Interface < 0 || p.Interface >= len(w.ifaces) {
		return fmt.Errorf("packet for interface %d, but the file has %d", p.Interface, len(w.ifaces))
	}
	n := len(p.Data)
	if n > MaxRecord-64 {
		return fmt.Errorf("packet of %d bytes is too large for a capture file", n)
	}
	pad := (4 - n&3) & 3
	optLen := 0
	if p.Flags != 0 {
		optLen = 12 // epb_flags + opt_endofopt
	}
	tlen := uint32(32 + n + pad + optLen)
	units := p.Timestamp / w.ifaces[p.Interface].div
	b := w.bw.reserve(int(tlen))
	if b == nil {
		// Larger than the buffer: in pieces.
		b = w.big[:]
	}
	h := b[:28]
	le.PutUint32(h[0:], blockEPB)
	le.PutUint32(h[4:], tlen)
	le.PutUint32(h[8:], uint32(p.Interface))
	le.PutUint32(h[12:], uint32(units>>32))
	le.PutUint32(h[16:], uint32(units))
	le.PutUint32(h[20:], uint32(n))
	orig := p.OrigLen
	if orig < uint32(n) {
		orig = uint32(n)
	}
	le.PutUint32(h[24:], orig)
	var t []byte
	if len(b) == int(tlen) {
		copy(b[28:], p.Data)
		t = b[28+n : 28+n]
	} else {
		w.bw.Write(h)
		w.bw.Write(p.Data)
		t = w.tail[:0]
	}
	t = append(t, 0, 0, 0)[:pad]
	if optLen != 0 {
		t = le.AppendUint16(t, 2)
		t = le.AppendUint16(t, 4)
		t = le.AppendUint32(t, p.Flags)
		t = le.AppendUint32(t, 0)
	}
	t = le.AppendUint32(t, tlen)
	if len(b) == int(tlen) {
		return w.bw.err
	}
	_, err := w.bw.Write(t)
	return err
}

// Flush implements Writer.
func (w *PcapNGWriter) Flush() error { return w.bw.Flush() }

// Close writes the interface statistics set with SetStats and flushes.
func (w *PcapNGWriter) Close() error {
	for i, f := range w.ifaces {
		if f.stats == nil {
			continue
		}
		s := f.stats
		ts := s.EndTime
		if ts == 0 {
			ts = s.StartTime
		}
		units := ts / f.div
		body := make([]byte, 12, 96)
		le.PutUint32(body[0:], uint32(i))
		le.PutUint32(body[4:], uint32(units>>32))
		le.PutUint32(body[8:], uint32(units))
		u64 := func(code uint16, v uint64) {
			body = appendOpt(body, code, le.AppendUint64(nil, v))
		}
		if s.StartTime != 0 {
			u := s.StartTime / f.div
			u64(2, u>>32|u<<32) // high word first, as in the EPB
		}
		if s.EndTime != 0 {
			u := s.EndTime / f.div
			u64(3, u>>32|u<<32)
		}
		u64(4, s.Received)
		u64(5, s.Dropped)
		u64(8, s.Delivered)
		body = append(body, 0, 0, 0, 0)
		if err := w.block(blockISB, body); err != nil {
			return err
		}
	}
	return w.bw.Flush()
}

// NewWriter starts a file of format f for packets from ifaces. pcap takes
// its link type and snaplen from ifaces[0] and uses nanoseconds when any
// interface is finer than microseconds; pcapng gets one IDB per interface,
// in order, so Packet.Interface carries over unchanged.
func NewWriter(w io.Writer, f Format, ifaces []Interface, o NGOptions) (Writer, error) {
	switch f {
	case FormatPcap:
		if len(ifaces) == 0 {
			return nil, fmt.Errorf("pcap output needs a link type")
		}
		res := Micro
		for _, i := range ifaces {
			if i.Resolution() > Micro {
				res = Nano
			}
		}
		return NewPcapWriter(w, ifaces[0].LinkType, ifaces[0].SnapLen, res)
	case FormatPcapNG:
		nw, err := NewPcapNGWriter(w, o)
		if err != nil {
			return nil, err
		}
		for _, i := range ifaces {
			if _, err := nw.AddInterface(i); err != nil {
				return nil, err
			}
		}
		return nw, nil
	}
	return nil, fmt.Errorf("unknown capture format %v", f)
}

// RecordSize is the bytes a packet of captured length n takes in format f,
// as the writers here write it (pcapng: an enhanced packet block with its
// epb_flags option), so a size limit (-C) is kept before a record is
// written.
func RecordSize(f Format, n int) int64 {
	if f == FormatPcap {
		return 16 + int64(n)
	}
	return 32 + int64(n+(4-n&3)&3) + 12
}
