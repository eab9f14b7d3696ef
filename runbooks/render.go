package runbooks

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/gzdoctor/gzdoctor/ui"
)

// RenderText prints the report for a terminal: each finding with its
// evidence, values and fix; symptoms briefly under their root; then what
// was not recognised and what is harmless.
func (r *Report) RenderText(w io.Writer, st ui.Style, verbose bool) error {
	multi := len(r.Sources) > 1
	if len(r.Findings) == 0 {
		fmt.Fprintf(w, "%s No known cause found in %d %s.\n", st.Symbol("ok"), r.Lines, plural(r.Lines, "line", "lines"))
		if len(r.Unrecognised) > 0 {
			fmt.Fprintf(w, "\nThese lines look like errors but match nothing in the catalogue (%d):\n", r.UnrecognisedCount)
			writeLines(w, st, r.Unrecognised, multi)
			if more := r.UnrecognisedCount - int64(len(r.Unrecognised)); more > 0 {
				fmt.Fprintf(w, "  %s\n", st.Dim(fmt.Sprintf("… and %d more", more)))
			}
			fmt.Fprintln(w, "\nIf one of them is the failure, a runbook entry for it is welcome: see 'gzdoctor runbooks lint'.")
		}
		writeBenign(w, st, r, multi)
		return nil
	}
	for i, f := range r.Findings {
		if i > 0 {
			fmt.Fprintln(w)
		}
		symptom := len(f.SymptomOf) > 0
		sym := st.Symbol("fail")
		if f.Severity == "warn" || f.Severity == "info" || symptom {
			sym = st.Symbol("warn")
		}
		fmt.Fprintf(w, "%s %s  %s %s\n", sym, st.Bold(f.ID), f.Title, st.Dim("("+f.Confidence+" confidence)"))
		if symptom {
			fmt.Fprintf(w, "  %s\n", st.Dim("symptom of "+strings.Join(f.SymptomOf, ", ")))
		}
		if f.Promoted != nil {
			fmt.Fprintf(w, "  %s\n", wrapIndent("the lines alone read as "+f.Promoted.From+"; on this machine "+f.Promoted.Why, 2))
		}
		writeLines(w, st, f.Evidence, multi)
		if f.MoreEvidence > 0 {
			fmt.Fprintf(w, "  %s\n", st.Dim(fmt.Sprintf("… and %d more matching %s", f.MoreEvidence, plural(f.MoreEvidence, "line", "lines"))))
		}
		if len(f.Values) > 0 {
			fmt.Fprintf(w, "  %s %s\n", st.Cyan("values:"), formatValues(f.Values))
		}
		if symptom && !verbose {
			continue
		}
		fmt.Fprintf(w, "  %s %s\n", st.Cyan("cause:"), wrapIndent(f.Cause, 9))
		fmt.Fprintf(w, "  %s\n", st.Cyan("fix:"))
		for k, s := range f.Fix {
			fmt.Fprintf(w, "    %d. %s\n", k+1, wrapIndent(s.Text, 7))
			if s.Command != "" {
				for _, c := range strings.Split(s.Command, "\n") {
					fmt.Fprintf(w, "       %s\n", st.Green("$ "+c))
				}
			}
		}
		if f.Live != nil {
			f.Live.render(w, st)
		} else if f.Confirm != "" {
			fmt.Fprintf(w, "  %s %s\n", st.Cyan("confirm:"), f.Confirm)
		}
		for _, a := range f.Alternatives {
			fmt.Fprintf(w, "  %s %s\n", st.Cyan("or:"), wrapIndent(a.ID+" ("+a.Title+"): "+a.Tell, 6))
		}
	}
	writeBenign(w, st, r, multi)
	return nil
}

func writeBenign(w io.Writer, st ui.Style, r *Report, multi bool) {
	if len(r.Benign) == 0 {
		return
	}
	fmt.Fprintf(w, "\nHarmless (these look alarming but are normal, %d):\n", r.BenignCount)
	writeLines(w, st, r.Benign, multi)
}

func writeLines(w io.Writer, st ui.Style, lines []Line, multi bool) {
	for _, l := range lines {
		pos := fmt.Sprintf("%5d", l.Number)
		if multi && l.Source != "" {
			pos = fmt.Sprintf("%s:%d", l.Source, l.Number)
		}
		fmt.Fprintf(w, "  %s  %s\n", st.Dim(pos), l.Text)
	}
}

func formatValues(v map[string]string) string {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+"="+v[k])
	}
	return strings.Join(parts, " ")
}

// textWidth is where prose is wrapped; commands and log lines never are.
const textWidth = 100

// wrapIndent wraps prose at textWidth and aligns continuation lines under
// the first, which starts after a label of indent columns.
func wrapIndent(s string, indent int) string {
	var b strings.Builder
	col := indent
	for i, word := range strings.Fields(s) {
		if i > 0 {
			if col+1+len(word) > textWidth {
				b.WriteString("\n" + strings.Repeat(" ", indent))
				col = indent
			} else {
				b.WriteByte(' ')
				col++
			}
		}
		b.WriteString(word)
		col += len(word)
	}
	return b.String()
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
