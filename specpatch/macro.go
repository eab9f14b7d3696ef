package specpatch

import "strings"

// Macros is a small, side-effect-free macro table used to read paths in
// %files and tag values. It never runs %( … ) shell expansions: a value
// that needs one does not expand.
type Macros map[string]string

// rpmDefaults are the path macros of a 64-bit RPM distribution.
var rpmDefaults = Macros{
	"_prefix": "/usr", "_exec_prefix": "%{_prefix}", "_usr": "/usr",
	"_bindir": "%{_exec_prefix}/bin", "_sbindir": "%{_exec_prefix}/sbin",
	"_lib": "lib64", "_libdir": "%{_prefix}/%{_lib}", "_libexecdir": "%{_exec_prefix}/libexec",
	"_includedir": "%{_prefix}/include", "_datadir": "%{_prefix}/share", "_docdir": "%{_datadir}/doc",
	"_mandir": "%{_datadir}/man", "_sysconfdir": "/etc", "_localstatedir": "/var", "_arch": "x86_64",
	"_target_cpu": "x86_64", "_vendor": "redhat", "_target_os": "linux", "nil": "",
}

// MacrosOf returns the defaults plus the spec's own definitions and its
// Name/Version/Release tags. A name defined in several %if arms keeps its
// last definition: good enough to read paths, never used to pick arms.
func (s *Spec) MacrosOf() Macros {
	m := Macros{}
	for k, v := range rpmDefaults {
		m[k] = v
	}
	for _, t := range []string{"name", "version", "release", "epoch"} {
		if tag := s.Tag(t); tag != nil {
			m[t] = tag.Value
		}
	}
	for _, d := range s.Macros {
		if !strings.Contains(d.Body, "\n") {
			m[d.Name] = d.Body
		}
	}
	return m
}

const (
	maxExpandDepth = 16
	maxExpandLen   = 1 << 16
)

// Expand expands macros in s. ok is false when something could not be
// expanded: an undefined plain macro, a shell or Lua expansion, or runaway
// recursion.
func (m Macros) Expand(s string) (out string, ok bool) {
	budget := maxExpandSteps
	return m.expand(s, 0, &budget)
}

// maxExpandSteps bounds the work of one Expand: %define a %{a}%{a} must not
// take exponential time.
const maxExpandSteps = 4096

func (m Macros) expand(s string, depth int, budget *int) (string, bool) {
	*budget--
	if depth > maxExpandDepth || *budget < 0 {
		return s, false
	}
	if !strings.Contains(s, "%") {
		return s, true
	}
	var b strings.Builder
	ok := true
	for i := 0; i < len(s); i++ {
		if b.Len() > maxExpandLen {
			return b.String(), false
		}
		c := s[i]
		if c != '%' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		n := s[i+1]
		switch {
		case n == '%':
			b.WriteByte('%')
			i++
		case n == '(' || n == '[':
			// Shell or expression expansion: never evaluated.
			end := matchClose(s, i+1)
			b.WriteString(s[i:end])
			i = end - 1
			ok = false
		case n == '{':
			end := matchClose(s, i+1)
			if end > len(s) || s[end-1] != '}' {
				b.WriteString(s[i:])
				return b.String(), false
			}
			v, vok := m.braced(s[i+2:end-1], depth, budget)
			b.WriteString(v)
			ok = ok && vok
			i = end - 1
		case isIdentStart(n) || n == '?' || n == '!':
			j := i + 1
			for j < len(s) && (s[j] == '?' || s[j] == '!') {
				j++
			}
			k := j
			for k < len(s) && isIdent(s[k]) {
				k++
			}
			if k == j {
				b.WriteByte(c)
				continue
			}
			v, vok := m.braced(s[i+1:k], depth, budget)
			b.WriteString(v)
			ok = ok && vok
			i = k - 1
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), ok
}

// braced expands the inside of %{…}: name, ?name, !?name, ?name:alt,
// !?name:alt, with name / without name.
func (m Macros) braced(in string, depth int, budget *int) (string, bool) {
	neg, cond := false, false
	for len(in) > 0 && (in[0] == '!' || in[0] == '?') {
		if in[0] == '!' {
			neg = true
		} else {
			cond = true
		}
		in = in[1:]
	}
	name, alt, hasAlt := in, "", false
	if i := strings.IndexByte(in, ':'); i >= 0 {
		name, alt, hasAlt = in[:i], in[i+1:], true
	}
	if f := strings.Fields(name); len(f) == 2 && !cond && (f[0] == "with" || f[0] == "without") {
		_, def := m["with_"+f[1]]
		if def == (f[0] == "with") {
			return "1", true
		}
		return "0", true
	}
	body, defined := m[name]
	if cond {
		if defined == neg {
			return "", true
		}
		if hasAlt {
			return m.expand(alt, depth+1, budget)
		}
		return m.expand(body, depth+1, budget)
	}
	if !defined {
		return "%{" + in + "}", false
	}
	return m.expand(body, depth+1, budget)
}

// matchClose returns the index just past the bracket that closes the one
// at s[open] ('{', '(' or '['), or len(s) if it is unclosed.
func matchClose(s string, open int) int {
	var closer byte
	switch s[open] {
	case '{':
		closer = '}'
	case '(':
		closer = ')'
	default:
		closer = ']'
	}
	depth := 0
	for i := open; i < len(s); i++ {
		switch s[i] {
		case s[open]:
			depth++
		case closer:
			depth--
			if depth == 0 {
				return i + 1
			}
		}
	}
	return len(s)
}

func isIdentStart(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isIdent(c byte) bool      { return isIdentStart(c) || c >= '0' && c <= '9' }
