package pcapfile

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/netip"
	"sort"
	"strconv"
	"time"
)

// Stats summarise one capture file.
type Stats struct {
	File          string      `json:"file"`
	Format        Format      `json:"format"`
	FileSize      int64       `json:"file_size"`
	Interfaces    []Interface `json:"interfaces"`
	Packets       int64       `json:"packets"`
	CapturedBytes int64       `json:"captured_bytes"` // sum of captured lengths
	OriginalBytes int64       `json:"original_bytes"` // sum of lengths on the wire (capinfos' "Data size")
	// First and Last are the earliest and latest timestamps (capinfos'
	// first and last packet time); absent when there are no packets.
	First       *time.Time `json:"first,omitempty"`
	Last        *time.Time `json:"last,omitempty"`
	SpanSeconds float64    `json:"span_seconds"`
	TimeOrdered bool       `json:"time_ordered"` // every timestamp ≥ the one before
	// Rates over the span; 0 when the span is 0.
	PacketsPerSecond float64 `json:"packets_per_second"`
	// Byte rates and the average packet size count bytes on the wire, as
	// capinfos does.
	BytesPerSecond    float64          `json:"bytes_per_second"`
	BitsPerSecond     float64          `json:"bits_per_second"`
	AveragePacketSize float64          `json:"average_packet_size"`
	Directions        *DirectionCounts `json:"directions,omitempty"`
	Protocols         Protocols        `json:"protocols"`
	TopTalkers        []Talker         `json:"top_talkers"`
	Conversations     []Conversation   `json:"conversations"`
	// TalkersTruncated is set when more distinct addresses or conversations
	// appeared than are tracked (65536 each); the rest are not ranked.
	TalkersTruncated bool `json:"talkers_truncated,omitempty"`
	// Damage is where the file is damaged (with --salvage: the figures
	// cover the intact part before it).
	Damage string `json:"damage,omitempty"`
}

// DirectionCounts count pcapng packets by their epb_flags direction.
type DirectionCounts struct {
	Inbound  int64 `json:"inbound"`
	Outbound int64 `json:"outbound"`
	Unknown  int64 `json:"unknown"`
}

// Protocols is the protocol mix, in packets.
type Protocols struct {
	EtherTypes []EtherTypeCount `json:"ether_types"`
	VLAN       int64            `json:"vlan"` // packets with at least one 802.1Q/802.1ad tag
	IPv4       int64            `json:"ipv4"`
	IPv6       int64            `json:"ipv6"`
	ARP        int64            `json:"arp"`
	TCP        int64            `json:"tcp"`
	UDP        int64            `json:"udp"`
	ICMP       int64            `json:"icmp"`
	ICMPv6     int64            `json:"icmpv6"`
	OtherIP    int64            `json:"other_ip"` // IP packets of any other protocol
	NonIP      int64            `json:"non_ip"`   // neither IPv4 nor IPv6 (ARP included)
}

// EtherTypeCount is one EtherType (the innermost, after VLAN tags).
type EtherTypeCount struct {
	EtherType string `json:"ether_type"` // "0x0800"
	Name      string `json:"name,omitempty"`
	Packets   int64  `json:"packets"`
	Bytes     int64  `json:"bytes"` // on the wire
}

// Talker is one IP address, counting packets it sent or received.
type Talker struct {
	Address string `json:"address"`
	Packets int64  `json:"packets"`
	Bytes   int64  `json:"bytes"` // on the wire
}

// Conversation is traffic between two endpoints in both directions: a TCP,
// UDP or SCTP port pair, or for other IP protocols an address pair.
type Conversation struct {
	Protocol string `json:"protocol"`
	A        string `json:"a"`
	B        string `json:"b"`
	Packets  int64  `json:"packets"`
	Bytes    int64  `json:"bytes"`
}

// MaxTracked bounds the distinct addresses and conversations ComputeStats
// ranks, so memory stays flat on any capture; past it TalkersTruncated is set.
const MaxTracked = 1 << 16

type counter struct{ packets, bytes int64 }

type etherCounter struct {
	et uint16
	counter
}

// StatsCollector accumulates Stats packet by packet, for callers that read
// packets themselves (a capture supervisor counting a growing file).
type StatsCollector struct {
	s         Stats
	first     uint64
	last      uint64
	prev      uint64
	ethers    []etherCounter
	etherIdx  *[1 << 16]uint16 // EtherType → index in ethers + 1
	talkers   flowTable
	convs     flowTable
	dirs      DirectionCounts
	d         decoded
	truncated bool
}

