package pcapfile

import "encoding/binary"

var be = binary.BigEndian

// Layer-3/4 facts about one packet, decoded just far enough for statistics.
type decoded struct {
	etherType uint16 // innermost EtherType (after VLAN tags); 0 if none
	vlan      bool
	ipVer     uint8 // 4 or 6, 0 if not IP
	src, dst  [16]byte
	proto     uint8 // IP protocol (after IPv6 extension headers)
	sport     uint16
	dport     uint16
	ports     bool
}

const (
	etherIPv4 = 0x0800
	etherARP  = 0x0806
	etherVLAN = 0x8100
	etherQinQ = 0x88a8
	etherIPv6 = 0x86dd
)

// decode fills d from data of the given link type. It never reads beyond
// data and stops at the first layer it cannot parse.
func decode(link LinkType, data []byte, d *decoded) {
	*d = decoded{}
	var l3 []byte
	switch link {
	case LinkTypeEthernet:
		if len(data) < 14 {
			return
		}
		et := be.Uint16(data[12:])
		off := 14
		for (et == etherVLAN || et == etherQinQ || et == 0x9100) && len(data) >= off+4 {
			d.vlan = true
			et = be.Uint16(data[off+2:])
			off += 4
		}
		if et < 0x0600 { // an 802.3 length: LLC follows
			d.etherType = 0
			return
		}
		d.etherType = et
		l3 = data[off:]
	case LinkTypeLinuxSLL:
		if len(data) < 16 {
			return
		}
		d.etherType = be.Uint16(data[14:])
		l3 = data[16:]
	case LinkTypeLinuxSLL2:
		if len(data) < 20 {
			return
		}
		d.etherType = be.Uint16(data[0:])
		l3 = data[20:]
	case LinkTypeRaw, LinkTypeIPv4, LinkTypeIPv6, 12, 14:
		if len(data) < 1 {
			return
		}
		switch data[0] >> 4 {
		case 4:
			d.etherType = etherIPv4
		case 6:
			d.etherType = etherIPv6
		}
		l3 = data
	case LinkTypeNull, 108:
		if len(data) < 4 {
			return
		}
		fam := binary.LittleEndian.Uint32(data)
		if fam > 0xffff {
			fam = be.Uint32(data)
		}
		switch fam {
		case 2:
			d.etherType = etherIPv4
		case 10, 24, 28, 30:
			d.etherType = etherIPv6
		}
		l3 = data[4:]
	default:
		return
	}
	var l4 []byte
	switch d.etherType {
	case etherIPv4:
		if len(l3) < 20 || l3[0]>>4 != 4 {
			return
		}
		ihl := int(l3[0]&0xf) * 4
		if ihl < 20 || len(l3) < ihl {
			return
		}
		d.ipVer = 4
		copy(d.src[:4], l3[12:16])
		copy(d.dst[:4], l3[16:20])
		d.proto = l3[9]
		if be.Uint16(l3[6:])&0x1fff != 0 { // a later fragment: no L4 header
			return
		}
		l4 = l3[ihl:]
	case etherIPv6:
		if len(l3) < 40 || l3[0]>>4 != 6 {
			return
		}
		d.ipVer = 6
		copy(d.src[:], l3[8:24])
		copy(d.dst[:], l3[24:40])
		next, rest := l3[6], l3[40:]
		for {
			switch next {
			case 0, 43, 60: // hop-by-hop, routing, destination options
				if len(rest) < 8 {
					d.proto = next
					return
				}
				n := (int(rest[1]) + 1) * 8
				if n > len(rest) {
					d.proto = next
					return
				}
				next, rest = rest[0], rest[n:]
				continue
			case 44: // fragment
				if len(rest) < 8 {
					d.proto = next
					return
				}
				if be.Uint16(rest[2:])&0xfff8 != 0 {
					d.proto = rest[0]
					return
				}
				next, rest = rest[0], rest[8:]
				continue
			}
			break
		}
		d.proto = next
		l4 = rest
	default:
		return
	}
	switch d.proto {
	case 6, 17, 132:
		if len(l4) >= 4 {
			d.sport, d.dport, d.ports = be.Uint16(l4), be.Uint16(l4[2:]), true
		}
	}
}
