// Package specpatch reads RPM dpdk.spec files and patches them so that DPDK
// builds and packages the pcap PMD and dpdk-pdump, with the smallest edit
// each build style allows.
package specpatch

import (
	"fmt"
	"strings"
)

// Line is one physical line of a spec with its exact bytes: Text without the
// line ending, EOL the ending ("\n", "\r\n", or "" for a last line without
// one). Text+EOL of every line, in order, is the file.
type Line struct {
	Text string
	EOL  string
}

// Branch is one arm of a conditional block: the %if… arm (Index 0) or an
// %elif…/%else arm.
type Branch struct {
	Block     int    // block number, shared by the arms of one %if…%endif
	Index     int    // 0 for the %if arm, 1… for %elif/%else arms
	Directive string // the directive line of this arm, trimmed ("%ifarch aarch64", "%else")
	Opening   string // the block's opening directive, trimmed
	Line      int    // index of the directive line
}

// Describe names the arm for messages: "%ifarch aarch64" or
// "%else of %ifarch aarch64".
func (b Branch) Describe() string {
	if b.Index == 0 {
		return b.Directive
	}
	return b.Directive + " of " + b.Opening
}

// Section is a part of the spec: the preamble (Header -1) or a part that
// starts with a section header such as %build or %files -n foo.
type Section struct {
	Name    string // "preamble", "package", "description", "prep", "build", "install", "files", "changelog", scriptlet names…
	Args    string // the header's text after the keyword, trimmed
	Package string // "" for the main package, "tools" for %files tools, the full name for -n
	Header  int    // index of the header line, -1 for the preamble
	Start   int    // first content line
	End     int    // one past the last content line
}

// Tag is a preamble or %package tag such as "BuildRequires: libpcap-devel".
type Tag struct {
	Line    int
	Name    string // lower case
	Value   string // trimmed
	Section int
}

// MacroDef is a %define or %global (or %bcond) definition.
type MacroDef struct {
	Line int
	Name string
	Body string // first line's body; continuation lines joined with "\n"
}

// LogicalLine is one shell command line: physical lines joined at trailing
// backslashes, with RPM conditional lines (which RPM removes before the
// shell runs) left out.
type LogicalLine struct {
	Lines   []int // physical line indexes, conditional directives excluded
	Text    string
	Comment bool // starts with '#'
}

type lineInfo struct {
	section   int
	node      int // innermost conditional arm (index into Spec.nodes), -1 outside any
	depth     int
	directive bool // a conditional directive (%if, %else, %endif…)
	macroBody bool // a continuation line of a multi-line %define/%global
}

// Spec is a parsed spec file. It never changes after Parse; edits are
// planned as a list and applied to a copy of Lines.
type Spec struct {
	Lines    []Line
	Sections []Section
	Branches []Branch
	Tags     []Tag
	Macros   []MacroDef
	info     []lineInfo
	nodes    []condNode            // arms as a tree, so deep nesting costs one int per line
	logical  map[int][]LogicalLine // per section index
}

type condNode struct {
	branch, parent, depth int
}

// ParseError is bad input: not a spec, unbalanced conditionals.
type ParseError struct {
	Line int // 1-based, 0 when not about one line
	Msg  string
}

func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
	}
	return e.Msg
}

// maxLines bounds what Parse accepts; real specs have a few thousand lines.
const maxLines = 1 << 20

// sectionNames are RPM's part keywords (build/parseSpec.c).
var sectionNames = map[string]bool{
	"package": true, "description": true, "prep": true, "build": true, "install": true,
	"check": true, "clean": true, "files": true, "changelog": true, "conf": true,
	"generate_buildrequires": true, "sourcelist": true, "patchlist": true, "sepolicy": true,
	"pre": true, "post": true, "preun": true, "postun": true, "pretrans": true, "posttrans": true,
	"preuntrans": true, "postuntrans": true, "verifyscript": true,
	"triggerprein": true, "triggerin": true, "triggerun": true, "triggerpostun": true,
	"filetriggerin": true, "filetriggerun": true, "filetriggerpostun": true,
	"transfiletriggerin": true, "transfiletriggerun": true, "transfiletriggerpostun": true,
}

