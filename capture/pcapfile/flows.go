package pcapfile

// flowKey is a talker or conversation key packed into words: addresses
// as big-endian halves, IP version (never 0), protocol and ports in the
// last word. IPv4 leaves most words zero.
type flowKey [5]uint64

type flowEntry struct {
	k flowKey
	c counter
}

// flowTable counts packets and bytes per key, up to MaxTracked keys. It
// replaces Go maps keyed by 17- and 38-byte structs, whose hashing and
// comparing were half of pcap stats' time. An open-addressing index of
// 32-bit slots (15 bits of the hash as a tag, 17 of position) points into
// the entries, kept dense in the order they came: the index stays in the
// L2 cache, and a lookup touches one entry, the one it finds (a sparse
// table of whole entries missed the cache on most packets, as the file's
// data streams through it).
type flowTable struct {
	idx []uint32
	e   []flowEntry
}

const (
	flowTableMin = 1 << 10
	flowPosBits  = 17 // positions 1..MaxTracked; 0 is a free slot
)

func flowHash(k *flowKey) uint64 {
	h := k[0]*0x9e3779b97f4a7c15 ^ k[1]*0xc2b2ae3d27d4eb4f ^ k[2]*0x165667b19e3779f9 ^
		k[3]*0xd6e8feb86659fd93 ^ k[4]*0xff51afd7ed558ccd
	h ^= h >> 32
	h *= 0x94d049bb133111eb
	return h ^ h>>29
}

// get returns the counter of k, adding it when there is room; nil when the
// table already holds MaxTracked keys and k is not one of them.
func (t *flowTable) get(k *flowKey) *counter {
	if t.idx == nil {
		t.idx = make([]uint32, flowTableMin)
	}
	h := flowHash(k)
	tag := uint32(h>>(64-(32-flowPosBits))) << flowPosBits
	mask := uint64(len(t.idx) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		v := t.idx[i]
		if v == 0 {
			if len(t.e) >= MaxTracked {
				return nil
			}
			if 2*(len(t.e)+1) > len(t.idx) {
				t.grow()
				return t.get(k)
			}
			t.e = append(t.e, flowEntry{k: *k})
			t.idx[i] = tag | uint32(len(t.e))
			return &t.e[len(t.e)-1].c
		}
		if v&^(1<<flowPosBits-1) != tag {
			continue
		}
		// Word by word: == on the array calls memequal.
		e := &t.e[v&(1<<flowPosBits-1)-1]
		if e.k[0] == k[0] && e.k[1] == k[1] && e.k[2] == k[2] && e.k[3] == k[3] && e.k[4] == k[4] {
			return &e.c
		}
	}
}

func (t *flowTable) grow() {
	t.idx = make([]uint32, 2*len(t.idx))
	mask := uint64(len(t.idx) - 1)
	for j := range t.e {
		h := flowHash(&t.e[j].k)
		i := h & mask
		for t.idx[i] != 0 {
			i = (i + 1) & mask
		}
		t.idx[i] = uint32(h>>(64-(32-flowPosBits)))<<flowPosBits | uint32(j+1)
	}
}

// each calls fn for every key in the table.
func (t *flowTable) each(fn func(k *flowKey, c counter)) {
	for i := range t.e {
		fn(&t.e[i].k, t.e[i].c)
	}
}

func addrWords(a *[16]byte) (uint64, uint64) {
	return be.Uint64(a[:8]), be.Uint64(a[8:])
}

func wordsAddr(hi, lo uint64) (a [16]byte) {
	be.PutUint64(a[:8], hi)
	be.PutUint64(a[8:], lo)
	return a
}
