// Package ui holds the one place where gzdoctor talks to the terminal: the
// streams a command writes to, whether each is a TTY, the colour policy, and
// the renderer that turns a command's result into text or JSON.
package ui

import (
	"bytes"
	"io"
	"os"

	"golang.org/x/term"
)

// Streams is every input and output a command may use. Commands never touch
// os.Stdout or os.Stderr directly, so tests can capture and inspect output.
type Streams struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer

	InTTY  bool
	OutTTY bool
	ErrTTY bool

	// Colour is decided per stream: a piped stdout with a terminal stderr
	// gets plain JSON but coloured progress.
	OutColor bool
	ErrColor bool

	Quiet bool
}

// System returns streams bound to the process's stdin/stdout/stderr with
// TTY and colour detection. noColor comes from --no-color; NO_COLOR is read
// here so that every caller honours it the same way.
func System(noColor bool) *Streams {
	s := &Streams{
		In:     os.Stdin,
		Out:    os.Stdout,
		Err:    os.Stderr,
		InTTY:  isTerminal(os.Stdin),
		OutTTY: isTerminal(os.Stdout),
		ErrTTY: isTerminal(os.Stderr),
	}
	if os.Getenv("GZDOCTOR_FORCE_TTY") != "" {
		s.OutTTY, s.ErrTTY = true, true
	}
	s.SetColor(!noColor && os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb")
	return s
}

// SetColor enables colour on each stream that is a terminal, or disables it
// everywhere.
func (s *Streams) SetColor(allowed bool) {
	s.OutColor = allowed && s.OutTTY
	s.ErrColor = allowed && s.ErrTTY
}

// Test returns streams over buffers, none of them a TTY.
func Test() (s *Streams, in, out, errOut *bytes.Buffer) {
	in, out, errOut = &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	return &Streams{In: in, Out: out, Err: errOut}, in, out, errOut
}

func isTerminal(f *os.File) bool {
	return term.IsTerminal(int(f.Fd()))
}
