package libconfig

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"path"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The grammar and token rules follow libconfig's scanner.l and grammar.y
// (1.5, as Debian ships it, and 1.7): a hand-written lexer and a recursive
// descent parser over the same language, with positions for every value.

// Limits that keep hostile input from exhausting the stack or looping.
const (
	// libconfig's own MAX_INCLUDE_DEPTH.
	maxIncludeDepth = 10
	// libconfig has no nesting limit of its own (bison stops at 10000
	// states); this one is far beyond any real configuration.
	maxNesting = 256
	// MaxBytes bounds one configuration: the file and everything it
	// includes, together. Real lstack.conf/ltran.conf files are a few kB;
	// without a bound `--config /dev/zero` grew to 10 GB. Documented in
	// docs/host.md.
	MaxBytes = 4 << 20
)

// IncludeReader reads the file an @include directive names. The path is
// already resolved (absolute, or relative to the including file's dir).
type IncludeReader func(path string) ([]byte, error)

// Parse parses src, the contents of the file named file. read
// opens @include files; nil means includes are an error. A syntax error is an
// *Error with the file, line and column.
//
// Relative include paths are resolved against the including file's
// directory. libconfig itself resolves them against the include dir set by
// the application, or the process's working directory when none is set
// (Gazelle sets none); for a file read by a daemon the file's own directory
// is the only sensible guess.
func Parse(file string, src []byte, read IncludeReader) (*Config, error) {
	cfg, _, err := parse(file, src, read)
	return cfg, err
}

// parse is Parse that also returns the parser, whose counters the tests
// read.
func parse(file string, src []byte, read IncludeReader) (*Config, *lcParser, error) {
	p := &lcParser{read: read}
	if len(src) > MaxBytes {
		return nil, p, errAt(Pos{File: file, Line: 1, Col: 1}, "%s", tooBig(len(src)))
	}
	p.lex.push(file, src)
	cfg := &Config{File: file, Files: []string{file}}
	root := &Value{Kind: Group, Pos: Pos{File: file, Line: 1, Col: 1}}
	if err := p.settings(root, lcEOF); err != nil {
		return nil, p, err
	}
	cfg.Files = p.lex.files
	cfg.Root = root
	return cfg, p, nil
}

func tooBig(n int) string {
	return fmt.Sprintf("configuration too large: %d bytes or more with its includes, the limit is %d (%d MiB)",
		n, MaxBytes, MaxBytes>>20)
}

type lcTokKind int

const (
	lcEOF lcTokKind = iota
	lcName
	lcEquals
	lcComma
	lcSemicolon
	lcGroupStart
	lcGroupEnd
	lcArrayStart
	lcArrayEnd
	lcListStart
	lcListEnd
	lcBool
	lcInt
	lcInt64
	lcHex
	lcHex64
	lcFloat
	lcString
)

func (k lcTokKind) String() string {
	switch k {
	case lcEOF:
		return "end of file"
	case lcName:
		return "name"
	case lcEquals:
		return "'=' or ':'"
	case lcComma:
		return "','"
	case lcSemicolon:
		return "';'"
	case lcGroupStart:
		return "'{'"
	case lcGroupEnd:
		return "'}'"
	case lcArrayStart:
		return "'['"
	case lcArrayEnd:
		return "']'"
	case lcListStart:
		return "'('"
	case lcListEnd:
		return "')'"
	case lcBool:
		return "boolean"
	case lcInt, lcInt64, lcHex, lcHex64:
		return "integer"
	case lcFloat:
		return "float"
	case lcString:
		return "string"
	}
	return "token"
}

type lcToken struct {
	kind lcTokKind
	pos  Pos
	text string // source text; for strings the decoded value
	str  string
}

func (t lcToken) describe() string {
	switch t.kind {
	case lcEOF:
		return "end of file"
	case lcString:
		return "string " + strconv.Quote(t.str)
	case lcName:
		return "name " + strconv.Quote(t.text)
	}
	return strconv.Quote(t.text)
}

type lcSource struct {
	file      string
	src       []byte
	off       int
	line      int
	lineStart int

	// The column of colOff, counted once: a token's column continues from
	// the previous token's instead of from the line's start, which made a
	// long line quadratic (a 200 kB one-line file took 8 s).
	colOff, col int
	colWork     *int // bytes examined for columns, for the linearity test
}

