package bpf

import (
	"fmt"
)

// Instruction is one classic BPF instruction, as in struct bpf_insn.
type Instruction struct {
	Op uint16
	Jt uint8
	Jf uint8
	K  uint32
}

// Classic BPF opcode fields (linux/filter.h, pcap/bpf.h).
const (
	classLD   = 0x00
	classLDX  = 0x01
	classST   = 0x02
	classSTX  = 0x03
	classALU  = 0x04
	classJMP  = 0x05
	classRET  = 0x06
	classMISC = 0x07

	sizeW = 0x00
	sizeH = 0x08
	sizeB = 0x10

	modeIMM = 0x00
	modeABS = 0x20
	modeIND = 0x40
	modeMEM = 0x60
	modeLEN = 0x80
	modeMSH = 0xa0

	srcX = 0x08

	memWords = 16
)

// op is a pre-decoded instruction kind: one dense switch case each.
type op uint8

const (
	opRetK op = iota
	opRetA
	opRetX
	opLdAbsW
	opLdAbsH
	opLdAbsB
	opLdIndW
	opLdIndH
	opLdIndB
	opLdLen
	opLdImm
	opLdMem
	opLdxImm
	opLdxMem
	opLdxLen
	opLdxMsh
	opSt
	opStx
	opJa
	opJeqK
	opJgtK
	opJgeK
	opJsetK
	opJeqX
	opJgtX
	opJgeX
	opJsetX
	opAddK
	opSubK
	opMulK
	opDivK
	opModK
	opAndK
	opOrK
	opXorK
	opLshK
	opRshK
	opAddX
	opSubX
	opMulX
	opDivX
	opModX
	opAndX
	opOrX
	opXorX
	opLshX
	opRshX
	opNeg
	opTax
	opTxa

	// A load of the packet and the conditional jump after it, run as one
	// instruction: compiled filters are mostly such pairs (ldh [12];
	// jeq #0x800), and each dispatch is an indirect branch.
	opLdAbsWJeqK
	opLdAbsHJeqK
	opLdAbsBJeqK
	opLdAbsHJsetK
	opLdAbsBJsetK
)

type insn struct {
	op     op
	jt, jf uint8
	k      uint32
	k2     uint32 // a fused jump's constant
}

// Program is a validated BPF program ready to run. It is safe for
// concurrent use.
type Program struct {
	src []Instruction
	ins []insn
}

// Instructions returns the program as compiled.
func (p *Program) Instructions() []Instruction { return p.src }

// NewProgram validates ins as libpcap's bpf_validate does (forward jumps
// in range, memory slots in range, no division by a constant zero, a return
// at the end) and pre-decodes it.
func NewProgram(ins []Instruction) (*Program, error) { return newProgram(ins, true) }

// newProgram is NewProgram; without fusing for tests that compare both
// interpreters.
func newProgram(ins []Instruction, fused bool) (*Program, error) {
	if len(ins) == 0 {
		return nil, fmt.Errorf("empty BPF program")
	}
	if len(ins) > 4096 {
		return nil, fmt.Errorf("BPF program of %d instructions is longer than 4096", len(ins))
	}
	out := make([]insn, len(ins))
	for i, in := range ins {
		d, err := decodeInsn(in)
		if err != nil {
			return nil, fmt.Errorf("BPF instruction %d (%#04x): %w", i, in.Op, err)
		}
		rest := uint32(len(ins) - i - 1)
		switch {
		case d.op == opJa:
			if d.k >= rest {
				return nil, fmt.Errorf("BPF instruction %d jumps out of the program", i)
			}
		case d.op >= opJeqK && d.op <= opJsetX:
			if uint32(d.jt) >= rest || uint32(d.jf) >= rest {
				return nil, fmt.Errorf("BPF instruction %d jumps out of the program", i)
			}
		case d.op == opLdMem || d.op == opLdxMem || d.op == opSt || d.op == opStx:
			if d.k >= memWords {
				return nil, fmt.Errorf("BPF instruction %d uses memory slot %d", i, d.k)
			}
		case (d.op == opDivK || d.op == opModK) && d.k == 0:
			return nil, fmt.Errorf("BPF instruction %d divides by zero", i)
		case (d.op == opLshK || d.op == opRshK) && d.k >= 32:
			return nil, fmt.Errorf("BPF instruction %d shifts by %d", i, d.k)
		}
		out[i] = d
	}
	if last := out[len(out)-1].op; last != opRetK && last != opRetA && last != opRetX {
		return nil, fmt.Errorf("BPF program does not end with a return")
	}
	if fused {
		out = fuse(out)
	}
	return &Program{src: append([]Instruction(nil), ins...), ins: out}, nil
}

