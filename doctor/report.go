package doctor

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/gzdoctor/gzdoctor/ui"
)

// Report is the result of a run: what was examined and each check's result
// in list order.
type Report struct {
	Target  Target   `json:"target"`
	Results []Result `json:"results"`
	Summary Summary  `json:"summary"`
	// Machine is what the fleet watches besides the checks (stale
	// prefixes, hugepage pools); nil unless Options.Machine asked for it,
	// and in the reports of a run over all prefixes, which carry it once.
	Machine *Machine `json:"machine,omitempty"`
	// Duration is how long the run took (duration_ms on the wire).
	Duration time.Duration `json:"-"`
	Millis   float64       `json:"duration_ms"`
}

// Summary counts results per status and says what they mean for a capture.
type Summary struct {
	Total int `json:"total"`
	OK    int `json:"ok"`
	Warn  int `json:"warn"`
	Fail  int `json:"fail"`
	Skip  int `json:"skip"`
	Error int `json:"error"`
	// Complete: every check a capture needs ran (none left out by --only
	// or --skip). Only a complete run can vouch for a capture.
	Complete bool `json:"complete"`
	// Verdict is the summary line's meaning: VerdictFail, VerdictError,
	// VerdictSubset, VerdictWarn, VerdictOK, or VerdictNone.
	Verdict string `json:"verdict"`
}

// Verdicts of a run, for a capture.
const (
	VerdictFail   = "fail"   // a check failed: a capture will fail
	VerdictError  = "error"  // some checks could not run: nothing is vouched for
	VerdictSubset = "subset" // nothing failed, but only some checks ran: no verdict on a capture
	VerdictWarn   = "warn"   // every check ran; a capture should work, see the warnings
	VerdictOK     = "ok"     // every check ran; a capture should work
	VerdictNone   = "none"   // no check ran
)

func summarize(rs []Result, complete bool) Summary {
	s := Summary{Total: len(rs), Complete: complete}
	for _, r := range rs {
		switch r.Status {
		case OK:
			s.OK++
		case Warn:
			s.Warn++
		case Fail:
			s.Fail++
		case Skip:
			s.Skip++
		default:
			s.Error++
		}
	}
	switch {
	case s.Total == 0:
		s.Verdict = VerdictNone
	case s.Fail > 0:
		s.Verdict = VerdictFail
	case s.Error > 0:
		s.Verdict = VerdictError
	case !complete:
		s.Verdict = VerdictSubset
	case s.Warn > 0:
		s.Verdict = VerdictWarn
	default:
		s.Verdict = VerdictOK
	}
	return s
}

// Failed reports whether a check failed or could not run: either way the
// capture cannot be declared safe (exit 1).
func (r Report) Failed() bool { return r.Summary.Fail > 0 || r.Summary.Error > 0 }

// Result returns the result of check id, if it ran.
func (r Report) Result(id string) (Result, bool) {
	for _, res := range r.Results {
		if res.ID == id {
			return res, true
		}
	}
	return Result{}, false
}

// RenderText prints one line per check (symbol, ID, finding), the fix under
// every failure and warning, details with verbose, and a summary line.
func (r Report) RenderText(w io.Writer, st ui.Style, verbose bool) error {
	width := 0
	for _, res := range r.Results {
		width = max(width, len(res.ID))
	}
	var b strings.Builder
	for _, res := range r.Results {
		id := fmt.Sprintf("%-*s", width, res.ID)
		if res.Status == Fail || res.Status == Error {
			id = st.Bold(id)
		}
		finding := res.Finding
		if res.Status == Error {
			finding = "could not check: " + finding
		}
		fmt.Fprintf(&b, "%s %s  %s\n", st.Symbol(string(res.Status)), id, finding)
		indent := strings.Repeat(" ", width+4)
		if verbose {
			for _, d := range res.Details {
				fmt.Fprintf(&b, "%s%s\n", indent, st.Dim(d))
			}
		}
		if res.Fix != nil && (res.Status == Fail || res.Status == Warn) {
			lines := strings.Split(res.Fix.Text, "\n")
			fmt.Fprintf(&b, "%s%s %s\n", indent, st.Cyan("fix:"), lines[0])
			for _, l := range lines[1:] {
				fmt.Fprintf(&b, "%s     %s\n", indent, l)
			}
			for _, c := range res.Fix.Commands {
				fmt.Fprintf(&b, "%s  %s\n", indent, st.Bold(c))
			}
		}
	}
	b.WriteString(r.summaryLine(st))
	_, err := io.WriteString(w, b.String())
	return err
}

func (r Report) summaryLine(st ui.Style) string {
	s := r.Summary
	var parts []string
	add := func(n int, one, many string, paint func(string) string) {
		if n == 0 {
			return
		}
		word := many
		if n == 1 {
			word = one
		}
		parts = append(parts, paint(fmt.Sprintf("%d %s", n, word)))
	}
	plain := func(s string) string { return s }
	add(s.Fail, "failed", "failed", st.Red)
	add(s.Error, "error", "errors", st.Red)
	add(s.Warn, "warning", "warnings", st.Yellow)
	add(s.OK, "passed", "passed", st.Green)
	add(s.Skip, "skipped", "skipped", plain)
	if len(parts) == 0 {
		return "\nno checks ran\n"
	}
	verdict := "capture should work"
	switch s.Verdict {
	case VerdictFail:
		verdict = "a capture will fail until the fixes above are applied"
	case VerdictError:
		verdict = "some checks could not run"
	case VerdictSubset:
		verdict = "only the checks above ran (--only/--skip), and that is no verdict on a capture: run gzdoctor check without --only/--skip for one"
	case VerdictWarn:
		verdict = "capture should work; see the warnings"
	}
	return fmt.Sprintf("\n%s: %s\n", strings.Join(parts, ", "), verdict)
}
