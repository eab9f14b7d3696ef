package ui

import (
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"
	"unicode/utf8"
)

// Strings read from files and processes (a pcapng interface name, a soname,
// a spec line, a log line, a command line from /proc) reach the terminal of
// someone running gzdoctor as root. A crafted one could set the window
// title, erase lines and print a fake "all good". Two ways out, sharing one
// notion of what is unsafe:
//
//   - text output goes through SafeWriter (Render does it): every control
//     character is written as a visible escape, except newlines, tabs and
//     the colour sequences Style itself emits;
//   - diagnose's log lines go through StripEscapes: escape sequences and
//     controls are removed, since colour codes in logs are common and
//     meaningless to the matcher.

// unsafeRune reports a rune a terminal may act on instead of printing:
// C0 controls, DEL, C1 controls (U+0080–U+009F; 0x9B alone is CSI on an
// 8-bit terminal), and the Unicode bidirectional and invisible format
// controls that reorder or hide what follows.
func unsafeRune(r rune) bool {
	switch {
	case r < 0x20 || r == 0x7f:
		return true
	case r >= 0x80 && r <= 0x9f:
		return true
	case r == 0x061c || r == 0x200e || r == 0x200f, // bidi marks
		r >= 0x202a && r <= 0x202e, // bidi embeddings and overrides
		r >= 0x2066 && r <= 0x2069: // bidi isolates
		return true
	}
	return false
}

// escapeRune writes the visible form of an unsafe rune (or of an invalid
// byte when r is utf8.RuneError and size is 1).
func escapeRune(b *strings.Builder, r rune, raw byte, invalid bool) {
	switch {
	case invalid:
		fmt.Fprintf(b, `\x%02x`, raw)
	case r == '\n':
		b.WriteString(`\n`)
	case r == '\r':
		b.WriteString(`\r`)
	case r == '\t':
		b.WriteString(`\t`)
	case r < 0x80:
		fmt.Fprintf(b, `\x%02x`, r)
	default:
		fmt.Fprintf(b, `\u%04x`, r)
	}
}

// Printable returns one value read from an input (a name, a path) as it
// may be printed: control characters (newline and tab too), bidi controls
// and invalid UTF-8 are written as visible escapes (\x1b, \u202e, \xff).
// A clean string comes back unchanged.
func Printable(s string) string {
	return escape(s, func(rune) bool { return false }, false)
}

// escape escapes unsafe runes of s except those keep allows; with sgr, the
// colour sequences Style emits pass through.
func escape(s string, keep func(rune) bool, sgr bool) string {
	clean := true
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if unsafeRune(rune(c)) && !keep(rune(c)) {
				clean = false
				break
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && n == 1) || unsafeRune(r) {
			clean = false
			break
		}
		i += n
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		if sgr && s[i] == 0x1b {
			if n := styleSGR(s[i:]); n > 0 {
				b.WriteString(s[i : i+n])
				i += n
				continue
			}
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		invalid := r == utf8.RuneError && n == 1
		if invalid || (unsafeRune(r) && !keep(r)) {
			escapeRune(&b, r, s[i], invalid)
		} else {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// styleSGR returns the length of the SGR sequence at the start of s when it
// is one Style emits (colours and bold/faint/reset, as fatih/color writes
// them), else 0. Such a sequence can only colour text, never move the
// cursor, hide text or change the title.
func styleSGR(s string) int {
	if !strings.HasPrefix(s, "\x1b[") {
		return 0
	}
	end := strings.IndexByte(s, 'm')
	if end < 0 || end > 24 {
		return 0
	}
	for _, p := range strings.Split(s[2:end], ";") {
		switch p {
		case "0", "1", "2", "22", "31", "32", "33", "36", "39":
		default:
			return 0
		}
	}
	return end + 1
}

// SafeWriter wraps w so that what is written to it cannot drive the
// terminal: unsafe runes become visible escapes; newlines, tabs and Style's
// colour sequences pass. Each Write is taken as whole text (renderers write
// whole lines or cells), so a sequence split across writes is escaped.
func SafeWriter(w io.Writer) io.Writer { return safeWriter{w} }

type safeWriter struct{ w io.Writer }

func (s safeWriter) Write(p []byte) (int, error) {
	out := escape(string(p), func(r rune) bool { return r == '\n' || r == '\t' }, true)
	if _, err := io.WriteString(s.w, out); err != nil {
		return 0, err
	}
	return len(p), nil
}

var ansiRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`\x1b(?:\[[0-9;?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])`)
})

// StripEscapes removes terminal escape sequences (CSI, OSC, two-byte ESC x)
// from s and drops every other unsafe rune but tab; invalid UTF-8 becomes
// U+FFFD. For log lines, whose colour codes mean nothing once read.
func StripEscapes(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if strings.IndexByte(s, 0x1b) >= 0 {
		s = ansiRE().ReplaceAllString(s, "")
	}
	clean := true
	for _, r := range s {
		if unsafeRune(r) && r != '\t' {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	return strings.Map(func(r rune) rune {
		if unsafeRune(r) && r != '\t' {
			return -1
		}
		return r
	}, s)
}
