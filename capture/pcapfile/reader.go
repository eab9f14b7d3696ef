package pcapfile

import (
	"errors"
	"fmt"
	"io"
	"math/bits"
)

const (
	magicMicro        = 0xa1b2c3d4
	magicNano         = 0xa1b23c4d
	magicMicroSwapped = 0xd4c3b2a1
	magicNanoSwapped  = 0x4d3cb2a1
	magicKuznetzov    = 0xa1b2cd34

	blockSHB = 0x0A0D0D0A
	blockIDB = 0x00000001
	blockOPB = 0x00000002
	blockSPB = 0x00000003
	blockISB = 0x00000005
	blockEPB = 0x00000006

	byteOrderMagic = 0x1A2B3C4D

	// maxSnapLen is libpcap's MAXIMUM_SNAPLEN: larger captured lengths in
	// a file whose snaplen is not larger are damage, not packets.
	maxSnapLen = 262144

	// defaultBufSize keeps the buffer in the CPU's L2 cache: the kernel's
	// copy into it is still cached when the records are parsed and
	// filtered. A 4 MiB buffer was read back from memory, which cost
	// pcap filter twice its time on a file in the page cache.
	defaultBufSize = 256 << 10
)

// Reader reads pcap or pcapng records one at a time. It is not safe for
// concurrent use.
type Reader struct {
	src  io.Reader
	buf  []byte
	r, w int
	off  int64 // file offset of buf[r]
	tail bool  // incremental: report ErrNeedMore instead of EOF/truncation

	started bool
	format  Format
	swap    bool // current pcap header / pcapng section is not little-endian
	ifaces  []Interface
	conv    []tsConv // per interface, parallel to ifaces

	// classic pcap
	recLimit uint32

	// pcapng
	sectionBase int // index in ifaces of the current section's interface 0
	comment     string
	sections    int
	ifaceText   int // bytes of interface names, descriptions, filters, OS
}

// tsConv turns an interface's timestamp units into nanoseconds.
type tsConv struct {
	res    uint64
	mul    uint64 // ns per unit when res divides 1e9, else 0
	offset int64  // if_tsoffset in ns
}

func newConv(res uint64, offsetSec int64) tsConv {
	c := tsConv{res: res, offset: offsetSec * 1e9}
	if res != 0 && Nano%res == 0 {
		c.mul = Nano / res
	}
	return c
}

// Beyond uint64 nanoseconds (the year 2554) it saturates; an offset that
// would put a packet before 1970 gives 0.
func (c tsConv) ns(units uint64) uint64 {
	var q uint64
	if c.mul != 0 {
		hi, lo := bits.Mul64(units, c.mul)
		if hi != 0 {
			return maxTimestamp
		}
		q = lo
	} else {
		hi, lo := bits.Mul64(units, Nano)
		if hi >= c.res {
			return maxTimestamp
		}
		q, _ = bits.Div64(hi, lo, c.res)
	}
	switch {
	case c.offset >= 0 && q > maxTimestamp-uint64(c.offset):
		return maxTimestamp
	case c.offset < 0 && q < uint64(-c.offset):
		return 0
	}
	return q + uint64(c.offset)
}

// Options tune a Reader.
type Options struct {
	// BufferSize is the read buffer (default 256 KiB); records larger than
	// it grow it.
	BufferSize int
}

// NewReader reads the file header from r (and, for pcapng, the interface
// blocks that follow it) and returns a reader positioned at the first
// record. A damaged header is a *FormatError.
func NewReader(r io.Reader) (*Reader, error) { return NewReaderOptions(r, Options{}) }

// NewReaderOptions is NewReader with options.
func NewReaderOptions(r io.Reader, o Options) (*Reader, error) {
	rd := newReader(r, o)
	if err := rd.start(); err != nil {
		return nil, err
	}
	return rd, nil
}

// NewTailReader returns an incremental reader for a file that another
// process may still be writing (pdump's pcap, dumpcap's pcapng). Its Next
// returns ErrNeedMore, without consuming anything, wherever the file ends
// inside or after the last complete record, the header included; call Next
// again later to resume. r is typically an *os.File opened for reading,
// whose Read returns new data after having returned io.EOF.
func NewTailReader(r io.Reader) *Reader {
	rd := newReader(r, Options{})
	rd.tail = true
	return rd
}

