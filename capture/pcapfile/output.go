package pcapfile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"syscall"
)

// Output is where a pcap command writes: a file made through a temporary
// file and committed only when the write succeeds, or a stream (standard
// output) written as it goes.
type Output struct {
	// Path of the file; ignored when Stream is set.
	Path string
	// Force replaces an existing Path (else ErrExists).
	Force bool
	// Stream, when set, is written instead of a file: a pipe cannot be
	// taken back, so an error there leaves what was written.
	Stream io.Writer
}

// OutputResult says how a write ended.
type OutputResult struct {
	// StreamClosed: the reader of Stream closed it (EPIPE) and the write
	// stopped there, as tcpdump -w - | head stops.
	StreamClosed bool
	// Leftovers are what killed runs left beside the committed file (the
	// ones not worth keeping are removed).
	Leftovers []Leftover
}

// interrupted is a write stopped by its context (a signal): the message
// says what is left of the output.
type interrupted struct{ msg string }

func (e interrupted) Error() string { return e.msg }
func (e interrupted) Unwrap() error { return context.Canceled }

// Write runs write on the output. A file is created with mode 0600 and
// committed only when write returns nil; on an error, or a cancelled
// context, nothing is left under Path. Errors that wrap context.Canceled
// say what was left; ErrExists is the only error that is the caller's
// (Path exists without Force).
func (o Output) Write(write func(w io.Writer) error) (OutputResult, error) {
	var res OutputResult
	if o.Stream != nil {
		err := write(o.Stream)
		if errors.Is(err, syscall.EPIPE) {
			res.StreamClosed = true
			return res, nil
		}
		if errors.Is(err, context.Canceled) {
			return res, interrupted{"interrupted: the capture written to stdout is incomplete"}
		}
		return res, err
	}
	out, err := CreateAtomic(o.Path, 0o600, o.Force)
	if err != nil {
		return res, err
	}
	defer out.Abort()
	if err := write(out); err != nil {
		if errors.Is(err, context.Canceled) {
			// Abort removes the temporary file: nothing half-written
			// is left.
			return res, interrupted{fmt.Sprintf("interrupted: %s not written", o.Path)}
		}
		return res, err
	}
	if err := out.Commit(); err != nil {
		return res, err
	}
	res.Leftovers = FindLeftovers(filepath.Dir(o.Path), true)
	return res, nil
}
