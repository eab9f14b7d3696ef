#!/usr/bin/env python3
"""Writes the small capture fixtures in this folder. Run it from here; the
files are committed, this script documents how each was made."""
import struct

def eth(i, et=0x0800, n=40):
    return bytes([0x02,0,0,0,0,i, 0x02,0,0,0,0,0x10+i]) + struct.pack('>H', et) + bytes((i*7+k) & 0xff for k in range(n))

def pcap(name, order, magic, pkts, snap=65535, link=1):
    with open(name, 'wb') as f:
        f.write(struct.pack(order+'IHHiIII', magic, 2, 4, 0, 0, snap, link))
        for sec, frac, data, orig in pkts:
            f.write(struct.pack(order+'IIII', sec, frac, len(data), orig))
            f.write(data)

pk = [(1700000000, 1, eth(1), 54), (1700000000, 999999, eth(2, n=10), 100), (1700000001, 0, eth(3, 0x86dd, 60), 74)]
pcap('be-micro.pcap', '>', 0xa1b2c3d4, pk)
pcap('le-micro.pcap', '<', 0xa1b2c3d4, pk)
pkn = [(1700000000, 123456789, eth(4), 54), (1700000000, 999999999, eth(5), 54), (1700000002, 5, eth(6, n=0), 14)]
pcap('le-nano.pcap', '<', 0xa1b23c4d, pkn)
pcap('be-nano.pcap', '>', 0xa1b23c4d, pkn)

def opt(o, code, val):
    b = struct.pack(o+'HH', code, len(val)) + val
    return b + b'\0' * (-len(b) % 4)

def block(o, typ, body):
    body = body + b'\0' * (-len(body) % 4)
    n = 12 + len(body)
    return struct.pack(o+'II', typ, n) + body + struct.pack(o+'I', n)

def shb(o, comment=None):
    opts = b''
    if comment:
        opts = opt(o, 1, comment) + opt(o, 0, b'')
    return block(o, 0x0A0D0D0A, struct.pack(o+'IHHq', 0x1A2B3C4D, 1, 0, -1) + opts)

def idb(o, link, snap, opts=b''):
    return block(o, 1, struct.pack(o+'HHI', link, 0, snap) + opts)

def epb(o, ifid, units, data, orig, flags=None):
    opts = b''
    if flags is not None:
        opts = opt(o, 2, struct.pack(o+'I', flags)) + opt(o, 0, b'')
    pad = data + b'\0' * (-len(data) % 4)
    return block(o, 6, struct.pack(o+'IIIII', ifid, units >> 32, units & 0xffffffff, len(data), orig) + pad + opts)

def spb(o, data, orig):
    return block(o, 3, struct.pack(o+'I', orig) + data)

def opb(o, ifid, units, data, orig, flags=None):
    opts = b''
    if flags is not None:
        opts = opt(o, 2, struct.pack(o+'I', flags)) + opt(o, 0, b'')
    pad = data + b'\0' * (-len(data) % 4)
    return block(o, 2, struct.pack(o+'HHIIII', ifid, 0, units >> 32, units & 0xffffffff, len(data), orig) + pad + opts)

# Section 1, big-endian: an Ethernet interface in ns (if_tsresol 9), a raw
# IPv4 interface in 2^-20 s with if_tsoffset 10 s; EPBs with both
# directions, an SPB, an OPB, a Name Resolution Block and an unknown block.
o = '>'
s1 = shb(o, b'gzdoctor fixture: two sections')
s1 += idb(o, 1, 262144, opt(o, 2, b'dpdk:0') + opt(o, 3, b'net_null0 rx') + opt(o, 9, b'\x09') + opt(o, 11, b'\x00udp') + opt(o, 0, b''))
s1 += spb(o, eth(7, n=20), 34)  # SPB: interface 0, no timestamp
ipv4 = bytes([0x45,0,0,28, 0,0,0,0, 64,17,0,0, 10,0,0,1, 10,0,0,2]) + bytes(8)
s1 += idb(o, 228, 65535, opt(o, 2, b'raw') + opt(o, 9, b'\x94') + opt(o, 14, struct.pack(o+'q', 10)) + opt(o, 0, b''))
s1 += epb(o, 0, 1700000000_000000001, eth(8), 54, flags=1)
s1 += block(o, 4, b'\x00\x00\x00\x00')  # empty NRB
s1 += epb(o, 1, (1700000000 << 20) + (1 << 19), ipv4, 28, flags=2)
s1 += block(o, 0x0BAD, b'unknown block, skipped')
s1 += opb(o, 0, 1700000001_500000000, eth(9), 54, flags=1)
# Section 2, little-endian, µs, one interface.
o = '<'
s2 = shb(o) + idb(o, 1, 65535, opt(o, 2, b'second') + opt(o, 0, b''))
s2 += epb(o, 0, 1700000002_000001, eth(10), 54)
s2 += epb(o, 0, 1700000002_000002, eth(11, n=3), 60, flags=2)
with open('multi.pcapng', 'wb') as f:
    f.write(s1 + s2)
