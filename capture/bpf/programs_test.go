package bpf

import "testing"

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
