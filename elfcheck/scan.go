package elfcheck

import (
	"bytes"
	"debug/elf"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
)

// Symbols whose presence in the dynamic symbol table tells what a DPDK
// object does at start-up. Imports survive strip; .symtab does not.
const (
	symPdumpInit    = "rte_pdump_init"
	symEALInit      = "rte_eal_init"
	symMempoolOps   = "rte_mempool_register_ops"
	symTailq        = "rte_eal_tailq_register"
	symPCIRegister  = "rte_pci_register"
	symVdevRegister = "rte_vdev_register"
)

var interesting = map[string]bool{
	symPdumpInit: true, symEALInit: true, symMempoolOps: true, symTailq: true,
	symPCIRegister: true, symVdevRegister: true,
	symOpsTable:        true,
	"rte_version_year": true, "rte_version_month": true, "rte_version_minor": true,
}

// staticReg is one DPDK constructor found in .symtab of a static build:
// vdrvinitfn_<drv>, pciinitfn_<drv>, businitfn_<bus>, mp_hdlr_init_<ops>,
// tailqinitfn_<tailq> (RTE_PMD_REGISTER_*, RTE_REGISTER_BUS,
// MEMPOOL_REGISTER_OPS, EAL_REGISTER_TAILQ).
type staticReg struct {
	kind string // driver, bus, mempool-ops, tailq
	name string
	addr uint64
}

// dpdkScan is what one object tells about DPDK.
type dpdkScan struct {
	pmdInfo     []string // driver names from PMD_INFO_STRING (survives strip)
	pluginPath  string   // DPDK_PLUGIN_PATH= in librte_eal's rodata
	versionLit  string   // "DPDK yy.mm.z" found as a literal
	versionCode string   // decoded from rte_version_year/month/minor
	imports     map[string]bool
	defines     map[string]bool
	symtab      bool
	opsTable    uint64 // address of rte_mempool_ops_table, when defined here
	hasOpsTable bool
	// Strings that survive strip in a program with DPDK linked in: EAL's
	// own messages, pdump's mp action name, tailq names (in rodata).
	ealText    bool
	pdumpText  bool
	tailqNames []string    // components, from the names of the tailqs
	regs       []staticReg // in constructor (.init_array) order when known
	warnings   []string
}

// markEAL is a message of rte_eal_init (EAL 2.x to 24.11) and
// markPdumpAction the name librte_pdump registers its mp action under:
// both stay in a stripped static program.
var (
	markEAL         = []byte("\x00Cannot init tail queues for objects")
	markPdumpAction = []byte("\x00mp_pdump\x00")
)

// tailqNameOwners are the names EAL_REGISTER_TAILQ gives (NUL-delimited
// in rodata) and the library registering each, for a stripped static
// build whose constructors have no names left.
var tailqNameOwners = []struct {
	name  []byte
	owner string
}{
	{[]byte("\x00UIO_RESOURCE_LIST\x00"), "bus_pci"}, {[]byte("\x00VFIO_RESOURCE_LIST\x00"), "bus_pci"},
	{[]byte("\x00RTE_RING\x00"), "ring"}, {[]byte("\x00RTE_MEMPOOL\x00"), "mempool"},
	{[]byte("\x00RTE_MBUF_DYNFIELD\x00"), "mbuf"}, {[]byte("\x00RTE_MBUF_DYNFLAG\x00"), "mbuf"},
	{[]byte("\x00RTE_HASH\x00"), "hash"}, {[]byte("\x00RTE_FBK_HASH\x00"), "hash"}, {[]byte("\x00RTE_THASH\x00"), "hash"},
	{[]byte("\x00RTE_LPM\x00"), "lpm"}, {[]byte("\x00RTE_LPM6\x00"), "lpm"}, {[]byte("\x00RTE_REORDER\x00"), "reorder"},
	{[]byte("\x00RTE_EFD\x00"), "efd"}, {[]byte("\x00RTE_MEMBER\x00"), "member"}, {[]byte("\x00RTE_ACL\x00"), "acl"},
	{[]byte("\x00RTE_DISTRIBUTOR\x00"), "distributor"}, {[]byte("\x00RTE_STACK\x00"), "stack"},
}

