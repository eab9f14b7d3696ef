package elfcheck

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
)

// ErrNotELF is returned (wrapped) when a file is not an ELF file at all.
var ErrNotELF = errors.New("not an ELF file")

// maxTableBytes caps any one table (dynamic segment, string table, symbol
// table, read-only data) independently of what the headers claim; the file
// size caps it first. 512 MiB is far above any real DPDK binary.
const maxTableBytes = 512 << 20

// object is what elfcheck needs from one ELF file. It is read once and the
// file is closed; nothing in it points into the file.
type object struct {
	path     string // machine path, as the loader names it
	hostPath string // where it was read on this host
	size     int64

	class   elf.Class
	data    elf.Data
	machine elf.Machine
	osabi   elf.OSABI
	typ     elf.Type

	interp     string
	hasDynamic bool // PT_DYNAMIC present: a dynamically linked object
	noSections bool // read without section headers (absent or unreadable)

	needed   []string
	soname   string
	rpath    string // raw DT_RPATH ("" when absent or when DT_RUNPATH exists, like glibc)
	runpath  string
	hasRun   bool
	flags1   uint64
	warnings []string

	f    *elf.File
	ra   io.ReaderAt
	mem  []byte   // the file mapped read-only, when mmap worked; readRange slices it
	file *os.File // open until the analysis ends when not mapped; see close
	id   fileID   // device and inode: ld.so never loads one file twice

	dyn     *dynamic     // parsed PT_DYNAMIC (nil without one)
	syms    []elf.Symbol // dynamic symbols, read on demand
	symsErr error
	scan    *dpdkScan // DPDK facts, read on demand
}

// ELF header fields that locate the section headers, for the two classes.
// Zeroing them lets debug/elf read a file whose section headers are
// corrupt; the loader never reads them either.
var shFieldRanges = map[elf.Class][][2]int{
	elf.ELFCLASS64: {{0x28, 0x30}, {0x3C, 0x40}},
	elf.ELFCLASS32: {{0x20, 0x24}, {0x30, 0x34}},
}

// headerOverlay serves a patched ELF header over the real file.
type headerOverlay struct {
	r   io.ReaderAt
	hdr []byte
}

func (h headerOverlay) ReadAt(p []byte, off int64) (int, error) {
	n, err := h.r.ReadAt(p, off)
	if off < int64(len(h.hdr)) {
		copy(p[:n], h.hdr[off:])
	}
	return n, err
}

// newELF wraps debug/elf.NewFile so that no input can panic us.
func newELF(r io.ReaderAt) (f *elf.File, err error) {
	defer func() {
		if p := recover(); p != nil {
			f, err = nil, fmt.Errorf("malformed ELF: %v", p)
		}
	}()
	return elf.NewFile(r)
}

// close releases the file; the facts already read (strings, scan results)
// stay valid, but nothing may read o's tables after it.
func (o *object) close() {
	if o.mem != nil {
		syscall.Munmap(o.mem)
		o.mem = nil
		o.ra = closedReader{}
	}
	if o.file != nil {
		o.file.Close()
		o.file = nil
	}
}

type closedReader struct{}

func (closedReader) ReadAt([]byte, int64) (int, error) { return 0, os.ErrClosed }

// openObject reads the ELF file at machine path p (host path hp).
func openObject(p, hp string) (*object, error) {
	// Plain open(2) and fstat(2): os.Open would also register the file with
	// the network poller and os.NewFile probe its flags, wasted system calls
	// per library; an os.File is made only for the pread fallback.
	fd, err := syscall.Open(hp, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: p, Err: err}
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		syscall.Close(fd)
		return nil, &os.PathError{Op: "stat", Path: p, Err: err}
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		syscall.Close(fd)
		return nil, fmt.Errorf("%s: not a regular file", p)
	}
	id, size := fileID{uint64(st.Dev), uint64(st.Ino)}, st.Size
	// Map the file: the tables elfcheck reads become slices instead of a
	// pread and a copy each, and the descriptor can go at once. A file that
	// cannot be mapped (empty, a special file system) is read with pread.
	if size > 0 && size == int64(int(size)) {
		if mem, err := syscall.Mmap(fd, 0, int(size), syscall.PROT_READ, syscall.MAP_PRIVATE); err == nil {
			syscall.Close(fd)
			o, err := readObject(bytes.NewReader(mem), size, mem)
			if err != nil {
				syscall.Munmap(mem)
				return nil, fmt.Errorf("%s: %w", p, err)
			}
			o.path, o.hostPath, o.id = p, hp, id
			return o, nil
		}
	}
	fh := os.NewFile(uintptr(fd), hp)
	o, err := readObject(fh, size, nil)
	if err != nil {
		fh.Close()
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	o.path, o.hostPath, o.file, o.id = p, hp, fh, id
	return o, nil
}