// NewStatsCollector returns an empty collector.
func NewStatsCollector() *StatsCollector {
	return &StatsCollector{s: Stats{TimeOrdered: true}, etherIdx: new([1 << 16]uint16)}
}

// Add counts one packet whose interface has link type link.
func (c *StatsCollector) Add(link LinkType, p *Packet) {
	s := &c.s
	ts := p.Timestamp
	if s.Packets == 0 {
		c.first, c.last = ts, ts
	} else {
		if ts < c.prev {
			s.TimeOrdered = false
		}
		c.first, c.last = min(c.first, ts), max(c.last, ts)
	}
	c.prev = ts
	s.Packets++
	caplen := int64(len(p.Data))
	wire := int64(p.OrigLen)
	s.CapturedBytes += caplen
	s.OriginalBytes += wire
	switch p.Direction() {
	case DirInbound:
		c.dirs.Inbound++
	case DirOutbound:
		c.dirs.Outbound++
	default:
		c.dirs.Unknown++
	}

	d := &c.d
	decode(link, p.Data, d)
	pr := &s.Protocols
	if d.vlan {
		pr.VLAN++
	}
	if d.etherType != 0 {
		i := c.etherIdx[d.etherType]
		if i == 0 {
			// At most 0xffff-0x600+1 EtherTypes (decode leaves 802.3
			// lengths at 0): the index fits.
			c.ethers = append(c.ethers, etherCounter{et: d.etherType})
			i = uint16(len(c.ethers))
			c.etherIdx[d.etherType] = i
		}
		e := &c.ethers[i-1]
		e.packets++
		e.bytes += wire
	}
	if d.etherType == etherARP {
		pr.ARP++
	}
	switch d.ipVer {
	case 4:
		pr.IPv4++
	case 6:
		pr.IPv6++
	default:
		pr.NonIP++
		return
	}
	switch d.proto {
	case 6:
		pr.TCP++
	case 17:
		pr.UDP++
	case 1:
		pr.ICMP++
	case 58:
		pr.ICMPv6++
	default:
		pr.OtherIP++
	}
	src0, src1 := addrWords(&d.src)
	dst0, dst1 := addrWords(&d.dst)
	ver := uint64(d.ipVer)
	c.count(&c.talkers, &flowKey{src0, src1, 0, 0, ver << 40}, wire)
	if d.dst != d.src {
		c.count(&c.talkers, &flowKey{dst0, dst1, 0, 0, ver << 40}, wire)
	}
	var pa, pb uint64
	if d.ports {
		pa, pb = uint64(d.sport), uint64(d.dport)
	}
	// The lower address (then port) is A, so both directions are one key.
	if dst0 < src0 || (dst0 == src0 && (dst1 < src1 || (dst1 == src1 && pb < pa))) {
		src0, src1, dst0, dst1, pa, pb = dst0, dst1, src0, src1, pb, pa
	}
	c.count(&c.convs, &flowKey{src0, src1, dst0, dst1, ver<<40 | uint64(d.proto)<<32 | pa<<16 | pb}, wire)
}

func (c *StatsCollector) count(t *flowTable, k *flowKey, wire int64) {
	cv := t.get(k)
	if cv == nil {
		c.truncated = true
		return
	}
	cv.packets++
	cv.bytes += wire
}

