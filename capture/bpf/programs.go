package bpf

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
