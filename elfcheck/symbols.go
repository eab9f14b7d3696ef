package elfcheck

import (
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"

	"github.com/gzdoctor/gzdoctor/ui"
	"github.com/ianlancetaylor/demangle"
)

// dynSymbols returns the dynamic symbol table. With section headers it is
// debug/elf's; without, it is found the way ld.so finds it: DT_SYMTAB, with
// the count from DT_HASH or DT_GNU_HASH.
func (o *object) dynSymbols() ([]elf.Symbol, error) {
	if o.syms != nil || o.symsErr != nil {
		return o.syms, o.symsErr
	}
	o.syms, o.symsErr = o.readDynSymbols()
	if o.syms == nil && o.symsErr == nil {
		o.syms = []elf.Symbol{}
	}
	return o.syms, o.symsErr
}

func (o *object) readDynSymbols() (syms []elf.Symbol, err error) {
	defer func() {
		if p := recover(); p != nil {
			syms, err = nil, fmt.Errorf("malformed dynamic symbol table: %v", p)
		}
	}()
	if s := o.f.SectionByType(elf.SHT_DYNSYM); s != nil {
		if s.Size > uint64(o.size) {
			return nil, fmt.Errorf(".dynsym size %d exceeds the file", s.Size)
		}
		syms, err := o.f.DynamicSymbols()
		if err != nil && !errors.Is(err, elf.ErrNoSymbols) {
			return nil, err
		}
		return syms, nil
	}
	d := o.dyn
	if d == nil {
		return nil, nil
	}
	symAddr, ok := d.first(elf.DT_SYMTAB)
	if !ok {
		return nil, nil
	}
	n, err := o.dynSymCount(d)
	if err != nil {
		return nil, err
	}
	entSize := uint64(24)
	if o.class == elf.ELFCLASS32 {
		entSize = 16
	}
	off, avail, ok := o.vaddrToOff(symAddr)
	if !ok {
		return nil, fmt.Errorf("DT_SYMTAB %#x is not in any PT_LOAD segment", symAddr)
	}
	if n > avail/entSize {
		return nil, fmt.Errorf("dynamic symbol count %d runs past its segment", n)
	}
	raw, err := o.readRange(off, n*entSize)
	if err != nil {
		return nil, err
	}
	bo := o.f.ByteOrder
	out := make([]elf.Symbol, 0, n)
	for i := uint64(1); i < n; i++ { // entry 0 is the null symbol
		b := raw[i*entSize:]
		var s elf.Symbol
		var name uint32
		if o.class == elf.ELFCLASS64 {
			name = bo.Uint32(b)
			s.Info, s.Other = b[4], b[5]
			s.Section = elf.SectionIndex(bo.Uint16(b[6:]))
			s.Value, s.Size = bo.Uint64(b[8:]), bo.Uint64(b[16:])
		} else {
			name = bo.Uint32(b)
			s.Value, s.Size = uint64(bo.Uint32(b[4:])), uint64(bo.Uint32(b[8:]))
			s.Info, s.Other = b[12], b[13]
			s.Section = elf.SectionIndex(bo.Uint16(b[14:]))
		}
		s.Name, _ = d.str(uint64(name))
		out = append(out, s)
	}
	return out, nil
}

// dynSymCount derives the number of dynamic symbols from the hash tables.
func (o *object) dynSymCount(d *dynamic) (uint64, error) {
	bo := o.f.ByteOrder
	read := func(addr, n uint64) ([]byte, error) {
		off, avail, ok := o.vaddrToOff(addr)
		if !ok || n > avail {
			return nil, fmt.Errorf("hash table at %#x outside the file", addr)
		}
		return o.readRange(off, n)
	}
	if h, ok := d.first(elf.DT_HASH); ok {
		b, err := read(h, 8)
		if err != nil {
			return 0, err
		}
		return uint64(bo.Uint32(b[4:])), nil // nchain
	}
	h, ok := d.first(elf.DT_GNU_HASH)
	if !ok {
		return 0, errors.New("no DT_HASH or DT_GNU_HASH: cannot size the dynamic symbol table")
	}
	hdr, err := read(h, 16)
	if err != nil {
		return 0, err
	}
	nbuckets, symoffset, bloomSize := uint64(bo.Uint32(hdr)), uint64(bo.Uint32(hdr[4:])), uint64(bo.Uint32(hdr[8:]))
	word := uint64(8)
	if o.class == elf.ELFCLASS32 {
		word = 4
	}
	if nbuckets > uint64(o.size)/4 || bloomSize > uint64(o.size)/word {
		return 0, errors.New("GNU hash table sizes exceed the file")
	}
	bucketsAddr := h + 16 + bloomSize*word
	buckets, err := read(bucketsAddr, nbuckets*4)
	if err != nil {
		return 0, err
	}
	var last uint64
	for i := uint64(0); i < nbuckets; i++ {
		if b := uint64(bo.Uint32(buckets[i*4:])); b > last {
			last = b
		}
	}
	if last < symoffset {
		return symoffset, nil
	}
	chainAddr := bucketsAddr + nbuckets*4
	for i := last; ; i++ {
		if i-symoffset > uint64(o.size)/4 {
			return 0, errors.New("GNU hash chain runs past the file")
		}
		b, err := read(chainAddr+(i-symoffset)*4, 4)
		if err != nil {
			return 0, err
		}
		if bo.Uint32(b)&1 != 0 {
			return i + 1, nil
		}
	}
}

