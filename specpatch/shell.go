package specpatch

import (
	"regexp"
	"strings"
)

// Token is one shell word (or operator) of a physical line. Start and End
// are byte offsets in the line, so an edit can replace exactly one word.
type Token struct {
	Line       int // physical line index
	Start, End int
	Raw        string
	Value      string // with quotes removed
	Op         bool   // ; && || | > >> ( )
}

// tokenize splits one physical line into shell words. It stops at an
// unquoted comment and drops a trailing continuation backslash. It is an
// approximation of the shell grammar, enough to find commands and options.
func tokenize(text string, line int) []Token {
	var out []Token
	i := 0
	for i < len(text) {
		c := text[i]
		if c == ' ' || c == '\t' {
			i++
			continue
		}
		if c == '#' {
			break
		}
		if c == '\\' && i == len(text)-1 {
			break
		}
		if op := opAt(text, i); op != "" {
			out = append(out, Token{Line: line, Start: i, End: i + len(op), Raw: op, Value: op, Op: true})
			i += len(op)
			continue
		}
		start := i
		var val strings.Builder
	word:
		for i < len(text) {
			c := text[i]
			switch {
			case c == ' ' || c == '\t':
				break word
			case opAt(text, i) != "" && !(c == '(' && i > start && text[i-1] == '='):
				break word
			case c == '\'':
				j := strings.IndexByte(text[i+1:], '\'')
				if j < 0 {
					val.WriteString(text[i+1:])
					i = len(text)
					break word
				}
				val.WriteString(text[i+1 : i+1+j])
				i += j + 2
			case c == '"':
				j := i + 1
				for j < len(text) && text[j] != '"' {
					if text[j] == '\\' && j+1 < len(text) {
						j++
					}
					j++
				}
				val.WriteString(text[i+1 : min(j, len(text))])
				i = min(j+1, len(text))
			case c == '$' && i+1 < len(text) && (text[i+1] == '(' || text[i+1] == '{'):
				end := matchClose(text, i+1)
				val.WriteString(text[i:end])
				i = end
			case c == '%' && i+1 < len(text) && (text[i+1] == '(' || text[i+1] == '{'):
				end := matchClose(text, i+1)
				val.WriteString(text[i:end])
				i = end
			case c == '\\' && i+1 < len(text):
				val.WriteByte(text[i+1])
				i += 2
			default:
				val.WriteByte(c)
				i++
			}
		}
		if i > start {
			out = append(out, Token{Line: line, Start: start, End: i, Raw: text[start:i], Value: val.String()})
		} else {
			i++ // never loop without progress
		}
	}
	return out
}

func opAt(s string, i int) string {
	for _, op := range []string{"&&", "||", ">>", ";", "|", ">", "(", ")", "&"} {
		if strings.HasPrefix(s[i:], op) {
			return op
		}
	}
	return ""
}

// words returns the tokens of a logical line, in order.
func (s *Spec) words(ll LogicalLine) []Token {
	var out []Token
	for _, i := range ll.Lines {
		out = append(out, tokenize(s.Lines[i].Text, i)...)
	}
	return out
}

