package elfcheck

import "context"

// Request is one elfcheck run in its default mode: the files or the
// process analysed, the requirements checked on each, and what the one
// primary is compared with.
type Request struct {
	Files    []string      // machine paths (under Options.Root)
	PID      int           // a running process, analysed before Files
	Require  []Requirement // checked on every report
	Match    string        // a capture tool compared with the one primary
	LinkLine *LinkLine     // a gcc/ld command line, checked against the one report if there is one
	Flat     bool          // render a flat list instead of the tree
	Options  Options
}

// Run analyses what req names and returns what `gzdoctor elfcheck`
// prints. Match wants exactly one report (a FILE or PID): the caller
// refuses other command lines.
func Run(ctx context.Context, req Request) (*Result, error) {
	res := &Result{Flat: req.Flat, Reports: []*Report{}}
	if req.PID != 0 {
		rep, err := AnalyzePID(ctx, req.PID, req.Options)
		if err != nil {
			return nil, err
		}
		res.Reports = append(res.Reports, rep)
	}
	for _, f := range req.Files {
		rep, err := Analyze(ctx, f, req.Options)
		if err != nil {
			return nil, err
		}
		res.Reports = append(res.Reports, rep)
	}
	for _, rep := range res.Reports {
		res.Requirements = append(res.Requirements, rep.Check(req.Require)...)
	}
	if req.Match != "" && len(res.Reports) == 1 {
		other, err := Analyze(ctx, req.Match, req.Options)
		if err != nil {
			return nil, err
		}
		if req.PID != 0 {
			// Against a live primary, the tool's table measured as check's
			// build-match does (whose fix is this command); a file's stays
			// predicted.
			if err := MeasureOps(ctx, other, req.Options); err != nil {
				other.DPDK.OpsTableNote = "predicted, not measured: " + err.Error()
			}
		}
		res.Match = Compare(res.Reports[0], other)
	}
	if req.LinkLine != nil {
		var against *Report
		if len(res.Reports) == 1 {
			against = res.Reports[0]
		}
		res.LinkLine = CheckLinkLine(req.LinkLine, against)
	}
	return res, nil
}

// SuggestPdump analyses the primary's library or executable lib and
// returns the gazelle-pdump link command that matches it.
func SuggestPdump(ctx context.Context, lib string, opts Options) (*PdumpLink, error) {
	rep, err := Analyze(ctx, lib, opts)
	if err != nil {
		return nil, err
	}
	return SuggestPdumpLink(rep)
}