func (s *lcSource) pos(off int) Pos {
	if s.colOff < s.lineStart || off < s.colOff {
		s.colOff, s.col = s.lineStart, 1
	}
	if off > len(s.src) {
		off = len(s.src)
	}
	if off > s.colOff {
		s.col += utf8.RuneCount(s.src[s.colOff:off])
		*s.colWork += off - s.colOff
		s.colOff = off
	}
	return Pos{File: s.file, Line: s.line, Col: s.col}
}

// lcLexer is a stack of sources: @include pushes the included file, its end
// pops back, as libconfig's scanner switches flex buffers.
type lcLexer struct {
	stack   []*lcSource
	files   []string
	bytes   int // read so far, includes too, against MaxBytes
	colWork int
}

func (l *lcLexer) push(file string, src []byte) {
	l.stack = append(l.stack, &lcSource{file: file, src: src, line: 1, col: 1, colWork: &l.colWork})
	l.files = append(l.files, file)
	l.bytes += len(src)
}

func errAt(p Pos, format string, args ...any) *Error {
	return &Error{Pos: p, Msg: fmt.Sprintf(format, args...)}
}

func isNameStart(c byte) bool {
	return c == '*' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
}

func isNameChar(c byte) bool {
	return isNameStart(c) || c == '-' || c == '_' || (c >= '0' && c <= '9')
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isHexDigit(c byte) bool {
	return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// next returns the next token, following includes.
func (l *lcLexer) next(read IncludeReader) (lcToken, error) {
	for {
		if len(l.stack) == 0 {
			return lcToken{kind: lcEOF}, nil
		}
		s := l.stack[len(l.stack)-1]
		tok, inc, err := s.scan()
		if err != nil {
			return tok, err
		}
		if inc != "" {
			if err := l.include(s, tok.pos, inc, read); err != nil {
				return tok, err
			}
			continue
		}
		if tok.kind == lcEOF && len(l.stack) > 1 {
			l.stack = l.stack[:len(l.stack)-1]
			continue
		}
		return tok, nil
	}
}

func (l *lcLexer) include(from *lcSource, at Pos, name string, read IncludeReader) error {
	if read == nil {
		return errAt(at, "cannot open include file %q: includes are not allowed here", name)
	}
	if len(l.stack) > maxIncludeDepth {
		return errAt(at, "include file nesting too deep (more than %d levels)", maxIncludeDepth)
	}
	p := name
	if !path.IsAbs(p) {
		p = path.Join(path.Dir(from.file), p)
	}
	p = path.Clean(p)
	for _, s := range l.stack {
		if path.Clean(s.file) == p {
			chain := make([]string, 0, len(l.stack)+1)
			for _, s := range l.stack {
				chain = append(chain, s.file)
			}
			return errAt(at, "include cycle: %s -> %s", strings.Join(chain, " -> "), p)
		}
	}
	src, err := read(p)
	if err != nil {
		why := err.Error()
		if errors.Is(err, fs.ErrNotExist) {
			why = "no such file"
		}
		return errAt(at, "cannot open include file %q: %s", p, why)
	}
	if l.bytes+len(src) > MaxBytes {
		return errAt(at, "include file %q: %s", p, tooBig(l.bytes+len(src)))
	}
	l.push(p, src)
	return nil
}

// scan returns the next token of this source. When it meets an @include
// directive it returns the file name in inc instead.
func (s *lcSource) scan() (tok lcToken, inc string, err error) {
	src := s.src
	for s.off < len(src) {
		c := src[s.off]
		switch {
		case c == '\n':
			s.off++
			s.line++
			s.lineStart = s.off
			continue
		case c == ' ' || c == '\t' || c == '\r' || c == '\f':
			s.off++
			continue
		case c == '#' || (c == '/' && s.off+1 < len(src) && src[s.off+1] == '/'):
			for s.off < len(src) && src[s.off] != '\n' {
				s.off++
			}
			continue
		case c == '/' && s.off+1 < len(src) && src[s.off+1] == '*':
			// An unterminated block comment runs to the end of the file
			// without an error, as in libconfig.
			s.off += 2
			for s.off < len(src) {
				if src[s.off] == '*' && s.off+1 < len(src) && src[s.off+1] == '/' {
					s.off += 2
					break
				}
				if src[s.off] == '\n' {
					s.line++
					s.lineStart = s.off + 1
				}
				s.off++
			}
			continue
		}
		break
	}
	start := s.off
	p := s.pos(start)
	tok = lcToken{pos: p}
	if s.off >= len(src) {
		tok.kind = lcEOF
		return tok, "", nil
	}
	c := src[s.off]
	single := func(k lcTokKind) (lcToken, string, error) {
		s.off++
		tok.kind = k
		tok.text = string(c)
		return tok, "", nil
	}
	switch c {
	case '=', ':':
		return single(lcEquals)
	case ',':
		return single(lcComma)
	case ';':
		return single(lcSemicolon)
	case '{':
		return single(lcGroupStart)
	case '}':
		return single(lcGroupEnd)
	case '[':
		return single(lcArrayStart)
	case ']':
		return single(lcArrayEnd)
	case '(':
		return single(lcListStart)
	case ')':
		return single(lcListEnd)
	case '"':
		str, err := s.scanString(p)
		tok.kind = lcString
		tok.str = str
		tok.text = string(src[start:s.off])
		return tok, "", err
	case '@':
		name, ok, err := s.scanInclude(p)
		if err != nil {
			return tok, "", err
		}
		if ok {
			return tok, name, nil
		}
	}
	if isNameStart(c) {
		for s.off < len(src) && isNameChar(src[s.off]) {
			s.off++
		}
		tok.text = string(src[start:s.off])
		tok.kind = lcName
		switch strings.ToLower(tok.text) {
		case "true":
			tok.kind = lcBool
		case "false":
			tok.kind = lcBool
		}
		return tok, "", nil
	}
	if n, kind := scanNumber(src[start:]); n > 0 {
		s.off += n
		tok.kind = kind
		tok.text = string(src[start:s.off])
		return tok, "", nil
	}
	r, _ := utf8.DecodeRune(src[start:])
	return tok, "", errAt(p, "unexpected character %q", r)
}

// scanString reads a double-quoted string with libconfig's escapes: \n \r
// \t \f \\ \" \xHH; any other backslash stays a literal backslash.
func (s *lcSource) scanString(start Pos) (string, error) {
	src := s.src
	s.off++ // opening quote
	var b strings.Builder
	for s.off < len(src) {
		c := src[s.off]
		switch c {
		case '"':
			s.off++
			return b.String(), nil
		case '\n':
			s.line++
			s.lineStart = s.off + 1
			b.WriteByte(c)
			s.off++
		case '\\':
			if s.off+1 >= len(src) {
				b.WriteByte('\\')
				s.off++
				continue
			}
			switch e := src[s.off+1]; e {
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case 'f':
				b.WriteByte('\f')
			case '\\':
				b.WriteByte('\\')
			case '"':
				b.WriteByte('"')
			case 'x', 'X':
				if s.off+3 < len(src) && isHexDigit(src[s.off+2]) && isHexDigit(src[s.off+3]) {
					v, _ := strconv.ParseUint(string(src[s.off+2:s.off+4]), 16, 8)
					// libconfig 1.5 appends the byte as a C string: a \x00
					// escape adds nothing.
					if v != 0 {
						b.WriteByte(byte(v))
					}
					s.off += 4
					continue
				}
				b.WriteByte('\\')
				s.off++
				continue
			default:
				b.WriteByte('\\')
				s.off++
				continue
			}
			s.off += 2
		default:
			b.WriteByte(c)
			s.off++
		}
	}
	return "", errAt(start, "unterminated string (missing closing '\"')")
}

// scanInclude reads `@include "file"`. libconfig only recognises it at the
// start of a line (after blanks); elsewhere '@' is a stray character.
func (s *lcSource) scanInclude(at Pos) (string, bool, error) {
	src := s.src
	// Backwards over the blanks only: scanning from the line's start would
	// cost the whole line.
	for i := s.off - 1; i >= s.lineStart; i-- {
		if src[i] != ' ' && src[i] != '\t' {
			return "", false, nil
		}
	}
	rest := src[s.off:]
	if !strings.HasPrefix(string(rest[:min(len(rest), 8)]), "@include") {
		return "", false, nil
	}
	i := 8
	n := 0
	for i < len(rest) && (rest[i] == ' ' || rest[i] == '\t') {
		i++
		n++
	}
	if n == 0 || i >= len(rest) || rest[i] != '"' {
		return "", false, errAt(at, `expected @include "file"`)
	}
	i++
	var b strings.Builder
	for i < len(rest) {
		c := rest[i]
		if c == '"' {
			s.off += i + 1
			if b.Len() == 0 {
				return "", false, errAt(at, "@include with an empty file name")
			}
			return b.String(), true, nil
		}
		if c == '\n' {
			break
		}
		if c == '\\' && i+1 < len(rest) && (rest[i+1] == '\\' || rest[i+1] == '"') {
			b.WriteByte(rest[i+1])
			i += 2
			continue
		}
		b.WriteByte(c)
		i++
	}
	return "", false, errAt(at, "unterminated @include file name")
}

// scanNumber returns the length and kind of the longest number token at the
// start of b, using libconfig's token rules (flex picks the longest match):
//
//	integer   [-+]?[0-9]+          integer64 [-+]?[0-9]+L(L)?
//	hex       0[Xx][0-9A-Fa-f]+    hex64     0[Xx][0-9A-Fa-f]+L(L)?
//	float     [-+]?[0-9]*\.[0-9]*([eE][-+]?[0-9]+)? | [-+]?[0-9]+(\.[0-9]*)?[eE][-+]?[0-9]+
func scanNumber(b []byte) (int, lcTokKind) {
	best, kind := 0, lcEOF
	consider := func(n int, k lcTokKind) {
		if n > best {
			best, kind = n, k
		}
	}
	digits := func(i int) int {
		for i < len(b) && isDigit(b[i]) {
			i++
		}
		return i
	}
	longSuffix := func(i int) int {
		if i < len(b) && b[i] == 'L' {
			i++
			if i < len(b) && b[i] == 'L' {
				i++
			}
		}
		return i
	}
	exponent := func(i int) int { // returns i unchanged when no valid exponent
		if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
			j := i + 1
			if j < len(b) && (b[j] == '+' || b[j] == '-') {
				j++
			}
			if k := digits(j); k > j {
				return k
			}
		}
		return i
	}
	if len(b) > 2 && b[0] == '0' && (b[1] == 'x' || b[1] == 'X') && isHexDigit(b[2]) {
		i := 2
		for i < len(b) && isHexDigit(b[i]) {
			i++
		}
		consider(i, lcHex)
		if j := longSuffix(i); j > i {
			consider(j, lcHex64)
		}
	}
	i := 0
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		i++
	}
	d := digits(i)
	if d > i {
		consider(d, lcInt)
		if j := longSuffix(d); j > d {
			consider(j, lcInt64)
		}
		if e := exponent(d); e > d {
			consider(e, lcFloat)
		}
	}
	if d < len(b) && b[d] == '.' {
		f := digits(d + 1)
		consider(exponent(f), lcFloat)
	}
	return best, kind
}