// scriptSections hold shell code.
var scriptSections = map[string]bool{
	"prep": true, "build": true, "install": true, "check": true, "clean": true, "conf": true,
	"generate_buildrequires": true, "pre": true, "post": true, "preun": true, "postun": true,
	"pretrans": true, "posttrans": true, "preuntrans": true, "postuntrans": true, "verifyscript": true,
	"triggerprein": true, "triggerin": true, "triggerun": true, "triggerpostun": true,
	"filetriggerin": true, "filetriggerun": true, "filetriggerpostun": true,
	"transfiletriggerin": true, "transfiletriggerun": true, "transfiletriggerpostun": true,
}

// SplitLines splits data into lines keeping each line's ending.
func SplitLines(data []byte) []Line {
	s := string(data)
	var lines []Line
	for len(s) > 0 {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			lines = append(lines, Line{Text: s})
			break
		}
		text, eol := s[:i], "\n"
		if strings.HasSuffix(text, "\r") {
			text, eol = text[:len(text)-1], "\r\n"
		}
		lines = append(lines, Line{Text: text, EOL: eol})
		s = s[i+1:]
	}
	return lines
}

// JoinLines is the inverse of SplitLines.
func JoinLines(lines []Line) []byte {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l.Text)
		b.WriteString(l.EOL)
	}
	return []byte(b.String())
}

// condKeyword returns the conditional directive keyword of a line ("if",
// "ifarch", "else", "endif"…) or "". RPM accepts them indented.
func condKeyword(text string) string {
	t := strings.TrimLeft(text, " \t")
	if !strings.HasPrefix(t, "%") {
		return ""
	}
	t = t[1:]
	end := 0
	for end < len(t) && t[end] >= 'a' && t[end] <= 'z' {
		end++
	}
	kw := t[:end]
	if end < len(t) && t[end] != ' ' && t[end] != '\t' {
		return ""
	}
	switch kw {
	case "if", "ifarch", "ifnarch", "ifos", "ifnos", "elif", "elifarch", "elifos", "else", "endif":
		return kw
	}
	return ""
}

// sectionHeader returns the keyword and args of a section header line, or
// "" if the line is not one. Headers start in column 0.
func sectionHeader(text string) (name, args string) {
	if !strings.HasPrefix(text, "%") {
		return "", ""
	}
	t := text[1:]
	end := 0
	for end < len(t) && (t[end] >= 'a' && t[end] <= 'z' || t[end] == '_') {
		end++
	}
	kw := t[:end]
	if !sectionNames[kw] || (end < len(t) && t[end] != ' ' && t[end] != '\t') {
		return "", ""
	}
	return kw, strings.TrimSpace(t[end:])
}

// endsWithContinuation reports an odd number of trailing backslashes.
func endsWithContinuation(s string) bool {
	n := 0
	for i := len(s) - 1; i >= 0 && s[i] == '\\'; i-- {
		n++
	}
	return n%2 == 1
}

