// Package junit writes JUnit XML reports, the one writer behind every
// --junit flag (check, specpatch --check, elfcheck --require): CI servers
// (Jenkins, GitLab, GitHub actions) list each test case, with the failure
// message and its body.
//
// The format is the one Ant's JUnit task defined and CI servers read:
// <testsuites> of <testsuite name tests failures errors skipped time
// timestamp hostname> of <testcase name classname time>, each with at most
// one <failure>, <error> or <skipped>, and <system-out>.
package junit

import (
	"encoding/xml"
	"fmt"
	"io"
	"time"

	"github.com/gzdoctor/gzdoctor/internal/atomicfile"
)

// Suite is one <testsuite>: one run of one command on one subject (a
// prefix, a spec, a file).
type Suite struct {
	Name      string
	Host      string
	Timestamp time.Time
	Duration  time.Duration
	Cases     []Case
}

// Case is one <testcase>. Exactly one of the outcomes holds: Failure (a
// problem was found), Error (the test could not run), Skipped, or none of
// them (passed).
type Case struct {
	Name      string
	Classname string
	Duration  time.Duration
	// Failure, Error and Skipped carry the one-line message; Body is the
	// text under a failure or an error (the fix), or the system-out of a
	// passed or skipped case.
	Failure, Error, Skipped string
	Body                    string
}

// Classname is the classname gzdoctor gives a case: the host, the command
// and the subject, "/"-separated (dots in a hostname or a file name would
// be read as Java packages).
func Classname(host, command, subject string) string {
	if host == "" {
		host = "localhost"
	}
	c := host + "/" + command
	if subject != "" {
		c += "/" + subject
	}
	return c
}

type xmlSuites struct {
	XMLName  xml.Name   `xml:"testsuites"`
	Name     string     `xml:"name,attr,omitempty"`
	Tests    int        `xml:"tests,attr"`
	Failures int        `xml:"failures,attr"`
	Errors   int        `xml:"errors,attr"`
	Skipped  int        `xml:"skipped,attr"`
	Time     string     `xml:"time,attr"`
	Suites   []xmlSuite `xml:"testsuite"`
}

type xmlSuite struct {
	Name      string    `xml:"name,attr"`
	Tests     int       `xml:"tests,attr"`
	Failures  int       `xml:"failures,attr"`
	Errors    int       `xml:"errors,attr"`
	Skipped   int       `xml:"skipped,attr"`
	Time      string    `xml:"time,attr"`
	Timestamp string    `xml:"timestamp,attr"`
	Hostname  string    `xml:"hostname,attr"`
	Cases     []xmlCase `xml:"testcase"`
}

type xmlCase struct {
	Name      string      `xml:"name,attr"`
	Classname string      `xml:"classname,attr"`
	Time      string      `xml:"time,attr"`
	Skipped   *xmlMessage `xml:"skipped"`
	Failure   *xmlMessage `xml:"failure"`
	Error     *xmlMessage `xml:"error"`
	SystemOut string      `xml:"system-out,omitempty"`
}

type xmlMessage struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",chardata"`
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

// Write writes the suites as one <testsuites> document named name.
func Write(w io.Writer, name string, suites ...Suite) error {
	doc := xmlSuites{Name: name, Suites: []xmlSuite{}}
	var total time.Duration
	for _, s := range suites {
		host := s.Host
		if host == "" {
			host = "localhost"
		}
		xs := xmlSuite{
			Name: s.Name, Time: seconds(s.Duration), Hostname: host,
			// Ant's schema: ISO 8601 without a zone; it is UTC.
			Timestamp: s.Timestamp.UTC().Format("2006-01-02T15:04:05"),
			Cases:     []xmlCase{},
		}
		for _, c := range s.Cases {
			xc := xmlCase{Name: c.Name, Classname: c.Classname, Time: seconds(c.Duration)}
			switch {
			case c.Failure != "":
				xc.Failure = &xmlMessage{Message: clean(c.Failure), Type: "failure", Text: clean(c.Body)}
				xs.Failures++
			case c.Error != "":
				xc.Error = &xmlMessage{Message: clean(c.Error), Type: "error", Text: clean(c.Body)}
				xs.Errors++
			case c.Skipped != "":
				xc.Skipped = &xmlMessage{Message: clean(c.Skipped)}
				xc.SystemOut = clean(c.Body)
				xs.Skipped++
			default:
				xc.SystemOut = clean(c.Body)
			}
			xs.Tests++
			xs.Cases = append(xs.Cases, xc)
		}
		doc.Tests += xs.Tests
		doc.Failures += xs.Failures
		doc.Errors += xs.Errors
		doc.Skipped += xs.Skipped
		total += s.Duration
		doc.Suites = append(doc.Suites, xs)
	}
	doc.Time = seconds(total)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// clean drops what XML 1.0 cannot carry at all (control characters other
// than tab and newlines; a finding quotes file names and log lines, which
// may hold anything), so the report stays well-formed; encoding/xml
// escapes the rest.
func clean(s string) string {
	ok := true
	for _, r := range s {
		if !xmlChar(r) {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	out := make([]rune, 0, len(s))
	for _, r := range s {
		if xmlChar(r) {
			out = append(out, r)
		} else {
			out = append(out, '\uFFFD')
		}
	}
	return string(out)
}

func xmlChar(r rune) bool {
	return r == '\t' || r == '\n' || r == '\r' ||
		(r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF)
}

// WriteFile writes the report to path under internal/atomicfile's rule
// (temporary file beside it, synced, renamed over it, directory synced): a
// CI job never reads half a report, and a crash leaves the old one or the
// new one.
func WriteFile(path, name string, suites ...Suite) error {
	return atomicfile.Write(path, 0o644, true, func(w io.Writer) error { return Write(w, name, suites...) })
}
