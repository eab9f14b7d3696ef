package specpatch

import (
	"strconv"
	"strings"
)

// tri is a three-valued truth: a conditional arm is on, off, or depends on
// the machine or distribution that builds the spec.
type tri int8

const (
	triUnknown tri = iota
	triTrue
	triFalse
)

// distroMacros differ between the distributions that build a spec; a
// condition on them is unknown, never false.
var distroMacros = []string{"rhel", "fedora", "suse_version", "sle_version", "centos", "openEuler", "openeuler", "dist", "el7", "el8", "el9", "amzn", "mageia", "is_opensuse"}

// armState evaluates whether a conditional arm is taken with the spec's
// defaults (its %bcond defaults and macros). %ifarch/%ifos arms depend on
// the build machine and are unknown.
func (s *Spec) armState(m Macros, b int) tri {
	br := s.Branches[b]
	if br.Index > 0 {
		// An %else/%elif arm: off if an earlier arm is on.
		allOff := true
		for j := b - 1; j >= 0; j-- {
			pb := s.Branches[j]
			if pb.Block != br.Block {
				continue
			}
			switch s.directiveState(m, pb.Directive) {
			case triTrue:
				return triFalse
			case triUnknown:
				allOff = false
			}
			if pb.Index == 0 {
				break
			}
		}
		if strings.HasPrefix(br.Directive, "%else") {
			if allOff {
				return triTrue
			}
			return triUnknown
		}
		if !allOff {
			return triUnknown
		}
	}
	return s.directiveState(m, br.Directive)
}

func (s *Spec) directiveState(m Macros, d string) tri {
	kw := condKeyword(d)
	expr := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(d), "%"+kw))
	switch kw {
	case "if", "elif":
	default:
		return triUnknown
	}
	for _, dm := range distroMacros {
		if strings.Contains(expr, "?"+dm) || strings.Contains(expr, "{"+dm+"}") {
			return triUnknown
		}
	}
	x, ok := m.Expand(expr)
	if !ok {
		return triUnknown
	}
	v, ok := evalExpr(x)
	if !ok {
		return triUnknown
	}
	if v {
		return triTrue
	}
	return triFalse
}

// lineState is triTrue when every arm around line is on, triFalse when one
// is off, else triUnknown.
func (s *Spec) lineState(m Macros, line int) tri {
	st := triTrue
	for _, b := range s.condStack(line) {
		switch s.armState(m, b) {
		case triFalse:
			return triFalse
		case triUnknown:
			st = triUnknown
		}
	}
	return st
}

// evalExpr evaluates RPM's %if expression grammar on an expanded string:
// integers, "strings", !, && and ||, comparisons, parentheses.
func evalExpr(s string) (bool, bool) {
	p := &exprParser{in: s}
	v, ok := p.or()
	p.skip()
	if !ok || p.pos != len(p.in) {
		return false, false
	}
	return v.truth(), true
}

type exprVal struct {
	isStr bool
	n     int64
	s     string
}

func (v exprVal) truth() bool {
	if v.isStr {
		return v.s != ""
	}
	return v.n != 0
}

type exprParser struct {
	in    string
	pos   int
	depth int
}

func (p *exprParser) skip() {
	for p.pos < len(p.in) && (p.in[p.pos] == ' ' || p.in[p.pos] == '\t') {
		p.pos++
	}
}

func (p *exprParser) eat(tok string) bool {
	p.skip()
	if strings.HasPrefix(p.in[p.pos:], tok) {
		p.pos += len(tok)
		return true
	}
	return false
}

func (p *exprParser) or() (exprVal, bool) {
	l, ok := p.and()
	for ok && p.eat("||") {
		r, rok := p.and()
		l, ok = exprVal{n: b2i(l.truth() || r.truth())}, rok
	}
	return l, ok
}

func (p *exprParser) and() (exprVal, bool) {
	l, ok := p.cmp()
	for ok && p.eat("&&") {
		r, rok := p.cmp()
		l, ok = exprVal{n: b2i(l.truth() && r.truth())}, rok
	}
	return l, ok
}

func (p *exprParser) cmp() (exprVal, bool) {
	l, ok := p.unary()
	if !ok {
		return l, false
	}
	for _, op := range []string{"==", "!=", "<=", ">=", "<", ">"} {
		if p.eat(op) {
			r, ok := p.unary()
			if !ok || l.isStr != r.isStr {
				return l, false
			}
			c := 0
			if l.isStr {
				c = strings.Compare(l.s, r.s)
			} else if l.n < r.n {
				c = -1
			} else if l.n > r.n {
				c = 1
			}
			var t bool
			switch op {
			case "==":
				t = c == 0
			case "!=":
				t = c != 0
			case "<=":
				t = c <= 0
			case ">=":
				t = c >= 0
			case "<":
				t = c < 0
			case ">":
				t = c > 0
			}
			return exprVal{n: b2i(t)}, true
		}
	}
	return l, true
}

func (p *exprParser) unary() (exprVal, bool) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > 64 {
		return exprVal{}, false
	}
	if p.eat("!") {
		v, ok := p.unary()
		return exprVal{n: b2i(!v.truth())}, ok
	}
	if p.eat("(") {
		v, ok := p.or()
		if !ok || !p.eat(")") {
			return v, false
		}
		return v, true
	}
	p.skip()
	if p.pos < len(p.in) && p.in[p.pos] == '"' {
		end := strings.IndexByte(p.in[p.pos+1:], '"')
		if end < 0 {
			return exprVal{}, false
		}
		v := exprVal{isStr: true, s: p.in[p.pos+1 : p.pos+1+end]}
		p.pos += end + 2
		return v, true
	}
	start := p.pos
	if p.pos < len(p.in) && p.in[p.pos] == '-' {
		p.pos++
	}
	for p.pos < len(p.in) && p.in[p.pos] >= '0' && p.in[p.pos] <= '9' {
		p.pos++
	}
	n, err := strconv.ParseInt(p.in[start:p.pos], 10, 64)
	if err != nil {
		return exprVal{}, false
	}
	return exprVal{n: n}, true
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
