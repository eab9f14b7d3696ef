// Package shquote quotes words for a POSIX shell, so that every command
// gzdoctor prints (fixes, dry runs, recover commands) can be pasted as it is
// and all of them quote alike.
package shquote

import "strings"

// Quote returns s as one shell word: as it is when every byte is one sh
// never treats specially, else in single quotes.
func Quote(s string) string {
	if s != "" && strings.Trim(s, safe) == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Join quotes each argument and joins them with spaces.
func Join(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = Quote(a)
	}
	return strings.Join(q, " ")
}

const safe = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_@%+=:,./-"
