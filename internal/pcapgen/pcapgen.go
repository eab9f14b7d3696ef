// Package pcapgen makes synthetic Ethernet traffic for tests and
// benchmarks: several IPv4 and IPv6 hosts, UDP, TCP with every common flag
// combination, ICMP, ARP, VLAN tags, fragments, LLDP and 802.3 frames, and
// packets captured shorter than they were on the wire.
package pcapgen

import (
	"encoding/binary"
	"math/rand/v2"
)

// Frame is one generated packet.
type Frame struct {
	Timestamp uint64 // ns
	Data      []byte
	OrigLen   uint32
}

var be = binary.BigEndian

func mac(last byte) []byte { return []byte{0x02, 0, 0, 0, 0, last} }

func ether(dst, src []byte, et uint16, vlans ...uint16) []byte {
	b := append(append([]byte{}, dst...), src...)
	for _, v := range vlans {
		b = be.AppendUint16(b, 0x8100)
		b = be.AppendUint16(b, v)
	}
	return be.AppendUint16(b, et)
}

func ipv4(src, dst [4]byte, proto uint8, payload int, frag uint16) []byte {
	h := make([]byte, 20)
	h[0] = 0x45
	be.PutUint16(h[2:], uint16(20+payload))
	be.PutUint16(h[4:], 0x1234)
	be.PutUint16(h[6:], frag)
	h[8] = 64
	h[9] = proto
	copy(h[12:], src[:])
	copy(h[16:], dst[:])
	var sum uint32
	for i := 0; i < 20; i += 2 {
		sum += uint32(be.Uint16(h[i:]))
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	be.PutUint16(h[10:], ^uint16(sum))
	return h
}

func ipv6(src, dst byte, next uint8, payload int) []byte {
	h := make([]byte, 40)
	h[0] = 0x60
	be.PutUint16(h[4:], uint16(payload))
	h[6] = next
	h[7] = 64
	h[8], h[9], h[23] = 0xfd, 0x00, src
	h[24], h[25], h[39] = 0xfd, 0x00, dst
	return h
}

func udp(sport, dport uint16, payload int) []byte {
	h := make([]byte, 8)
	be.PutUint16(h[0:], sport)
	be.PutUint16(h[2:], dport)
	be.PutUint16(h[4:], uint16(8+payload))
	return h
}

func tcp(sport, dport uint16, flags uint8) []byte {
	h := make([]byte, 20)
	be.PutUint16(h[0:], sport)
	be.PutUint16(h[2:], dport)
	be.PutUint32(h[4:], 1000)
	h[12] = 5 << 4
	h[13] = flags
	be.PutUint16(h[14:], 65535)
	return h
}

func payload(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.IntN(256))
	}
	return b
}

