package runbooks

import (
	"slices"
	"sort"
	"strings"
)

// acFilter is the literal pre-filter: one Aho-Corasick automaton, ignoring
// ASCII case, over every pattern's keyword and the words that make a line
// look like an error. Most log lines contain none of them and cost one pass
// over their bytes; only the rest are normalised and tried against regexes.
type acFilter struct {
	class  [256]uint8
	nclass int
	delta  []int32 // state*nclass+class → state
	// States are numbered so that every state with an output is >= final
	// (both stored as row offsets): the hot loop tests one integer.
	final int32
	out   [][]int32 // state → keyword indexes (fail chain merged)
	// Per keyword: the patterns it stands for, or none for a hint word.
	kwPatterns [][]int
	kwHint     []bool
	// anchors finds the same occurrences faster in a whole chunk; nil
	// when some keyword has none (then next walks the automaton).
	anchors *anchorFilter
}

// hintWords make a line look like an error to a reader; lines with one and
// no known pattern are shown as "not recognised".
var hintWords = []string{
	"error", "fail", "cannot", "can not", "unable", "panic", "fatal", "invalid",
	"denied", "refused", "could not", "couldn't", "not enough", "no such",
	"abort", "mismatch", "timed out", "not allowed", "exiting",
}

func buildFilter(patterns []*cpattern) *acFilter {
	f := &acFilter{}
	kwIndex := map[string]int{}
	addKW := func(kw string, pat int) {
		kw = strings.ToLower(kw)
		k, ok := kwIndex[kw]
		if !ok {
			k = len(f.kwPatterns)
			kwIndex[kw] = k
			f.kwPatterns = append(f.kwPatterns, nil)
			f.kwHint = append(f.kwHint, false)
		}
		if pat < 0 {
			f.kwHint[k] = true
		} else {
			f.kwPatterns[k] = append(f.kwPatterns[k], pat)
		}
	}
	for i, p := range patterns {
		addKW(p.keyword, i)
	}
	for _, w := range hintWords {
		addKW(w, -1)
	}
	kws := make([]string, len(f.kwPatterns))
	for kw, k := range kwIndex {
		kws[k] = kw
	}
	f.anchors = buildAnchors(kws)

	// Byte classes: one per distinct (lower-cased) keyword byte, 0 for the rest.
	f.nclass = 1
	for _, kw := range kws {
		for i := 0; i < len(kw); i++ {
			c := kw[i]
			if f.class[c] == 0 {
				f.class[c] = uint8(f.nclass)
				if up := upper(c); up != c {
					f.class[up] = uint8(f.nclass)
				}
				f.nclass++
			}
		}
	}

	// Trie, straight into the transition table: delta[s*nc+cl] is the child
	// (0 for none: the root is no state's child). A map per state cost
	// more than the rest of the catalogue's loading.
	nc := f.nclass
	size := 1
	for _, kw := range kws {
		size += len(kw)
	}
	delta := make([]int32, size*nc)
	outs := make([][]int32, 1, size)
	for k, kw := range kws {
		s := 0
		for i := 0; i < len(kw); i++ {
			cl := int(f.class[kw[i]])
			n := int(delta[s*nc+cl])
			if n == 0 {
				n = len(outs)
				outs = append(outs, nil)
				delta[s*nc+cl] = int32(n)
			}
			s = n
		}
		outs[s] = append(outs[s], int32(k))
	}
	nstates := len(outs)
	delta = delta[:nstates*nc]

	// Breadth-first: fail links and the full transition table. A state's
	// children are numbered after it, so its goto row is read before the
	// missing transitions are filled in from its fail state.
	fail := make([]int32, nstates)
	queue := []int{}
	for cl := 0; cl < nc; cl++ {
		if n := delta[cl]; n != 0 {
			fail[n] = 0
			queue = append(queue, int(n))
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		outs[s] = append(outs[s], outs[fail[s]]...)
		for cl := 0; cl < nc; cl++ {
			if n := delta[s*nc+cl]; n != 0 {
				fail[n] = delta[int(fail[s])*nc+cl]
				queue = append(queue, int(n))
			} else {
				delta[s*nc+cl] = delta[int(fail[s])*nc+cl]
			}
		}
	}

	// Renumber: states without output first.
	perm := make([]int32, nstates)
	next := int32(0)
	for s := range nstates {
		if len(outs[s]) == 0 {
			perm[s] = next
			next++
		}
	}
	f.final = next
	for s := range nstates {
		if len(outs[s]) > 0 {
			perm[s] = next
			next++
		}
	}
	// Transitions hold the target's row offset (state×nclass), so the hot
	// loop adds a class instead of multiplying.
	f.delta = make([]int32, len(delta))
	f.out = make([][]int32, nstates)
	for s := range nstates {
		ps := int(perm[s])
		for cl := 0; cl < nc; cl++ {
			f.delta[ps*nc+cl] = perm[delta[s*nc+cl]] * int32(nc)
		}
		f.out[ps] = outs[s]
	}
	f.final *= int32(nc)
	return f
}

func upper(c byte) byte {
	if c >= 'a' && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}

// hit reports whether b contains any keyword or hint word.
func (f *acFilter) hit(b []byte) bool {
	s := int32(0)
	delta, final, class := f.delta, f.final, &f.class
	for _, c := range b {
		s = delta[s+int32(class[c])]
		if s >= final {
			return true
		}
	}
	return false
}

// collect appends the patterns whose keyword occurs in s to pats, each
// once, in pattern order; a hint word adds -1 first.
func (f *acFilter) collect(s string, pats []int) []int {
	st := int32(0)
	nc := int32(f.nclass)
	hint := false
	for i := 0; i < len(s); i++ {
		st = f.delta[st+int32(f.class[s[i]])]
		if st >= f.final {
			for _, k := range f.out[st/nc] {
				if f.kwHint[k] {
					hint = true
				}
				pats = append(pats, f.kwPatterns[k]...)
			}
		}
	}
	sort.Ints(pats)
	pats = slices.Compact(pats)
	if hint {
		pats = append([]int{-1}, pats...)
	}
	return pats
}

// find returns the index of a byte of the first keyword or hint word that
// starts at or after from in b, or -1.
func (f *acFilter) find(b []byte, from int) int {
	if f.anchors != nil {
		return f.anchors.next(b, from)
	}
	return f.next(b, from)
}

// next returns the index of the last byte of the first keyword or hint
// word that ends at or after from in b, or -1. Keywords hold no newline, so
// b may span many lines.
func (f *acFilter) next(b []byte, from int) int {
	s := int32(0)
	delta, final, class := f.delta, f.final, &f.class
	for i := from; i < len(b); i++ {
		s = delta[s+int32(class[b[i]])]
		if s >= final {
			return i
		}
	}
	return -1
}