// readObject parses an ELF image of the given size, read through r or,
// when mem is non-nil, sliced from mem (the same bytes). It is the fuzzed
// core: every count and offset in the file is checked against size.
func readObject(r io.ReaderAt, size int64, mem []byte) (*object, error) {
	var ident [elf.EI_NIDENT]byte
	if n, _ := r.ReadAt(ident[:], 0); n < 4 || !bytes.Equal(ident[:4], []byte(elf.ELFMAG)) {
		return nil, ErrNotELF
	}
	if size < 52 { // the smallest ELF header (ELF32)
		return nil, fmt.Errorf("truncated ELF header (%d bytes)", size)
	}
	o := &object{size: size, ra: r, mem: mem}
	f, err := newELF(r)
	if err != nil {
		// Retry without section headers: the loader only needs program
		// headers, and a binary with damaged section headers still runs.
		ranges, ok := shFieldRanges[elf.Class(ident[elf.EI_CLASS])]
		if !ok {
			return nil, fmt.Errorf("reading ELF headers: %w", err)
		}
		hdr := make([]byte, 0x40)
		if n, _ := r.ReadAt(hdr, 0); n < len(hdr) {
			return nil, fmt.Errorf("reading ELF headers: %w", err)
		}
		for _, rg := range ranges {
			clear(hdr[rg[0]:rg[1]])
		}
		f2, err2 := newELF(headerOverlay{r: r, hdr: hdr})
		if err2 != nil {
			return nil, fmt.Errorf("reading ELF headers: %w", err)
		}
		o.warnings = append(o.warnings, fmt.Sprintf("section headers unreadable (%v); read from program headers only", err))
		f = f2
	}
	o.f = f
	o.class, o.data, o.machine, o.osabi, o.typ = f.Class, f.Data, f.Machine, f.OSABI, f.Type
	o.noSections = len(f.Sections) == 0
	if err := o.readProgs(); err != nil {
		return nil, err
	}
	return o, nil
}

// readRange returns [off, off+n) bounded by the file size and
// maxTableBytes. The bytes may be the mapped file itself: read-only.
func (o *object) readRange(off, n uint64) ([]byte, error) {
	if n > maxTableBytes || off > uint64(o.size) || n > uint64(o.size)-off {
		return nil, fmt.Errorf("range %#x+%#x outside the file (%d bytes)", off, n, o.size)
	}
	if o.mem != nil {
		return o.mem[off : off+n : off+n], nil
	}
	b := make([]byte, n)
	if _, err := o.ra.ReadAt(b, int64(off)); err != nil && !(errors.Is(err, io.EOF) && n == 0) {
		return nil, err
	}
	return b, nil
}

// vaddrToOff maps a virtual address to its file offset through PT_LOAD,
// returning how many bytes of file data follow it in that segment.
func (o *object) vaddrToOff(v uint64) (off, avail uint64, ok bool) {
	for _, p := range o.f.Progs {
		if p.Type != elf.PT_LOAD || v < p.Vaddr || v-p.Vaddr >= p.Filesz {
			continue
		}
		d := v - p.Vaddr
		return p.Off + d, p.Filesz - d, true
	}
	return 0, 0, false
}

// dynamic holds the parsed PT_DYNAMIC entries elfcheck uses.
type dynamic struct {
	entries map[elf.DynTag][]uint64
	strtab  []byte
}

func (d *dynamic) str(off uint64) (string, bool) {
	if off >= uint64(len(d.strtab)) {
		return "", false
	}
	s := d.strtab[off:]
	if i := bytes.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	return string(s), true
}

func (d *dynamic) first(tag elf.DynTag) (uint64, bool) {
	v := d.entries[tag]
	if len(v) == 0 {
		return 0, false
	}
	return v[0], true
}

