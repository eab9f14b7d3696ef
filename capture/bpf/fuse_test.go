package bpf

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

// fuzzOps are the valid opcodes, so that random bytes make programs
// NewProgram accepts; loads and conditional jumps are listed twice to get
// the pairs fuse rewrites.
var fuzzOps = []uint16{
	0x20, 0x28, 0x30, 0x20, 0x28, 0x30, // ld/ldh/ldb [k]
	0x40, 0x48, 0x50, 0x80, 0x00, 0x60, 0x01, 0x61, 0x81, 0xb1, 0x02, 0x03,
	0x15, 0x25, 0x35, 0x45, 0x15, 0x45, 0x1d, 0x2d, 0x3d, 0x4d, 0x05,
	0x04, 0x14, 0x24, 0x34, 0x44, 0x54, 0x64, 0x74, 0x84, 0x94, 0xa4,
	0x0c, 0x1c, 0x2c, 0x3c, 0x4c, 0x5c, 0x6c, 0x7c, 0x9c, 0xac,
	0x06, 0x16, 0x0e, 0x07, 0x87,
}

// fuzzProgram turns b into a valid program: 6 bytes an instruction, jumps
// kept inside, constants small enough to load from a short packet.
func fuzzProgram(b []byte) []Instruction {
	var ins []Instruction
	for len(b) >= 6 && len(ins) < 64 {
		ins = append(ins, Instruction{Op: fuzzOps[int(b[0])%len(fuzzOps)], Jt: b[1], Jf: b[2], K: uint32(binary.LittleEndian.Uint16(b[3:]))<<8 | uint32(b[5])})
		b = b[6:]
	}
	ins = append(ins, Instruction{Op: 0x16}) // ret a
	for i := range ins {
		in := &ins[i]
		rest := uint32(len(ins) - i - 1)
		switch in.Op & 0x07 {
		case classJMP:
			if rest == 0 {
				in.Op = 0x16
				continue
			}
			in.Jt, in.Jf = uint8(uint32(in.Jt)%rest), uint8(uint32(in.Jf)%rest)
			if in.Op == 0x05 {
				in.K %= rest
			} else if in.K&0xff00 == 0 {
				in.K &= 0xff // often equal to a loaded byte
			}
		case classLD, classLDX, classST, classSTX:
			in.K %= 80
			if in.Op&0xe0 == modeMEM || in.Op == 0x02 || in.Op == 0x03 {
				in.K %= memWords
			}
		case classALU:
			if in.Op&0xf0 == 0x30 || in.Op&0xf0 == 0x90 {
				in.K |= 1
			}
			if in.Op&0xf0 == 0x60 || in.Op&0xf0 == 0x70 {
				in.K %= 32
			}
		}
	}
	return ins
}

// FuzzFused runs each program with and without fused instructions: the
// fused interpreter must give the plain one's result on every packet (the
// plain one is checked against tcpdump in TestDifferentialTcpdump).
func FuzzFused(f *testing.F) {
	f.Add([]byte{0, 0, 3, 12, 0, 0, 18, 0, 1, 0, 8, 0, 1, 1, 0, 0, 0, 0}, []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 8, 0, 0x45})
	f.Add([]byte{1, 1, 1, 0, 0, 12, 21, 2, 0, 0, 0x11, 0x00, 2, 0, 0, 0, 0, 20}, []byte{})
	f.Fuzz(func(t *testing.T, prog, pkt []byte) { compareFused(t, prog, pkt) })
}

// TestFusedRandom is FuzzFused on programs from a fixed seed, so that every
// go test run compares the interpreters.
func TestFusedRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	for range 20000 {
		prog := make([]byte, 6*(1+r.IntN(12)))
		pkt := make([]byte, r.IntN(100))
		for i := range prog {
			prog[i] = byte(r.Uint32())
		}
		for i := range pkt {
			pkt[i] = byte(r.Uint32N(4)) // small values meet the small constants
		}
		compareFused(t, prog, pkt)
	}
}

func compareFused(t *testing.T, prog, pkt []byte) {
	ins := fuzzProgram(prog)
	plain, err := newProgram(ins, false)
	if err != nil {
		t.Fatalf("generator made an invalid program %v: %v", ins, err)
	}
	fused, err := newProgram(ins, true)
	if err != nil {
		t.Fatal(err)
	}
	// The packet made at least as long as the loads reach, then cut short.
	for len(pkt) < 84 {
		pkt = append(pkt, byte(len(pkt)))
	}
	for _, n := range []int{len(pkt), 40, 13, 0} {
		if got, want := fused.Run(pkt[:n], uint32(len(pkt))), plain.Run(pkt[:n], uint32(len(pkt))); got != want {
			t.Fatalf("program %v on %x: fused %#x, plain %#x", ins, pkt[:n], got, want)
		}
	}
}

// TestFuseRewrites checks that the pairs a compiled filter is made of are
// fused, so that FuzzFused compares something.
func TestFuseRewrites(t *testing.T) {
	p, err := NewProgram([]Instruction{
		{Op: 0x28, K: 12}, {Op: 0x15, Jt: 0, Jf: 5, K: 0x800},
		{Op: 0x30, K: 23}, {Op: 0x15, Jt: 0, Jf: 3, K: 17},
		{Op: 0x28, K: 20}, {Op: 0x45, Jt: 1, Jf: 0, K: 0x1fff},
		{Op: 0x6, K: 262144}, {Op: 0x6, K: 0},
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []op{opLdAbsHJeqK, opJeqK, opLdAbsBJeqK, opJeqK, opLdAbsHJsetK, opJsetK} {
		if p.ins[i].op != want {
			t.Errorf("instruction %d: op %d, want %d", i, p.ins[i].op, want)
		}
	}
	pkt := make([]byte, 64)
	pkt[12], pkt[23] = 8, 17
	if got := p.Run(pkt, 64); got != 262144 {
		t.Errorf("first fragment: got %d, want 262144", got)
	}
	pkt[21] = 1
	if got := p.Run(pkt, 64); got != 0 {
		t.Errorf("later fragment: got %d, want 0", got)
	}
	if got := p.Run(pkt[:22], 64); got != 0 {
		t.Errorf("short packet: got %d, want 0", got)
	}
}
