package ui

import (
	"encoding/json"
	"fmt"
	"io"
)

// SchemaVersion is the version of every JSON document gzdoctor prints. It
// changes only when a field changes meaning or disappears; new fields do not
// bump it. docs/json.md describes the envelope.
const SchemaVersion = 1

// TextRenderer is implemented by every result a command prints. Results are
// plain data with JSON tags; this method is their only text form.
type TextRenderer interface {
	RenderText(w io.Writer, st Style, verbose bool) error
}

// Format is the output format chosen with -o.
type Format string

const (
	FormatText Format = "text"
	FormatJSON Format = "json"
)

// ParseFormat validates the -o flag.
func ParseFormat(s string) (Format, error) {
	switch Format(s) {
	case FormatText, FormatJSON:
		return Format(s), nil
	}
	return "", fmt.Errorf("unknown output format %q: use text or json", s)
}

// Envelope is the top level of every JSON document.
type Envelope struct {
	SchemaVersion int    `json:"schema_version"`
	Command       string `json:"command"`
	Data          any    `json:"data"`
}

// Render writes result to s.Out in the chosen format. In text mode with -q
// nothing is printed: the exit code carries the verdict.
func Render(s *Streams, f Format, command string, verbose bool, result TextRenderer) error {
	if f == FormatJSON {
		enc := json.NewEncoder(s.Out)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(Envelope{SchemaVersion: SchemaVersion, Command: command, Data: result})
	}
	if s.Quiet {
		return nil
	}
	// Every text renderer prints strings from input files; escaping is done
	// here, once, rather than trusted to each field of each renderer.
	return result.RenderText(SafeWriter(s.Out), s.OutStyle(), verbose)
}
