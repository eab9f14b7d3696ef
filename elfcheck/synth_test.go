package elfcheck

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
)

// synthELF describes a minimal ELF with program headers only (no section
// headers), enough for ld.so: PT_LOAD, PT_DYNAMIC, optional PT_INTERP.
type synthELF struct {
	class   elf.Class
	order   binary.ByteOrder
	machine elf.Machine
	typ     elf.Type
	interp  string
	needed  []string
	soname  string
	rpath   string
	runpath string
	flags1  uint64
}

func (s synthELF) bytes() []byte {
	if s.class == 0 {
		s.class = elf.ELFCLASS64
	}
	if s.order == nil {
		s.order = binary.LittleEndian
	}
	if s.machine == 0 {
		s.machine = elf.EM_X86_64
	}
	if s.typ == 0 {
		s.typ = elf.ET_DYN
	}
	is64 := s.class == elf.ELFCLASS64
	ehsize, phentsize, dynent := 52, 32, 8
	if is64 {
		ehsize, phentsize, dynent = 64, 56, 16
	}
	nph := 2
	if s.interp != "" {
		nph = 3
	}
	// string table
	var strtab bytes.Buffer
	strtab.WriteByte(0)
	addStr := func(v string) uint64 {
		off := uint64(strtab.Len())
		strtab.WriteString(v)
		strtab.WriteByte(0)
		return off
	}
	type dyn struct{ tag, val uint64 }
	var dyns []dyn
	for _, n := range s.needed {
		dyns = append(dyns, dyn{uint64(elf.DT_NEEDED), addStr(n)})
	}
	if s.soname != "" {
		dyns = append(dyns, dyn{uint64(elf.DT_SONAME), addStr(s.soname)})
	}
	if s.rpath != "" {
		dyns = append(dyns, dyn{uint64(elf.DT_RPATH), addStr(s.rpath)})
	}
	if s.runpath != "" {
		dyns = append(dyns, dyn{uint64(elf.DT_RUNPATH), addStr(s.runpath)})
	}
	if s.flags1 != 0 {
		dyns = append(dyns, dyn{uint64(elf.DT_FLAGS_1), s.flags1})
	}
	interpOff := uint64(ehsize + nph*phentsize)
	strOff := interpOff + uint64(len(s.interp)+1)
	dynOff := strOff + uint64(strtab.Len())
	dynOff = (dynOff + 7) &^ 7
	dyns = append(dyns, dyn{uint64(elf.DT_STRTAB), strOff}, dyn{uint64(elf.DT_STRSZ), uint64(strtab.Len())}, dyn{0, 0})
	total := dynOff + uint64(len(dyns)*dynent)

	var b bytes.Buffer
	w := func(v any) { binary.Write(&b, s.order, v) }
	ident := [16]byte{0x7f, 'E', 'L', 'F', byte(s.class), 1, 1}
	if s.order == binary.BigEndian {
		ident[5] = 2
	}
	b.Write(ident[:])
	w(uint16(s.typ))
	w(uint16(s.machine))
	w(uint32(1))
	if is64 {
		w(uint64(0))           // entry
		w(uint64(ehsize))      // phoff
		w(uint64(0))           // shoff
		w(uint32(0))           // flags
		w(uint16(ehsize))      // ehsize
		w(uint16(phentsize))   // phentsize
		w(uint16(nph))         // phnum
		w([3]uint16{64, 0, 0}) // shentsize, shnum, shstrndx
	} else {
		w(uint32(0))
		w(uint32(ehsize))
		w(uint32(0))
		w(uint32(0))
		w(uint16(ehsize))
		w(uint16(phentsize))
		w(uint16(nph))
		w([3]uint16{40, 0, 0})
	}
	ph := func(typ elf.ProgType, flags elf.ProgFlag, off, size uint64) {
		if is64 {
			w(uint32(typ))
			w(uint32(flags))
			w([6]uint64{off, off, off, size, size, 8})
		} else {
			w([8]uint32{uint32(typ), uint32(off), uint32(off), uint32(off), uint32(size), uint32(size), uint32(flags), 4})
		}
	}
	ph(elf.PT_LOAD, elf.PF_R, 0, total)
	ph(elf.PT_DYNAMIC, elf.PF_R|elf.PF_W, dynOff, uint64(len(dyns)*dynent))
	if s.interp != "" {
		ph(elf.PT_INTERP, elf.PF_R, interpOff, uint64(len(s.interp)+1))
		b.WriteString(s.interp)
		b.WriteByte(0)
	} else {
		b.WriteByte(0)
	}
	b.Write(strtab.Bytes())
	for uint64(b.Len()) < dynOff {
		b.WriteByte(0)
	}
	for _, d := range dyns {
		if is64 {
			w(d.tag)
			w(d.val)
		} else {
			w(uint32(d.tag))
			w(uint32(d.val))
		}
	}
	return b.Bytes()
}
