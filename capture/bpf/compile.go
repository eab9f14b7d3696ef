//go:build linux && (amd64 || arm64)

package bpf

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"unsafe"

	"github.com/ebitengine/purego"
)

// libpcap is loaded at run time with purego, not linked and not through cgo:
// gzdoctor is one CGO_ENABLED=0 binary that must start on every openEuler
// release (glibc 2.28 and later). A cgo build pinned it to the build host's
// glibc (GLIBC_2.32 on Debian 12, so it did not start on Debian 11 or
// openEuler 20.03), and linking libpcap would make every start pay for
// libpcap's own dependencies (dbus, systemd, gcrypt on Debian) and fail on a
// host without libpcap, where everything but filters works. purego's dlopen
// asks nothing of glibc beyond the dynamic loader and dlopen/dlsym.

// libpcapNames are tried in order: the soname of libpcap 1.x everywhere, then
// Debian's historical one, then the development symlink.
var libpcapNames = []string{"libpcap.so.1", "libpcap.so.0.8", "libpcap.so"}

// bpfProgram and bpfInsn are struct bpf_program and struct bpf_insn of
// <pcap/bpf.h> on LP64 (the build tag): a u_int, padding, a pointer; and
// u_short, u_char, u_char, bpf_u_int32.
type bpfProgram struct {
	Len   uint32
	_     uint32
	Insns *bpfInsn
}

type bpfInsn struct {
	Code uint16
	Jt   uint8
	Jf   uint8
	K    uint32
}

var (
	pcapOpenDead func(linktype, snaplen int32) uintptr
	pcapCompile  func(p uintptr, prog *bpfProgram, expr string, optimize int32, netmask uint32) int32
	pcapGeterr   func(p uintptr) string
	pcapClose    func(p uintptr)
	pcapFreecode func(prog *bpfProgram)
)

var (
	// libpcap's generated parser kept global state before 1.8; the lock
	// costs nothing and keeps older libraries correct.
	compileMu sync.Mutex
	loadOnce  sync.Once
	loadErr   error
)

// loadLibpcap opens libpcap and resolves the five functions Compile uses.
func loadLibpcap() error {
	loadOnce.Do(func() { loadErr = openLibpcap(libpcapNames) })
	return loadErr
}

func openLibpcap(names []string) error {
	var h uintptr
	var errs []string
	for _, n := range names {
		var err error
		if h, err = purego.Dlopen(n, purego.RTLD_NOW|purego.RTLD_LOCAL); err == nil {
			break
		}
		errs = append(errs, err.Error())
	}
	if h == 0 {
		return fmt.Errorf("%w (Debian: apt install libpcap0.8, openEuler: dnf install libpcap); everything else works without it: tried %s: %s",
			ErrNoLibpcap, strings.Join(names, ", "), errs[0])
	}
	for _, f := range []struct {
		fn   any
		name string
	}{
		{&pcapOpenDead, "pcap_open_dead"},
		{&pcapCompile, "pcap_compile"},
		{&pcapGeterr, "pcap_geterr"},
		{&pcapClose, "pcap_close"},
		{&pcapFreecode, "pcap_freecode"},
	} {
		sym, err := purego.Dlsym(h, f.name)
		if err != nil {
			return fmt.Errorf("%w: the libpcap found lacks %s: %v", ErrNoLibpcap, f.name, err)
		}
		purego.RegisterFunc(f.fn, sym)
	}
	return nil
}

// Compile compiles a tcpdump filter expression for packets of link type
// linkType (a LINKTYPE_/DLT_ value) captured with snapLen, as tcpdump -r does
// for a savefile (pcap_open_dead, optimised, netmask 0). An empty expression
// matches every packet. Compile errors are libpcap's messages.
func Compile(expr string, linkType int, snapLen int) (*Program, error) {
	if err := loadLibpcap(); err != nil {
		return nil, err
	}
	if snapLen <= 0 || snapLen > 262144 {
		snapLen = 262144 // what libpcap assumes for a savefile with a bogus snaplen
	}
	compileMu.Lock()
	defer compileMu.Unlock()
	p := pcapOpenDead(int32(linkType), int32(snapLen))
	if p == 0 {
		return nil, errors.New("pcap_open_dead failed")
	}
	defer pcapClose(p)
	var prog bpfProgram
	if pcapCompile(p, &prog, expr, 1, 0) != 0 {
		return nil, fmt.Errorf("filter %q: %s", expr, pcapGeterr(p))
	}
	defer pcapFreecode(&prog)
	n := int(prog.Len)
	if n == 0 || prog.Insns == nil {
		return nil, errors.New("libpcap returned an empty program")
	}
	src := unsafe.Slice(prog.Insns, n)
	ins := make([]Instruction, n)
	for i, s := range src {
		ins[i] = Instruction{Op: s.Code, Jt: s.Jt, Jf: s.Jf, K: s.K}
		if ancillary(ins[i]) {
			return nil, fmt.Errorf("filter %q: it needs what a live Linux capture knows of a packet (inbound/outbound, ifindex), which a saved file does not carry; tcpdump -r refuses it too", expr)
		}
	}
	return NewProgram(ins)
}

// ancillary reports a load from Linux's ancillary data (SKF_AD_OFF,
// -4096, and up: the packet type, ifindex...). pcap_open_dead is not a
// savefile to libpcap, so it compiles inbound/outbound to such loads
// where tcpdump -r says "not supported when reading savefiles"; in a
// file they would read past the packet and match nothing, in silence.
func ancillary(in Instruction) bool {
	const skfAdOff = 0xfffff000
	class, mode := in.Op&0x07, in.Op&0xe0
	return (class == classLD || class == classLDX) && (mode == modeABS || mode == modeIND) && in.K >= skfAdOff
}

// CanCompile reports whether this build can compile expressions (it still
// needs libpcap at run time; Compile says so when it is missing).
const CanCompile = true
