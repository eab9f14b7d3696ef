package ui

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"
	"unicode/utf8"
)

// hostile is what a crafted file puts in a name: set the window title,
// erase the line, return to its start, print a fake verdict; plus an 8-bit
// CSI, a bidi override and invalid UTF-8.
const hostile = "eth0\x1b]0;owned\x07\x1b[2K\r✓ all good\u009b2J\u202etxt.exe\xff"

func TestPrintable(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"eth0", "eth0"},
		{"mlx5 ünïcode ✓", "mlx5 ünïcode ✓"},
		{hostile, `eth0\x1b]0;owned\x07\x1b[2K\r✓ all good\u009b2J\u202etxt.exe\xff`},
		{"a\nb\tc", `a\nb\tc`},
	} {
		if got := Printable(tc.in); got != tc.want {
			t.Errorf("Printable(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

type hostileResult struct{}

func (hostileResult) RenderText(w io.Writer, st Style, verbose bool) error {
	fmt.Fprintf(w, "%s interface %s\n\tcolumn\n", st.Symbol("ok"), hostile)
	return nil
}

// Render escapes every control a renderer passes on from its input, and
// only those: Style's own colours, newlines and tabs stay.
func TestRenderEscapesInputControls(t *testing.T) {
	for _, colour := range []bool{false, true} {
		var out bytes.Buffer
		s := &Streams{Out: &out, OutColor: colour}
		if err := Render(s, FormatText, Meta{}, "x", false, hostileResult{}); err != nil {
			t.Fatal(err)
		}
		got := out.String()
		plain := strings.NewReplacer("\x1b[32m", "", "\x1b[0m", "").Replace(got)
		if strings.ContainsAny(plain, "\x1b\x07\r\u009b\u202e") || !utf8.ValidString(plain) {
			t.Errorf("colour %v: raw controls reach the terminal: %q", colour, got)
		}
		want := `interface eth0\x1b]0;owned\x07\x1b[2K\r✓ all good\u009b2J\u202etxt.exe\xff` + "\n\tcolumn\n"
		if !bytes.HasSuffix(out.Bytes(), []byte(want)) {
			t.Errorf("colour %v: got %q, want it to end %q", colour, got, want)
		}
		if colour != bytes.Contains(out.Bytes(), []byte("\x1b[32m")) {
			t.Errorf("colour %v: Style's own colour sequence: %q", colour, got)
		}
	}
}

func TestStripEscapes(t *testing.T) {
	if got, want := StripEscapes("\x1b[31mEAL: a\x1b[0m\x07 b\u202e\tc\xff"), "EAL: a b\tc\uFFFD"; got != want {
		t.Errorf("StripEscapes = %q, want %q", got, want)
	}
}
