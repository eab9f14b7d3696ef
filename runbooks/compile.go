package runbooks

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"sync"
	"text/template"
	"text/template/parse"
)

// cpattern is a compiled pattern and what it belongs to.
type cpattern struct {
	node     int
	kind     patternKind
	re       *regexp.Regexp
	src      *Pattern
	keyword  string
	requires []ccond
	unless   []ccond
}

type patternKind int

const (
	kindTrigger patternKind = iota
	kindEvidence
	kindSignal
)

// ccond is a Condition with its IDs resolved to node indexes.
type ccond struct {
	any     []int
	where   string
	within  int
	differs string
	same    string
}

// Compiled on first use, like normalize's wrappers.
var (
	idRE    = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`) })
	checkRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^CHK-\d\d$`) })
)

// compileNode checks node i and compiles its patterns. facts is
// factNames(), computed once for all nodes: it compiles every facts
// signal's patterns.
func (c *Catalogue) compileNode(i int, facts []string) []string {
	n := c.nodes[i]
	var problems []string
	bad := func(format string, args ...any) {
		problems = append(problems, fmt.Sprintf("%s: %s: ", n.file(), n.id)+fmt.Sprintf(format, args...))
	}
	if !idRE().MatchString(n.id) {
		bad("id must be kebab-case")
	}
	if s := n.signal; s != nil {
		if s.Title == "" {
			bad("signal needs a title")
		}
		if len(s.Patterns) == 0 {
			bad("signal needs at least one pattern")
		}
		for name, x := range s.Extract {
			if !slices.Contains(normalizers, x.Normalize) {
				bad("extract %s: normalize %q: want one of %q", name, x.Normalize, normalizers)
			}
		}
		for j := range s.Patterns {
			problems = append(problems, c.compilePattern(i, kindSignal, &s.Patterns[j], nil)...)
		}
		return problems
	}
	e := n.entry
	if e.Title == "" {
		bad("title is empty")
	}
	if !slices.Contains(severities, e.Severity) {
		bad("severity %q: want one of %s", e.Severity, strings.Join(severities, ", "))
	}
	if !slices.Contains(sides, e.Side) {
		bad("side %q: want one of %s", e.Side, strings.Join(sides, ", "))
	}
	if !slices.Contains(phases, e.Phase) {
		bad("phase %q: want one of %s", e.Phase, strings.Join(phases, ", "))
	}
	if len(e.Patterns) == 0 {
		bad("needs at least one pattern")
	}
	if strings.TrimSpace(e.Cause) == "" {
		bad("cause is empty")
	}
	if len(e.Fix) == 0 && !e.Benign {
		bad("fix needs at least one step")
	}
	for _, ch := range e.Checks {
		if !checkRE().MatchString(ch) {
			bad("check %q is not a CHK-nn id", ch)
		}
	}
	for name, x := range e.Extract {
		if !slices.Contains(normalizers, x.Normalize) {
			bad("extract %s: normalize %q: want one of %q", name, x.Normalize, normalizers)
		}
		if x.Fact != "" && !slices.Contains(facts, x.Fact) {
			bad("extract %s: fact %q: want one of %q", name, x.Fact, facts)
		}
	}
	for j := range e.Patterns {
		problems = append(problems, c.compilePattern(i, kindTrigger, &e.Patterns[j], e.Extract)...)
	}
	for j := range e.Evidence {
		problems = append(problems, c.compilePattern(i, kindEvidence, &e.Evidence[j], e.Extract)...)
	}
	for _, cond := range append(slices.Clone(e.Requires), e.Unless...) {
		if _, err := c.resolve(cond); err != nil {
			bad("%v", err)
		}
	}
	for _, id := range e.Explains {
		if j, ok := c.byID[id]; !ok || c.nodes[j].entry == nil {
			bad("explains unknown entry %q", id)
		} else if !slices.Contains(c.nodes[i].explains, j) {
			c.nodes[i].explains = append(c.nodes[i].explains, j)
		}
	}
	for _, id := range e.SymptomOf {
		if j, ok := c.byID[id]; !ok || c.nodes[j].entry == nil {
			bad("symptom_of unknown entry %q", id)
		} else if !slices.Contains(c.nodes[j].explains, i) {
			c.nodes[j].explains = append(c.nodes[j].explains, i)
		}
	}
	for _, a := range e.Alternatives {
		if j, ok := c.byID[a.ID]; !ok || c.nodes[j].entry == nil {
			bad("alternative %q is not an entry", a.ID)
		}
		if strings.TrimSpace(a.Tell) == "" {
			bad("alternative %s: say what tells the two apart", a.ID)
		}
	}
	always := alwaysExtracted(e)
	if err := checkTemplate(e.Cause, e.Extract, always); err != nil {
		bad("cause: %v", err)
	}
	for k, st := range e.Fix {
		if st.When != "" && !slices.Contains(stepFacts, st.When) {
			bad("fix step %d: when %q: want one of %q", k+1, st.When, stepFacts)
		}
		for _, text := range []string{st.Text, st.Command} {
			if err := checkTemplate(text, e.Extract, always); err != nil {
				bad("fix step %d: %v", k+1, err)
			}
		}
		if _, err := shellTemplate(st.Command); err != nil {
			bad("fix step %d: command: %v", k+1, err)
		}
	}
	return problems
}