// fuse replaces each absolute load followed by a jeq or jset on a constant
// with one instruction doing both. The jump stays in place after it: a
// jump to it still runs it alone.
func fuse(ins []insn) []insn {
	for i := 0; i+1 < len(ins); i++ {
		j := ins[i+1]
		var f op
		switch {
		case j.op == opJeqK && ins[i].op == opLdAbsW:
			f = opLdAbsWJeqK
		case j.op == opJeqK && ins[i].op == opLdAbsH:
			f = opLdAbsHJeqK
		case j.op == opJeqK && ins[i].op == opLdAbsB:
			f = opLdAbsBJeqK
		case j.op == opJsetK && ins[i].op == opLdAbsH:
			f = opLdAbsHJsetK
		case j.op == opJsetK && ins[i].op == opLdAbsB:
			f = opLdAbsBJsetK
		default:
			continue
		}
		ins[i] = insn{op: f, jt: j.jt, jf: j.jf, k: ins[i].k, k2: j.k}
	}
	return ins
}

func decodeInsn(in Instruction) (insn, error) {
	c := in.Op
	d := insn{jt: in.Jt, jf: in.Jf, k: in.K}
	bad := fmt.Errorf("unknown opcode")
	switch c & 0x07 {
	case classLD:
		switch c {
		case classLD | modeABS | sizeW:
			d.op = opLdAbsW
		case classLD | modeABS | sizeH:
			d.op = opLdAbsH
		case classLD | modeABS | sizeB:
			d.op = opLdAbsB
		case classLD | modeIND | sizeW:
			d.op = opLdIndW
		case classLD | modeIND | sizeH:
			d.op = opLdIndH
		case classLD | modeIND | sizeB:
			d.op = opLdIndB
		case classLD | modeLEN | sizeW:
			d.op = opLdLen
		case classLD | modeIMM | sizeW:
			d.op = opLdImm
		case classLD | modeMEM | sizeW:
			d.op = opLdMem
		default:
			return d, bad
		}
	case classLDX:
		switch c {
		case classLDX | modeIMM | sizeW:
			d.op = opLdxImm
		case classLDX | modeMEM | sizeW:
			d.op = opLdxMem
		case classLDX | modeLEN | sizeW:
			d.op = opLdxLen
		case classLDX | modeMSH | sizeB:
			d.op = opLdxMsh
		default:
			return d, bad
		}
	case classST:
		d.op = opSt
	case classSTX:
		d.op = opStx
	case classALU:
		x := c&srcX != 0
		var k, xv op
		switch c & 0xf0 {
		case 0x00:
			k, xv = opAddK, opAddX
		case 0x10:
			k, xv = opSubK, opSubX
		case 0x20:
			k, xv = opMulK, opMulX
		case 0x30:
			k, xv = opDivK, opDivX
		case 0x40:
			k, xv = opOrK, opOrX
		case 0x50:
			k, xv = opAndK, opAndX
		case 0x60:
			k, xv = opLshK, opLshX
		case 0x70:
			k, xv = opRshK, opRshX
		case 0x80:
			k, xv = opNeg, opNeg
		case 0x90:
			k, xv = opModK, opModX
		case 0xa0:
			k, xv = opXorK, opXorX
		default:
			return d, bad
		}
		d.op = k
		if x {
			d.op = xv
		}
	case classJMP:
		x := c&srcX != 0
		switch c & 0xf0 {
		case 0x00:
			d.op = opJa
		case 0x10:
			d.op = opJeqK
		case 0x20:
			d.op = opJgtK
		case 0x30:
			d.op = opJgeK
		case 0x40:
			d.op = opJsetK
		default:
			return d, bad
		}
		if x && d.op != opJa {
			d.op += opJeqX - opJeqK
		}
	case classRET:
		switch c & 0x18 {
		case 0x00:
			d.op = opRetK
		case 0x08:
			d.op = opRetX
		case 0x10:
			d.op = opRetA
		default:
			return d, bad
		}
	case classMISC:
		switch c & 0xf8 {
		case 0x00:
			d.op = opTax
		case 0x80:
			d.op = opTxa
		default:
			return d, bad
		}
	}
	return d, nil
}

// Match reports whether the program accepts the packet: pkt is the
// captured data, wireLen its length on the wire (what `len` means).
func (p *Program) Match(pkt []byte, wireLen uint32) bool { return p.Run(pkt, wireLen) != 0 }

