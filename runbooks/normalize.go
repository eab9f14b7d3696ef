package runbooks

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/gzdoctor/gzdoctor/ui"
)

// Limits that keep one pathological line from costing more than a screen.
const (
	maxLineBytes     = 64 << 10 // longer physical lines are cut here by the reader
	maxMatchBytes    = 4096     // a logical line is matched on its first 4 KiB
	maxEvidenceBytes = 400      // evidence text shown to the user
)

// logical is one message after unwrapping: Text is what the user sees as
// evidence, Msg what patterns match (DPDK's `EAL:`/`fn():` prefixes gone).
type logical struct {
	Text string
	Msg  string
}

// Compiled on first use (sync.OnceValue): every gzdoctor command links this
// package and pays its initialisation, and only diagnose and capture read logs.
var (
	// syslog / journalctl short and short-iso: "Apr  7 07:13:35 host prog[pid]: "
	syslogRE = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^(?:<\d{1,3}>\d? ?)?(?:(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ 0-3]\d \d\d:\d\d:\d\d|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?) \S+ [^\s:\[]+(?:\[\d+\])?: `)
	})
	stampRE = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^(?:\[?\d{4}[-/]\d\d[-/]\d\d[ T_]\d\d:\d\d:\d\d(?:[.,]\d+)?(?: ?(?:Z|[+-]\d\d:?\d\d|UTC))?\]?:?|\[\s*\d+\.\d+\]|\d\d:\d\d:\d\d(?:[.,]\d+)?|\[?\d{10}(?:\.\d+)?\]?|[IWEF]\d{4} \d\d:\d\d:\d\d\.\d+\s+\d+ \S+:\d+\])\s+`)
	})
	levelRE = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^(?:\[(?:INFO|WARN|WARNING|ERROR|ERR|DEBUG|NOTICE|CRIT)\]|(?:INFO|WARN|WARNING|ERROR|ERR|DEBUG|NOTICE|CRIT):)\s+`)
	})
	// DPDK log-type prefixes (§1.1) and the function prefixes that follow.
	typeRE = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^(?:EAL|PCI_BUS|ETHDEV|PDUMP|VDEV_BUS|RING|MBUF|MEMPOOL|USER1|TELEMETRY|LSTACK|LTRAN|PORT|net_\w+|common_\w+): +`)
	})
	funcRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(?:\w+\(\): +|\w+:\d+ +)`) })
)

// normalize turns one physical line into its logical messages (usually
// one; a JSON message with newlines or glued DPDK lines give several).
func normalize(raw string) []logical {
	s := onScreen(strings.TrimRight(raw, "\r\n"))
	if len(s) > maxMatchBytes {
		s = s[:maxMatchBytes]
	}
	s = ui.StripEscapes(s) // the sanitiser text output shares (ui/sanitize.go)
	texts := unwrap(s, 0)
	var out []logical
	for _, t := range texts {
		for _, part := range splitGlued(t) {
			out = append(out, logical{Text: part, Msg: message(part)})
		}
	}
	return out
}

// isProgress: the line redraws itself (a `\r` bar, dumpcap's backspaced
// packet count), so its end, not its start, is what the user saw.
func isProgress(b []byte) bool {
	b = bytes.TrimRight(b, "\r\n")
	return bytes.IndexByte(b, '\r') >= 0 || bytes.IndexByte(b, '\b') >= 0
}

// onScreen is what a terminal shows of a progress line: the last non-empty
// `\r` segment, with backspaces overwriting what they back over.
func onScreen(s string) string {
	if strings.IndexByte(s, '\r') >= 0 {
		segs := strings.Split(s, "\r")
		s = ""
		for i := len(segs) - 1; i >= 0; i-- {
			if strings.TrimSpace(segs[i]) != "" {
				s = segs[i]
				break
			}
		}
	}
	if strings.IndexByte(s, '\b') < 0 {
		return s
	}
	out := make([]byte, 0, 128)
	cur := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\b':
			cur = max(0, cur-1)
		case cur < len(out):
			out[cur] = c
			cur++
		default:
			out = append(out, c)
			cur++
		}
	}
	return string(out)
}

// unwrap removes JSON envelopes, syslog/journal prefixes and timestamps,
// repeatedly, since wrappers nest (a timestamp inside a journal line).
func unwrap(s string, depth int) []string {
	for range 4 {
		t := strings.TrimLeft(s, " \t")
		if strings.HasPrefix(t, "{") {
			if msgs, ok := jsonMessage(t); ok && depth < 2 {
				var out []string
				for _, m := range msgs {
					out = append(out, unwrap(m, depth+1)...)
				}
				return out
			}
		}
		if t == "" {
			break
		}
		// The regexes only run when the first byte can start their wrapper.
		c := t[0]
		if c == '<' || c >= 'A' && c <= 'S' || c >= '0' && c <= '9' {
			if loc := syslogRE().FindStringIndex(t); loc != nil {
				s = t[loc[1]:]
				continue
			}
		}
		if c == '[' || c >= '0' && c <= '9' || c == 'I' || c == 'W' || c == 'E' || c == 'F' {
			if loc := stampRE().FindStringIndex(t); loc != nil {
				s = t[loc[1]:]
				continue
			}
		}
		if c == '[' || c == 'I' || c == 'W' || c == 'E' || c == 'D' || c == 'N' || c == 'C' {
			if loc := levelRE().FindStringIndex(t); loc != nil {
				s = t[loc[1]:]
				continue
			}
		}
		break
	}
	return []string{s}
}

// jsonMessage returns the message of a structured log line (zap/logrus
// "msg", journalctl -o json "MESSAGE", docker "log"), split at newlines.
func jsonMessage(s string) ([]string, bool) {
	var obj map[string]any
	if err := json.Unmarshal([]byte(s), &obj); err != nil {
		return nil, false
	}
	for _, k := range []string{"msg", "message", "MESSAGE", "log"} {
		if v, ok := obj[k].(string); ok {
			return strings.Split(strings.TrimRight(v, "\n"), "\n"), true
		}
	}
	return nil, false
}

// gluedPrefixes are the log types a message without its newline can be
// glued to ("…doesn't existEAL: Requested device …", 18.11–19.11).
var gluedPrefixes = []string{"EAL: ", "PCI_BUS: ", "ETHDEV: ", "PDUMP: ", "VDEV_BUS: "}

// splitGlued splits a line at every log-type prefix that follows a
// non-space character.
func splitGlued(s string) []string {
	var out []string
	for {
		cut := -1
		for _, p := range gluedPrefixes {
			from := 1
			for from < len(s) {
				k := strings.Index(s[from:], p)
				if k < 0 {
					break
				}
				at := from + k
				if c := s[at-1]; c != ' ' && c != '\t' && c != '(' && c != '[' && (cut < 0 || at < cut) {
					cut = at
					break
				}
				from = at + 1
			}
		}
		if cut < 0 {
			return append(out, s)
		}
		out = append(out, s[:cut])
		s = s[cut:]
	}
}

// message strips what varies around the text DPDK formatted: leading
// spaces, the log-type prefix and a function prefix.
func message(s string) string {
	m := strings.TrimSpace(s)
	for range 3 {
		// Both prefixes have a colon in their first word: skip the regexes
		// for the lines that have none.
		sp := strings.IndexByte(m, ' ')
		if sp < 0 || strings.IndexByte(m[:sp], ':') < 0 {
			break
		}
		loc := typeRE().FindStringIndex(m)
		if loc == nil {
			loc = funcRE().FindStringIndex(m)
		}
		if loc == nil {
			break
		}
		m = strings.TrimSpace(m[loc[1]:])
	}
	return m
}

// clip shortens evidence text for display.
func clip(s string) string {
	if len(s) <= maxEvidenceBytes {
		return s
	}
	cut := maxEvidenceBytes
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
