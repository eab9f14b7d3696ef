package elfcheck

import (
	"fmt"
	"io"

	"github.com/gzdoctor/gzdoctor/ui"
)

// Result is what one `gzdoctor elfcheck` run prints.
type Result struct {
	Reports      []*Report           `json:"reports"`
	Requirements []RequirementResult `json:"requirements,omitempty"`
	Match        *Match              `json:"match,omitempty"`
	LinkLine     *LinkCheck          `json:"link_line,omitempty"`
	Flat         bool                `json:"-"`
}

// Failed reports whether anything found calls for exit status 1.
func (r *Result) Failed() bool {
	for _, rep := range r.Reports {
		if len(rep.Problems) > 0 {
			return true
		}
	}
	for _, q := range r.Requirements {
		if !q.Met {
			return true
		}
	}
	return (r.Match != nil && !r.Match.Compatible) || (r.LinkLine != nil && !r.LinkLine.OK)
}

// RenderText prints each report (tree or flat list), then the verdicts.
func (r *Result) RenderText(w io.Writer, st ui.Style, verbose bool) error {
	for i, rep := range r.Reports {
		if i > 0 {
			fmt.Fprintln(w)
		}
		var err error
		if r.Flat {
			err = FlatList{rep}.RenderText(w, st, verbose)
		} else {
			err = rep.RenderText(w, st, verbose)
		}
		if err != nil {
			return err
		}
	}
	if len(r.Requirements) > 0 {
		if len(r.Reports) > 0 {
			fmt.Fprintln(w)
		}
		for _, q := range r.Requirements {
			status := "ok"
			if !q.Met {
				status = "fail"
			} else if !verbose {
				continue // CI logs: one line per unmet requirement
			}
			fmt.Fprintf(w, "%s %s: %s %s\n", st.Symbol(status), q.Requirement, q.Reason, st.Dim("("+q.File+")"))
		}
	}
	if r.Match != nil {
		if len(r.Reports) > 0 {
			fmt.Fprintln(w)
		}
		if err := r.Match.RenderText(w, st, verbose); err != nil {
			return err
		}
	}
	if r.LinkLine != nil {
		if len(r.Reports) > 0 || r.Match != nil {
			fmt.Fprintln(w)
		}
		return r.LinkLine.RenderText(w, st, verbose)
	}
	return nil
}