type lcParser struct {
	lex   lcLexer
	read  IncludeReader
	tok   lcToken
	ahead bool
	depth int
}

func (p *lcParser) peek() (lcToken, error) {
	if !p.ahead {
		t, err := p.lex.next(p.read)
		if err != nil {
			return t, err
		}
		p.tok, p.ahead = t, true
	}
	return p.tok, nil
}

func (p *lcParser) take() (lcToken, error) {
	t, err := p.peek()
	p.ahead = false
	return t, err
}

// settings parses settings into g until the token end (EOF or '}').
func (p *lcParser) settings(g *Value, end lcTokKind) error {
	seen := map[string]Pos{}
	for {
		t, err := p.take()
		if err != nil {
			return err
		}
		if t.kind == end {
			return nil
		}
		if t.kind != lcName {
			if end == lcGroupEnd {
				return errAt(t.pos, "expected a setting name or '}', found %s", t.describe())
			}
			return errAt(t.pos, "expected a setting name, found %s", t.describe())
		}
		if first, dup := seen[t.text]; dup {
			return errAt(t.pos, "duplicate setting name %q (first set at %s)", t.text, first)
		}
		seen[t.text] = t.pos
		eq, err := p.take()
		if err != nil {
			return err
		}
		if eq.kind != lcEquals {
			return errAt(eq.pos, "expected '=' or ':' after %q, found %s", t.text, eq.describe())
		}
		v, err := p.value(false)
		if err != nil {
			return err
		}
		g.Settings = append(g.Settings, &Setting{Name: t.text, Pos: t.pos, Value: v})
		term, err := p.peek()
		if err != nil {
			return err
		}
		if term.kind == lcSemicolon || term.kind == lcComma {
			p.ahead = false
		}
	}
}