// commands splits a logical line's tokens into simple commands at ; && ||
// | and ( ).
func commands(toks []Token) [][]Token {
	var out [][]Token
	var cur []Token
	for _, t := range toks {
		if t.Op && t.Raw != ">" && t.Raw != ">>" {
			if len(cur) > 0 {
				out = append(out, cur)
			}
			cur = nil
			continue
		}
		cur = append(cur, t)
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// commandWord returns the index of the command name in a simple command,
// skipping leading VAR=value assignments, or -1.
func commandWord(cmd []Token) int {
	for i, t := range cmd {
		if t.Op {
			return -1
		}
		if eq := strings.IndexByte(t.Raw, '='); eq > 0 && isShellName(t.Raw[:eq]) {
			continue
		}
		return i
	}
	return -1
}

func isShellName(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isIdent(s[i]) {
			return false
		}
	}
	return s != "" && !(s[0] >= '0' && s[0] <= '9')
}

// sedCmd is one command of a sed script: s, d, or a.
type sedCmd struct {
	addr   *regexp.Regexp
	last   bool // the $ address
	op     byte
	re     *regexp.Regexp
	repl   string
	global bool
	text   string
}

// parseSed reads a sed script of s///, d and a commands with an optional
// /regex/ or $ address. ok is false for anything else: the caller then
// treats the command's effect as unknown.
func parseSed(script string, ere bool) ([]sedCmd, bool) {
	var cmds []sedCmd
	s := script
	for {
		s = strings.TrimLeft(s, " \t\n;")
		if s == "" {
			return cmds, true
		}
		var c sedCmd
		switch s[0] {
		case '/':
			re, rest, ok := sedDelimited(s[1:], '/')
			if !ok {
				return nil, false
			}
			rx, err := compileSedRegex(re, ere)
			if err != nil {
				return nil, false
			}
			c.addr, s = rx, strings.TrimLeft(rest, " \t")
		case '$':
			c.last, s = true, strings.TrimLeft(s[1:], " \t")
		}
		if s == "" {
			return nil, false
		}
		c.op = s[0]
		s = s[1:]
		switch c.op {
		case 'd':
		case 'a':
			text := strings.TrimLeft(s, " \t")
			text = strings.TrimPrefix(text, "\\")
			if i := strings.IndexByte(text, '\n'); i >= 0 {
				text, s = text[:i], text[i:]
			} else {
				s = ""
			}
			c.text = strings.TrimLeft(text, " \t")
		case 's':
			if s == "" {
				return nil, false
			}
			delim := s[0]
			re, rest, ok := sedDelimited(s[1:], delim)
			if !ok {
				return nil, false
			}
			repl, rest, ok := sedDelimited(rest, delim)
			if !ok {
				return nil, false
			}
			rx, err := compileSedRegex(re, ere)
			if err != nil {
				return nil, false
			}
			c.re, c.repl = rx, repl
			for rest != "" && rest[0] != ';' && rest[0] != '\n' && rest[0] != '}' {
				switch rest[0] {
				case 'g':
					c.global = true
				case ' ', '\t', 'p', 'I', 'i', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
				default:
					return nil, false
				}
				rest = rest[1:]
			}
			s = rest
		default:
			return nil, false
		}
		cmds = append(cmds, c)
	}
}

// sedDelimited reads up to an unescaped delim; `\delim` becomes delim.
func sedDelimited(s string, delim byte) (body, rest string, ok bool) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			if s[i+1] == delim {
				b.WriteByte(delim)
			} else {
				b.WriteByte('\\')
				b.WriteByte(s[i+1])
			}
			i++
			continue
		}
		if s[i] == delim {
			return b.String(), s[i+1:], true
		}
		b.WriteByte(s[i])
	}
	return "", "", false
}

// compileSedRegex turns a POSIX BRE or ERE into a Go regexp.
func compileSedRegex(re string, ere bool) (*regexp.Regexp, error) {
	if !ere {
		var b strings.Builder
		for i := 0; i < len(re); i++ {
			c := re[i]
			if c == '\\' && i+1 < len(re) {
				n := re[i+1]
				switch n {
				case '(', ')', '{', '}', '+', '?', '|':
					b.WriteByte(n)
				default:
					b.WriteByte('\\')
					b.WriteByte(n)
				}
				i++
				continue
			}
			switch c {
			case '(', ')', '{', '}', '+', '?', '|':
				b.WriteByte('\\')
			}
			b.WriteByte(c)
		}
		re = b.String()
	}
	return regexp.Compile(re)
}

// sedValue simulates a sed script on the .config line of key with value v
// ("" = the key is absent) and returns the key's value afterwards.
func sedValue(cmds []sedCmd, key, v string) string {
	line, present := key+"="+v, v != ""
	var appended []string
	for _, c := range cmds {
		if c.op == 'a' {
			// $a and /re/a append once to the file; with no address,
			// after every line, which still defines the key.
			if c.last || c.addr == nil || (present && c.addr.MatchString(line)) {
				appended = append(appended, c.text)
			}
			continue
		}
		if !present || (c.addr != nil && !c.addr.MatchString(line)) || c.last {
			continue
		}
		switch c.op {
		case 'd':
			present = false
		case 's':
			line = sedSubst(c, line)
		}
	}
	val := ""
	if present {
		if k, v, ok := strings.Cut(line, "="); ok && k == key {
			val = v
		}
	}
	for _, a := range appended {
		if k, v, ok := strings.Cut(a, "="); ok && k == key {
			val = v
		}
	}
	return val
}

func sedSubst(c sedCmd, line string) string {
	n := 1
	if c.global {
		n = -1
	}
	var b strings.Builder
	pos := 0
	for _, m := range c.re.FindAllStringSubmatchIndex(line, n) {
		b.WriteString(line[pos:m[0]])
		for i := 0; i < len(c.repl); i++ {
			ch := c.repl[i]
			switch {
			case ch == '\\' && i+1 < len(c.repl) && c.repl[i+1] >= '0' && c.repl[i+1] <= '9':
				g := int(c.repl[i+1] - '0')
				if 2*g+1 < len(m) && m[2*g] >= 0 {
					b.WriteString(line[m[2*g]:m[2*g+1]])
				}
				i++
			case ch == '\\' && i+1 < len(c.repl):
				b.WriteByte(c.repl[i+1])
				i++
			case ch == '&':
				b.WriteString(line[m[0]:m[1]])
			default:
				b.WriteByte(ch)
			}
		}
		pos = m[1]
	}
	b.WriteString(line[pos:])
	return b.String()
}
