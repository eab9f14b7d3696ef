package doctor

import "fmt"

// Exit policies of check (--fail-on): which results make the run exit 1.
// A timer or an Ansible task that only collects reports wants exit 0 while
// the report says what is wrong; a strict gate wants warnings to count.
const (
	FailOnWarn  = "warn"  // a check warned, failed or could not run
	FailOnFail  = "fail"  // a check failed or could not run (the default)
	FailOnNever = "never" // never: the report alone says what is wrong
)

// ParseFailOn validates a --fail-on value.
func ParseFailOn(s string) (string, error) {
	switch s {
	case FailOnWarn, FailOnFail, FailOnNever:
		return s, nil
	}
	return "", fmt.Errorf("--fail-on %q: use warn, fail or never", s)
}

// FailsOn reports whether the run must exit 1 under policy.
func (r Report) FailsOn(policy string) bool {
	switch policy {
	case FailOnNever:
		return false
	case FailOnWarn:
		return r.Failed() || r.Summary.Warn > 0
	}
	return r.Failed()
}
