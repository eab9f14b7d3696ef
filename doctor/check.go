package doctor

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
)

// Check is one thing gzdoctor verifies. Checks are values; the list and its
// order live in Checks().
type Check struct {
	// ID is stable and kebab-case; it never changes meaning once released.
	ID    string
	Title string
	// Covers are the reference checks (CHK-nn of eal-errors.md §3) this
	// check implements; `--only CHK-02` selects every check covering it.
	Covers []string
	// DependsOn names checks whose failure makes this one meaningless: when
	// one of them (selected in the same run) fails, errors or is skipped,
	// this check is skipped with that reason instead of repeating it.
	DependsOn []string
	// CaptureRelevant marks the checks a capture's preflight runs.
	CaptureRelevant bool
	Run             func(ctx context.Context, env *Env) Result
}

var chkID = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^CHK-[0-9]{2}$`) })

// Lookup returns the check with the given ID (not a CHK-nn alias).
func Lookup(id string) (Check, bool) {
	for _, c := range Checks() {
		if c.ID == id {
			return c, true
		}
	}
	return Check{}, false
}

// Covering returns the checks implementing the reference check chk
// (e.g. "CHK-02"), in run order.
func Covering(chk string) []Check {
	var out []Check
	for _, c := range Checks() {
		for _, cv := range c.Covers {
			if cv == chk {
				out = append(out, c)
				break
			}
		}
	}
	return out
}

// CaptureRelevant returns the IDs of the checks a capture preflight should
// run, in run order.
func CaptureRelevant() []string {
	var ids []string
	for _, c := range Checks() {
		if c.CaptureRelevant {
			ids = append(ids, c.ID)
		}
	}
	return ids
}

// Select returns the checks of list chosen by only and skip, in list order.
// Both accept check IDs and CHK-nn aliases (case-insensitive for CHK);
// an empty only means all. An unknown ID is an error, never ignored.
func Select(list []Check, only, skip []string) ([]Check, error) {
	expand := func(ids []string) (map[string]bool, error) {
		set := map[string]bool{}
		for _, raw := range ids {
			id := strings.TrimSpace(raw)
			if id == "" {
				continue
			}
			if up := strings.ToUpper(id); chkID().MatchString(up) {
				n := 0
				for _, c := range list {
					for _, cv := range c.Covers {
						if cv == up {
							set[c.ID] = true
							n++
						}
					}
				}
				if n == 0 {
					return nil, fmt.Errorf("unknown check %q (CHK-01 … CHK-16 exist)", id)
				}
				continue
			}
			found := false
			for _, c := range list {
				if c.ID == id {
					set[id], found = true, true
				}
			}
			if !found {
				return nil, fmt.Errorf("unknown check %q (gzdoctor check --list shows them)", id)
			}
		}
		return set, nil
	}
	onlySet, err := expand(only)
	if err != nil {
		return nil, err
	}
	skipSet, err := expand(skip)
	if err != nil {
		return nil, err
	}
	var out []Check
	for _, c := range list {
		if len(onlySet) > 0 && !onlySet[c.ID] || skipSet[c.ID] {
			continue
		}
		out = append(out, c)
	}
	return out, nil
}
