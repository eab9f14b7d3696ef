package runbooks

import (
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
	gline   int64 // physical lines across all sources
	source  string
	line    int64
	lines   int64
	sources []string

	hits         []patternHits
	unrecognised []Line
	unrecCount   int64
	benign       []Line
	benignCount  int64
	cut          int64 // physical lines longer than maxLineBytes

	ctx Context
}

// NewMatcher returns a matcher with nothing seen yet.
func (c *Catalogue) NewMatcher() *Matcher {
	return &Matcher{c: c, hits: make([]patternHits, len(c.patterns))}
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
	m.line++
	m.gline++
	m.lines++
	b := []byte(line)
	if len(b) > maxLineBytes+1 || len(b) > maxLineBytes && b[len(b)-1] != '\n' {
		m.cut++ // cut and counted as ReadFrom does
		b = cutLine(b)
	}
	if res := m.c.analyze(b, nil); res != nil {
		m.apply(res)
	}
}

// lineResult is what one logical line holds for the catalogue. It is
// computed without the matcher's state, so workers compute it in parallel.
type lineResult struct {
	text    string
	hint    bool
	benign  []int // benign patterns that matched
	matches []match
}

type match struct {
	pi  int
	sub []string
}

// analyze returns the logical lines of a physical line that hold a known
// pattern, a benign one or a word that looks like an error; nil for the
// vast majority, which contain no keyword at all.
//
// msgs, when not nil, remembers the matches of recent messages: a big log
// repeats messages under changing timestamps.
func (c *Catalogue) analyze(b []byte, msgs map[string]lineResult) []lineResult {
	if len(b) > maxMatchBytes {
		if isProgress(b) {
			b = []byte(onScreen(string(bytes.TrimRight(b, "\r\n"))))
		}
		b = b[:min(len(b), maxMatchBytes)]
	}
	// Escape sequences and JSON escapes can hide a keyword from the raw
	// bytes; those lines always take the slow path.
	if !c.filter.hit(b) && bytes.IndexByte(b, 0x1b) < 0 && bytes.IndexByte(b, '\\') < 0 {
		return nil
	}
	var out []lineResult
	for _, lg := range normalize(string(b)) {
		lr, ok := msgs[lg.Msg]
		if !ok {
			lr = c.matchMessage(lg.Msg)
			if msgs != nil && len(lg.Msg) <= 1024 {
				if len(msgs) >= lineCacheSize {
					clear(msgs)
				}
				msgs[lg.Msg] = lr
			}
		}
		if lr.hint || lr.benign != nil || lr.matches != nil {
			lr.text = clip(strings.TrimSpace(lg.Text))
			out = append(out, lr)
		} else {
			out = append(out, lineResult{}) // keeps the logical index
		}
	}
	return out
}

// matchMessage tries the patterns whose keyword the message holds.
func (c *Catalogue) matchMessage(msg string) lineResult {
	pats := c.filter.collect(msg, nil)
	lr := lineResult{hint: len(pats) > 0 && pats[0] < 0}
	for _, pi := range pats {
		if pi < 0 {
			continue
		}
		p := c.patterns[pi]
		if !p.re.MatchString(msg) {
			continue
		}
		if e := c.nodes[p.node].entry; e != nil && e.Benign {
			lr.benign = append(lr.benign, pi)
			continue
		}
		var sub []string
		if p.re.NumSubexp() > 0 {
			sub = p.re.FindStringSubmatch(msg)
		}
		lr.matches = append(lr.matches, match{pi: pi, sub: sub})
	}
	return lr
}

// seqOf orders hits: physical line, then logical line within it.
func seqOf(gline int64, k int) int64 { return gline<<4 | int64(min(k, 15)) }

// apply records the analysis of the current line.
func (m *Matcher) apply(res []lineResult) {
	for k, lr := range res {
		seq := seqOf(m.gline, k)
		benign := false
		for _, pi := range lr.benign {
			p := m.c.patterns[pi]
			// Benign patterns may only look back: the line is classified
			// now, with what came before it.
			if m.holds(p.requires, p.unless, hit{seq: seq}) {
				benign = true
			}
		}
		for _, mt := range lr.matches {
			m.record(mt.pi, seq, mt.sub, lr.text)
		}
		switch {
		case benign:
			// Whether a finding claims the line is known only at the end.
			m.benignCount++
			if len(m.benign) < maxBenignCandidates {
				m.benign = append(m.benign, Line{Source: m.source, Number: m.line, Text: lr.text})
			}
		case lr.hint && len(lr.matches) == 0:
			m.unrecCount++
			if len(m.unrecognised) < maxUnrecognised {
				m.unrecognised = append(m.unrecognised, Line{Source: m.source, Number: m.line, Text: lr.text})
			}
		}
	}
}

func (m *Matcher) record(pi int, seq int64, sub []string, text string) {
	p := m.c.patterns[pi]
	ph := &m.hits[pi]
	ph.count++
	ph.lastSeq = seq
	if len(ph.hits) >= maxHitsPerPattern {
		return
	}
	var vals map[string]string
	for gi, name := range p.re.SubexpNames() {
		if name == "" || gi >= len(sub) || sub[gi] == "" {
			continue
		}
		if vals == nil {
			vals = map[string]string{}
		}
		vals[name] = sub[gi]
	}
	ph.hits = append(ph.hits, hit{
		seq:    seq,
		line:   Line{Source: m.source, Number: m.line, Text: text},
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

func readErr(err error) error {
	if errors.Is(err, io.EOF) {
		return nil
	}
	return fmt.Errorf("reading log: %w", err)
}
