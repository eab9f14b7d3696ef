package runbooks

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// candidateLines lists the starts of the lines of buf that find reports,
// walked as scanChunk walks them (escapes and backslashes left out: they
// are found by bytes.IndexByte whatever the filter).
func candidateLines(buf []byte, find func([]byte, int) int) []int {
	var out []int
	for pos := 0; pos < len(buf); {
		cand := find(buf, pos)
		if cand < 0 {
			break
		}
		ls := pos + bytes.LastIndexByte(buf[pos:cand], '\n') + 1
		out = append(out, ls)
		nl := bytes.IndexByte(buf[cand:], '\n')
		if nl < 0 {
			break
		}
		pos = cand + nl + 1
	}
	return out
}

// everyLine is no pre-filter at all: every line goes to analyze.
func everyLine(b []byte, from int) int {
	if from < len(b) {
		return from
	}
	return -1
}

// prefilterInputs are texts where the anchors could go wrong: keywords in
// any case, at the start and the end of the buffer, across the 8-byte
// steps of the scan, cut short, glued to each other, in long lines.
func prefilterInputs(t testing.TB, c *Catalogue) [][]byte {
	t.Helper()
	kws := slices.Clone(hintWords)
	for _, p := range c.patterns {
		kws = append(kws, p.keyword)
	}
	r := rand.New(rand.NewPCG(17, 4))
	randCase := func(s string) string {
		b := []byte(s)
		for i, ch := range b {
			if r.IntN(2) == 0 {
				b[i] = upper(ch)
			} else if ch >= 'A' && ch <= 'Z' {
				b[i] = ch + 'a' - 'A'
			}
		}
		return string(b)
	}
	filler := []string{"EAL: ", "Detected CPU lcores: 2", " ", "\n", "x", "port", "huge", "\t", "\x1b[0m", "é", "\\n", "==", "0000:00:03.0"}
	var out [][]byte
	for _, kw := range kws {
		out = append(out, []byte(kw), []byte(randCase(kw)), []byte(kw[:len(kw)-1]), []byte(kw[1:]),
			[]byte("\n"+kw+"\n"), []byte(strings.Repeat("a", len(kw)%8)+randCase(kw)))
	}
	for n := range 3000 {
		var bs strings.Builder
		for bs.Len() < 10+n%300 {
			switch r.IntN(4) {
			case 0:
				kw := kws[r.IntN(len(kws))]
				if r.IntN(3) == 0 { // a near miss: one byte changed
					b := []byte(kw)
					b[r.IntN(len(b))] ^= byte(1 + r.IntN(0x7f))
					kw = string(b)
				}
				bs.WriteString(randCase(kw))
			case 1:
				for range r.IntN(12) {
					bs.WriteByte(byte(r.IntN(256)))
				}
			default:
				bs.WriteString(filler[r.IntN(len(filler))])
			}
		}
		out = append(out, []byte(bs.String()))
	}
	return out
}

// TestAnchorsFindWhatTheAutomatonFinds: the anchored scan picks the same
// lines as the Aho-Corasick automaton, on the corpus and on texts made to
// trip it.
func TestAnchorsFindWhatTheAutomatonFinds(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if c.filter.anchors == nil {
		t.Fatal("the catalogue has a keyword without an anchor: the reader walks the automaton")
	}
	inputs := prefilterInputs(t, c)
	for _, s := range loadCorpus(t) {
		inputs = append(inputs, s.Body)
	}
	found := 0
	for _, in := range inputs {
		want := candidateLines(in, c.filter.next)
		got := candidateLines(in, c.filter.anchors.next)
		if !slices.Equal(got, want) {
			t.Fatalf("%q:\nanchors find lines at %v\nautomaton at %v", in, got, want)
		}
		found += len(want)
	}
	if found < len(inputs) {
		t.Fatalf("only %d lines with a keyword in %d inputs: the inputs test nothing", found, len(inputs))
	}
}

// TestPrefilterKeepsFindings: the whole report (findings, their order,
// evidence, counts, benign and unrecognised lines) is the same with the
// anchored pre-filter, with the automaton, and with no pre-filter at all,
// on every corpus sample and on the corpus joined into one log.
func TestPrefilterKeepsFindings(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	var all []byte
	var inputs [][]byte
	for _, s := range loadCorpus(t) {
		inputs = append(inputs, s.Body)
		all = append(all, s.Body...)
	}
	inputs = append(inputs, all)
	inputs = append(inputs, prefilterInputs(t, c)[:400]...)
	for _, in := range inputs {
		comparePrefilters(t, c, in)
	}
}

func comparePrefilters(t *testing.T, c *Catalogue, in []byte) {
	t.Helper()
	report := func(find func([]byte, int) int) string {
		m := c.NewMatcher()
		m.SetSource("")
		if err := m.readFrom(context.Background(), bytes.NewReader(in), find); err != nil {
			t.Fatal(err)
		}
		r := m.Report()
		lines := int64(bytes.Count(in, []byte{'\n'}))
		if len(in) > 0 && in[len(in)-1] != '\n' {
			lines++
		}
		if r.Lines != lines {
			t.Fatalf("%.200q: %d lines counted, want %d", in, r.Lines, lines)
		}
		j, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		return string(j)
	}
	want := report(everyLine)
	for name, find := range map[string]func([]byte, int) int{"anchors": c.filter.find, "automaton": c.filter.next} {
		if got := report(find); got != want {
			t.Fatalf("%.200q: with the %s pre-filter\n%s\nwithout\n%s", in, name, got, want)
		}
	}
}