func newReader(r io.Reader, o Options) *Reader {
	size := o.BufferSize
	if size <= 0 {
		size = defaultBufSize
	}
	return &Reader{src: r, buf: make([]byte, size)}
}

// Format is the file's format. It is 0 until a tail reader has seen the
// file header.
func (r *Reader) Format() Format { return r.format }

// Interfaces lists the interfaces declared so far: one for classic pcap,
// every IDB of every section for pcapng. The slice must not be modified.
func (r *Reader) Interfaces() []Interface { return r.ifaces }

// Comment is the first section's shb_comment (pcapng only).
func (r *Reader) Comment() string { return r.comment }

// Buffered is how many bytes the reader holds unread: 0 means the next
// record comes from the source (which may make Next wait).
func (r *Reader) Buffered() int { return r.w - r.r }

// Offset is the byte offset of the next record: everything before it has
// been read and is intact.
func (r *Reader) Offset() int64 { return r.off }

// Resolution of a classic pcap file's timestamps (Micro or Nano); for
// pcapng the finest resolution among its interfaces.
func (r *Reader) Resolution() uint64 {
	var res uint64
	for _, c := range r.conv {
		if c.res > res {
			res = c.res
		}
	}
	if res == 0 {
		res = Micro
	}
	return res
}

var errShort = errors.New("short")

// fill makes at least n bytes available at buf[r:]. It returns io.EOF when
// the source ended with no bytes pending and errShort when it ended with
// fewer than n.
func (r *Reader) fill(n int) error {
	if r.w-r.r >= n {
		return nil
	}
	if len(r.buf)-r.r < n {
		if n > len(r.buf) {
			nb := make([]byte, max(n, 2*len(r.buf)))
			r.w = copy(nb, r.buf[r.r:r.w])
			r.buf = nb
		} else {
			r.w = copy(r.buf, r.buf[r.r:r.w])
		}
		r.r = 0
	}
	zero := 0
	for r.w-r.r < n {
		m, err := r.src.Read(r.buf[r.w:])
		r.w += m
		if err == io.EOF || (m == 0 && err == nil && zero > 100) {
			if r.w-r.r >= n {
				return nil
			}
			if r.w == r.r {
				return io.EOF
			}
			return errShort
		}
		if err != nil {
			return fmt.Errorf("reading at byte offset %d: %w", r.off+int64(r.w-r.r), err)
		}
		if m == 0 {
			zero++
		}
	}
	return nil
}

func (r *Reader) u16(b []byte) uint16 {
	if r.swap {
		return uint16(b[0])<<8 | uint16(b[1])
	}
	return uint16(b[0]) | uint16(b[1])<<8
}