// Result returns the statistics so far with the top n talkers and
// conversations (by bytes).
func (c *StatsCollector) Result(n int) Stats {
	s := c.s
	s.TalkersTruncated = c.truncated
	if s.Packets > 0 {
		f, l := TimeOf(c.first).UTC(), TimeOf(c.last).UTC()
		s.First, s.Last = &f, &l
		span := c.last - c.first
		s.SpanSeconds = float64(span) / 1e9
		if span > 0 {
			s.PacketsPerSecond = float64(s.Packets) / s.SpanSeconds
			s.BytesPerSecond = float64(s.OriginalBytes) / s.SpanSeconds
			s.BitsPerSecond = 8 * s.BytesPerSecond
		}
		s.AveragePacketSize = float64(s.OriginalBytes) / float64(s.Packets)
	}
	if c.dirs.Inbound+c.dirs.Outbound > 0 {
		d := c.dirs
		s.Directions = &d
	}
	s.Protocols.EtherTypes = []EtherTypeCount{}
	for _, v := range c.ethers {
		s.Protocols.EtherTypes = append(s.Protocols.EtherTypes, EtherTypeCount{
			EtherType: fmt.Sprintf("0x%04x", v.et), Name: etherTypeName(v.et), Packets: v.packets, Bytes: v.bytes,
		})
	}
	sort.Slice(s.Protocols.EtherTypes, func(i, j int) bool {
		a, b := s.Protocols.EtherTypes[i], s.Protocols.EtherTypes[j]
		if a.Packets != b.Packets {
			return a.Packets > b.Packets
		}
		return a.EtherType < b.EtherType
	})
	s.TopTalkers = []Talker{}
	c.talkers.each(func(k *flowKey, v counter) {
		s.TopTalkers = append(s.TopTalkers, Talker{Address: addrString(uint8(k[4]>>40), wordsAddr(k[0], k[1])), Packets: v.packets, Bytes: v.bytes})
	})
	sort.Slice(s.TopTalkers, func(i, j int) bool {
		a, b := s.TopTalkers[i], s.TopTalkers[j]
		if a.Bytes != b.Bytes {
			return a.Bytes > b.Bytes
		}
		return a.Address < b.Address
	})
	if len(s.TopTalkers) > n {
		s.TopTalkers = s.TopTalkers[:n]
	}
	s.Conversations = []Conversation{}
	c.convs.each(func(k *flowKey, v counter) {
		ver, proto := uint8(k[4]>>40), uint8(k[4]>>32)
		a, b := wordsAddr(k[0], k[1]), wordsAddr(k[2], k[3])
		cv := Conversation{Protocol: protoName(proto), A: addrString(ver, a), B: addrString(ver, b), Packets: v.packets, Bytes: v.bytes}
		if proto == 6 || proto == 17 || proto == 132 {
			cv.A = endpoint(ver, a, uint16(k[4]>>16))
			cv.B = endpoint(ver, b, uint16(k[4]))
		}
		s.Conversations = append(s.Conversations, cv)
	})
	sort.Slice(s.Conversations, func(i, j int) bool {
		a, b := s.Conversations[i], s.Conversations[j]
		if a.Bytes != b.Bytes {
			return a.Bytes > b.Bytes
		}
		if a.A != b.A {
			return a.A < b.A
		}
		return a.B < b.B
	})
	if len(s.Conversations) > n {
		s.Conversations = s.Conversations[:n]
	}
	return s
}

func addrString(ver uint8, a [16]byte) string {
	if ver == 4 {
		return netip.AddrFrom4([4]byte(a[:4])).String()
	}
	return netip.AddrFrom16(a).String()
}

func endpoint(ver uint8, a [16]byte, port uint16) string {
	if ver == 4 {
		return addrString(ver, a) + ":" + strconv.Itoa(int(port))
	}
	return "[" + addrString(ver, a) + "]:" + strconv.Itoa(int(port))
}

func protoName(p uint8) string {
	switch p {
	case 1:
		return "ICMP"
	case 6:
		return "TCP"
	case 17:
		return "UDP"
	case 58:
		return "ICMPv6"
	case 132:
		return "SCTP"
	}
	return "IP proto " + strconv.Itoa(int(p))
}

func etherTypeName(et uint16) string {
	switch et {
	case etherIPv4:
		return "IPv4"
	case etherARP:
		return "ARP"
	case etherIPv6:
		return "IPv6"
	case 0x8035:
		return "RARP"
	case 0x88cc:
		return "LLDP"
	case 0x8847, 0x8848:
		return "MPLS"
	case 0x8863, 0x8864:
		return "PPPoE"
	case 0x88f7:
		return "PTP"
	case 0x8809:
		return "Slow protocols"
	}
	return ""
}

// StatsOptions control ComputeStats.
type StatsOptions struct {
	Top     int  // talkers and conversations to keep; default 10
	Salvage bool // stop at damage and report it instead of failing
}

// ComputeStats reads r to its end. File and FileSize are left for the
// caller to fill in.
func ComputeStats(ctx context.Context, r *Reader, o StatsOptions) (*Stats, error) {
	if o.Top <= 0 {
		o.Top = 10
	}
	c := NewStatsCollector()
	pk, err := NewPackets(ctx, []*Reader{r}, PacketsOptions{Salvage: o.Salvage})
	if err != nil {
		return nil, err
	}
	for {
		_, p, err := pk.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		c.Add(r.Interfaces()[p.Interface].LinkType, p)
	}
	var damage string
	if len(pk.Damage) > 0 {
		damage = pk.Damage[0]
	}
	s := c.Result(o.Top)
	s.Format = r.Format()
	s.Interfaces = r.Interfaces()
	s.Damage = damage
	if math.IsNaN(s.AveragePacketSize) {
		s.AveragePacketSize = 0
	}
	return &s, nil
}