func FuzzPrefilter(f *testing.F) {
	for _, s := range []string{
		"EAL: Cannot open '/var/run/dpdk/rte/config' for rte_mem_config\n",
		"EAL: Detected CPU lcores: 2\nEAL: No free hugepages reported in hugepages-2048kB\n",
		"xxxxxxxFAIL\nerro\nrror\n",
		"\x1b[31mEAL: a\x1b[0m cannot\r\n",
		"{\"MESSAGE\":\"EAL: Cannot init EAL\\nPANIC in rte_eal_init\"}",
	} {
		f.Add([]byte(s))
	}
	c, err := Load()
	if err != nil {
		f.Fatal(err)
	}
	// One cache for all inputs: a line's analysis does not depend on the
	// pre-filter that picked it, and a fresh cache per scan would cost more
	// than the scan.
	cache := newLineCache()
	f.Fuzz(func(t *testing.T, in []byte) {
		if want, got := candidateLines(in, c.filter.next), candidateLines(in, c.filter.anchors.next); !slices.Equal(got, want) {
			t.Fatalf("anchors find lines at %v, automaton at %v", got, want)
		}
		// One chunk's scan, not a whole Diagnose: no 4 MiB buffers per
		// input, so the fuzzer runs thousands of inputs, not a few.
		scan := func(find func([]byte, int) int) chunkResult {
			return c.scanChunk(in, find, cache, nil)
		}
		want := scan(everyLine)
		for name, find := range map[string]func([]byte, int) int{"anchors": c.filter.find, "automaton": c.filter.next} {
			if got := scan(find); !reflect.DeepEqual(got, want) {
				t.Fatalf("with the %s pre-filter %+v, without %+v", name, got, want)
			}
		}
	})
}

func TestLower8(t *testing.T) {
	for c := range 256 {
		for pos := range 8 {
			w := uint64(0x7e5b40415a610a00) // ~ [ @ A Z a \n NUL around c
			w = w&^(0xff<<(8*pos)) | uint64(c)<<(8*pos)
			var want uint64
			for k := range 8 {
				b := byte(w >> (8 * k))
				if b >= 'A' && b <= 'Z' {
					b += 'a' - 'A'
				}
				want |= uint64(b) << (8 * k)
			}
			if got := lower8(w); got != want {
				t.Fatalf("lower8(%#x) = %#x, want %#x", w, got, want)
			}
		}
	}
}

// TestNoLongLine: the block test never lets a line over maxLineBytes
// through uncut, whatever its length and place in the chunk.
func TestNoLongLine(t *testing.T) {
	for _, n := range []int{maxLineBytes - 1, maxLineBytes, maxLineBytes + 1, maxLineBytes + 2, 2 * maxLineBytes} {
		for _, at := range []int{0, 1, 7, maxLineBytes/2 - 1, maxLineBytes / 2, maxLineBytes/2 + 1, 100000} {
			for _, nl := range []bool{true, false} {
				buf := append(bytes.Repeat([]byte("a\n"), at/2), bytes.Repeat([]byte("x"), n)...)
				if nl {
					buf = append(buf, '\n')
				}
				fast, slow := &job{}, &job{}
				got := cutLongLines(slices.Clone(buf), fast)
				want := cutEachLine(slices.Clone(buf), slow)
				if !bytes.Equal(got, want) || fast.cut != slow.cut {
					t.Errorf("line of %d at %d (newline %v): %d bytes, %d cut; want %d bytes, %d cut",
						n, at, nl, len(got), fast.cut, len(want), slow.cut)
				}
			}
		}
	}
}

// TestScanChunkLinear: the pre-filter reads each chunk about once whatever
// its lines hold. Lines picked for an ESC or a backslash (a coloured
// terminal capture, a JSON log) once made it re-read the rest of the chunk
// from every such line: 40,000 coloured lines took 28 s of CPU, now 0.2 s. The
// findings stay those of reading every line.
func TestScanChunkLinear(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	kw := c.patterns[0].keyword
	lines := map[string]func(i int) string{
		"escape":    func(i int) string { return fmt.Sprintf("line %d \x1b[31m red %d\x1b[0m", i, i) },
		"backslash": func(i int) string { return fmt.Sprintf(`{"msg":"line %d \"quoted\" C:\\path %d"}`, i, i) },
		"keyword":   func(i int) string { return fmt.Sprintf("line %d %s", i, kw) },
		"mixed": func(i int) string {
			switch i % 5 {
			case 0:
				return fmt.Sprintf("line %d \x1b[1m%s\x1b[0m", i, kw)
			case 1:
				return fmt.Sprintf(`line %d \ %s`, i, kw)
			case 2:
				return fmt.Sprintf("line %d plain", i)
			case 3:
				return fmt.Sprintf(`line %d \\ back`, i)
			}
			return fmt.Sprintf("line %d %s", i, kw)
		},
	}
	for name, line := range lines {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			for i := range 8000 {
				b.WriteString(line(i))
				b.WriteByte('\n')
			}
			buf := b.Bytes()
			read := 0
			counting := func(b []byte, from int) int {
				k := c.filter.find(b, from)
				if k < 0 {
					read += len(b) - from
				} else {
					read += k + 1 - from
				}
				return k
			}
			out := c.scanChunk(buf, counting, newLineCache(), nil)
			if out.lines != 8000 {
				t.Fatalf("%d lines counted, want 8000", out.lines)
			}
			if read > 2*len(buf) {
				t.Errorf("the pre-filter read %d bytes of a %d-byte chunk (%.0f times)", read, len(buf), float64(read)/float64(len(buf)))
			}
			comparePrefilters(t, c, buf[:min(len(buf), 16<<10)])
		})
	}
}
