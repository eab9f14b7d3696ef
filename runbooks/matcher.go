package runbooks

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Bounds on what a Matcher keeps, whatever the size of the log.
const (
	maxHitsPerPattern   = 32
	maxUnrecognised     = 20
	maxBenign           = 10
	maxBenignCandidates = 64
)

// Line is one line of the input, numbered from 1 within its source.
type Line struct {
	Source string `json:"source,omitempty"`
	Number int64  `json:"line"`
	Text   string `json:"text"`
}

type hit struct {
	seq    int64
	line   Line
	values map[string]string
}

// patternHits keeps the first hits of a pattern and the position of its
// last one, so memory stays bounded on a log that repeats a failure.
type patternHits struct {
	hits    []hit
	count   int64
	lastSeq int64
}

// Matcher reads a log line by line and collects what the catalogue knows.
// Feed it lines (from a file, a pipe or a live backend) and ask for
// Findings at any time. A Matcher is not safe for concurrent use.
type Matcher struct {
	c       *Catalogue
	seq     int64 // logical lines across all sources
	source  string
	line    int64
	lines   int64
	sources []string

	hits         []patternHits
	scratch      []bool
	unrecognised []Line
	unrecCount   int64
	benign       []Line
	benignCount  int64
	cut          int64 // physical lines longer than maxLineBytes
}

// NewMatcher returns a matcher with nothing seen yet.
func (c *Catalogue) NewMatcher() *Matcher {
	return &Matcher{
		c:       c,
		hits:    make([]patternHits, len(c.patterns)),
		scratch: make([]bool, len(c.patterns)),
	}
}

// SetSource starts a new input (a file name, "stdin", a backend): line
// numbers restart at 1 and evidence names the source. Findings still
// combine all sources: a tool's log and its primary's log together tell
// more than either.
func (m *Matcher) SetSource(name string) {
	m.source = name
	m.line = 0
	m.sources = append(m.sources, name)
}

// Feed hands the matcher the next line of the current source (with or
// without its newline).
func (m *Matcher) Feed(line string) {
	m.feed([]byte(line))
}

// feed is Feed without a copy, for the reader's buffer.
func (m *Matcher) feed(b []byte) {
	m.line++
	m.lines++
	if len(b) > maxMatchBytes {
		b = b[:maxMatchBytes]
	}
	f := m.c.filter
	// Escape sequences and JSON escapes can hide a keyword from the raw
	// bytes; those lines always take the slow path.
	if !f.hit(b) && bytes.IndexByte(b, 0x1b) < 0 && bytes.IndexByte(b, '\\') < 0 {
		m.seq++
		return
	}
	m.slow(string(b))
}

func (m *Matcher) slow(raw string) {
	for _, lg := range normalize(raw) {
		m.seq++
		pats := m.scratch
		clear(pats)
		hint := m.c.filter.collect(lg.Msg, pats)
		matched, benign := false, false
		for pi, on := range pats {
			if !on {
				continue
			}
			p := m.c.patterns[pi]
			sub := p.re.FindStringSubmatch(lg.Msg)
			if sub == nil {
				continue
			}
			if e := m.c.nodes[p.node].entry; e != nil && e.Benign {
				// Benign patterns may only look back: the line is
				// classified now, with what came before it.
				if m.holds(p.requires, p.unless, hit{seq: m.seq}) {
					benign = true
				}
				continue
			}
			matched = true
			m.record(pi, p, sub, lg.Text)
		}
		ln := Line{Source: m.source, Number: m.line, Text: clip(strings.TrimSpace(lg.Text))}
		switch {
		case benign:
			// Whether a finding claims the line is known only at the end.
			m.benignCount++
			if len(m.benign) < maxBenignCandidates {
				m.benign = append(m.benign, ln)
			}
		case hint && !matched:
			m.unrecCount++
			if len(m.unrecognised) < maxUnrecognised {
				m.unrecognised = append(m.unrecognised, ln)
			}
		}
	}
}

func (m *Matcher) record(pi int, p *cpattern, sub []string, text string) {
	ph := &m.hits[pi]
	ph.count++
	ph.lastSeq = m.seq
	if len(ph.hits) >= maxHitsPerPattern {
		return
	}
	var vals map[string]string
	for gi, name := range p.re.SubexpNames() {
		if name == "" || sub[gi] == "" {
			continue
		}
		if vals == nil {
			vals = map[string]string{}
		}
		vals[name] = sub[gi]
	}
	ph.hits = append(ph.hits, hit{
		seq:    m.seq,
		line:   Line{Source: m.source, Number: m.line, Text: clip(strings.TrimSpace(text))},
		values: vals,
	})
}

// Diagnose reads a whole log from r and returns the report. It streams:
// memory stays bounded whatever the size of the input.
func (c *Catalogue) Diagnose(ctx context.Context, r io.Reader) (*Report, error) {
	m := c.NewMatcher()
	m.SetSource("")
	if err := m.ReadFrom(ctx, r); err != nil {
		return nil, err
	}
	return m.Report(), nil
}

// ReadFrom feeds every line of r to the matcher under the current source.
// Lines longer than 64 KiB are cut; the rest of such a line is skipped.
func (m *Matcher) ReadFrom(ctx context.Context, r io.Reader) error {
	br := bufio.NewReaderSize(r, 1<<20)
	var long []byte
	inLong := false
	for n := 0; ; n++ {
		if n&0xffff == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		b, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// A line longer than the buffer: keep its head, drop the rest.
			if !inLong {
				long = append(long[:0], b[:min(len(b), maxLineBytes)]...)
				inLong = true
				m.cut++
			}
			continue
		}
		if inLong {
			m.feed(long)
			inLong = false
		} else if len(b) > 0 {
			m.feed(bytes.TrimRight(b, "\n"))
		}
		if err != nil {
			return readErr(err)
		}
	}
}

func readErr(err error) error {
	if errors.Is(err, io.EOF) {
		return nil
	}
	return fmt.Errorf("reading log: %w", err)
}
