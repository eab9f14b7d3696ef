package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/gzdoctor/gzdoctor/doctor"
	"github.com/gzdoctor/gzdoctor/runbooks"
)

// A runbook's fix that says `gzdoctor check --only X` must name checks
// that exist: a fix that is a usage error is no fix.
func TestRunbookFixesNameRealChecks(t *testing.T) {
	cat, err := runbooks.Load()
	if err != nil {
		t.Fatal(err)
	}
	only := regexp.MustCompile(`gzdoctor check\b.*--only ([A-Za-z0-9,-]+)`)
	n := 0
	for _, e := range cat.Entries {
		for _, s := range e.Fix {
			m := only.FindStringSubmatch(s.Command)
			if m == nil {
				continue
			}
			n++
			if _, err := doctor.Select(doctor.Checks(), strings.Split(m[1], ","), nil); err != nil {
				t.Errorf("%s: %q: %v", e.ID, s.Command, err)
			}
		}
	}
	if n < 10 {
		t.Errorf("only %d fixes run gzdoctor check --only: the pattern no longer finds them", n)
	}
}
