package runbooks

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
)

// LintResult is what `gzdoctor runbooks lint` reports.
type LintResult struct {
	Entries  int      `json:"entries"`
	Samples  int      `json:"samples"`
	Problems []string `json:"problems"`
}

// Lint runs every sample through the whole catalogue and checks, for the
// entries named in scope (all entries when scope is nil): the expected
// cause comes first, nothing outside expected+also is found, healthy
// samples give nothing, and every entry in scope is found in at least one
// sample that names it.
func Lint(ctx context.Context, c *Catalogue, scope []string, samples []*Sample) (*LintResult, error) {
	if scope == nil {
		for _, e := range c.Entries {
			scope = append(scope, e.ID)
		}
	}
	res := &LintResult{Samples: len(samples), Problems: []string{}}
	covered := map[string]bool{}
	for _, s := range samples {
		for _, id := range append([]string{s.Expected}, s.Also...) {
			if id != "none" && c.Entry(id) == nil {
				res.Problems = append(res.Problems, fmt.Sprintf("%s: names unknown cause %q", s.Path, id))
			}
		}
		r, err := c.Diagnose(ctx, bytes.NewReader(s.Body))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.Path, err)
		}
		var got []string
		for _, f := range r.Findings {
			got = append(got, f.ID)
		}
		allowed := append([]string{s.Expected}, s.Also...)
		switch {
		case s.Expected == "none" && len(got) > 0:
			res.Problems = append(res.Problems, fmt.Sprintf("%s: healthy log, but found %s", s.Path, strings.Join(got, ", ")))
			continue
		case s.Expected != "none" && (len(got) == 0 || got[0] != s.Expected):
			res.Problems = append(res.Problems, fmt.Sprintf("%s: want %s first, found [%s]", s.Path, s.Expected, strings.Join(got, ", ")))
		}
		for _, id := range got {
			if !slices.Contains(allowed, id) {
				if slices.Contains(scope, id) {
					res.Problems = append(res.Problems, fmt.Sprintf("%s: false cause %s (the sample names %s)", s.Path, id, strings.Join(allowed, ", ")))
				}
				continue
			}
			covered[id] = true
		}
	}
	for _, id := range scope {
		e := c.Entry(id)
		if e == nil || e.Benign {
			continue
		}
		res.Entries++
		if !covered[id] {
			res.Problems = append(res.Problems, fmt.Sprintf("%s: %s: no sample log names it and makes it match", e.File, id))
		}
	}
	return res, nil
}