func (r *Reader) u32(b []byte) uint32 {
	_ = b[3]
	if r.swap {
		return uint32(b[3]) | uint32(b[2])<<8 | uint32(b[1])<<16 | uint32(b[0])<<24
	}
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

func (r *Reader) u64(b []byte) uint64 {
	if r.swap {
		return uint64(r.u32(b[4:])) | uint64(r.u32(b))<<32
	}
	return uint64(r.u32(b)) | uint64(r.u32(b[4:]))<<32
}

func (r *Reader) errAt(off int64, format string, args ...any) error {
	return &FormatError{Offset: off, Msg: fmt.Sprintf(format, args...)}
}

// short turns a fill failure into the error the caller returns: need-more
// for a tail reader, a truncation FormatError otherwise.
func (r *Reader) short(err error, what string, want int) error {
	if err != errShort && err != io.EOF {
		return err
	}
	if r.tail {
		return ErrNeedMore
	}
	return r.errAt(r.off, "file truncated in %s: %d of %d bytes present", what, r.w-r.r, want)
}

// start reads the file header.
func (r *Reader) start() error {
	if err := r.fill(4); err != nil {
		if err == io.EOF && !r.tail {
			return r.errAt(0, "empty file: no pcap or pcapng header")
		}
		return r.short(err, "the file header", 24)
	}
	b := r.buf[r.r:]
	le := uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
	switch le {
	case magicMicro, magicNano, magicMicroSwapped, magicNanoSwapped:
		if err := r.fill(24); err != nil {
			return r.short(err, "the pcap file header", 24)
		}
		if err := r.startPcap(le); err != nil {
			return err
		}
	case blockSHB:
		if err := r.fill(12); err != nil {
			return r.short(err, "the pcapng section header", 28)
		}
		if err := r.startSection(); err != nil {
			return err
		}
		r.format = FormatPcapNG
		// Read the interface blocks up to the first packet, so that
		// Interfaces is complete for the common single-section file.
		for {
			if err := r.fill(8); err != nil {
				if err == io.EOF || r.tail {
					break
				}
				return r.short(err, "a block header", 8)
			}
			if r.u32(r.buf[r.r:]) != blockIDB {
				break
			}
			if _, err := r.nextBlock(nil); err != nil {
				if err == ErrNeedMore {
					break
				}
				return err
			}
		}
	case magicKuznetzov, 0x34cdb2a1:
		return r.errAt(0, "modified (Kuznetzov) pcap format is not supported")
	default:
		return r.errAt(0, "not a pcap or pcapng file (magic number 0x%08x)", le)
	}
	r.started = true
	return nil
}

func (r *Reader) startPcap(magic uint32) error {
	h := r.buf[r.r : r.r+24]
	r.format = FormatPcap
	res := Micro
	switch magic {
	case magicMicroSwapped:
		r.swap = true
	case magicNano:
		res = Nano
	case magicNanoSwapped:
		r.swap, res = true, Nano
	}
	if major := r.u16(h[4:]); major != 2 {
		return r.errAt(4, "unsupported pcap version %d.%d", major, r.u16(h[6:]))
	}
	snap := r.u32(h[16:])
	link := r.u32(h[20:])
	r.recLimit = maxSnapLen
	if snap > maxSnapLen {
		r.recLimit = min(snap, MaxRecord)
	}
	r.ifaces = append(r.ifaces, Interface{LinkType: LinkType(link & 0xffff), SnapLen: snap, TsResolution: res})
	r.conv = append(r.conv, newConv(res, 0))
	r.r += 24
	r.off += 24
	return nil
}

// Next reads the next packet into p. It returns io.EOF at the clean end of
// the file, a *FormatError at damage (p is then untouched and Offset tells
// where the intact part ends), and, for a tail reader, ErrNeedMore.
func (r *Reader) Next(p *Packet) error {
	if !r.started {
		if err := r.start(); err != nil {
			return err
		}
	}
	if r.format == FormatPcap {
		return r.nextPcap(p)
	}
	for {
		ok, err := r.nextBlock(p)
		if err != nil || ok {
			return err
		}
	}
}

func (r *Reader) nextPcap(p *Packet) error {
	// fill is called only when the buffer runs short: the call per
	// packet showed in pcap filter's profile.
	if r.w-r.r < 16 {
		if err := r.fill(16); err != nil {
			if err == io.EOF && !r.tail {
				return io.EOF
			}
			return r.short(err, "a record header", 16)
		}
	}
	h := r.buf[r.r : r.r+16]
	incl := r.u32(h[8:])
	if incl > r.recLimit {
		return r.errAt(r.off, "record claims %d captured bytes, more than the limit of %d (damaged length field)", incl, r.recLimit)
	}
	n := 16 + int(incl)
	if r.w-r.r < n {
		if err := r.fill(n); err != nil {
			return r.short(err, "a packet record", n)
		}
	}
	h = r.buf[r.r : r.r+16]
	sec, frac := r.u32(h), r.u32(h[4:])
	c := &r.conv[0]
	p.Timestamp = uint64(sec)*Nano + uint64(frac)*c.mul
	p.OrigLen = r.u32(h[12:])
	p.Interface = 0
	p.Flags = 0
	p.Data = r.buf[r.r+16 : r.r+n : r.r+n]
	p.Offset = r.off
	r.r += n
	r.off += int64(n)
	return nil
}

// nextBlock reads one pcapng block. It returns true when the block was a
// packet, now in p.
func (r *Reader) nextBlock(p *Packet) (bool, error) {
	if err := r.fill(12); err != nil {
		if err == io.EOF && !r.tail {
			return false, io.EOF
		}
		return false, r.short(err, "a block header", 12)
	}
	b := r.buf[r.r:]
	typ := r.u32(b)
	if typ == blockSHB {
		if err := r.startSection(); err != nil {
			return false, err
		}
		return false, nil
	}
	tlen := r.u32(b[4:])
	if tlen < 12 || tlen%4 != 0 || tlen > MaxRecord {
		return false, r.errAt(r.off, "block of type 0x%x has an impossible length %d", typ, tlen)
	}
	n := int(tlen)
	if err := r.fill(n); err != nil {
		return false, r.short(err, fmt.Sprintf("a block of type 0x%x", typ), n)
	}
	blk := r.buf[r.r : r.r+n : r.r+n]
	if end := r.u32(blk[n-4:]); end != tlen {
		return false, r.errAt(r.off, "block of type 0x%x says length %d at its start but %d at its end", typ, tlen, end)
	}
	body := blk[8 : n-4]
	var isPacket bool
	var err error
	switch typ {
	case blockEPB:
		isPacket, err = r.parseEPB(body, p)
	case blockSPB:
		isPacket, err = r.parseSPB(body, p)
	case blockOPB:
		isPacket, err = r.parseOPB(body, p)
	case blockIDB:
		err = r.parseIDB(body)
	}
	if err != nil {
		return false, err
	}
	if isPacket && p == nil {
		// Preloading interfaces never consumes a packet.
		return false, nil
	}
	if isPacket {
		p.Offset = r.off
	}
	r.r += n
	r.off += int64(n)
	return isPacket, nil
}

// startSection parses a Section Header Block at buf[r:], whose first 12
// bytes are present.
func (r *Reader) startSection() error {
	b := r.buf[r.r:]
	switch bom := uint32(b[8]) | uint32(b[9])<<8 | uint32(b[10])<<16 | uint32(b[11])<<24; bom {
	case byteOrderMagic:
		r.swap = false
	case 0x4D3C2B1A:
		r.swap = true
	default:
		return r.errAt(r.off, "pcapng section header has no valid byte-order magic (0x%08x)", bom)
	}
	tlen := r.u32(b[4:])
	if tlen < 28 || tlen%4 != 0 || tlen > MaxRecord {
		return r.errAt(r.off, "pcapng section header has an impossible length %d", tlen)
	}
	n := int(tlen)
	if err := r.fill(n); err != nil {
		return r.short(err, "the pcapng section header", n)
	}
	blk := r.buf[r.r : r.r+n]
	if end := r.u32(blk[n-4:]); end != tlen {
		return r.errAt(r.off, "section header says length %d at its start but %d at its end", tlen, end)
	}
	if major := r.u16(blk[12:]); major != 1 {
		return r.errAt(r.off+12, "unsupported pcapng version %d.%d", major, r.u16(blk[14:]))
	}
	if r.sections == 0 {
		r.walkOptions(blk[24:n-4], func(code uint16, v []byte) {
			if code == 1 && r.comment == "" {
				r.comment = string(v)
			}
		})
	}
	r.sections++
	r.sectionBase = len(r.ifaces)
	r.r += n
	r.off += int64(n)
	return nil
}

// walkOptions calls fn for each option until opt_endofopt or the end of b;
// a malformed option list ends the walk (options are advisory).
func (r *Reader) walkOptions(b []byte, fn func(code uint16, v []byte)) {
	for len(b) >= 4 {
		code, l := r.u16(b), int(r.u16(b[2:]))
		if code == 0 {
			return
		}
		padded := (l + 3) &^ 3
		if 4+padded > len(b) {
			return
		}
		fn(code, b[4:4+l])
		b = b[4+padded:]
	}
}

func (r *Reader) parseIDB(body []byte) error {
	if len(body) < 8 {
		return r.errAt(r.off, "interface description block too short (%d bytes)", len(body))
	}
	ifc := Interface{LinkType: LinkType(r.u16(body)), SnapLen: r.u32(body[4:]), TsResolution: Micro}
	r.walkOptions(body[8:], func(code uint16, v []byte) {
		switch code {
		case 2:
			ifc.Name = string(v)
		case 3:
			ifc.Description = string(v)
		case 9:
			if len(v) >= 1 {
				if res, ok := tsResolution(v[0]); ok {
					ifc.TsResolution = res
				}
			}
		case 11:
			if len(v) >= 1 && v[0] == 0 {
				ifc.Filter = string(v[1:])
			}
		case 12:
			ifc.OS = string(v)
		case 14:
			if len(v) == 8 {
				ifc.TsOffset = int64(r.u64(v))
			}
		}
	})
	// Every interface costs memory in every reader and writer for the whole
	// run; a file of 10^6 tiny IDBs cost 450-730 MB. Real captures declare
	// a few.
	if len(r.ifaces) >= MaxInterfaces {
		return r.errAt(r.off, "more than %d interface description blocks (the limit; a real capture has a few)", MaxInterfaces)
	}
	r.ifaceText += len(ifc.Name) + len(ifc.Description) + len(ifc.Filter) + len(ifc.OS)
	if r.ifaceText > MaxInterfaceText {
		return r.errAt(r.off, "interface names, descriptions, filters and OS strings exceed %d bytes together (the limit)", MaxInterfaceText)
	}
	r.ifaces = append(r.ifaces, ifc)
	r.conv = append(r.conv, newConv(ifc.TsResolution, ifc.TsOffset))
	return nil
}

// tsResolution decodes if_tsresol: 10^-v, or 2^-v with the top bit set.
func tsResolution(v byte) (uint64, bool) {
	e := uint64(v & 0x7f)
	if v&0x80 != 0 {
		if e > 63 {
			return 0, false
		}
		return 1 << e, true
	}
	if e > 19 {
		return 0, false
	}
	res := uint64(1)
	for range e {
		res *= 10
	}
	return res, true
}

func (r *Reader) iface(id uint32) (int, error) {
	n := len(r.ifaces) - r.sectionBase
	if int64(id) >= int64(n) {
		return 0, r.errAt(r.off, "packet for interface %d, but the section declares %d interface(s)", id, n)
	}
	return r.sectionBase + int(id), nil
}

func (r *Reader) parseEPB(body []byte, p *Packet) (bool, error) {
	if len(body) < 20 {
		return false, r.errAt(r.off, "enhanced packet block too short (%d bytes)", len(body))
	}
	return r.parsePacketBlock("enhanced packet block", r.u32(body), body, p)
}

// parsePacketBlock reads what the Enhanced and the obsolete Packet Block
// share after their interface field: timestamp, lengths, data and the
// flags option (code 2 in both).
func (r *Reader) parsePacketBlock(kind string, ifID uint32, body []byte, p *Packet) (bool, error) {
	idx, err := r.iface(ifID)
	if err != nil {
		return false, err
	}
	capLen := r.u32(body[12:])
	if uint64(capLen) > uint64(len(body)-20) {
		return false, r.errAt(r.off, "%s claims %d captured bytes in a %d-byte block", kind, capLen, len(body)+12)
	}
	if p == nil {
		return true, nil
	}
	units := uint64(r.u32(body[4:]))<<32 | uint64(r.u32(body[8:]))
	p.Timestamp = r.conv[idx].ns(units)
	p.OrigLen = r.u32(body[16:])
	p.Interface = idx
	p.Data = body[20 : 20+capLen : 20+capLen]
	p.Flags = 0
	if opts := int(20 + (capLen+3)&^3); opts < len(body) {
		r.walkOptions(body[opts:], func(code uint16, v []byte) {
			if code == 2 && len(v) == 4 {
				p.Flags = r.u32(v)
			}
		})
	}
	return true, nil
}

func (r *Reader) parseSPB(body []byte, p *Packet) (bool, error) {
	if len(body) < 4 {
		return false, r.errAt(r.off, "simple packet block too short (%d bytes)", len(body))
	}
	idx, err := r.iface(0)
	if err != nil {
		return false, err
	}
	if p == nil {
		return true, nil
	}
	orig := r.u32(body)
	capLen := uint32(len(body) - 4)
	if orig < capLen {
		capLen = orig
	}
	if snap := r.ifaces[idx].SnapLen; snap != 0 && capLen > snap {
		capLen = snap
	}
	p.Timestamp = 0
	p.OrigLen = orig
	p.Interface = idx
	p.Flags = 0
	p.Data = body[4 : 4+capLen : 4+capLen]
	return true, nil
}

// parseOPB reads the obsolete Packet Block, which some old writers still
// produce: a 16-bit interface id and a drop count where the EPB has a
// 32-bit id.
func (r *Reader) parseOPB(body []byte, p *Packet) (bool, error) {
	if len(body) < 20 {
		return false, r.errAt(r.off, "packet block too short (%d bytes)", len(body))
	}
	return r.parsePacketBlock("packet block", uint32(r.u16(body)), body, p)
}