// Parse reads a spec. It errors on input that is not a spec (no Name tag
// and no section) and on unbalanced conditionals.
func Parse(data []byte) (*Spec, error) {
	if strings.IndexByte(string(data[:min(len(data), 8192)]), 0) >= 0 {
		return nil, &ParseError{Msg: "not an RPM spec: the file is binary"}
	}
	s := &Spec{Lines: SplitLines(data)}
	if len(s.Lines) > maxLines {
		return nil, &ParseError{Msg: fmt.Sprintf("not an RPM spec: %d lines is more than %d", len(s.Lines), maxLines)}
	}
	s.info = make([]lineInfo, len(s.Lines))
	s.Sections = []Section{{Name: "preamble", Header: -1, Start: 0}}
	type open struct {
		block, branch int
		sawElse       bool
	}
	var stack []open
	blocks := 0
	cur := -1 // current node
	push := func(branch, parent int) int {
		d := 1
		if parent >= 0 {
			d = s.nodes[parent].depth + 1
		}
		s.nodes = append(s.nodes, condNode{branch: branch, parent: parent, depth: d})
		return len(s.nodes) - 1
	}
	here := func() lineInfo {
		li := lineInfo{section: len(s.Sections) - 1, node: cur}
		if cur >= 0 {
			li.depth = s.nodes[cur].depth
		}
		return li
	}
	inMacro := false
	for i, l := range s.Lines {
		text := l.Text
		if inMacro {
			s.info[i] = here()
			s.info[i].macroBody = true
			last := &s.Macros[len(s.Macros)-1]
			last.Body += "\n" + text
			inMacro = endsWithContinuation(text)
			continue
		}
		if kw := condKeyword(text); kw != "" {
			directive := strings.TrimSpace(text)
			switch kw {
			case "endif":
				if len(stack) == 0 {
					return nil, &ParseError{Line: i + 1, Msg: "%endif without %if"}
				}
				stack = stack[:len(stack)-1]
				cur = s.nodes[cur].parent
			case "else", "elif", "elifarch", "elifos":
				if len(stack) == 0 {
					return nil, &ParseError{Line: i + 1, Msg: "%" + kw + " without %if"}
				}
				top := &stack[len(stack)-1]
				if top.sawElse {
					return nil, &ParseError{Line: i + 1, Msg: "%" + kw + " after %else"}
				}
				prev := s.Branches[top.branch]
				s.Branches = append(s.Branches, Branch{Block: top.block, Index: prev.Index + 1, Directive: directive, Opening: prev.Opening, Line: i})
				top.branch = len(s.Branches) - 1
				top.sawElse = kw == "else"
				cur = push(top.branch, s.nodes[cur].parent)
			default:
				s.Branches = append(s.Branches, Branch{Block: blocks, Directive: directive, Opening: directive, Line: i})
				stack = append(stack, open{block: blocks, branch: len(s.Branches) - 1})
				blocks++
				cur = push(len(s.Branches)-1, cur)
			}
			s.info[i] = here()
			s.info[i].directive = true
			continue
		}
		if name, args := sectionHeader(text); name != "" {
			s.Sections[len(s.Sections)-1].End = i
			sec := Section{Name: name, Args: args, Header: i, Start: i + 1}
			if name == "files" || name == "package" || name == "description" || scriptSections[name] {
				sec.Package = packageOf(args)
			}
			s.Sections = append(s.Sections, sec)
		}
		secIdx := len(s.Sections) - 1
		s.info[i] = here()
		t := strings.TrimLeft(text, " \t")
		if strings.HasPrefix(t, "%define") || strings.HasPrefix(t, "%global") {
			if d, ok := parseDefine(t); ok {
				d.Line = i
				s.Macros = append(s.Macros, d)
				inMacro = endsWithContinuation(text)
			}
			continue
		}
		if strings.HasPrefix(t, "%bcond") {
			s.Macros = append(s.Macros, parseBcond(t, i)...)
			continue
		}
		if sec := s.Sections[secIdx]; (sec.Name == "preamble" || sec.Name == "package") && i != sec.Header {
			if tag, ok := parseTag(text); ok {
				tag.Line, tag.Section = i, secIdx
				s.Tags = append(s.Tags, tag)
			}
		}
	}
	if len(stack) > 0 {
		b := s.Branches[stack[len(stack)-1].branch]
		return nil, &ParseError{Line: b.Line + 1, Msg: "unclosed " + b.Opening + " (no %endif)"}
	}
	s.Sections[len(s.Sections)-1].End = len(s.Lines)
	if s.Tag("name") == nil && len(s.Sections) == 1 {
		return nil, &ParseError{Msg: "not an RPM spec: found no Name: tag and no section (%prep, %build, %files…)"}
	}
	s.logical = map[int][]LogicalLine{}
	return s, nil
}

// packageOf turns section args ("tools", "-n libfoo", "-f list tools") into
// a package name: "" for the main package.
func packageOf(args string) string {
	f := strings.Fields(args)
	name := ""
	for i := 0; i < len(f); i++ {
		switch {
		case f[i] == "-n" && i+1 < len(f):
			return f[i+1]
		case (f[i] == "-f" || f[i] == "-p") && i+1 < len(f):
			i++
		case strings.HasPrefix(f[i], "-"):
		default:
			if name == "" {
				name = f[i]
			}
		}
	}
	return name
}

func parseDefine(t string) (MacroDef, bool) {
	f := strings.Fields(t)
	if len(f) < 2 || (f[0] != "%define" && f[0] != "%global") {
		return MacroDef{}, false
	}
	name := f[1]
	if i := strings.IndexByte(name, '('); i >= 0 {
		name = name[:i]
	}
	rest := strings.TrimSpace(t[len(f[0]):])
	rest = strings.TrimSpace(rest[len(f[1]):])
	return MacroDef{Name: name, Body: rest}, true
}

