// Package pcapfile reads and writes packet capture files: classic pcap
// (microsecond and nanosecond, either byte order) and pcapng (several
// sections and interfaces, EPB/SPB/OPB, options). It also merges files in
// time order, computes statistics, salvages and repairs damaged files, and
// reads files that another process is still writing.
//
// The readers are a path of their own rather than gopacket's pcapgo: they
// read through one large buffer and hand out packet data as slices of it,
// so reading allocates nothing per packet, and they report damage with its
// byte offset and can stop at a partial record and resume, which pcapgo
// cannot (BenchmarkRead compares their speed). Packet.Data is valid only
// until the next call to Next.
package pcapfile