// Symbol is one dynamic symbol, as --symbols lists it.
type Symbol struct {
	Name      string `json:"name"`
	Demangled string `json:"demangled,omitempty"` // C++ name, when Name is mangled
	Version   string `json:"version,omitempty"`
	Defined   bool   `json:"defined"`
	Type      string `json:"type"`    // func, object, tls, notype...
	Binding   string `json:"binding"` // global, weak, local
}

// SymbolList is the result of --symbols.
type SymbolList struct {
	Path    string   `json:"path"`
	Filter  string   `json:"filter,omitempty"`
	Symbols []Symbol `json:"symbols"`
}

// DynamicSymbols lists the dynamic symbols of the ELF file at path (a
// machine path under root), sorted by name, keeping those whose raw or
// demangled name matches filter (nil: all).
func DynamicSymbols(ctx context.Context, root, path string, filter *regexp.Regexp) (_ *SymbolList, err error) {
	defer faultGuard()(&err)
	fs := newRootFS(root)
	hp, err := fs.hostPath(path)
	if err != nil {
		return nil, err
	}
	o, err := openObject(path, hp)
	if err != nil {
		return nil, err
	}
	defer o.close()
	syms, err := o.dynSymbols()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	list := &SymbolList{Path: path, Symbols: []Symbol{}}
	if filter != nil {
		list.Filter = filter.String()
	}
	for i, s := range syms {
		if i%4096 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if s.Name == "" {
			continue
		}
		sym := Symbol{
			Name:    s.Name,
			Version: s.Version,
			Defined: s.Section != elf.SHN_UNDEF,
			Type:    strings.ToLower(strings.TrimPrefix(elf.ST_TYPE(s.Info).String(), "STT_")),
			Binding: strings.ToLower(strings.TrimPrefix(elf.ST_BIND(s.Info).String(), "STB_")),
		}
		if strings.HasPrefix(s.Name, "_Z") {
			if d, err := demangle.ToString(s.Name); err == nil {
				sym.Demangled = d
			}
		}
		if filter != nil && !filter.MatchString(sym.Name) && (sym.Demangled == "" || !filter.MatchString(sym.Demangled)) {
			continue
		}
		list.Symbols = append(list.Symbols, sym)
	}
	sort.SliceStable(list.Symbols, func(i, j int) bool { return list.Symbols[i].Name < list.Symbols[j].Name })
	return list, nil
}

// RenderText prints one symbol per line: U (undefined) or D (defined), the
// name and, for C++, the demangled name.
func (l *SymbolList) RenderText(w io.Writer, st ui.Style, verbose bool) error {
	for _, s := range l.Symbols {
		mark := "D"
		if !s.Defined {
			mark = "U"
		}
		name := s.Name
		if s.Version != "" {
			name += "@" + s.Version
		}
		if s.Demangled != "" {
			fmt.Fprintf(w, "%s %s %s\n", mark, s.Demangled, st.Dim(name))
		} else {
			fmt.Fprintf(w, "%s %s\n", mark, name)
		}
	}
	if len(l.Symbols) == 0 {
		fmt.Fprintln(w, st.Dim("no dynamic symbols match"))
	}
	return nil
}

// eachDynSym walks the dynamic symbol table without allocating a string
// per symbol: the DPDK scan only looks for a handful of names. The table is
// located as in dynSymbols; names come from DT_STRTAB.
func (o *object) eachDynSym(fn func(name []byte, info byte, shndx elf.SectionIndex, value uint64)) error {
	d := o.dyn
	if d == nil || d.strtab == nil {
		return nil
	}
	entSize := uint64(24)
	if o.class == elf.ELFCLASS32 {
		entSize = 16
	}
	var raw []byte
	if s := o.f.SectionByType(elf.SHT_DYNSYM); s != nil {
		b, err := o.readRange(s.Offset, s.Size)
		if err != nil {
			return fmt.Errorf(".dynsym: %w", err)
		}
		raw = b
	} else {
		symAddr, ok := d.first(elf.DT_SYMTAB)
		if !ok {
			return nil
		}
		n, err := o.dynSymCount(d)
		if err != nil {
			return err
		}
		off, avail, ok := o.vaddrToOff(symAddr)
		if !ok || n > avail/entSize {
			return fmt.Errorf("DT_SYMTAB %#x outside the file", symAddr)
		}
		if raw, err = o.readRange(off, n*entSize); err != nil {
			return err
		}
	}
	bo := o.f.ByteOrder
	for i := entSize; i+entSize <= uint64(len(raw)); i += entSize {
		b := raw[i:]
		var nameOff uint32
		var info byte
		var shndx elf.SectionIndex
		var value uint64
		if entSize == 24 {
			nameOff, info, shndx, value = bo.Uint32(b), b[4], elf.SectionIndex(bo.Uint16(b[6:])), bo.Uint64(b[8:])
		} else {
			nameOff, value, info, shndx = bo.Uint32(b), uint64(bo.Uint32(b[4:])), b[12], elf.SectionIndex(bo.Uint16(b[14:]))
		}
		if uint64(nameOff) >= uint64(len(d.strtab)) {
			continue
		}
		name := d.strtab[nameOff:]
		if j := bytes.IndexByte(name, 0); j >= 0 {
			name = name[:j]
		}
		fn(name, info, shndx, value)
	}
	return nil
}
