package doctor

import "time"

// Status is a check's verdict.
type Status string

const (
	// OK: nothing here will stop a capture.
	OK Status = "ok"
	// Warn: a capture may work, but something is odd or will bite later.
	Warn Status = "warn"
	// Fail: a capture will fail until the fix is applied.
	Fail Status = "fail"
	// Skip: the check's preconditions are absent; Finding says why.
	Skip Status = "skip"
	// Error: the check itself could not finish (it panicked, timed out or
	// could not read what it needs); it tells nothing about the machine.
	Error Status = "error"
)

// Fix is what the operator should do about a finding: words, and commands
// to paste. Commands are never run by gzdoctor.
type Fix struct {
	Text     string   `json:"text"`
	Commands []string `json:"commands,omitempty"`
}

// Result is the outcome of one check.
type Result struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	// Covers lists the reference checks (CHK-nn) this check implements.
	Covers    []string `json:"covers"`
	Status    Status   `json:"status"`
	Finding   string   `json:"finding"`
	Details   []string `json:"details,omitempty"`
	Fix       *Fix     `json:"fix,omitempty"`
	DependsOn []string `json:"depends_on,omitempty"`
	// Duration is how long Run took, in milliseconds on the wire.
	Duration time.Duration `json:"-"`
	Millis   float64       `json:"duration_ms"`
}

// Result constructors used by the checks; they keep Run bodies short.

func ok(finding string, details ...string) Result {
	return Result{Status: OK, Finding: finding, Details: details}
}

func warn(finding string, fix *Fix, details ...string) Result {
	return Result{Status: Warn, Finding: finding, Fix: fix, Details: details}
}

func fail(finding string, fix *Fix, details ...string) Result {
	return Result{Status: Fail, Finding: finding, Fix: fix, Details: details}
}

func skip(reason string, details ...string) Result {
	return Result{Status: Skip, Finding: reason, Details: details}
}

func errored(finding string, details ...string) Result {
	return Result{Status: Error, Finding: finding, Details: details}
}

// fix drops the empty commands: a builder returns "" when no command is
// safe to print (a dir another user controls), and a fix never prints an
// empty line to paste.
func fix(text string, commands ...string) *Fix {
	var cmds []string
	for _, c := range commands {
		if c != "" {
			cmds = append(cmds, c)
		}
	}
	return &Fix{Text: text, Commands: cmds}
}
