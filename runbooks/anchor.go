package runbooks

import (
	"encoding/binary"
	"math/bits"
	"strings"
)

// anchorFilter finds the lines of a chunk that hold a keyword without
// walking an automaton over every byte. Each keyword is known by its
// rarest four bytes (its anchor). The scan folds each 4-byte window of the
// text (OR 0x20: ASCII capitals become small letters, and a few other
// bytes collide, which only costs a comparison), hashes it, and tests one
// bit; five windows come from one 8-byte load and share one branch, so a
// healthy line costs a few independent instructions per byte instead of a
// chain of dependent table loads. Only a window whose bit is set is
// compared against the keywords anchored there.
//
// It finds exactly the occurrences the Aho-Corasick filter finds: every
// occurrence of a keyword holds the keyword's anchor at a fixed offset,
// and the comparison folds case as the automaton does (ASCII letters of
// the lower-cased keyword match either case, every other byte itself).
type anchorFilter struct {
	bits [anchorBits / 64]uint64
	// Open addressing on the folded anchor: slots[anchorSlot(x)+j] for the
	// first j whose x matches or whose n is 0; its keywords are
	// list[first:first+n].
	slots []anchorSlot
	shift uint
	list  []anchored
}

type anchorSlot struct {
	x        uint32
	first, n int32
}

const (
	anchorLen     = 4
	anchorBitsLog = 16
	anchorBits    = 1 << anchorBitsLog
	fold4         = 0x20202020
	fold8         = 0x2020202020202020
)

type anchored struct {
	off int    // offset of the anchor within kw
	kw  string // lower-cased, as the automaton has it
	// head is kw's first 8 bytes (fewer: the rest 0 in head and mask)
	// folded as the scan folds, to drop most misses with one comparison.
	head, mask uint64
}

func newAnchored(kw string, off int) anchored {
	an := anchored{off: off, kw: kw}
	for j := 0; j < min(8, len(kw)); j++ {
		an.head |= uint64(kw[j]|0x20) << (8 * j)
		an.mask |= 0xff << (8 * j)
	}
	return an
}

func anchorHash(x uint32) uint32 { return x * 0x9E3779B1 >> (32 - anchorBitsLog) }

// byteFreq is how common each ASCII byte is in DPDK and Gazelle logs, per
// mille, letters of both cases together (measured on testdata/logs, each
// file weighted alike). Anchors avoid common pairs; the figures only
// steer speed, never what is found.
var byteFreq = [128]uint8{
	8: 4, 10: 18, 32: 109, 34: 3, 35: 5, 37: 1, 39: 6, 40: 5, 41: 5, 43: 1, 44: 3, 45: 14, 46: 8, 47: 12,
	48: 21, 49: 14, 50: 9, 51: 5, 52: 5, 53: 5, 54: 5, 55: 4, 56: 4, 57: 2, 58: 29, 61: 2,
	'a': 52, 'b': 11, 'c': 37, 'd': 43, 'e': 92, 'f': 14, 'g': 13, 'h': 9, 'i': 43, 'j': 0, 'k': 11,
	'l': 37, 'm': 20, 'n': 40, 'o': 40, 'p': 32, 'q': 2, 'r': 44, 's': 33, 't': 52, 'u': 21, 'v': 10,
	'w': 2,
	'x': 13, 'y': 7, 'z': 3, 91: 2, 93: 2, 95: 13,
}

func freqOf(c byte) int {
	if c >= 'A' && c <= 'Z' {
		c += 'a' - 'A'
	}
	if c >= 128 {
		return 1
	}
	return int(byteFreq[c]) + 1
}

// buildAnchors returns nil when some keyword has no anchor (shorter than
// four bytes, or only windows across a newline): the caller then walks the
// automaton as before.
func buildAnchors(kws []string) *anchorFilter {
	a := &anchorFilter{}
	at := map[uint32][]anchored{}
	var order []uint32
	for _, kw := range kws {
		best, cost := -1, 0
		for i := 0; i+anchorLen <= len(kw); i++ {
			if strings.IndexByte(kw[i:i+anchorLen], '\n') >= 0 {
				continue
			}
			c := 1
			for j := i; j < i+anchorLen; j++ {
				c *= freqOf(kw[j])
			}
			if best < 0 || c < cost {
				best, cost = i, c
			}
		}
		if best < 0 {
			return nil
		}
		x := binary.LittleEndian.Uint32([]byte(kw[best:])) | fold4
		h := anchorHash(x)
		a.bits[h/64] |= 1 << (h % 64)
		if at[x] == nil {
			order = append(order, x)
		}
		at[x] = append(at[x], newAnchored(kw, best))
	}
	// A table at most a quarter full keeps probes short.
	size := 1
	for size < 4*len(order) {
		size *= 2
	}
	a.shift = uint(32 - bits.Len(uint(size-1)))
	a.slots = make([]anchorSlot, size+len(order)) // probes never wrap
	for _, x := range order {
		j := a.slot(x)
		for a.slots[j].n != 0 {
			j++
		}
		a.slots[j] = anchorSlot{x: x, first: int32(len(a.list)), n: int32(len(at[x]))}
		a.list = append(a.list, at[x]...)
	}
	return a
}

