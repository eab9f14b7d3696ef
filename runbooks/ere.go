package runbooks

import (
	"fmt"
	"strings"
)

// ToERE rewrites a catalogue regex (Go RE2) as a POSIX extended regex with
// GNU grep's \w \s \S \b extensions, so `grep -E -f` can run the same
// patterns (the benchmark's reference, and an oracle in tests). Line-match
// semantics are kept: lazy quantifiers become greedy, groups lose names.
// Constructs grep cannot express are an error, so the catalogue stays within
// what both engines agree on.
func ToERE(re string) (string, error) {
	var b strings.Builder
	inClass := false
	for i := 0; i < len(re); i++ {
		ch := re[i]
		switch {
		case ch == '\\':
			if i+1 >= len(re) {
				return "", fmt.Errorf("trailing backslash")
			}
			i++
			e := re[i]
			if inClass {
				switch e {
				case 'd':
					b.WriteString("0-9")
				case 'w':
					b.WriteString("A-Za-z0-9_")
				case 's':
					b.WriteString(" \t")
				case 't':
					b.WriteByte('\t')
				case '.', '(', ')', '*', '+', '?', '{', '}', '|', '$', '/', '\'', '"', ':', '<', '>', '=', ',', '&', '@', '%', '!', '#':
					b.WriteByte(e)
				default:
					return "", fmt.Errorf("escape \\%c inside a bracket has no ERE form", e)
				}
				continue
			}
			switch e {
			case 'd':
				b.WriteString("[0-9]")
			case 'D':
				b.WriteString("[^0-9]")
			case 'w', 'W', 's', 'S', 'b':
				b.WriteByte('\\')
				b.WriteByte(e)
			case 't':
				b.WriteByte('\t')
			case '.', '[', ']', '(', ')', '*', '+', '?', '{', '}', '|', '^', '$', '\\':
				b.WriteByte('\\')
				b.WriteByte(e)
			default:
				if isAlnum(e) {
					return "", fmt.Errorf("escape \\%c has no ERE form", e)
				}
				b.WriteByte(e) // \' \/ \- \: … are plain characters
			}
		case inClass:
			if ch == ']' {
				inClass = false
			}
			if ch == '[' && i+1 < len(re) && re[i+1] == ':' {
				return "", fmt.Errorf("POSIX classes inside brackets are not supported")
			}
			b.WriteByte(ch)
		case ch == '[':
			inClass = true
			b.WriteByte(ch)
			// A ']' right after '[' or '[^' is a literal in both syntaxes.
			if i+1 < len(re) && re[i+1] == '^' {
				b.WriteByte('^')
				i++
			}
			if i+1 < len(re) && re[i+1] == ']' {
				b.WriteByte(']')
				i++
			}
		case ch == '(':
			if strings.HasPrefix(re[i:], "(?P<") {
				end := strings.IndexByte(re[i:], '>')
				if end < 0 {
					return "", fmt.Errorf("unterminated group name")
				}
				i += end
			} else if strings.HasPrefix(re[i:], "(?:") {
				i += 2
			} else if strings.HasPrefix(re[i:], "(?") {
				return "", fmt.Errorf("flag groups (?…) have no ERE form")
			}
			b.WriteByte('(')
		case ch == '?' || ch == '*' || ch == '+' || ch == '}':
			b.WriteByte(ch)
			if i+1 < len(re) && re[i+1] == '?' {
				i++ // lazy → greedy: the same lines match
			}
		case ch == '{':
			if i+1 >= len(re) || re[i+1] < '0' || re[i+1] > '9' {
				return "", fmt.Errorf("literal { must be escaped")
			}
			b.WriteByte(ch)
		default:
			b.WriteByte(ch)
		}
	}
	if inClass {
		return "", fmt.Errorf("unterminated bracket")
	}
	return b.String(), nil
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
