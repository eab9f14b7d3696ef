package runbooks

import (
	"slices"
	"sort"
	"strings"
	"text/template"
)

// Finding is one cause the log shows.
type Finding struct {
	ID         string `json:"id"`
	Title      string `json:"title"`
	Severity   string `json:"severity"`
	Side       string `json:"side"`
	Confidence string `json:"confidence"` // high, medium, low
	Evidence   []Line `json:"evidence"`
	// MoreEvidence counts matching lines not listed in Evidence.
	MoreEvidence int64             `json:"more_evidence,omitempty"`
	Values       map[string]string `json:"values,omitempty"`
	Cause        string            `json:"cause"`
	Fix          []Step            `json:"fix"`
	Checks       []string          `json:"checks,omitempty"`
	// Confirm is the gzdoctor check command that confirms the finding,
	// aimed at the log's (or the operator's) prefix.
	Confirm      string       `json:"confirm,omitempty"`
	Alternatives []AltFinding `json:"alternatives,omitempty"`
	// SymptomOf names findings in this report that explain this one.
	SymptomOf  []string `json:"symptom_of,omitempty"`
	Explains   []string `json:"explains,omitempty"`
	References []string `json:"references,omitempty"`
	// Live is set by diagnose --live: what the checks on this machine said.
	Live *Verification `json:"live,omitempty"`
	// Promoted is set when live facts (Context.Ports) picked this cause
	// among the alternatives of the one the lines alone read as.
	Promoted *Promotion `json:"promoted,omitempty"`

	node     int
	firstSeq int64
	firstSrc string // the source of the first failing line
}

// AltFinding is another cause the same evidence could mean.
type AltFinding struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Tell  string `json:"tell"`
}

// Report is the result of a diagnosis.
type Report struct {
	Sources  []string  `json:"sources"`
	Lines    int64     `json:"lines"`
	Findings []Finding `json:"findings"`
	// Unrecognised lines look like errors but match nothing in the
	// catalogue (the first 20; UnrecognisedCount counts all).
	Unrecognised      []Line `json:"unrecognised"`
	UnrecognisedCount int64  `json:"unrecognised_count"`
	// Benign lines look alarming but are harmless (group I).
	Benign      []Line `json:"benign"`
	BenignCount int64  `json:"benign_count"`
	CutLines    int64  `json:"cut_lines,omitempty"`
}

// Report returns what the matcher knows so far.
func (m *Matcher) Report() *Report {
	r := &Report{
		Sources:           slices.Clone(m.sources),
		Lines:             m.lines,
		Findings:          m.Findings(),
		Unrecognised:      slices.Clone(m.unrecognised),
		UnrecognisedCount: m.unrecCount,
		BenignCount:       m.benignCount,
		CutLines:          m.cut,
	}
	// A harmless-looking line that a finding cites is not harmless here.
	cited := map[Line]bool{}
	for _, f := range r.Findings {
		for _, l := range f.Evidence {
			cited[l] = true
		}
	}
	for _, l := range m.benign {
		if cited[l] {
			r.BenignCount--
			continue
		}
		if len(r.Benign) < maxBenign {
			r.Benign = append(r.Benign, l)
		}
	}
	if r.Sources == nil {
		r.Sources = []string{}
	}
	if r.Findings == nil {
		r.Findings = []Finding{}
	}
	if r.Unrecognised == nil {
		r.Unrecognised = []Line{}
	}
	if r.Benign == nil {
		r.Benign = []Line{}
	}
	return r
}

