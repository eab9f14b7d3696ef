package host

// What dpdk-pdump takes in its --pdump tuple (app/pdump/main.c, 20.11 to
// 24.11): a pool of PdumpMinTotalMbufs to PdumpMaxTotalMbufs mbufs, a ring
// of a power of 2 up to 2^31-2 (rte_ring's mask). pdump refuses other
// values only after EAL init, as a failure of its own, so check and
// capture refuse them first.
//
// Its mbuf size it takes from 1, but the primary copies every captured
// packet into an mbuf of pdump's pool: one whose data room is below the
// headroom and a full Ethernet frame makes it chain segments, and on the
// lab (DPDK 22.11) --mbuf-size 1 crashed the primary (segfault in
// librte_mbuf) and 256 crashed pdump. A capture must never take down what
// it watches, so the floor is RTE_PKTMBUF_HEADROOM (128) plus a 1518-byte
// frame.
const (
	PdumpMinMbufSize   = 128 + 1518
	PdumpMaxMbufSize   = 65535
	PdumpMinTotalMbufs = 1025
	PdumpMaxTotalMbufs = 65535
	PdumpMinRingSize   = 2
	PdumpMaxRingSize   = 1 << 30 // the largest power of 2 below 2^31-1
)
