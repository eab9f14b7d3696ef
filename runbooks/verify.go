package runbooks

import (
	"fmt"
	"io"
	"strings"

	"github.com/gzdoctor/gzdoctor/ui"
)

// Verification is what the checks on this machine said about a finding
// (`gzdoctor diagnose --live`). The runbooks package knows only the shape;
// the command runs the checks.
type Verification struct {
	// Verdict: confirmed (a check failed the way the cause predicts),
	// not-confirmed (every check passed: the cause is gone or lies
	// elsewhere), inconclusive (checks skipped, errored or only warned).
	Verdict string         `json:"verdict"`
	Checks  []CheckOutcome `json:"checks"`
}

// CheckOutcome is one `gzdoctor check` result, as diagnose reports it.
type CheckOutcome struct {
	ID       string   `json:"id"`
	Covers   []string `json:"covers"`
	Status   string   `json:"status"` // ok, warn, fail, skip, error
	Finding  string   `json:"finding"`
	Details  []string `json:"details,omitempty"`
	Fix      string   `json:"fix,omitempty"`
	Commands []string `json:"commands,omitempty"`
}

// Verify sets the finding's verification from the outcomes of the checks
// that cover its CHK IDs.
func (f *Finding) Verify(outcomes []CheckOutcome) {
	v := &Verification{Verdict: "inconclusive", Checks: outcomes}
	allOK := len(outcomes) > 0
	for _, o := range outcomes {
		if o.Status == "fail" {
			v.Verdict = "confirmed"
			break
		}
		if o.Status != "ok" {
			allOK = false
		}
	}
	switch {
	case v.Verdict == "confirmed":
	case f.Promoted != nil:
		// The live facts that picked this cause are its confirmation;
		// checks that pass say only that the rest is fine.
		v.Verdict = "confirmed"
	case allOK:
		v.Verdict = "not-confirmed"
	}
	f.Live = v
}

func (v *Verification) render(w io.Writer, st ui.Style) {
	word := map[string]string{
		"confirmed":     st.Red("confirmed on this machine"),
		"not-confirmed": st.Green("not confirmed: the checks pass on this machine now"),
		"inconclusive":  st.Yellow("inconclusive: the checks could not tell"),
	}[v.Verdict]
	fmt.Fprintf(w, "  %s %s\n", st.Cyan("live:"), word)
	for _, o := range v.Checks {
		fmt.Fprintf(w, "    %s %-12s %s\n", st.Symbol(o.Status), o.ID, wrapIndent(o.Finding, 19))
		for _, d := range o.Details {
			fmt.Fprintf(w, "                   %s\n", st.Dim(d))
		}
		if o.Status == "fail" || o.Status == "warn" {
			if o.Fix != "" {
				fmt.Fprintf(w, "                   fix: %s\n", wrapIndent(o.Fix, 24))
			}
			for _, c := range o.Commands {
				fmt.Fprintf(w, "                   %s\n", st.Green("$ "+c))
			}
		}
	}
}

// coversText lists CHK IDs for humans.
func coversText(ids []string) string { return strings.Join(ids, ",") }

// Gate applies what the machine says to the finding's fix: a step that
// needs a fact (Step.When) is left out when known says the fact is false,
// and replaced by the reason, so a live runtime dir is never offered for
// removal. known returns the fact's value and the words that prove it;
// ok=false means the fact could not be read, and the step, which guards
// itself, stays.
func (f *Finding) Gate(known func(when string) (holds, ok bool, why string)) {
	var out []Step
	for _, st := range f.Fix {
		if st.When == "" {
			out = append(out, st)
			continue
		}
		holds, ok, why := known(st.When)
		switch {
		case !ok || holds:
			out = append(out, st)
		case why != "":
			out = append(out, Step{Text: why})
		}
	}
	f.Fix = out
}
