package runbooks

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/gzdoctor/gzdoctor/ui"
)

// EntryList is the result of `gzdoctor runbooks list`.
type EntryList struct {
	Entries []*Entry `json:"entries"`
}

// List returns the entries sorted by reference (group, number), then ID.
func (c *Catalogue) List() EntryList {
	l := EntryList{Entries: append([]*Entry(nil), c.Entries...)}
	sort.SliceStable(l.Entries, func(i, j int) bool { return refLess(l.Entries[i], l.Entries[j]) })
	return l
}

func refLess(a, b *Entry) bool {
	ga, na := splitRef(a.Ref)
	gb, nb := splitRef(b.Ref)
	if ga != gb {
		return ga < gb
	}
	if na != nb {
		return na < nb
	}
	return a.ID < b.ID
}

// splitRef turns "A12" into ("A", 12); entries without a reference sort last.
func splitRef(ref string) (string, int) {
	if ref == "" {
		return "~", 0
	}
	n := 0
	fmt.Sscanf(ref[1:], "%d", &n)
	return ref[:1], n
}

func (l EntryList) RenderText(w io.Writer, st ui.Style, verbose bool) error {
	for _, e := range l.Entries {
		fmt.Fprintf(w, "%-4s %-40s %-13s %s\n", e.Ref, st.Bold(e.ID), e.Severity, e.Title)
		if verbose {
			for _, p := range e.Patterns {
				fmt.Fprintf(w, "       %s\n", st.Dim(p.Regex))
			}
		}
	}
	fmt.Fprintf(w, "\n%d entries. 'gzdoctor runbooks show ID' for one.\n", len(l.Entries))
	return nil
}

// PatternsERE returns every regex the matcher evaluates (entries, evidence,
// signals), deduplicated, as grep -E patterns: the benchmark's reference.
func (c *Catalogue) PatternsERE() []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range c.patterns {
		ere, err := ToERE(p.src.Regex)
		if err != nil || seen[ere] {
			continue // validated at load
		}
		seen[ere] = true
		out = append(out, ere)
	}
	return out
}

// EntryView is one entry as `runbooks show` prints it, with the titles of
// the entries it names.
type EntryView struct {
	*Entry
	Related map[string]string `json:"related_titles,omitempty"`
}

// View returns the entry with id for display, or nil.
func (c *Catalogue) View(id string) *EntryView {
	e := c.Entry(id)
	if e == nil {
		return nil
	}
	v := &EntryView{Entry: e, Related: map[string]string{}}
	ni := c.byID[id]
	for _, j := range c.nodes[ni].explains {
		v.Related[c.nodes[j].id] = c.Title(c.nodes[j].id)
	}
	for _, a := range e.Alternatives {
		v.Related[a.ID] = c.Title(a.ID)
	}
	return v
}

func (v *EntryView) RenderText(w io.Writer, st ui.Style, verbose bool) error {
	e := v.Entry
	fmt.Fprintf(w, "%s  %s\n", st.Bold(e.ID), e.Title)
	fmt.Fprintf(w, "  %s %s   %s %s   %s %s   %s %s\n", st.Cyan("ref:"), e.Ref, st.Cyan("severity:"), e.Severity, st.Cyan("side:"), e.Side, st.Cyan("versions:"), e.Versions)
	fmt.Fprintf(w, "  %s %s\n", st.Cyan("cause:"), wrapIndent(e.Cause, 9))
	fmt.Fprintf(w, "  %s\n", st.Cyan("patterns:"))
	for _, p := range e.Patterns {
		fmt.Fprintf(w, "    %s%s\n", p.Regex, patternNote(p))
	}
	if len(e.Evidence) > 0 {
		fmt.Fprintf(w, "  %s\n", st.Cyan("evidence (never alone):"))
		for _, p := range e.Evidence {
			fmt.Fprintf(w, "    %s\n", p.Regex)
		}
	}
	for _, c := range e.Requires {
		fmt.Fprintf(w, "  %s %s\n", st.Cyan("only together with:"), condWords(c))
	}
	for _, c := range e.Unless {
		fmt.Fprintf(w, "  %s %s\n", st.Cyan("not when:"), condWords(c))
	}
	if len(e.Fix) > 0 {
		fmt.Fprintf(w, "  %s\n", st.Cyan("fix:"))
		for i, s := range e.Fix {
			fmt.Fprintf(w, "    %d. %s\n", i+1, wrapIndent(s.Text, 7))
			if s.Command != "" {
				fmt.Fprintf(w, "       %s\n", st.Green("$ "+s.Command))
			}
		}
	}
	if len(e.Checks) > 0 {
		fmt.Fprintf(w, "  %s %s\n", st.Cyan("checks:"), strings.Join(e.Checks, " "))
	}
	if len(e.Explains) > 0 || len(e.SymptomOf) > 0 {
		fmt.Fprintf(w, "  %s %s\n", st.Cyan("explains:"), strings.Join(e.Explains, ", "))
		if len(e.SymptomOf) > 0 {
			fmt.Fprintf(w, "  %s %s\n", st.Cyan("symptom of:"), strings.Join(e.SymptomOf, ", "))
		}
	}
	for _, a := range e.Alternatives {
		fmt.Fprintf(w, "  %s %s (%s): %s\n", st.Cyan("or:"), a.ID, v.Related[a.ID], a.Tell)
	}
	for _, r := range e.References {
		fmt.Fprintf(w, "  %s %s\n", st.Cyan("ref:"), r)
	}
	fmt.Fprintf(w, "  %s %s\n", st.Cyan("file:"), e.File)
	return nil
}

func patternNote(p Pattern) string {
	var parts []string
	if p.Versions != "" {
		parts = append(parts, p.Versions)
	}
	if p.Confidence != "" && p.Confidence != "high" {
		parts = append(parts, p.Confidence+" confidence")
	}
	for _, c := range p.Requires {
		parts = append(parts, "only with "+condWords(c))
	}
	for _, c := range p.Unless {
		parts = append(parts, "not when "+condWords(c))
	}
	if len(parts) == 0 {
		return ""
	}
	return "   (" + strings.Join(parts, "; ") + ")"
}

func condWords(c Condition) string {
	s := strings.Join(c.Any, " or ")
	if c.Where != "" {
		s += " " + c.Where
	}
	if c.Within > 0 {
		s += fmt.Sprintf(" within %d lines", c.Within)
	}
	if c.Differs != "" {
		s += " with another " + c.Differs
	}
	if c.Same != "" {
		s += " with the same " + c.Same
	}
	return s
}

func (r *LintResult) RenderText(w io.Writer, st ui.Style, verbose bool) error {
	for _, p := range r.Problems {
		fmt.Fprintf(w, "%s %s\n", st.Symbol("fail"), p)
	}
	sym := st.Symbol("ok")
	if len(r.Problems) > 0 {
		sym = st.Symbol("fail")
	}
	fmt.Fprintf(w, "%s %d %s checked against %d sample %s: %d %s\n", sym, r.Entries, plural(int64(r.Entries), "entry", "entries"),
		r.Samples, plural(int64(r.Samples), "log", "logs"), len(r.Problems), plural(int64(len(r.Problems)), "problem", "problems"))
	return nil
}
