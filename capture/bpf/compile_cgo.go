//go:build cgo

package bpf

/*
#cgo LDFLAGS: -lpcap
#include <stdlib.h>
#include <string.h>
#include <pcap/pcap.h>

// gz_compile compiles expr for a dead handle of linktype and snaplen, as
// tcpdump -r does for a savefile (optimised, netmask 0). On failure it
// copies libpcap's message into errbuf and returns -1.
static int gz_compile(int linktype, int snaplen, const char *expr,
                      struct bpf_program *prog, char *errbuf, size_t errlen) {
	pcap_t *p = pcap_open_dead(linktype, snaplen);
	if (p == NULL) {
		snprintf(errbuf, errlen, "pcap_open_dead failed");
		return -1;
	}
	int rc = pcap_compile(p, prog, expr, 1, 0);
	if (rc != 0) {
		snprintf(errbuf, errlen, "%s", pcap_geterr(p));
	}
	pcap_close(p);
	return rc;
}
*/
import "C"

import (
	"errors"
	"fmt"
	"sync"
	"unsafe"
)

// libpcap's generated parser kept global state before 1.8; the lock
// costs nothing and keeps older libraries correct.
var compileMu sync.Mutex

// Compile compiles a tcpdump filter expression for packets of link type
// linkType (a LINKTYPE_/DLT_ value) captured with snapLen. An empty
// expression matches every packet. Compile errors are libpcap's messages.
func Compile(expr string, linkType int, snapLen int) (*Program, error) {
	if snapLen <= 0 || snapLen > 262144 {
		snapLen = 262144 // what libpcap assumes for a savefile with a bogus snaplen
	}
	cexpr := C.CString(expr)
	defer C.free(unsafe.Pointer(cexpr))
	var prog C.struct_bpf_program
	errbuf := make([]byte, 512)
	compileMu.Lock()
	rc := C.gz_compile(C.int(linkType), C.int(snapLen), cexpr, &prog, (*C.char)(unsafe.Pointer(&errbuf[0])), C.size_t(len(errbuf)))
	compileMu.Unlock()
	if rc != 0 {
		return nil, fmt.Errorf("filter %q: %s", expr, C.GoString((*C.char)(unsafe.Pointer(&errbuf[0]))))
	}
	defer C.pcap_freecode(&prog)
	n := int(prog.bf_len)
	if n == 0 {
		return nil, errors.New("libpcap returned an empty program")
	}
	src := unsafe.Slice(prog.bf_insns, n)
	ins := make([]Instruction, n)
	for i, s := range src {
		ins[i] = Instruction{Op: uint16(s.code), Jt: uint8(s.jt), Jf: uint8(s.jf), K: uint32(s.k)}
	}
	return NewProgram(ins)
}

// CanCompile reports whether this build can compile expressions.
const CanCompile = true