// readDynamic parses the dynamic table the way ld.so does: from PT_DYNAMIC,
// with the string table found through DT_STRTAB. Section headers are used
// only when there is no PT_DYNAMIC (a relocatable object has neither).
func (o *object) readDynamic() (*dynamic, error) {
	var raw []byte
	for _, p := range o.f.Progs {
		if p.Type == elf.PT_DYNAMIC {
			b, err := o.readRange(p.Off, p.Filesz)
			if err != nil {
				return nil, fmt.Errorf("PT_DYNAMIC: %w", err)
			}
			raw = b
			break
		}
	}
	if raw == nil {
		return nil, nil
	}
	entSize := 16
	if o.class == elf.ELFCLASS32 {
		entSize = 8
	}
	bo := o.f.ByteOrder
	d := &dynamic{entries: map[elf.DynTag][]uint64{}}
	for i := 0; i+entSize <= len(raw); i += entSize {
		var tag, val uint64
		if entSize == 16 {
			tag, val = bo.Uint64(raw[i:]), bo.Uint64(raw[i+8:])
		} else {
			tag, val = uint64(bo.Uint32(raw[i:])), uint64(bo.Uint32(raw[i+4:]))
		}
		if elf.DynTag(tag) == elf.DT_NULL {
			break
		}
		d.entries[elf.DynTag(tag)] = append(d.entries[elf.DynTag(tag)], val)
	}
	strAddr, ok1 := d.first(elf.DT_STRTAB)
	strSize, ok2 := d.first(elf.DT_STRSZ)
	if !ok1 || !ok2 {
		if len(d.entries[elf.DT_NEEDED]) > 0 {
			return nil, errors.New("dynamic section has DT_NEEDED but no string table (DT_STRTAB/DT_STRSZ)")
		}
		return d, nil
	}
	off, avail, ok := o.vaddrToOff(strAddr)
	if !ok {
		return nil, fmt.Errorf("DT_STRTAB %#x is not in any PT_LOAD segment", strAddr)
	}
	if strSize > avail {
		return nil, fmt.Errorf("DT_STRSZ %d runs past its segment", strSize)
	}
	b, err := o.readRange(off, strSize)
	if err != nil {
		return nil, fmt.Errorf("dynamic string table: %w", err)
	}
	d.strtab = b
	return d, nil
}

// readProgs fills interp and the dynamic facts.
func (o *object) readProgs() error {
	for _, p := range o.f.Progs {
		if p.Type == elf.PT_INTERP {
			b, err := o.readRange(p.Off, p.Filesz)
			if err != nil {
				return fmt.Errorf("PT_INTERP: %w", err)
			}
			if i := bytes.IndexByte(b, 0); i >= 0 {
				b = b[:i]
			}
			o.interp = string(b)
		}
	}
	d, err := o.readDynamic()
	if err != nil {
		return err
	}
	if d == nil {
		return nil
	}
	o.dyn = d
	o.hasDynamic = true
	str := func(tag elf.DynTag) []string {
		var out []string
		for _, v := range d.entries[tag] {
			s, ok := d.str(v)
			if !ok {
				o.warnings = append(o.warnings, fmt.Sprintf("%v offset %d outside the string table", tag, v))
				continue
			}
			out = append(out, s)
		}
		return out
	}
	o.needed = str(elf.DT_NEEDED)
	if s := str(elf.DT_SONAME); len(s) > 0 {
		o.soname = s[0]
	}
	if s := str(elf.DT_RUNPATH); len(s) > 0 {
		o.runpath, o.hasRun = s[0], true
	}
	// glibc drops DT_RPATH when DT_RUNPATH is present (get-dynamic-info.h).
	if s := str(elf.DT_RPATH); len(s) > 0 && !o.hasRun {
		o.rpath = s[0]
	}
	o.flags1, _ = d.first(elf.DT_FLAGS_1)
	return nil
}

// dfNodeflib is DF_1_NODEFLIB: skip ld.so.cache and the default dirs.
const dfNodeflib = 0x800

// dfPIE is DF_1_PIE.
const dfPIE = 0x08000000

// compatible reports whether candidate c can satisfy a dependency of o,
// with ld.so's test: same class, byte order and machine, and an OS ABI the
// loader accepts.
func (o *object) compatible(c *object) bool {
	if o.class != c.class || o.data != c.data || o.machine != c.machine {
		return false
	}
	ok := func(a elf.OSABI) bool { return a == elf.ELFOSABI_NONE || a == elf.ELFOSABI_LINUX }
	return ok(o.osabi) == ok(c.osabi)
}

// kind is a short description like "ELF64 LSB x86-64".
func (o *object) kind() string {
	bits := "ELF64"
	if o.class == elf.ELFCLASS32 {
		bits = "ELF32"
	}
	end := "LSB"
	if o.data == elf.ELFDATA2MSB {
		end = "MSB"
	}
	return fmt.Sprintf("%s %s %s", bits, end, machineName(o.machine))
}

func machineName(m elf.Machine) string {
	switch m {
	case elf.EM_X86_64:
		return "x86-64"
	case elf.EM_386:
		return "i386"
	case elf.EM_AARCH64:
		return "aarch64"
	case elf.EM_ARM:
		return "arm"
	case elf.EM_PPC64:
		return "ppc64"
	case elf.EM_RISCV:
		return "riscv"
	case elf.EM_LOONGARCH:
		return "loongarch"
	case elf.EM_S390:
		return "s390"
	}
	return m.String()
}