// Findings evaluates the conditions on everything fed so far and returns
// the causes, each root before the findings it explains.
func (m *Matcher) Findings() []Finding {
	c := m.c
	facts := m.facts()
	m.ctx.addFacts(facts)
	var found []Finding
	for ni, n := range c.nodes {
		e := n.entry
		if e == nil || e.Benign {
			continue
		}
		var valid []hit
		var evidence []hit
		var more int64
		best := 0
		for _, pi := range n.patterns {
			p := c.patterns[pi]
			ph := &m.hits[pi]
			switch p.kind {
			case kindTrigger:
				for _, h := range ph.hits {
					if m.holds(p.requires, p.unless, h) {
						valid = append(valid, h)
						best = max(best, confidenceRank(p.src.Confidence))
					}
				}
				more += ph.count - int64(len(ph.hits))
			case kindEvidence:
				evidence = append(evidence, ph.hits...)
				more += ph.count - int64(len(ph.hits))
			}
		}
		if len(valid) == 0 {
			continue
		}
		sortHits(valid)
		first := valid[0]
		if !m.holds(m.conds(e.Requires), m.conds(e.Unless), first) {
			continue
		}
		// The failing lines' own values come first: an evidence line
		// (a probed device, say) is context and must not rename them.
		vals := extracted(e, valid, nil)
		vals = extracted(e, evidence, vals)
		for k, x := range e.Extract {
			if v, ok := facts[x.Fact]; ok && x.Fact != "" && vals[k] == "" {
				vals[k] = v
			}
		}
		all := dedupe(append(valid, evidence...))
		var f Finding
		if j, ae, avals, why := m.liveAlternative(e, vals); ae != nil {
			for k, x := range ae.Extract {
				if v, ok := facts[x.Fact]; ok && x.Fact != "" && avals[k] == "" {
					avals[k] = v
				}
			}
			f = m.finding(j, ae, all, avals, more, best, first)
			f.Promoted = &Promotion{From: e.ID, Why: why}
		} else {
			f = m.finding(ni, e, all, vals, more, best, first)
		}
		m.ctx.applyContext(&f, facts)
		found = append(found, f)
	}
	// A cause the live facts promoted that the log shows by its own lines
	// too is reported once, as the log shows it.
	byLines := map[string]bool{}
	for _, f := range found {
		if f.Promoted == nil {
			byLines[f.ID] = true
		}
	}
	found = slices.DeleteFunc(found, func(f Finding) bool { return f.Promoted != nil && byLines[f.ID] })
	return order(c, found)
}

func (m *Matcher) conds(cs []Condition) []ccond {
	out := make([]ccond, 0, len(cs))
	for _, c := range cs {
		cc, _ := m.c.resolve(c) // validated at load
		out = append(out, cc)
	}
	return out
}

// holds: every requires condition has a matching hit and no unless does.
func (m *Matcher) holds(requires, unless []ccond, h hit) bool {
	for _, c := range requires {
		if !m.satisfied(c, h) {
			return false
		}
	}
	for _, c := range unless {
		if m.satisfied(c, h) {
			return false
		}
	}
	return true
}

func (m *Matcher) satisfied(c ccond, h hit) bool {
	for _, ni := range c.any {
		for _, pi := range m.c.nodes[ni].patterns {
			if m.c.patterns[pi].kind == kindEvidence {
				continue
			}
			ph := &m.hits[pi]
			if ph.count == 0 {
				continue
			}
			// The last hit is kept apart from the stored ones, so "after"
			// still sees a failure repeated past the cap.
			if c.where == "after" && c.differs == "" && c.same == "" && c.within == 0 && ph.lastSeq > h.seq {
				return true
			}
			for _, o := range ph.hits {
				if c.where == "before" && o.seq >= h.seq || c.where == "after" && o.seq <= h.seq {
					continue
				}
				if c.within > 0 && absInt(o.seq>>4-h.seq>>4) > int64(c.within) {
					continue
				}
				if c.differs != "" {
					a, b := h.values[c.differs], o.values[c.differs]
					if a == "" || b == "" || a == b {
						continue
					}
				}
				if c.same != "" {
					a, b := h.values[c.same], o.values[c.same]
					if a == "" || !strings.EqualFold(a, b) {
						continue
					}
				}
				return true
			}
		}
	}
	return false
}