// value parses one value; scalarOnly is set inside arrays.
func (p *lcParser) value(scalarOnly bool) (*Value, error) {
	t, err := p.take()
	if err != nil {
		return nil, err
	}
	v := &Value{Pos: t.pos}
	switch t.kind {
	case lcBool:
		v.Kind = Bool
		v.Bool = strings.EqualFold(t.text, "true")
	case lcInt:
		n, octal, err := parseCInt(t.text)
		if err != nil {
			return nil, errAt(t.pos, "%v", err)
		}
		v.Kind, v.Int, v.Octal = Int, n, octal
		if n < math.MinInt32 || n > math.MaxInt32 {
			v.Kind = Int64 // libconfig promotes a large int to int64
		}
	case lcInt64:
		n, err := strconv.ParseInt(strings.TrimRight(t.text, "L"), 10, 64)
		if err != nil {
			return nil, errAt(t.pos, "integer %s is out of range", t.text)
		}
		v.Kind, v.Int = Int64, n
	case lcHex, lcHex64:
		u, err := strconv.ParseUint(strings.TrimRight(t.text[2:], "L"), 16, 64)
		if err != nil {
			u = math.MaxUint64 // strtoul saturates, as libconfig does
		}
		v.Hex = true
		if t.kind == lcHex {
			// libconfig stores a plain hex literal in a C int: the high bits
			// are dropped.
			v.Kind, v.Int = Int, int64(int32(uint32(u)))
		} else {
			v.Kind, v.Int = Int64, int64(u)
		}
	case lcFloat:
		v.Kind = Float
		v.Float = parseCFloat(t.text)
	case lcString:
		v.Kind = String
		var b strings.Builder
		b.WriteString(t.str)
		for { // adjacent strings are concatenated
			n, err := p.peek()
			if err != nil {
				return nil, err
			}
			if n.kind != lcString {
				break
			}
			p.ahead = false
			b.WriteString(n.str)
		}
		v.Str = b.String()
	case lcArrayStart, lcListStart, lcGroupStart:
		if scalarOnly {
			return nil, errAt(t.pos, "an array holds only scalar values, found %s", t.describe())
		}
		if p.depth >= maxNesting {
			return nil, errAt(t.pos, "values nested more than %d deep", maxNesting)
		}
		p.depth++
		defer func() { p.depth-- }()
		switch t.kind {
		case lcArrayStart:
			v.Kind = Array
			return v, p.elems(v, lcArrayEnd, true)
		case lcListStart:
			v.Kind = List
			return v, p.elems(v, lcListEnd, false)
		default:
			v.Kind = Group
			return v, p.settings(v, lcGroupEnd)
		}
	default:
		return nil, errAt(t.pos, "expected a value, found %s", t.describe())
	}
	return v, nil
}

