package pcapfile

import (
	"errors"
	"fmt"
	"time"
)

// Format is a capture file format.
type Format int

const (
	FormatPcap   Format = iota + 1 // classic libpcap format
	FormatPcapNG                   // pcapng
)

func (f Format) String() string {
	switch f {
	case FormatPcap:
		return "pcap"
	case FormatPcapNG:
		return "pcapng"
	}
	return fmt.Sprintf("format(%d)", int(f))
}

// MarshalText makes a Format print as its name in JSON.
func (f Format) MarshalText() ([]byte, error) { return []byte(f.String()), nil }

// UnmarshalText reads a Format's name.
func (f *Format) UnmarshalText(b []byte) error {
	v, err := ParseFormat(string(b))
	if err != nil {
		return err
	}
	*f = v
	return nil
}

// ParseFormat accepts "pcap" or "pcapng".
func ParseFormat(s string) (Format, error) {
	switch s {
	case "pcap":
		return FormatPcap, nil
	case "pcapng":
		return FormatPcapNG, nil
	}
	return 0, fmt.Errorf("unknown capture format %q: use pcap or pcapng", s)
}

// LinkType is a LINKTYPE_ value (tcpdump.org/linktypes.html).
type LinkType uint16

const (
	LinkTypeNull      LinkType = 0
	LinkTypeEthernet  LinkType = 1
	LinkTypeRaw       LinkType = 101
	LinkTypeLinuxSLL  LinkType = 113
	LinkTypeIPv4      LinkType = 228
	LinkTypeIPv6      LinkType = 229
	LinkTypeLinuxSLL2 LinkType = 276
)

// Direction is the packet's direction as recorded in pcapng's epb_flags
// (bits 0-1). Classic pcap has no direction: DirUnknown.
type Direction uint8

const (
	DirUnknown  Direction = 0
	DirInbound  Direction = 1
	DirOutbound Direction = 2
)

func (d Direction) String() string {
	switch d {
	case DirInbound:
		return "in"
	case DirOutbound:
		return "out"
	}
	return "unknown"
}

// Resolution units per second of a timestamp. Micro and Nano are the two
// classic pcap offers; pcapng interfaces may declare others.
const (
	Micro uint64 = 1_000_000
	Nano  uint64 = 1_000_000_000
)

// Interface describes where packets were captured: the one implicit
// interface of a classic pcap file, or a pcapng Interface Description Block.
type Interface struct {
	LinkType    LinkType `json:"link_type"`
	SnapLen     uint32   `json:"snaplen"`
	Name        string   `json:"name,omitempty"`
	Description string   `json:"description,omitempty"`
	Filter      string   `json:"filter,omitempty"` // if_filter, libpcap syntax
	OS          string   `json:"os,omitempty"`
	// TsResolution is the interface's timestamp units per second
	// (if_tsresol); 0 means Micro.
	TsResolution uint64 `json:"ts_resolution"`
	// TsOffset is if_tsoffset in seconds, already added to the packets'
	// timestamps by the reader.
	TsOffset int64 `json:"ts_offset,omitempty"`
}

// Resolution is the interface's timestamp units per second: TsResolution,
// or Micro when the file declares none.
func (i Interface) Resolution() uint64 {
	if i.TsResolution == 0 {
		return Micro
	}
	return i.TsResolution
}

// Packet is one record. Data aliases the reader's buffer and is valid only
// until the reader's next Next call; copy it to keep it.
type Packet struct {
	// Timestamp in nanoseconds since the Unix epoch. Unsigned, as in both
	// file formats: int64 nanoseconds end in 2262, and DPDK 22.11's
	// dpdk-dumpcap stamps packets past that on some machines (the year
	// 2265 on the lab VM), which must still read, sort and round-trip.
	Timestamp uint64
	// OrigLen is the length on the wire; len(Data) is the captured length.
	OrigLen uint32
	// Interface is an index into Reader.Interfaces() (pcapng interfaces of
	// all sections are numbered in one sequence), or into the writer's
	// interfaces when writing.
	Interface int
	// Flags is pcapng's epb_flags word; Direction is its bits 0-1.
	Flags uint32
	Data  []byte
	// Offset is the byte offset of the record in its file.
	Offset int64
}

// Direction returns the inbound/outbound bits of the packet's flags.
func (p *Packet) Direction() Direction { return Direction(p.Flags & 3) }

// SetDirection sets the direction bits of the packet's flags.
func (p *Packet) SetDirection(d Direction) { p.Flags = p.Flags&^3 | uint32(d)&3 }

// Time returns the timestamp as a time.Time.
func (p *Packet) Time() time.Time { return TimeOf(p.Timestamp) }

// maxTimestamp is the latest timestamp a Packet holds.
const maxTimestamp = ^uint64(0)

// TimeOf turns a Packet timestamp into a time.Time without going through
// int64 nanoseconds.
func TimeOf(ns uint64) time.Time { return time.Unix(int64(ns/Nano), int64(ns%Nano)) }

// FormatError is a damaged or unsupported file: it says where.
type FormatError struct {
	Offset int64  // byte offset of the damaged header or record
	Msg    string // what is wrong there
}

func (e *FormatError) Error() string { return fmt.Sprintf("at byte offset %d: %s", e.Offset, e.Msg) }

// ErrNeedMore is returned by an incremental reader (NewTailReader) when the
// file ends inside a header or record that its writer has not finished. The
// partial bytes are kept; call Next again once the file has grown.
var ErrNeedMore = errors.New("pcapfile: need more data")

// MaxRecord is the largest record the readers accept. Anything larger is a
// damaged length field, not a packet (libpcap's own limit is 256 KiB for
// most link types; pcapng blocks may carry more than one packet's worth).
const MaxRecord = 16 << 20

// MaxInterfaces bounds the interface description blocks of one pcapng file
// (all sections together), and MaxInterfaceText the bytes of their names,
// descriptions, filters and OS strings. dumpcap writes one IDB per port.
const (
	MaxInterfaces    = 4096
	MaxInterfaceText = 1 << 20
)
