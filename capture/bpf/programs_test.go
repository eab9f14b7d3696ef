package bpf

import (
	"errors"
	"testing"
)

func TestProgramsCompileOncePerLinkAndSnap(t *testing.T) {
	if !CanCompile {
		t.Skip("no libpcap loader on this platform")
	}
	c := NewPrograms("udp")
	a, err := c.For(1, 65535)
	if err != nil {
		t.Skipf("libpcap: %v", err)
	}
	b, _ := c.For(1, 65535)
	if a != b {
		t.Fatal("the same link type and snap length compiled twice")
	}
	if d, err := c.For(113, 65535); err != nil || d == a {
		t.Fatalf("another link type: %v, same program %v", err, d == a)
	}
	if _, err := NewPrograms("udp and and").For(1, 65535); err == nil {
		t.Fatal("a bad expression compiled")
	}
}

func TestProgramsMatcherEmptyKeepsAll(t *testing.T) {
	// No libpcap needed, and no link type refused: nothing to compile.
	m, err := NewPrograms(" ").Matcher(65000, 65535)
	if err != nil || !m.Match(nil, 0) {
		t.Fatalf("empty expression: %v %v, want a matcher that keeps every packet", m, err)
	}
	if !CanCompile {
		return
	}
	if _, err := NewPrograms("udp and").Matcher(1, 65535); err == nil || errors.Is(err, ErrNoLibpcap) {
		t.Fatalf("bad expression: %v, want the expression's error", err)
	}
}