// elems parses the comma-separated elements of an array or list.
func (p *lcParser) elems(v *Value, end lcTokKind, array bool) error {
	t, err := p.peek()
	if err != nil {
		return err
	}
	if t.kind == end {
		p.ahead = false
		return nil
	}
	for {
		e, err := p.value(array)
		if err != nil {
			return err
		}
		if array && len(v.Elems) > 0 && v.Elems[0].Kind != e.Kind {
			return errAt(e.Pos, "mismatched element type in array: %s after %s", e.Kind, v.Elems[0].Kind)
		}
		v.Elems = append(v.Elems, e)
		t, err := p.take()
		if err != nil {
			return err
		}
		if t.kind == end {
			return nil
		}
		if t.kind != lcComma {
			return errAt(t.pos, "expected ',' or %s, found %s", end, t.describe())
		}
	}
}

// parseCInt converts an integer token as libconfig 1.7 does (strtoll with
// base 0): a leading 0 makes it octal, so "010" is 8 and "09" is an error.
// libconfig 1.5 read it as decimal; Gazelle's platforms ship 1.7.
func parseCInt(s string) (n int64, octal bool, err error) {
	digits := strings.TrimLeft(s, "+-")
	base := 10
	if len(digits) > 1 && digits[0] == '0' {
		base, octal = 8, true
	}
	n, err = strconv.ParseInt(s, base, 64)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && ne.Err == strconv.ErrRange {
			return 0, octal, fmt.Errorf("integer %s is out of range", s)
		}
		return 0, octal, fmt.Errorf("integer %s is not valid: a leading 0 makes libconfig read it as octal", s)
	}
	return n, octal, nil
}

// parseCFloat converts a float token as C's atof does: a token that is only
// a sign and a dot ("." or "-.") is zero.
func parseCFloat(s string) float64 {
	f, err := strconv.ParseFloat(s, 64)
	if err == nil {
		return f
	}
	var ne *strconv.NumError
	if errors.As(err, &ne) && ne.Err == strconv.ErrRange {
		return f // ±Inf or 0, as atof gives
	}
	// The mantissa has no digits; an exponent then means nothing either.
	return 0
}