// Run executes the program with libpcap's bpf_filter semantics and returns
// its result: 0 rejects, anything else accepts (the snapshot length). A
// load beyond the captured data rejects the packet.
func (p *Program) Run(pkt []byte, wireLen uint32) uint32 {
	var a, x uint32
	var mem [memWords]uint32
	buflen := uint32(len(pkt))
	ins := p.ins
	for pc := 0; pc < len(ins); pc++ {
		in := &ins[pc]
		switch in.op {
		case opRetK:
			return in.k
		case opRetA:
			return a
		case opRetX:
			return x
		case opLdAbsW:
			k := in.k
			if k > buflen || buflen-k < 4 {
				return 0
			}
			b := pkt[k : k+4]
			a = uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
		case opLdAbsH:
			k := in.k
			if k > buflen || buflen-k < 2 {
				return 0
			}
			b := pkt[k : k+2]
			a = uint32(b[0])<<8 | uint32(b[1])
		case opLdAbsB:
			k := in.k
			if k >= buflen {
				return 0
			}
			a = uint32(pkt[k])
		case opLdIndW:
			if in.k > buflen || x > buflen-in.k || buflen-in.k-x < 4 {
				return 0
			}
			k := in.k + x
			b := pkt[k : k+4]
			a = uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
		case opLdIndH:
			if in.k > buflen || x > buflen-in.k || buflen-in.k-x < 2 {
				return 0
			}
			k := in.k + x
			b := pkt[k : k+2]
			a = uint32(b[0])<<8 | uint32(b[1])
		case opLdIndB:
			if in.k > buflen || x >= buflen-in.k {
				return 0
			}
			a = uint32(pkt[in.k+x])
		case opLdLen:
			a = wireLen
		case opLdImm:
			a = in.k
		case opLdMem:
			a = mem[in.k&(memWords-1)]
		case opLdxImm:
			x = in.k
		case opLdxMem:
			x = mem[in.k&(memWords-1)]
		case opLdxLen:
			x = wireLen
		case opLdxMsh:
			if in.k >= buflen {
				return 0
			}
			x = uint32(pkt[in.k]&0xf) << 2
		case opSt:
			mem[in.k&(memWords-1)] = a
		case opStx:
			mem[in.k&(memWords-1)] = x
		case opJa:
			pc += int(in.k)
		case opJeqK:
			if a == in.k {
				pc += int(in.jt)
			} else {
				pc += int(in.jf)
			}
		case opJgtK:
			if a > in.k {
				pc += int(in.jt)
			} else {
				pc += int(in.jf)
			}
		case opJgeK:
			if a >= in.k {
				pc += int(in.jt)
			} else {
				pc += int(in.jf)
			}
		case opJsetK:
			if a&in.k != 0 {
				pc += int(in.jt)
			} else {
				pc += int(in.jf)
			}
		case opJeqX:
			if a == x {
				pc += int(in.jt)
			} else {
				pc += int(in.jf)
			}
		case opJgtX:
			if a > x {
				pc += int(in.jt)
			} else {
				pc += int(in.jf)
			}
		case opJgeX:
			if a >= x {
				pc += int(in.jt)
			} else {
				pc += int(in.jf)
			}
		case opJsetX:
			if a&x != 0 {
				pc += int(in.jt)
			} else {
				pc += int(in.jf)
			}
		case opAddK:
			a += in.k
		case opSubK:
			a -= in.k
		case opMulK:
			a *= in.k
		case opDivK:
			a /= in.k
		case opModK:
			a %= in.k
		case opAndK:
			a &= in.k
		case opOrK:
			a |= in.k
		case opXorK:
			a ^= in.k
		case opLshK:
			a <<= in.k & 31
		case opRshK:
			a >>= in.k & 31
		case opAddX:
			a += x
		case opSubX:
			a -= x
		case opMulX:
			a *= x
		case opDivX:
			if x == 0 {
				return 0
			}
			a /= x
		case opModX:
			if x == 0 {
				return 0
			}
			a %= x
		case opAndX:
			a &= x
		case opOrX:
			a |= x
		case opXorX:
			a ^= x
		case opLshX:
			if x < 32 {
				a <<= x
			} else {
				a = 0
			}
		case opRshX:
			if x < 32 {
				a >>= x
			} else {
				a = 0
			}
		case opNeg:
			a = -a
		case opTax:
			x = a
		case opTxa:
			a = x
		// The fused pairs: the load as above, then the jump, counted from
		// the jump's own place (one further).
		case opLdAbsWJeqK:
			k := in.k
			if k > buflen || buflen-k < 4 {
				return 0
			}
			b := pkt[k : k+4]
			a = uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
			if a == in.k2 {
				pc += 1 + int(in.jt)
			} else {
				pc += 1 + int(in.jf)
			}
		case opLdAbsHJeqK:
			k := in.k
			if k > buflen || buflen-k < 2 {
				return 0
			}
			b := pkt[k : k+2]
			a = uint32(b[0])<<8 | uint32(b[1])
			if a == in.k2 {
				pc += 1 + int(in.jt)
			} else {
				pc += 1 + int(in.jf)
			}
		case opLdAbsBJeqK:
			k := in.k
			if k >= buflen {
				return 0
			}
			a = uint32(pkt[k])
			if a == in.k2 {
				pc += 1 + int(in.jt)
			} else {
				pc += 1 + int(in.jf)
			}
		case opLdAbsHJsetK:
			k := in.k
			if k > buflen || buflen-k < 2 {
				return 0
			}
			b := pkt[k : k+2]
			a = uint32(b[0])<<8 | uint32(b[1])
			if a&in.k2 != 0 {
				pc += 1 + int(in.jt)
			} else {
				pc += 1 + int(in.jf)
			}
		case opLdAbsBJsetK:
			k := in.k
			if k >= buflen {
				return 0
			}
			a = uint32(pkt[k])
			if a&in.k2 != 0 {
				pc += 1 + int(in.jt)
			} else {
				pc += 1 + int(in.jf)
			}
		}
	}
	return 0
}

// String lists the program like tcpdump -d.
func (p *Program) String() string {
	var s string
	for i, in := range p.src {
		s += fmt.Sprintf("(%03d) op %#04x jt %d jf %d k %#x\n", i, in.Op, in.Jt, in.Jf, in.K)
	}
	return s
}