// Traffic returns n frames starting at start (ns), spaced by about step ns,
// deterministic for a seed.
func Traffic(n int, seed uint64, start, step uint64) []Frame {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	out := make([]Frame, 0, n)
	ts := start
	for i := range n {
		ts += step/2 + r.Uint64N(step+1)
		var b []byte
		host := byte(1 + r.IntN(8))
		peer := byte(1 + r.IntN(4))
		src := [4]byte{10, 0, 0, host}
		dst := [4]byte{10, 0, 1, peer}
		if r.IntN(2) == 0 {
			src, dst = dst, src
		}
		if r.IntN(20) == 0 {
			dst = [4]byte{192, 168, 1, 10}
		}
		switch k := i % 23; {
		case k < 8: // UDP, various sizes
			n := r.IntN(1400)
			if k == 0 {
				n = r.IntN(8)
			}
			b = ether(mac(peer), mac(host), 0x0800)
			b = append(b, ipv4(src, dst, 17, 8+n, 0)...)
			b = append(b, udp(uint16(1000+r.IntN(10)), uint16(5000+r.IntN(4)), n)...)
			b = append(b, payload(r, n)...)
		case k < 13: // TCP with assorted flags
			flags := []uint8{0x02, 0x12, 0x10, 0x18, 0x11, 0x04, 0x29, 0x14}[r.IntN(8)]
			n := r.IntN(600)
			b = ether(mac(peer), mac(host), 0x0800)
			b = append(b, ipv4(src, dst, 6, 20+n, 0x4000)...)
			ports := []uint16{22, 80, 443, 8080, 6000 + uint16(r.IntN(20))}
			b = append(b, tcp(uint16(30000+r.IntN(100)), ports[r.IntN(len(ports))], flags)...)
			b = append(b, payload(r, n)...)
		case k == 13: // ICMP echo
			b = ether(mac(peer), mac(host), 0x0800)
			b = append(b, ipv4(src, dst, 1, 64, 0)...)
			icmp := payload(r, 64)
			icmp[0], icmp[1] = []byte{8, 0, 3, 11}[r.IntN(4)], 0
			b = append(b, icmp...)
		case k == 14: // ARP request or reply, broadcast
			b = ether([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, mac(host), 0x0806)
			arp := []byte{0, 1, 8, 0, 6, 4, 0, byte(1 + r.IntN(2))}
			arp = append(arp, mac(host)...)
			arp = append(arp, src[:]...)
			arp = append(arp, 0, 0, 0, 0, 0, 0)
			arp = append(arp, dst[:]...)
			b = append(b, arp...)
			b = append(b, make([]byte, 18)...)
		case k == 15 || k == 16: // VLAN-tagged UDP, sometimes double-tagged
			vl := []uint16{100, 200}[r.IntN(2)]
			if k == 16 && r.IntN(2) == 0 {
				b = ether(mac(peer), mac(host), 0x0800, vl, 300)
			} else {
				b = ether(mac(peer), mac(host), 0x0800, vl)
			}
			n := r.IntN(200)
			b = append(b, ipv4(src, dst, 17, 8+n, 0)...)
			b = append(b, udp(uint16(1000+r.IntN(10)), 53, n)...)
			b = append(b, payload(r, n)...)
		case k == 17: // IPv6 UDP
			n := r.IntN(300)
			b = ether(mac(peer), mac(host), 0x86dd)
			b = append(b, ipv6(host, peer, 17, 8+n)...)
			b = append(b, udp(uint16(2000+r.IntN(5)), 5001, n)...)
			b = append(b, payload(r, n)...)
		case k == 18: // IPv6 TCP SYN or ICMPv6
			b = ether(mac(peer), mac(host), 0x86dd)
			if r.IntN(2) == 0 {
				b = append(b, ipv6(host, peer, 6, 20)...)
				b = append(b, tcp(40000, 443, 0x02)...)
			} else {
				b = append(b, ipv6(host, peer, 58, 32)...)
				icmp := payload(r, 32)
				icmp[0] = []byte{128, 129, 135, 136}[r.IntN(4)]
				b = append(b, icmp...)
			}
		case k == 19: // IPv4 non-first fragment of UDP
			n := 100 + r.IntN(400)
			b = ether(mac(peer), mac(host), 0x0800)
			b = append(b, ipv4(src, dst, 17, n, 0x2000|uint16(1+r.IntN(100)))...)
			b = append(b, payload(r, n)...)
		case k == 20: // LLDP
			b = ether([]byte{0x01, 0x80, 0xc2, 0, 0, 0x0e}, mac(host), 0x88cc)
			b = append(b, payload(r, 40)...)
		case k == 21: // 802.3 frame with LLC (length instead of EtherType)
			b = append(append([]byte{0x01, 0x80, 0xc2, 0, 0, 0}, mac(host)...), 0, 38)
			b = append(b, 0x42, 0x42, 0x03)
			b = append(b, payload(r, 35)...)
		case k == 22: // IPv4 UDP to the seed's host, multicast or broadcast sometimes
			n := r.IntN(100)
			src = [4]byte{192, 168, 1, 10}
			dm := mac(peer)
			if r.IntN(2) == 0 {
				dst = [4]byte{224, 0, 0, 251}
				dm = []byte{0x01, 0, 0x5e, 0, 0, 0xfb}
			}
			b = ether(dm, mac(host), 0x0800)
			b = append(b, ipv4(src, dst, 17, 8+n, 0)...)
			b = append(b, udp(5353, 5353, n)...)
			b = append(b, payload(r, n)...)
		}
		orig := uint32(len(b))
		if r.IntN(40) == 0 && len(b) > 40 { // captured shorter than on the wire
			b = b[:14+r.IntN(len(b)-14)]
		}
		out = append(out, Frame{Timestamp: ts, Data: b, OrigLen: orig})
	}
	return out
}
