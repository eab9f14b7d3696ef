// Package shquote quotes words for a POSIX shell, so that every command
// gzdoctor prints (fixes, dry runs, recover commands) can be pasted as it is
// and all of them quote alike.
package shquote

import (
	"errors"
	"strings"
)

// Quote returns s as one shell word: as it is when every byte is one sh
// never treats specially, else in single quotes.
func Quote(s string) string {
	if s != "" && strings.Trim(s, safe) == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Join quotes each argument and joins them with spaces: a command line.
// Its first word is quoted also when it holds "=", which sh would
// otherwise take for an assignment (X=1 rm -rf … runs rm).
func Join(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = Quote(a)
		if i == 0 && q[i] == a && strings.Contains(a, "=") {
			q[i] = "'" + a + "'"
		}
	}
	return strings.Join(q, " ")
}

// Glob is one shell word that matches the names starting with lit: lit
// quoted, pattern as it is. pattern is the program's own (a "*", a
// "[0-9]"), never a value read from the machine: only its wildcards
// expand, so a name holding "*" or " " matches itself alone.
func Glob(lit, pattern string) string {
	return Quote(lit) + pattern
}

const safe = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_@%+=:,./-"

// Split splits a command line like a POSIX shell would for words: quotes,
// backslash escapes and line continuations; no expansion. It reverses
// Join.
func Split(s string) ([]string, error) {
	var out []string
	var cur strings.Builder
	inWord := false
	var quote rune
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		c := rs[i]
		switch {
		case quote == '\'':
			if c == '\'' {
				quote = 0
			} else {
				cur.WriteRune(c)
			}
		case quote == '"':
			if c == '"' {
				quote = 0
			} else if c == '\\' && i+1 < len(rs) && strings.ContainsRune("\"\\$`\n", rs[i+1]) {
				i++
				if rs[i] != '\n' {
					cur.WriteRune(rs[i])
				}
			} else {
				cur.WriteRune(c)
			}
		case c == '\\':
			if i+1 < len(rs) {
				i++
				if rs[i] != '\n' {
					cur.WriteRune(rs[i])
					inWord = true
				}
			}
		case c == '\'' || c == '"':
			quote, inWord = c, true
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			if inWord {
				out = append(out, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(c)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, errors.New("unterminated quote")
	}
	if inWord {
		out = append(out, cur.String())
	}
	return out, nil
}
