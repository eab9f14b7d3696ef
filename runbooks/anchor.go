package runbooks

import (
	"encoding/binary"
	"math/bits"
	"strings"
)

// anchorFilter finds the lines of a chunk that hold a keyword without
// walking an automaton over every byte. Each keyword is known by its
// rarest four bytes, taken as two overlapping 3-byte windows (its
// anchors). The scan looks at the 3-byte windows at every other position
// only: one of a keyword's two anchors starts there, whatever the
// keyword's place. Each window is folded (OR 0x20: ASCII capitals become
// small letters, and a few other bytes collide, which only costs a
// comparison), hashed, and tested against one bit; four windows come from
// two 8-byte loads and share one branch, so a healthy line costs a few
// independent instructions per byte instead of a chain of dependent table
// loads. Only a window whose bit is set is compared against the keywords
// anchored there.
//
// It finds exactly the occurrences the Aho-Corasick filter finds: every
// occurrence of a keyword holds one of its anchors on the grid at a fixed
// offset, and the comparison folds case as the automaton does (ASCII
// letters of the lower-cased keyword match either case, every other byte
// itself).
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
	// The scan tests the 3-byte windows at every other position, so each
	// keyword is anchored by two overlapping windows (one of them starts
	// on the scan's grid whatever the keyword's place): four bytes.
	anchorLen     = 3
	anchorStride  = 2
	anchorSpan    = anchorLen + anchorStride - 1
	anchorBitsLog = 16
	anchorBits    = 1 << anchorBitsLog
	fold3         = 0x202020
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

// commonWindowList holds the 300 most common 3-byte windows (folded as the scan
// folds them) in the lines of testdata/logs that hold no keyword, most
// common first: "EAL:" starts most DPDK lines, so "al:" is a poor anchor
// whatever its bytes' own frequencies say. Speed only, like byteFreq.
const commonWindowList = "ealal:l:  de: ded tedectetedettecctes: es:cororexxxlco lc nu" +
	"numma uma noodedesa nnodresd ccpud n cppu u l: 1   000ingpro" +
	": 2 pr: probporortio ng 0:000:libckeket: 8net...cap) {/lidev" +
	"e: ### su+0xbiniceo s1) supuppppovic vfvfifioevire(e(s(s)ack" +
	"t..: 0obig vrt.dumumpsta (1verrinocksocet tiopdkivere  1 er:" +
	"r: pci pcci i dbe  00dririv dr neobe0 (: /.0 aptptuturdpd:00" +
	" onon rti:10 7070 ibc041: { {0{0xe p: n104 (svirirtpdu:03(so" +
	".soso.o ((1a1afaf4f4:4:141)) dce:03.3.0rt pacetst - -1-1)pca" +
	"ng0lin co-liinunuxib/b/x/x8x8664-4-lux-x-g-gngnunu/u/ldk- dp" +
	"rted 1 02 ((initace (ts ce t 0bc.c.so.6-pd 'n'neg0'nitc: fil" +
	"ile /l {7{7f00+0+0tarart.pcurele:mp/uri0x2for /t/tmtmpapnpng" +
	"g on ' fo mak-p0x3 63t 1 (0ple),  ca 61or mp macac:02 2 70 6" +
	"63 3 661 1 70 0con 4 6 (ts=8 ld 4-pr96 onfd 81 m3: ((( {.{./" +
	"4 ne f, cd 9 966 ltuples 2 (0)0),r ((1)) t tuupl02::02s=1ped" +
	"ionppemaiainoppin+n+0 -- sop ( (5 {5.6 0x4 to1 n 0 1 l-pa5: "

// commonWindows ranks commonWindowList, the most common highest; built
// when a catalogue is loaded, not at package initialisation.
func commonWindows() map[string]int {
	const list = commonWindowList
	m := make(map[string]int, len(list)/3)
	for i := 0; i+3 <= len(list); i += 3 {
		if _, ok := m[list[i:i+3]]; !ok {
			m[list[i:i+3]] = len(list)/3 - i/3
		}
	}
	return m
}

// windowCost estimates how often the folded window s occurs in healthy
// lines (common ranks the common windows).
func windowCost(s string, common map[string]int) int {
	var f [3]byte
	for i := range f {
		f[i] = s[i] | 0x20
	}
	if r, ok := common[string(f[:])]; ok {
		return 1<<24 + r<<16
	}
	return freqOf(s[0]) * freqOf(s[1]) * freqOf(s[2])
}

// buildAnchors returns nil when some keyword has no anchor (shorter than
// four bytes, or only spans across a newline): the caller then walks the
// automaton as before.
func buildAnchors(kws []string) *anchorFilter {
	a := &anchorFilter{}
	common := commonWindows()
	at := map[uint32][]anchored{}
	var order []uint32
	window := func(s string) uint32 {
		return (uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16) | fold3
	}
	for _, kw := range kws {
		best, cost := -1, 0
		for i := 0; i+anchorSpan <= len(kw); i++ {
			if strings.IndexByte(kw[i:i+anchorSpan], '\n') >= 0 {
				continue
			}
			if c := windowCost(kw[i:], common) + windowCost(kw[i+1:], common); best < 0 || c < cost {
				best, cost = i, c
			}
		}
		if best < 0 {
			return nil
		}
		for off := best; off < best+anchorStride; off++ {
			x := window(kw[off:])
			h := anchorHash(x)
			a.bits[h/64] |= 1 << (h % 64)
			if at[x] == nil {
				order = append(order, x)
			}
			at[x] = append(at[x], newAnchored(kw, off))
		}
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
		h0 := anchorHash(uint32(w) & 0xffffff)
		h1 := anchorHash(uint32(w>>16) & 0xffffff)
		h2 := anchorHash(uint32(v) & 0xffffff)
		h3 := anchorHash(uint32(v>>16) & 0xffffff)
		m := a.bits[h0/64]>>(h0%64)&1 | a.bits[h1/64]>>(h1%64)&1<<2 |
			a.bits[h2/64]>>(h2%64)&1<<4 | a.bits[h3/64]>>(h3%64)&1<<6
		if m == 0 {
			continue
		}
		for ; m != 0; m &= m - 1 {
			if k := i + bits.TrailingZeros64(m); a.verify(b, from, k) {
				return k
			}
		}
	}
	// The tail tests every position: more than the grid needs, never less.
	for ; i+anchorLen <= len(b); i++ {
		if a.verify(b, from, i) {
			return i
		}
	}
	return -1
}

// verify reports whether a keyword anchored at b[i:i+3] starts at or
// after from.
func (a *anchorFilter) verify(b []byte, from, i int) bool {
	x := (uint32(b[i]) | uint32(b[i+1])<<8 | uint32(b[i+2])<<16) | fold3
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
