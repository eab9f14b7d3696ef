package runbooks

import (
	"bytes"
	"context"
	"io"
	"runtime"
)

// chunkSize is what one worker scans at a time; the reader keeps at most
// 2×workers+2 chunks in flight, so memory stays bounded on any input.
const chunkSize = 4 << 20

type job struct {
	buf  []byte // whole lines only; the last may lack its newline at EOF
	cut  int64  // lines cut to maxLineBytes inside buf
	out  chunkResult
	done chan struct{}
}

type chunkResult struct {
	lines int64
	items []chunkItem
}

type chunkItem struct {
	line int64 // 0-based line index within the chunk
	res  []lineResult
}

// ReadFrom feeds every line of r to the matcher under the current source.
// Chunks are scanned in parallel (the scan is stateless) and applied in
// order (the conditions are not). Lines longer than 64 KiB are cut to
// their first 64 KiB, progress lines (isProgress) to their last.
func (m *Matcher) ReadFrom(ctx context.Context, r io.Reader) error {
	return m.readFrom(ctx, r, m.c.filter.find)
}

// readFrom is ReadFrom with the pre-filter given: find returns the offset
// of the next candidate at or after from (-1: none). The tests pass others
// (every line, the bare automaton) and compare the reports.
func (m *Matcher) readFrom(ctx context.Context, r io.Reader, find func(b []byte, from int) int) error {
	workers := max(1, runtime.GOMAXPROCS(0))
	work := make(chan *job, workers)
	order := make(chan *job, 2*workers)
	free := make(chan []byte, 2*workers+2)
	// Item lists are recycled too: a healthy log's start-up lines make
	// thousands per chunk, and a fresh list would be allocated, cleared
	// and scanned by the GC for every chunk.
	freeItems := make(chan []chunkItem, 2*workers+2)
	readErrc := make(chan error, 1)
	stop := make(chan struct{})
	defer close(stop)

	for range workers {
		go func() {
			cache := newLineCache()
			for j := range work {
				var items []chunkItem
				select {
				case items = <-freeItems:
				default:
				}
				j.out = m.c.scanChunk(j.buf, find, cache, items)
				close(j.done)
			}
		}()
	}
	go func() {
		defer close(order)
		defer close(work)
		readErrc <- chunks(ctx, r, free, stop, func(j *job) bool {
			select {
			case order <- j:
			case <-stop:
				return false
			}
			select {
			case work <- j:
				return true
			case <-stop:
				return false
			}
		})
	}()
	for j := range order {
		<-j.done
		m.applyChunk(j)
		select {
		case free <- j.buf[:0]:
		default:
		}
		select {
		case freeItems <- j.out.items[:0]:
		default:
		}
	}
	return <-readErrc
}

// chunks cuts r into jobs of whole lines.
func chunks(ctx context.Context, r io.Reader, free chan []byte, stop chan struct{}, emit func(*job) bool) error {
	var carry []byte
	skipping := false // inside the dropped tail of a cut line
	var tail []byte   // a cut progress line keeps its end instead (see isProgress)
	keepTail := false
	var tailCut int64
	eof := false
	for !eof {
		if err := ctx.Err(); err != nil {
			return err
		}
		var buf []byte
		select {
		case buf = <-free:
		default:
		}
		// A job's buffer may come back shorter than it left: a cut line's
		// skipped head or a progress line's kept tail re-slice it.
		if cap(buf) < chunkSize+maxLineBytes {
			buf = make([]byte, 0, chunkSize+maxLineBytes)
		}
		buf = append(buf, carry...)
		carry = carry[:0]
		n, err := io.ReadFull(r, buf[len(buf):chunkSize])
		buf = buf[:len(buf)+n]
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			eof = true
		} else if err != nil {
			return readErr(err)
		}
		j := &job{done: make(chan struct{})}
		if skipping {
			nl := bytes.IndexByte(buf, '\n')
			if keepTail {
				end := len(buf)
				if nl >= 0 {
					end = nl
				}
				tail = lastBytes(append(tail, buf[:end]...), maxLineBytes)
				if nl < 0 && !eof {
					continue
				}
				line := append(append([]byte(nil), tail...), '\n')
				if nl >= 0 {
					buf = append(line, buf[nl+1:]...)
				} else {
					buf = line
				}
				tail, keepTail = tail[:0], false
				j.cut, tailCut = tailCut, 0
			} else {
				if nl < 0 {
					if eof {
						break
					}
					continue // still inside the long line
				}
				buf = buf[nl+1:]
			}
			skipping = false
		}
		end := len(buf)
		if !eof {
			nl := bytes.LastIndexByte(buf, '\n')
			if nl < 0 {
				// One line fills the chunk: keep its head, skip the rest
				// (or, for a progress line, keep only its end).
				skipping = true
				if isProgress(buf[:maxLineBytes]) {
					keepTail = true
					tail = append(tail[:0], lastBytes(buf, maxLineBytes)...)
					tailCut++ // counted with the job that carries the line
					continue
				}
				j.cut++
				buf = append(buf[:maxLineBytes], '\n')
				end = len(buf)
			} else {
				end = nl + 1
				carry = append(carry, buf[end:]...)
			}
		}
		j.buf = cutLongLines(buf[:end], j)
		if len(j.buf) == 0 {
			continue
		}
		if !emit(j) {
			return nil
		}
	}
	return nil
}

// cutLongLines shortens lines over maxLineBytes inside a chunk (rare: it
// only copies when there is one).
func cutLongLines(buf []byte, j *job) []byte {
	if noLongLine(buf) {
		return buf
	}
	return cutEachLine(buf, j)
}