func (a *anchorFilter) slot(x uint32) int { return int(x * 0x85EBCA77 >> a.shift) }

// keywords returns the keywords anchored on the folded window x.
func (a *anchorFilter) keywords(x uint32) []anchored {
	for j := a.slot(x); j < len(a.slots) && a.slots[j].n != 0; j++ {
		if sl := a.slots[j]; sl.x == x {
			return a.list[sl.first : sl.first+sl.n]
		}
	}
	return nil
}

// next returns the index of a byte inside the first keyword that starts at
// or after from in b, or -1. Keywords hold no newline, so the index falls
// in the line that holds the keyword.
func (a *anchorFilter) next(b []byte, from int) int {
	i := from
	for ; i+12 <= len(b); i += 8 {
		w := binary.LittleEndian.Uint64(b[i:]) | fold8
		v := binary.LittleEndian.Uint64(b[i+4:]) | fold8
		h0 := anchorHash(uint32(w))
		h1 := anchorHash(uint32(w >> 8))
		h2 := anchorHash(uint32(w >> 16))
		h3 := anchorHash(uint32(w >> 24))
		h4 := anchorHash(uint32(v))
		h5 := anchorHash(uint32(v >> 8))
		h6 := anchorHash(uint32(v >> 16))
		h7 := anchorHash(uint32(v >> 24))
		m := a.bits[h0/64]>>(h0%64)&1 | a.bits[h1/64]>>(h1%64)&1<<1 | a.bits[h2/64]>>(h2%64)&1<<2 |
			a.bits[h3/64]>>(h3%64)&1<<3 | a.bits[h4/64]>>(h4%64)&1<<4 | a.bits[h5/64]>>(h5%64)&1<<5 |
			a.bits[h6/64]>>(h6%64)&1<<6 | a.bits[h7/64]>>(h7%64)&1<<7
		if m == 0 {
			continue
		}
		for ; m != 0; m &= m - 1 {
			k := i + bits.TrailingZeros64(m)
			if a.match(b, from, k, binary.LittleEndian.Uint32(b[k:])|fold4) {
				return k
			}
		}
	}
	for ; i+anchorLen <= len(b); i++ {
		if a.verify(b, from, i) {
			return i
		}
	}
	return -1
}

// verify reports whether a keyword anchored at b[i:i+4] starts at or
// after from.
func (a *anchorFilter) verify(b []byte, from, i int) bool {
	x := binary.LittleEndian.Uint32(b[i:]) | fold4
	h := anchorHash(x)
	if a.bits[h/64]>>(h%64)&1 == 0 {
		return false
	}
	return a.match(b, from, i, x)
}

// match reports whether a keyword anchored on the folded window x at
// b[i:] starts at or after from.
func (a *anchorFilter) match(b []byte, from, i int, x uint32) bool {
	kws := a.keywords(x)
	for k := range kws {
		an := &kws[k]
		s := i - an.off
		if s < from || s+len(an.kw) > len(b) {
			continue
		}
		if s+8 <= len(b) && (binary.LittleEndian.Uint64(b[s:])|fold8)&an.mask != an.head {
			continue
		}
		if equalFoldASCII(b[s:s+len(an.kw)], an.kw) {
			return true
		}
	}
	return false
}

// equalFoldASCII compares text with a lower-cased keyword, folding the
// text's ASCII capitals only (as the automaton's byte classes do), eight
// bytes at a time.
func equalFoldASCII(text []byte, kw string) bool {
	j := 0
	for ; j+8 <= len(kw); j += 8 {
		if lower8(binary.LittleEndian.Uint64(text[j:])) != binary.LittleEndian.Uint64([]byte(kw[j:j+8])) {
			return false
		}
	}
	for ; j < len(kw); j++ {
		c := text[j]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != kw[j] {
			return false
		}
	}
	return true
}

// lower8 turns the ASCII capitals among eight bytes into small letters
// and leaves every other byte alone: per byte, the 7 low bits plus 0x3f
// reach 0x80 from 'A' on and plus 0x25 from '['; no sum carries into the
// next byte.
func lower8(w uint64) uint64 {
	const lo7, hi = 0x7f7f7f7f7f7f7f7f, 0x8080808080808080
	h := w & lo7
	upper := ((h + 0x3f3f3f3f3f3f3f3f) ^ (h + 0x2525252525252525)) & ^w & hi
	return w | upper>>2
}
