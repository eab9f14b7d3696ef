package doctor

import (
	"strings"
	"time"

	"github.com/gzdoctor/gzdoctor/internal/junit"
)

// JUnit is the report as one JUnit test suite: a test case per check,
// named by its ID; a failed check is a <failure> whose body is the fix,
// a check that could not run an <error>, a skipped check <skipped>. Under
// policy FailOnWarn a warning is a failure too, as it is for the exit
// status.
func (r Report) JUnit(host string, started time.Time, policy string) junit.Suite {
	name := "gzdoctor check"
	if r.Target.Prefix != "" {
		name += " --prefix " + r.Target.Prefix
	}
	s := junit.Suite{Name: name, Host: host, Timestamp: started, Duration: r.Duration}
	class := junit.Classname(host, "check", r.Target.Prefix)
	for _, res := range r.Results {
		c := junit.Case{Name: res.ID, Classname: class, Duration: res.Duration}
		var body []string
		if len(res.Covers) > 0 {
			body = append(body, "covers: "+strings.Join(res.Covers, ", "))
		}
		body = append(body, res.Details...)
		switch {
		case res.Status == Fail || (res.Status == Warn && policy == FailOnWarn):
			c.Failure = res.Finding
			c.Body = fixWords(res.Fix) + strings.Join(body, "\n")
		case res.Status == Error:
			c.Error = res.Finding
			c.Body = strings.Join(body, "\n")
		case res.Status == Skip:
			c.Skipped = res.Finding
		case res.Status == Warn:
			c.Body = "warning: " + res.Finding + "\n" + fixWords(res.Fix) + strings.Join(body, "\n")
		default:
			c.Body = res.Finding + "\n" + strings.Join(body, "\n")
		}
		s.Cases = append(s.Cases, c)
	}
	return s
}

// JUnit is one suite per prefix.
func (a AllReport) JUnit(host string, started time.Time, policy string) []junit.Suite {
	var out []junit.Suite
	for _, r := range a.Reports {
		out = append(out, r.JUnit(host, started, policy))
	}
	return out
}

// fixWords is the fix as the text report prints it: the words, then the
// commands to paste, one a line.
func fixWords(f *Fix) string {
	if f == nil {
		return ""
	}
	var b strings.Builder
	b.WriteString("fix: " + f.Text + "\n")
	for _, c := range f.Commands {
		b.WriteString("  " + c + "\n")
	}
	return b.String()
}