func cutEachLine(buf []byte, j *job) []byte {
	out := buf[:0:0]
	start := 0
	copied := false
	for start < len(buf) {
		nl := bytes.IndexByte(buf[start:], '\n')
		end := len(buf)
		if nl >= 0 {
			end = start + nl + 1
		}
		if end-start > maxLineBytes+1 {
			if !copied {
				out = append(out, buf[:start]...)
				copied = true
			}
			out = append(out, cutLine(buf[start:end])...)
			out = append(out, '\n')
			j.cut++
		} else if copied {
			out = append(out, buf[start:end]...)
		}
		start = end
	}
	if !copied {
		return buf
	}
	return out
}

// scanChunk finds the lines of buf that hold a keyword (or an escape that
// may hide one) and analyses them; the others cost one pass of the filter
// find (readFrom's). items, when not nil, is an emptied list to reuse.
func (c *Catalogue) scanChunk(buf []byte, find func(b []byte, from int) int, cache *lineCache, items []chunkItem) chunkResult {
	out := chunkResult{items: items}
	// Each of the three searches is remembered until the scan passes what
	// it found: re-running one from every line an ESC or a backslash picked
	// made a coloured or JSON log quadratic in its chunk. A remembered
	// keyword stays the next one: pos is always a line's start, and no
	// keyword holds a newline, so none can begin before pos and end after.
	nextKw, nextEsc, nextBs := -2, -2, -2
	pos := 0
	var line int64
	for pos < len(buf) {
		if nextKw != -1 && nextKw < pos {
			nextKw = find(buf, pos)
		}
		if nextEsc != -1 && nextEsc < pos {
			nextEsc = indexFrom(buf, pos, 0x1b)
		}
		if nextBs != -1 && nextBs < pos {
			nextBs = indexFrom(buf, pos, '\\')
		}
		cand := nextKw
		for _, x := range []int{nextEsc, nextBs} {
			if x >= 0 && (cand < 0 || x < cand) {
				cand = x
			}
		}
		if cand < 0 {
			break
		}
		ls := pos + bytes.LastIndexByte(buf[pos:cand], '\n') + 1
		le := len(buf)
		if nl := bytes.IndexByte(buf[cand:], '\n'); nl >= 0 {
			le = cand + nl
		}
		line += int64(bytes.Count(buf[pos:ls], []byte{'\n'}))
		if res := cache.analyze(c, buf[ls:le]); res != nil {
			out.items = append(out.items, chunkItem{line: line, res: res})
		}
		line++
		pos = le + 1
	}
	// The lines after the last candidate; the newlines before it are
	// counted already (one pass over the chunk, not two).
	if pos < len(buf) {
		line += int64(bytes.Count(buf[pos:], []byte{'\n'}))
		if buf[len(buf)-1] != '\n' {
			line++
		}
	}
	out.lines = line
	return out
}

// noLongLine reports that no line of buf is longer than maxLineBytes
// without looking for every newline: such a line would fill at least one
// whole aligned block of half that size, and every block has a newline.
func noLongLine(buf []byte) bool {
	const block = maxLineBytes / 2
	for p := 0; p+block <= len(buf); p += block {
		if bytes.IndexByte(buf[p:p+block], '\n') < 0 {
			return false
		}
	}
	return true
}

// cutLine shortens a line longer than maxLineBytes (without its newline)
// the way the reader does: its head, or a progress line's end.
func cutLine(line []byte) []byte {
	line = bytes.TrimRight(line, "\n")
	if isProgress(line[:min(len(line), maxLineBytes)]) {
		return lastBytes(line, maxLineBytes)
	}
	return line[:min(len(line), maxLineBytes)]
}

// lastBytes is the last n bytes of b (all of b when shorter).
func lastBytes(b []byte, n int) []byte {
	return b[max(0, len(b)-n):]
}

func indexFrom(b []byte, from int, c byte) int {
	if i := bytes.IndexByte(b[from:], c); i >= 0 {
		return from + i
	}
	return -1
}

// applyChunk records a scanned chunk in order.
func (m *Matcher) applyChunk(j *job) {
	base, gbase := m.line, m.gline
	for _, it := range j.out.items {
		m.line = base + it.line + 1
		m.gline = gbase + it.line + 1
		m.apply(it.res)
	}
	m.line = base + j.out.lines
	m.gline = gbase + j.out.lines
	m.lines += j.out.lines
	m.cut += j.cut
}

// lineCache remembers the analysis of recent candidate lines. Big logs are
// mostly repeats (a flood of one message, the same start-up lines per
// restart), and a repeated line then costs one map lookup instead of
// normalisation and regexes. Bounded: it is emptied when full.
type lineCache struct {
	m    map[string][]lineResult
	msgs map[string]lineResult // by normalised message, for lines that differ only in wrappers
}

const lineCacheSize = 4096

func newLineCache() *lineCache {
	return &lineCache{m: make(map[string][]lineResult, lineCacheSize), msgs: make(map[string]lineResult, lineCacheSize)}
}

func (lc *lineCache) analyze(c *Catalogue, b []byte) []lineResult {
	if res, ok := lc.m[string(b)]; ok {
		return res
	}
	res := c.analyze(b, lc.msgs)
	if len(b) <= 1024 {
		if len(lc.m) >= lineCacheSize {
			clear(lc.m)
		}
		lc.m[string(b)] = res
	}
	return res
}
