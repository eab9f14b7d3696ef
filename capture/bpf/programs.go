package bpf

import "strings"

// Programs compiles one filter expression for each link type and snap
// length it meets, once: a capture's files and a pcapng file's interfaces
// may differ in both, and libpcap compiles differently for each. It is the
// one cache capture's selector and `pcap filter` share. Not safe for
// concurrent use.
type Programs struct {
	expr  string
	progs map[[2]int]*Program
}

// NewPrograms returns an empty cache for expr.
func NewPrograms(expr string) *Programs {
	return &Programs{expr: expr, progs: map[[2]int]*Program{}}
}

// Expr is the expression compiled.
func (c *Programs) Expr() string { return c.expr }

// For returns the program for packets of linkType captured with snapLen,
// compiling it on first use. Errors are Compile's and are not cached.
func (c *Programs) For(linkType, snapLen int) (*Program, error) {
	k := [2]int{linkType, snapLen}
	if p, ok := c.progs[k]; ok {
		return p, nil
	}
	p, err := Compile(c.expr, linkType, snapLen)
	if err != nil {
		return nil, err
	}
	c.progs[k] = p
	return p, nil
}

// Matcher keeps a packet or not: data is the captured bytes, wireLen the
// length on the wire (pcapfile.Matcher).
type Matcher interface {
	Match(data []byte, wireLen uint32) bool
}

// Matcher is For as a Matcher, except that an empty expression keeps
// every packet whatever the link type: libpcap refuses link types it does
// not know, even for an empty expression, and `pcap filter IN -w OUT`
// without one copies everything.
func (c *Programs) Matcher(linkType, snapLen int) (Matcher, error) {
	if strings.TrimSpace(c.expr) == "" {
		return matchAll{}, nil
	}
	p, err := c.For(linkType, snapLen)
	if err != nil {
		return nil, err
	}
	return p, nil
}

type matchAll struct{}

func (matchAll) Match([]byte, uint32) bool { return true }
