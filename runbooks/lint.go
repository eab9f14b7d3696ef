package runbooks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
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

// LintDir checks a contributor's directory of runbook files: the schema
// (together with the embedded catalogue, so IDs stay unique), that every
// pattern compiles, and the sample rules of Lint for the directory's
// entries, over the samples in dir/samples and in sampleDirs.
func LintDir(ctx context.Context, dir string, sampleDirs []string) (*LintResult, error) {
	res := &LintResult{Problems: []string{}}
	local, localSignals, err := LoadDir(dir)
	if err != nil {
		res.Problems = append(res.Problems, err.Error())
		return res, nil
	}
	if len(local) == 0 && len(localSignals) == 0 {
		res.Problems = append(res.Problems, fmt.Sprintf("%s: no *.yaml runbook files", dir))
		return res, nil
	}
	base, baseSignals, err := Embedded()
	if err != nil {
		return nil, err
	}
	// A directory that redefines every built-in entry is an edited copy
	// of the catalogue (runbooks/catalogue in a checkout): it replaces the
	// embedded one. Reusing only some built-in IDs stays an error: an ID
	// never changes meaning.
	if len(local) >= len(base) && !slices.ContainsFunc(base, func(e Entry) bool {
		return !slices.ContainsFunc(local, func(l Entry) bool { return l.ID == e.ID })
	}) {
		base, baseSignals = nil, nil
	}
	c, err := Compile(append(base, local...), append(baseSignals, localSignals...))
	var se *SchemaError
	if errors.As(err, &se) {
		res.Entries = len(local)
		res.Problems = append(res.Problems, se.Problems...)
		return res, nil
	} else if err != nil {
		return nil, err
	}
	var samples []*Sample
	own := filepath.Join(dir, "samples")
	if fi, err := os.Stat(own); err == nil && fi.IsDir() {
		sampleDirs = append([]string{own}, sampleDirs...)
	}
	var unlabelled []string
	for _, d := range sampleDirs {
		s, u, err := ReadSamples(d)
		if err != nil {
			return nil, err
		}
		samples = append(samples, s...)
		unlabelled = append(unlabelled, u...)
	}
	var scope []string
	for _, e := range local {
		scope = append(scope, e.ID)
	}
	if len(scope) == 0 {
		scope = []string{} // signals only: nothing to cover
	}
	out, err := Lint(ctx, c, scope, samples)
	if err != nil {
		return nil, err
	}
	for _, u := range unlabelled {
		out.Problems = append(out.Problems, fmt.Sprintf("%s: no '# expected: <cause-id>|none' header", u))
	}
	if len(samples) == 0 {
		out.Problems = append(out.Problems, fmt.Sprintf("%s: no sample logs (put them in %s, one per cause, with a '# expected: <id>' header)", dir, own))
	}
	return out, nil
}
