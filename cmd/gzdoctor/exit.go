package main

import (
	"errors"
	"fmt"
)

// Exit codes, the same for every command (docs/exit-codes.md).
const (
	exitOK      = 0 // nothing wrong
	exitProblem = 1 // a problem was found: failed check, known cause, patch needed
	exitUsage   = 2 // the command line was wrong
	exitFailure = 3 // gzdoctor could not do its job: I/O error, backend would not start
)

// exitError carries an exit code through cobra's RunE. A nil err means the
// command already reported what it found and only the code remains.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// errProblemFound ends a command that printed its findings with exit 1.
var errProblemFound = &exitError{code: exitProblem}

// usageError marks a command-line mistake (exit 2).
func usageError(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

// failure marks an error that kept gzdoctor from doing its job (exit 3).
func failure(err error) error {
	if err == nil {
		return nil
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return err
	}
	return &exitError{code: exitFailure, err: err}
}

// exitCode maps an error from a command to the process exit code. Errors
// not marked otherwise are failures of the tool (3), never a silent 0.
func exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return exitFailure
}

// notStdout refuses "-" for a file or directory flag. Only the packet
// outputs (capture and pcap -w) take "-" for stdout; elsewhere stdout
// carries the report, and a file literally named "-" in the working
// directory is never what was meant (docs/design.md, the flag vocabulary).
func notStdout(flag, value, instead string) error {
	if value != "-" {
		return nil
	}
	return usageError("%s -: only capture and pcap -w take \"-\" for stdout; %s", flag, instead)
}