func parseBcond(t string, line int) []MacroDef {
	f := strings.Fields(t)
	if len(f) < 2 {
		return nil
	}
	switch f[0] {
	case "%bcond_without":
		return []MacroDef{{Line: line, Name: "with_" + f[1], Body: "1"}}
	case "%bcond":
		if len(f) >= 3 && f[2] != "0" {
			return []MacroDef{{Line: line, Name: "with_" + f[1], Body: "1"}}
		}
	}
	return nil
}

func parseTag(text string) (Tag, bool) {
	i := 0
	for i < len(text) && (text[i] >= 'A' && text[i] <= 'Z' || text[i] >= 'a' && text[i] <= 'z' || i > 0 && text[i] >= '0' && text[i] <= '9') {
		i++
	}
	if i == 0 {
		return Tag{}, false
	}
	name := text[:i]
	j := i
	if j < len(text) && text[j] == '(' {
		k := strings.IndexByte(text[j:], ')')
		if k < 0 {
			return Tag{}, false
		}
		j += k + 1
	}
	for j < len(text) && (text[j] == ' ' || text[j] == '\t') {
		j++
	}
	if j >= len(text) || text[j] != ':' {
		return Tag{}, false
	}
	return Tag{Name: strings.ToLower(name), Value: strings.TrimSpace(text[j+1:])}, true
}

// Tag returns the first tag of that name (lower case) in the main preamble.
func (s *Spec) Tag(name string) *Tag {
	for i := range s.Tags {
		if s.Tags[i].Name == name && s.Tags[i].Section == 0 {
			return &s.Tags[i]
		}
	}
	return nil
}

// SectionsNamed returns the indexes of the sections with that name.
func (s *Spec) SectionsNamed(name string) []int {
	var out []int
	for i, sec := range s.Sections {
		if sec.Name == name {
			out = append(out, i)
		}
	}
	return out
}

// Cond returns the conditional arms a line is inside, outermost first.
func (s *Spec) Cond(line int) []Branch {
	var out []Branch
	for _, b := range s.condStack(line) {
		out = append(out, s.Branches[b])
	}
	return out
}

// condStack returns the branch indexes around a line, outermost first.
func (s *Spec) condStack(line int) []int {
	n := s.info[line].node
	out := make([]int, s.info[line].depth)
	for i := len(out) - 1; i >= 0 && n >= 0; i-- {
		out[i] = s.nodes[n].branch
		n = s.nodes[n].parent
	}
	return out
}

// Depth is how many conditional blocks enclose a line.
func (s *Spec) Depth(line int) int { return s.info[line].depth }

// IsDirective reports a conditional directive line.
func (s *Spec) IsDirective(line int) bool { return s.info[line].directive }

// IsMacroBody reports a continuation line of a multi-line macro definition.
func (s *Spec) IsMacroBody(line int) bool { return s.info[line].macroBody }

// SectionOf returns the index of the section a line is in.
func (s *Spec) SectionOf(line int) int { return s.info[line].section }

// Logical returns the shell command lines of a script section.
func (s *Spec) Logical(sec int) []LogicalLine {
	if ll, ok := s.logical[sec]; ok {
		return ll
	}
	var out []LogicalLine
	S := s.Sections[sec]
	var cur *LogicalLine
	for i := S.Start; i < S.End; i++ {
		if s.info[i].directive {
			continue
		}
		text := s.Lines[i].Text
		if cur == nil {
			t := strings.TrimLeft(text, " \t")
			if s.info[i].macroBody || strings.HasPrefix(t, "%define") || strings.HasPrefix(t, "%global") {
				continue
			}
			out = append(out, LogicalLine{Comment: strings.HasPrefix(t, "#")})
			cur = &out[len(out)-1]
		}
		cur.Lines = append(cur.Lines, i)
		if endsWithContinuation(text) {
			cur.Text += text[:len(text)-1] + " "
			continue
		}
		cur.Text += text
		cur = nil
	}
	s.logical[sec] = out
	return out
}

// Build returns the index of the %build section, or -1.
func (s *Spec) Build() int {
	if b := s.SectionsNamed("build"); len(b) > 0 {
		return b[0]
	}
	return -1
}