func (c *Catalogue) compilePattern(i int, kind patternKind, p *Pattern, extract map[string]Extraction) []string {
	n := c.nodes[i]
	var problems []string
	bad := func(format string, args ...any) {
		problems = append(problems, fmt.Sprintf("%s: %s: pattern %q: ", n.file(), n.id, p.Regex)+fmt.Sprintf(format, args...))
	}
	re, err := regexp.Compile(p.Regex)
	if err != nil {
		bad("%v", err)
		return problems
	}
	if p.Confidence != "" && !slices.Contains(confidences, p.Confidence) {
		bad("confidence %q: want high, medium or low", p.Confidence)
	}
	for _, name := range re.SubexpNames() {
		if name == "" || kind == kindSignal {
			continue
		}
		if _, ok := extract[name]; !ok {
			bad("group %q is not declared under extract", name)
		}
	}
	if _, err := ToERE(p.Regex); err != nil {
		bad("%v", err)
	}
	kw := p.Keyword
	if kw == "" {
		kw = requiredLiteral(p.Regex)
	} else if !literalRequired(p.Regex, kw) {
		bad("keyword %q is not a literal the regex requires", kw)
	}
	if len(kw) < 4 {
		bad("no literal of 4+ characters the regex always needs; set keyword")
	}
	cp := &cpattern{node: i, kind: kind, re: re, src: p, keyword: kw}
	for _, cond := range p.Requires {
		cc, err := c.resolve(cond)
		if err != nil {
			bad("%v", err)
		}
		cp.requires = append(cp.requires, cc)
	}
	for _, cond := range p.Unless {
		cc, err := c.resolve(cond)
		if err != nil {
			bad("%v", err)
		}
		cp.unless = append(cp.unless, cc)
	}
	c.patterns = append(c.patterns, cp)
	return problems
}

func (c *Catalogue) resolve(cond Condition) (ccond, error) {
	cc := ccond{where: cond.Where, within: cond.Within, differs: cond.Differs, same: cond.Same}
	if len(cond.Any) == 0 {
		return cc, fmt.Errorf("condition names no entry or signal")
	}
	switch cond.Where {
	case "", "before", "after":
	default:
		return cc, fmt.Errorf("condition where %q: want before or after", cond.Where)
	}
	for _, id := range cond.Any {
		j, ok := c.byID[id]
		if !ok {
			return cc, fmt.Errorf("condition names unknown id %q", id)
		}
		cc.any = append(cc.any, j)
	}
	return cc, nil
}

// checkTemplate parses a cause or fix text and makes sure it names only
// declared values, and prints a value with neither default nor unknown
// text only inside {{if .name}}: otherwise a log without it would leave a
// hole in the sentence.
func checkTemplate(text string, extract map[string]Extraction, always []string) error {
	if !strings.Contains(text, "{{") {
		return nil
	}
	t, err := template.New("fix").Option("missingkey=error").Parse(text)
	if err != nil {
		return err
	}
	vals := map[string]string{}
	for k := range extract {
		vals[k] = "x"
	}
	var sb strings.Builder
	if err := t.Execute(&sb, vals); err != nil {
		return err
	}
	var unguarded []string
	walkTemplate(t.Tree.Root, nil, func(name string, guarded bool) {
		x := extract[name]
		if !guarded && x.Default == "" && x.Unknown == "" && !slices.Contains(always, name) && !slices.Contains(unguarded, name) {
			unguarded = append(unguarded, name)
		}
	})
	if len(unguarded) > 0 {
		return fmt.Errorf("prints {{.%s}} outside {{if}}: not every pattern carries it, and it has neither default nor unknown text", strings.Join(unguarded, "}}, {{."))
	}
	return nil
}

// factNames lists the values signals with facts: true capture.
func (c *Catalogue) factNames() []string {
	var out []string
	for _, n := range c.nodes {
		if n.signal == nil || !n.signal.Facts {
			continue
		}
		for _, p := range n.signal.Patterns {
			re, err := regexp.Compile(p.Regex)
			if err != nil {
				continue // reported with the signal
			}
			for _, name := range re.SubexpNames() {
				if name != "" && !slices.Contains(out, name) {
					out = append(out, name)
				}
			}
		}
	}
	out = append(out, contextFacts...)
	slices.Sort(out)
	return out
}