var (
	markPMDInfo    = []byte("PMD_INFO_STRING=")
	markPluginPath = []byte("DPDK_PLUGIN_PATH=")
	versionLitRE   = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^DPDK (\d{2})\.(\d{2})\.(\d+)(-rc\d+)?$`) })
)

// ctorPrefixes are the <prefix>initfn_<name> constructors DPDK's
// registration macros define (checked by hand: .symtab has thousands of
// names).
var ctorPrefixes = map[string]bool{
	"vdrv": true, "pci": true, "bus": true, "tailq": true, "auxiliary": true,
	"vmbus": true, "fslmc": true, "dpaa": true, "ifpga": true,
}

// dataChunks returns the .data sections of o (none without section
// headers).
func (o *object) dataChunks() [][]byte {
	var out [][]byte
	for _, s := range o.f.Sections {
		if s.Type == elf.SHT_PROGBITS && s.Flags&elf.SHF_WRITE != 0 && strings.HasPrefix(s.Name, ".data") && s.Size <= uint64(o.size) {
			if b, err := o.readRange(s.Offset, s.Size); err == nil {
				out = append(out, b)
			}
		}
	}
	return out
}

// roChunks returns the read-only data of o: .rodata* sections, or, without
// section headers, the PT_LOAD segments that are neither writable nor
// executable (or all non-writable ones if there are none).
func (o *object) roChunks() [][]byte {
	var out [][]byte
	total := uint64(0)
	add := func(off, n uint64) {
		if total+n > uint64(o.size) { // the same bytes cannot be scanned twice
			return
		}
		if b, err := o.readRange(off, n); err == nil {
			out = append(out, b)
			total += n
		}
	}
	for _, s := range o.f.Sections {
		if s.Type == elf.SHT_PROGBITS && s.Flags&elf.SHF_ALLOC != 0 && s.Flags&(elf.SHF_WRITE|elf.SHF_EXECINSTR) == 0 && strings.HasPrefix(s.Name, ".rodata") {
			add(s.Offset, s.Size)
		}
	}
	if len(out) > 0 {
		return out
	}
	for _, strict := range []bool{true, false} {
		for _, p := range o.f.Progs {
			if p.Type != elf.PT_LOAD || p.Flags&elf.PF_W != 0 || (strict && p.Flags&elf.PF_X != 0) {
				continue
			}
			add(p.Off, p.Filesz)
		}
		if len(out) > 0 {
			break
		}
	}
	return out
}

// cstrings yields each NUL-terminated string starting with mark.
func cstrings(chunk, mark []byte, fn func(string)) {
	for i := 0; ; {
		j := bytes.Index(chunk[i:], mark)
		if j < 0 {
			return
		}
		start := i + j
		end := bytes.IndexByte(chunk[start:], 0)
		if end < 0 {
			end = len(chunk) - start
		}
		if end > 64<<10 {
			end = 64 << 10
		}
		fn(string(chunk[start : start+end]))
		i = start + len(mark)
	}
}

// dpdk scans o once for DPDK facts. Read-only data (PMD info, plugin
// path, version string) is only read when withRO: core librte libraries
// other than EAL carry none of it.
func (o *object) dpdk(withRO bool) *dpdkScan {
	if o.scan != nil {
		return o.scan
	}
	sc := &dpdkScan{imports: map[string]bool{}, defines: map[string]bool{}}
	o.scan = sc
	var chunks [][]byte
	if withRO {
		chunks = o.roChunks()
	}
	for _, chunk := range chunks {
		cstrings(chunk, markPMDInfo, func(s string) {
			var info struct {
				Name string `json:"name"`
			}
			js := strings.TrimSpace(strings.TrimPrefix(s, string(markPMDInfo)))
			if err := json.Unmarshal([]byte(js), &info); err == nil && info.Name != "" {
				sc.pmdInfo = append(sc.pmdInfo, info.Name)
			} else {
				sc.warnings = append(sc.warnings, "unparsable PMD_INFO_STRING")
			}
		})
		cstrings(chunk, markPluginPath, func(s string) {
			if sc.pluginPath == "" {
				sc.pluginPath = strings.TrimPrefix(s, string(markPluginPath))
			}
		})
		if bytes.Contains(chunk, markEAL) {
			sc.ealText = true
		}
		if bytes.Contains(chunk, markPdumpAction) {
			sc.pdumpText = true
		}
		cstrings(chunk, []byte("DPDK "), func(s string) {
			if sc.versionLit == "" && versionLitRE().MatchString(s) {
				sc.versionLit = strings.TrimPrefix(s, "DPDK ")
			}
		})
	}
	if sc.ealText {
		// struct rte_tailq_elem carries its name as an array: in .data.
		for _, chunk := range o.dataChunks() {
			for _, tq := range tailqNameOwners {
				if bytes.Contains(chunk, tq.name) && !slices.Contains(sc.tailqNames, tq.owner) {
					sc.tailqNames = append(sc.tailqNames, tq.owner)
				}
			}
		}
	}
	values := map[string]uint64{}
	err := o.eachDynSym(func(name []byte, info byte, shndx elf.SectionIndex, value uint64) {
		if len(name) < 4 || name[0] != 'r' || !interesting[string(name)] { // string(name) in a map index does not allocate
			return
		}
		n := string(name)
		if shndx == elf.SHN_UNDEF {
			sc.imports[n] = true
		} else {
			sc.defines[n] = true
			values[n] = value
		}
	})
	if err != nil {
		sc.warnings = append(sc.warnings, "dynamic symbols: "+err.Error())
	}
	o.readSymtab(sc, values)
	sc.versionCode = o.decodeVersion(values)
	sc.opsTable, sc.hasOpsTable = values[symOpsTable]
	return sc
}

// readSymtab reads .symtab (absent once stripped) for a static DPDK's
// definitions and its constructors, ordered as .init_array runs them.
func (o *object) readSymtab(sc *dpdkScan, values map[string]uint64) {
	s := o.f.SectionByType(elf.SHT_SYMTAB)
	if s == nil || s.Size > uint64(o.size) {
		return
	}
	syms, err := o.f.Symbols()
	if err != nil {
		sc.warnings = append(sc.warnings, "symbol table: "+err.Error())
		return
	}
	sc.symtab = true
	for _, s := range syms {
		if s.Section == elf.SHN_UNDEF {
			continue
		}
		if interesting[s.Name] {
			sc.defines[s.Name] = true
			if _, ok := values[s.Name]; !ok {
				values[s.Name] = s.Value
			}
		}
		if elf.ST_TYPE(s.Info) != elf.STT_FUNC || strings.Contains(s.Name, ".") { // .cold, .part.0: pieces of one function
			continue
		}
		if bus, name, ok := strings.Cut(s.Name, "initfn_"); ok && ctorPrefixes[bus] && name != "" {
			kind := "driver"
			switch bus {
			case "tailq":
				kind = "tailq"
			case "bus":
				kind = "bus"
			}
			sc.regs = append(sc.regs, staticReg{kind: kind, name: name, addr: s.Value})
		} else if n, ok := strings.CutPrefix(s.Name, "mp_hdlr_init_"); ok {
			sc.regs = append(sc.regs, staticReg{kind: "mempool-ops", name: n, addr: s.Value})
		}
	}
	order := o.initArray()
	pos := make(map[uint64]int, len(order))
	for i, a := range order {
		if _, ok := pos[a]; !ok {
			pos[a] = i
		}
	}
	// Constructors run in .init_array order; those not found there (no
	// section headers, unreadable) keep link order, which is address order.
	sort.SliceStable(sc.regs, func(i, j int) bool {
		pi, iok := pos[sc.regs[i].addr]
		pj, jok := pos[sc.regs[j].addr]
		if iok && jok {
			return pi < pj
		}
		if iok != jok {
			return iok
		}
		return sc.regs[i].addr < sc.regs[j].addr
	})
}

// initArray returns the constructor addresses in .init_array. PIE files
// may leave the slots zero and carry the addresses as R_*_RELATIVE addends.
func (o *object) initArray() []uint64 {
	s := o.f.Section(".init_array")
	if s == nil || s.Type == elf.SHT_NOBITS || s.Size > uint64(o.size) {
		return nil
	}
	b, err := o.readRange(s.Offset, s.Size)
	if err != nil {
		return nil
	}
	word := 8
	if o.class == elf.ELFCLASS32 {
		word = 4
	}
	addrs := make([]uint64, 0, len(b)/word)
	zero := true
	for i := 0; i+word <= len(b); i += word {
		var a uint64
		if word == 8 {
			a = o.f.ByteOrder.Uint64(b[i:])
		} else {
			a = uint64(o.f.ByteOrder.Uint32(b[i:]))
		}
		if a != 0 {
			zero = false
		}
		addrs = append(addrs, a)
	}
	if zero && word == 8 {
		if rela := o.f.Section(".rela.dyn"); rela != nil && rela.Size <= uint64(o.size) {
			if rb, err := o.readRange(rela.Offset, rela.Size); err == nil {
				for i := 0; i+24 <= len(rb); i += 24 {
					off := o.f.ByteOrder.Uint64(rb[i:])
					if off >= s.Addr && off < s.Addr+s.Size && (off-s.Addr)%8 == 0 {
						addrs[(off-s.Addr)/8] = o.f.ByteOrder.Uint64(rb[i+16:])
					}
				}
			}
		}
	}
	return addrs
}

// decodeVersion reads DPDK's version from the code of rte_version_year,
// _month and _minor. DPDK 22.11 builds rte_version()'s string at run time
// with snprintf, so no "DPDK 22.11.x" literal exists in the binary; these
// three functions each return one immediate.
func (o *object) decodeVersion(values map[string]uint64) string {
	var parts [3]uint32
	for i, name := range []string{"rte_version_year", "rte_version_month", "rte_version_minor"} {
		v, ok := values[name]
		if !ok {
			return ""
		}
		off, avail, ok := o.vaddrToOff(v)
		if !ok || avail < 4 {
			return ""
		}
		n := min(avail, 16)
		code, err := o.readRange(off, n)
		if err != nil {
			return ""
		}
		imm, ok := returnedImmediate(o.machine, o.f.ByteOrder.Uint32, code)
		if !ok {
			return ""
		}
		parts[i] = imm
	}
	if parts[0] < 16 || parts[0] > 99 || parts[1] < 1 || parts[1] > 12 {
		return ""
	}
	return fmt.Sprintf("%d.%02d.%d", parts[0], parts[1], parts[2])
}

// returnedImmediate recognises "return <constant>" on x86-64
// (mov $imm,%eax; ret — optionally after endbr64) and aarch64
// (movz w0,#imm; ret — optionally after bti c).
func returnedImmediate(m elf.Machine, u32 func([]byte) uint32, code []byte) (uint32, bool) {
	switch m {
	case elf.EM_X86_64, elf.EM_386:
		code = bytes.TrimPrefix(code, []byte{0xf3, 0x0f, 0x1e, 0xfa}) // endbr64
		code = bytes.TrimPrefix(code, []byte{0xf3, 0x0f, 0x1e, 0xfb}) // endbr32
		if len(code) >= 6 && code[0] == 0xb8 && code[5] == 0xc3 {
			return uint32(code[1]) | uint32(code[2])<<8 | uint32(code[3])<<16 | uint32(code[4])<<24, true
		}
	case elf.EM_AARCH64:
		if len(code) >= 8 && u32(code) == 0xd503245f { // bti c
			code = code[4:]
		}
		if len(code) >= 8 {
			insn, ret := u32(code), u32(code[4:])
			if insn&0xffe0001f == 0x52800000 && ret == 0xd65f03c0 {
				return (insn >> 5) & 0xffff, true
			}
		}
	}
	return 0, false
}
