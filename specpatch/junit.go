package specpatch

import (
	"fmt"
	"strings"
	"time"

	"github.com/gzdoctor/gzdoctor/internal/junit"
	"github.com/gzdoctor/gzdoctor/internal/shquote"
)

// JUnit is the result of `specpatch --check` as a JUnit test suite: one
// test case per finding (a problem or a blocker is a failure whose body
// is the change that fixes it and the command that makes it; an info
// passes), and one passing case when the spec needs nothing.
func (r *Result) JUnit(host string, started time.Time, elapsed time.Duration) junit.Suite {
	s := junit.Suite{Name: "gzdoctor specpatch --check " + r.File, Host: host, Timestamp: started, Duration: elapsed}
	class := junit.Classname(host, "specpatch", r.File)
	apply := shquote.Join([]string{"gzdoctor", "specpatch", "--in-place", "--backup", r.File})
	failed := false
	for _, f := range r.Findings {
		name := f.ID
		if f.Line > 0 {
			name = fmt.Sprintf("%s (line %d)", f.ID, f.Line)
		}
		c := junit.Case{Name: name, Classname: class}
		switch f.Severity {
		case SevProblem:
			var body []string
			for _, ch := range r.Changes {
				if ch.Fixes == f.ID {
					body = append(body, changeWords(ch))
				}
			}
			if f.Fixed {
				body = append(body, "fix: "+apply)
			}
			c.Failure, c.Body = f.Message, strings.Join(body, "\n")
			failed = true
		case SevBlocked:
			c.Failure, c.Body = f.Message, "specpatch cannot change this: the fix is outside the spec (see docs/specpatch.md#finding-ids)"
			failed = true
		default:
			c.Body = f.Message
		}
		s.Cases = append(s.Cases, c)
	}
	if !failed {
		s.Cases = append(s.Cases, junit.Case{Name: "pcap-pmd-and-pdump", Classname: class,
			Body: "the spec builds and packages the pcap PMD and dpdk-pdump: nothing to change"})
	}
	return s
}

// changeWords is one change as a line of the report.
func changeWords(c Change) string {
	var what string
	switch c.Kind {
	case "insert":
		what = fmt.Sprintf("after line %d insert: %s", c.Line, c.New)
	case "delete":
		what = fmt.Sprintf("line %d delete: %s", c.Line, c.Old)
	default:
		what = fmt.Sprintf("line %d: %s -> %s", c.Line, c.Old, c.New)
	}
	if c.Why != "" {
		what += " (" + c.Why + ")"
	}
	return what
}