// alwaysExtracted lists the values every trigger pattern of e captures
// whenever it matches: a finding always has them.
func alwaysExtracted(e *Entry) []string {
	var out []string
	for i, p := range e.Patterns {
		r, err := syntax.Parse(p.Regex, syntax.Perl)
		if err != nil {
			return nil
		}
		var names []string
		requiredGroups(r, &names)
		if i == 0 {
			out = names
			continue
		}
		out = slices.DeleteFunc(out, func(n string) bool { return !slices.Contains(names, n) })
	}
	return out
}

// requiredGroups adds the named groups every match of r fills; a group
// under ?, *, {0,n} or one side of | may stay empty.
func requiredGroups(r *syntax.Regexp, names *[]string) {
	switch r.Op {
	case syntax.OpCapture:
		if r.Name != "" {
			*names = append(*names, r.Name)
		}
		requiredGroups(r.Sub[0], names)
	case syntax.OpConcat:
		for _, s := range r.Sub {
			requiredGroups(s, names)
		}
	case syntax.OpPlus:
		requiredGroups(r.Sub[0], names)
	case syntax.OpRepeat:
		if r.Min >= 1 {
			requiredGroups(r.Sub[0], names)
		}
	}
}

// walkTemplate calls use for every value a template prints, saying
// whether an enclosing {{if .name}} or {{with .name}} guards it.
func walkTemplate(n parse.Node, guards []string, use func(name string, guarded bool)) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			walkTemplate(c, guards, use)
		}
	case *parse.ActionNode:
		for _, name := range pipeFields(n.Pipe) {
			use(name, slices.Contains(guards, name))
		}
	case *parse.IfNode:
		walkBranch(&n.BranchNode, guards, use)
	case *parse.WithNode:
		walkBranch(&n.BranchNode, guards, use)
	case *parse.RangeNode:
		walkBranch(&n.BranchNode, guards, use)
	}
}

func walkBranch(b *parse.BranchNode, guards []string, use func(string, bool)) {
	inner := guards
	// {{if .a}} and {{if and .a …}} guard the names they test as such.
	if len(b.Pipe.Cmds) == 1 {
		args := b.Pipe.Cmds[0].Args
		if id, ok := args[0].(*parse.IdentifierNode); ok && id.Ident == "and" {
			args = args[1:]
		} else if len(args) != 1 {
			args = nil
		}
		for _, a := range args {
			if f, ok := a.(*parse.FieldNode); ok && len(f.Ident) == 1 {
				inner = append(slices.Clone(inner), f.Ident[0])
			}
		}
	}
	walkTemplate(b.List, inner, use)
	walkTemplate(b.ElseList, guards, use)
}

func pipeFields(p *parse.PipeNode) []string {
	var out []string
	for _, c := range p.Cmds {
		for _, a := range c.Args {
			if f, ok := a.(*parse.FieldNode); ok && len(f.Ident) == 1 {
				out = append(out, f.Ident[0])
			}
		}
	}
	return out
}

// requiredLiteral returns the longest literal every match of re contains,
// for the pre-filter. Case-folded literals count: the filter ignores case.
func requiredLiteral(re string) string {
	r, err := syntax.Parse(re, syntax.Perl)
	if err != nil {
		return ""
	}
	best := ""
	for _, l := range literals(r.Simplify()) {
		if len(l) > len(best) {
			best = l
		}
	}
	return best
}

func literalRequired(re, kw string) bool {
	r, err := syntax.Parse(re, syntax.Perl)
	if err != nil {
		return false
	}
	for _, l := range literals(r.Simplify()) {
		if strings.Contains(strings.ToLower(l), strings.ToLower(kw)) {
			return true
		}
	}
	return false
}

// literals lists literal runs that every match must contain.
func literals(r *syntax.Regexp) []string {
	switch r.Op {
	case syntax.OpLiteral:
		return []string{string(r.Rune)}
	case syntax.OpCapture:
		return literals(r.Sub[0])
	case syntax.OpPlus:
		return literals(r.Sub[0])
	case syntax.OpRepeat:
		if r.Min >= 1 {
			return literals(r.Sub[0])
		}
	case syntax.OpConcat:
		var out []string
		run := ""
		for _, s := range r.Sub {
			if s.Op == syntax.OpLiteral {
				run += string(s.Rune)
				continue
			}
			if run != "" {
				out = append(out, run)
				run = ""
			}
			out = append(out, literals(s)...)
		}
		if run != "" {
			out = append(out, run)
		}
		return out
	}
	return nil
}
