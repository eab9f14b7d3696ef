package doctor

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/gzdoctor/gzdoctor/ui"
)

// AllReport is check --all-prefixes: one report per running primary, the
// normal state of an ltran host (ltran and its lstack applications) or of
// several lstack applications.
type AllReport struct {
	// Prefixes are the running primaries' prefixes, in report order.
	// Empty when none runs: Reports then holds the one report of the
	// default target (which says that no primary runs).
	Prefixes []string      `json:"prefixes"`
	Reports  []Report      `json:"reports"`
	Machine  *Machine      `json:"machine"`
	Summary  AllSummary    `json:"summary"`
	Duration time.Duration `json:"-"`
	Millis   float64       `json:"duration_ms"`
}

// AllSummary is the run over all prefixes in one line.
type AllSummary struct {
	Reports int `json:"reports"`
	// Verdicts counts the reports per summary verdict (ok, warn, fail,
	// error, subset, none).
	Verdicts map[string]int `json:"verdicts"`
	// Verdict is the worst of the reports' verdicts: fail, error, subset,
	// warn, ok, none.
	Verdict string `json:"verdict"`
}

// verdictRank orders verdicts from worst to best.
var verdictRank = map[string]int{VerdictFail: 0, VerdictError: 1, VerdictSubset: 2, VerdictWarn: 3, VerdictOK: 4, VerdictNone: 5}

// RunAll runs the checks once per running primary, one after the other, each as
// `check --prefix <its prefix>` would (cfg.Prefix must be empty), and the
// machine's facts once. With no primary running it runs once on the target
// the flags resolve (DPDK's default prefix, or the config's), whose checks
// then say that nothing runs: a host that should run Gazelle and runs
// nothing is a finding, not an empty report.
func RunAll(ctx context.Context, cfg Config, opts Options) (AllReport, error) {
	if cfg.Prefix != "" {
		return AllReport{}, fmt.Errorf("--all-prefixes checks every running primary: it does not take --prefix")
	}
	if _, err := Select(listOf(opts), opts.Only, opts.Skip); err != nil {
		return AllReport{}, err
	}
	start := time.Now()
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	// The scan and the machine's facts get one --timeout of their own.
	runCtx, cancel := context.WithDeadline(ctx, start.Add(timeout))
	defer cancel()
	scan := NewEnv(cfg)
	scan.factTimeout, scan.runCtx, scan.runDeadline = timeout, runCtx, start.Add(timeout)
	rt, err := scan.Runtime(runCtx)
	if err != nil {
		return AllReport{}, &ScanError{Err: err}
	}
	all := AllReport{Prefixes: []string{}}
	seen := map[string]bool{}
	for _, p := range rt.Live() {
		if !seen[p.Name] {
			seen[p.Name] = true
			all.Prefixes = append(all.Prefixes, p.Name)
		}
	}
	targets := all.Prefixes
	if len(targets) == 0 {
		targets = []string{""}
	}
	machine := make(chan *Machine, 1)
	go func() { machine <- scan.machine(runCtx) }()

	// One prefix after the other, each with the whole --timeout: the
	// ELF analysis behind build-match is CPU-bound, and runs side by side
	// would share the CPU inside each one's limit (measured on the lab:
	// three at once timed out build-match where one alone did not).
	for _, name := range targets {
		c := cfg
		c.Prefix, c.allPrefixes = name, name != ""
		o := opts
		o.Machine = false
		rep, err := Run(ctx, NewEnv(c), o)
		if err != nil {
			return AllReport{}, err
		}
		all.Reports = append(all.Reports, rep)
	}
	all.Machine = <-machine
	all.Summary = AllSummary{Reports: len(all.Reports), Verdicts: map[string]int{}, Verdict: VerdictNone}
	for _, r := range all.Reports {
		v := r.Summary.Verdict
		all.Summary.Verdicts[v]++
		if verdictRank[v] < verdictRank[all.Summary.Verdict] {
			all.Summary.Verdict = v
		}
	}
	all.Duration = time.Since(start)
	all.Millis = float64(all.Duration.Microseconds()) / 1000
	return all, nil
}

// ScanError is RunAll's failure to list the running primaries: gzdoctor
// could not do its job (exit 3), unlike a bad selection (a usage error).
type ScanError struct{ Err error }

func (e *ScanError) Error() string { return "listing the DPDK runtime dirs: " + e.Err.Error() }
func (e *ScanError) Unwrap() error { return e.Err }

func listOf(opts Options) []Check {
	if opts.Checks != nil {
		return opts.Checks
	}
	return Checks()
}

// Failed reports whether a report failed or could not run a check.
func (a AllReport) Failed() bool {
	for _, r := range a.Reports {
		if r.Failed() {
			return true
		}
	}
	return false
}

// FailsOn applies the --fail-on policy to every report.
func (a AllReport) FailsOn(policy string) bool {
	for _, r := range a.Reports {
		if r.FailsOn(policy) {
			return true
		}
	}
	return false
}

// RenderText prints each report under a line naming its primary, then one
// line for the whole host.
func (a AllReport) RenderText(w io.Writer, st ui.Style, verbose bool) error {
	for i, r := range a.Reports {
		if i > 0 {
			if _, err := io.WriteString(w, "\n"); err != nil {
				return err
			}
		}
		head := "no running primary"
		if r.Target.Prefix != "" && len(a.Prefixes) > 0 {
			head = "prefix " + r.Target.Prefix
			var what []string
			if r.Target.PrimaryPID > 0 {
				what = append(what, fmt.Sprintf("pid %d", r.Target.PrimaryPID))
			}
			if r.Target.PrimaryRole != "" {
				what = append(what, r.Target.PrimaryRole)
			}
			if len(what) > 0 {
				head += " (" + strings.Join(what, ", ") + ")"
			}
		}
		if _, err := fmt.Fprintf(w, "%s\n", st.Bold("== "+head+" ==")); err != nil {
			return err
		}
		if err := r.RenderText(w, st, verbose); err != nil {
			return err
		}
	}
	if len(a.Prefixes) == 0 {
		return nil
	}
	var parts []string
	for _, v := range []string{VerdictFail, VerdictError, VerdictSubset, VerdictWarn, VerdictOK, VerdictNone} {
		var names []string
		for _, r := range a.Reports {
			if r.Summary.Verdict == v {
				names = append(names, r.Target.Prefix)
			}
		}
		if len(names) > 0 {
			parts = append(parts, fmt.Sprintf("%s %s", verdictWords[v], strings.Join(names, ", ")))
		}
	}
	_, err := fmt.Fprintf(w, "\n%d running %s checked: %s\n", len(a.Reports), plural(len(a.Reports), "primary", "primaries"), strings.Join(parts, "; "))
	return err
}

// verdictWords name a report's verdict in the host's summary line.
var verdictWords = map[string]string{
	VerdictFail:   "capture will fail:",
	VerdictError:  "checks could not run:",
	VerdictSubset: "only some checks ran:",
	VerdictWarn:   "capture should work, see the warnings:",
	VerdictOK:     "capture should work:",
	VerdictNone:   "no check ran:",
}