func absInt(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

func sortHits(h []hit) {
	sort.SliceStable(h, func(i, j int) bool { return h[i].seq < h[j].seq })
}

func dedupe(h []hit) []hit {
	sortHits(h)
	out := h[:0]
	for i, x := range h {
		if i > 0 && x.seq == out[len(out)-1].seq {
			for k, v := range x.values {
				if out[len(out)-1].values == nil {
					out[len(out)-1].values = map[string]string{}
				}
				if _, ok := out[len(out)-1].values[k]; !ok {
					out[len(out)-1].values[k] = v
				}
			}
			continue
		}
		out = append(out, x)
	}
	return out
}

const maxEvidenceLines = 12

// extracted adds to vals the values of hits (in line order) that vals
// does not hold yet.
func extracted(e *Entry, hits []hit, vals map[string]string) map[string]string {
	if vals == nil {
		vals = map[string]string{}
	}
	for _, h := range hits {
		for k, v := range h.values {
			if _, ok := vals[k]; !ok {
				vals[k] = normalizeValue(e.Extract[k].Normalize, v)
			}
		}
	}
	return vals
}

func (m *Matcher) finding(ni int, e *Entry, hits []hit, vals map[string]string, more int64, best int, first hit) Finding {
	var ev []Line
	for i, h := range hits {
		if i == maxEvidenceLines {
			more += int64(len(hits) - i)
			break
		}
		ev = append(ev, h.line)
	}
	f := Finding{
		ID: e.ID, Title: e.Title, Severity: e.Severity, Side: e.Side,
		Confidence: []string{"", "low", "medium", "high"}[best],
		Evidence:   ev, MoreEvidence: more,
		Cause:      fillCause(e, vals),
		Fix:        fillSteps(e, vals),
		Checks:     e.Checks,
		References: e.References,
		node:       ni,
		firstSeq:   first.seq,
		firstSrc:   first.line.Source,
	}
	if len(vals) > 0 {
		f.Values = vals
	}
	for _, a := range e.Alternatives {
		f.Alternatives = append(f.Alternatives, AltFinding{ID: a.ID, Title: m.c.Title(a.ID), Tell: strings.TrimSpace(a.Tell)})
	}
	return f
}

// facts returns the values the log carries as a whole (signals with
// facts: true), each only when the log names exactly one: two prefixes
// in one paste are two processes, and neither is "the" prefix.
func (m *Matcher) facts() map[string]string {
	seen := map[string]map[string]bool{}
	for pi, p := range m.c.patterns {
		s := m.c.nodes[p.node].signal
		if p.kind != kindSignal || s == nil || !s.Facts {
			continue
		}
		for _, h := range m.hits[pi].hits {
			for k, v := range h.values {
				v = normalizeValue(s.Extract[k].Normalize, v)
				if v == "" {
					continue
				}
				if seen[k] == nil {
					seen[k] = map[string]bool{}
				}
				seen[k][v] = true
			}
		}
	}
	out := map[string]string{}
	for k, vs := range seen {
		if len(vs) == 1 {
			for v := range vs {
				out[k] = v
			}
		}
	}
	return out
}

// fillSteps renders the fix with the extracted values; a value the log
// did not show becomes its default, its unknown text, or empty (then the
// templates only use it inside {{if}}, see checkTemplate).
func fillSteps(e *Entry, vals map[string]string) []Step {
	data := map[string]string{}
	trusted := map[string]bool{}
	for k, x := range e.Extract {
		for _, v := range []string{x.Default, x.Unknown} {
			if v != "" {
				trusted[v] = true
			}
		}
		switch {
		case vals[k] != "":
			data[k] = vals[k]
		case x.Default != "":
			data[k] = x.Default
		default:
			data[k] = x.Unknown
		}
	}
	steps := make([]Step, 0, len(e.Fix))
	for _, st := range e.Fix {
		steps = append(steps, Step{Text: fill(st.Text, data), Command: fillCommand(st.Command, data, trusted), When: st.When})
	}
	return steps
}

func fillCause(e *Entry, vals map[string]string) string {
	st := fillSteps(&Entry{Extract: e.Extract, Fix: []Step{{Text: e.Cause}}}, vals)
	return st[0].Text
}

func fill(text string, data map[string]string) string {
	if !strings.Contains(text, "{{") {
		return strings.TrimSpace(text)
	}
	t, err := template.New("").Option("missingkey=error").Parse(text)
	if err != nil {
		return text // validated at load; never reached
	}
	var sb strings.Builder
	if err := t.Execute(&sb, data); err != nil {
		return text
	}
	return strings.TrimSpace(sb.String())
}

// order puts roots first, each followed by the findings it explains.
//
// Within one source the failure printed first is the root: a log is a
// time line, and a later failure (the primary went away) does not explain
// an earlier one (it had stopped answering) unless the catalogue says so
// with explains/symptom_of. Lines of two sources (a tool's log and the
// primary's) carry no common clock, so sources are merged by start-up
// phase, then confidence, then position.
func order(c *Catalogue, found []Finding) []Finding {
	present := map[int]int{}
	for i, f := range found {
		present[f.node] = i
	}
	parents := map[int][]int{}
	for i, f := range found {
		for _, child := range c.nodes[f.node].explains {
			if j, ok := present[child]; ok && j != i {
				parents[j] = append(parents[j], i)
				found[i].Explains = append(found[i].Explains, found[j].ID)
				found[j].SymptomOf = append(found[j].SymptomOf, f.ID)
			}
		}
	}
	arrange := func(idx []int) []int { return arrange(c, found, idx) }
	var roots []int
	for i := range found {
		if len(parents[i]) == 0 {
			roots = append(roots, i)
		}
	}
	// A cycle of explanations has no root; its earliest member leads.
	if len(roots) == 0 && len(found) > 0 {
		roots = []int{0}
	}
	roots = arrange(roots)
	out := make([]Finding, 0, len(found))
	seen := map[int]bool{}
	var visit func(i int)
	visit = func(i int) {
		if seen[i] {
			return
		}
		seen[i] = true
		out = append(out, found[i])
		var kids []int
		for _, child := range c.nodes[found[i].node].explains {
			if j, ok := present[child]; ok {
				kids = append(kids, j)
			}
		}
		// A symptom that a sibling explains too is shown under that
		// sibling, after it, whatever its own position in the log.
		siblings := slices.Clone(kids)
		kids = slices.DeleteFunc(kids, func(k int) bool {
			return slices.ContainsFunc(parents[k], func(p int) bool { return p != i && slices.Contains(siblings, p) })
		})
		for _, k := range arrange(kids) {
			visit(k)
		}
	}
	for _, r := range roots {
		visit(r)
	}
	// Anything left is only reachable through a cycle.
	rest := []int{}
	for i := range found {
		if !seen[i] {
			rest = append(rest, i)
		}
	}
	for _, i := range arrange(rest) {
		visit(i)
	}
	return out
}

// arrange orders findings (indexes into found): each source's in the order
// their first failing line was printed, the sources merged by taking, at
// each step, the head that comes earliest in start-up order (then the more
// confident, then the earlier fed). Merging keeps each source's own time
// order whatever the phases say, and is a total order.
func arrange(c *Catalogue, found []Finding, idx []int) []int {
	var groups [][]int
	bySrc := map[string]int{}
	sorted := slices.Clone(idx)
	sort.SliceStable(sorted, func(a, b int) bool { return found[sorted[a]].firstSeq < found[sorted[b]].firstSeq })
	for _, i := range sorted {
		g, ok := bySrc[found[i].firstSrc]
		if !ok {
			g = len(groups)
			bySrc[found[i].firstSrc] = g
			groups = append(groups, nil)
		}
		groups[g] = append(groups[g], i)
	}
	before := func(a, b int) bool {
		fa, fb := found[a], found[b]
		pa, pb := phaseRank(c.nodes[fa.node].entry.Phase), phaseRank(c.nodes[fb.node].entry.Phase)
		if pa != pb {
			return pa < pb
		}
		ca, cb := confidenceRank(fa.Confidence), confidenceRank(fb.Confidence)
		if ca != cb {
			return ca > cb
		}
		return fa.firstSeq < fb.firstSeq
	}
	out := make([]int, 0, len(idx))
	for len(out) < len(idx) {
		best := -1
		for g := range groups {
			if len(groups[g]) > 0 && (best < 0 || before(groups[g][0], groups[best][0])) {
				best = g
			}
		}
		out = append(out, groups[best][0])
		groups[best] = groups[best][1:]
	}
	return out
}
