//go:build cgo

package bpf

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pcap/pcap.h>

// libpcap is loaded on first use rather than linked: on Debian it pulls in
// dbus, systemd and gcrypt, which every gzdoctor start would pay for, and a
// host without libpcap can still run everything but filters.
typedef pcap_t *(*gz_open_dead_fn)(int, int);
typedef int (*gz_compile_fn)(pcap_t *, struct bpf_program *, const char *, int, bpf_u_int32);
typedef char *(*gz_geterr_fn)(pcap_t *);
typedef void (*gz_close_fn)(pcap_t *);
typedef void (*gz_freecode_fn)(struct bpf_program *);

static gz_open_dead_fn gz_open_dead;
static gz_compile_fn gz_pcap_compile;
static gz_geterr_fn gz_geterr;
static gz_close_fn gz_close;
static gz_freecode_fn gz_freecode;

// gz_load resolves the five functions. It returns 0, or -1 with the
// loader's message in errbuf.
static int gz_load(char *errbuf, size_t errlen) {
	static const char *names[] = {"libpcap.so.1", "libpcap.so.0.8", "libpcap.so", NULL};
	void *h = NULL;
	for (int i = 0; names[i] != NULL && h == NULL; i++) {
		h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
	}
	if (h == NULL) {
		const char *e = dlerror();
		snprintf(errbuf, errlen, "%s", e ? e : "libpcap not found");
		return -1;
	}
	gz_open_dead = (gz_open_dead_fn)dlsym(h, "pcap_open_dead");
	gz_pcap_compile = (gz_compile_fn)dlsym(h, "pcap_compile");
	gz_geterr = (gz_geterr_fn)dlsym(h, "pcap_geterr");
	gz_close = (gz_close_fn)dlsym(h, "pcap_close");
	gz_freecode = (gz_freecode_fn)dlsym(h, "pcap_freecode");
	if (!gz_open_dead || !gz_pcap_compile || !gz_geterr || !gz_close || !gz_freecode) {
		snprintf(errbuf, errlen, "libpcap lacks pcap_open_dead/pcap_compile");
		return -1;
	}
	return 0;
}

// gz_compile compiles expr for a dead handle of linktype and snaplen, as
// tcpdump -r does for a savefile (optimised, netmask 0). On failure it
// copies libpcap's message into errbuf and returns -1.
static int gz_compile(int linktype, int snaplen, const char *expr,
                      struct bpf_program *prog, char *errbuf, size_t errlen) {
	pcap_t *p = gz_open_dead(linktype, snaplen);
	if (p == NULL) {
		snprintf(errbuf, errlen, "pcap_open_dead failed");
		return -1;
	}
	int rc = gz_pcap_compile(p, prog, expr, 1, 0);
	if (rc != 0) {
		snprintf(errbuf, errlen, "%s", gz_geterr(p));
	}
	gz_close(p);
	return rc;
}

static void gz_free(struct bpf_program *prog) { gz_freecode(prog); }
*/
import "C"

import (
	"errors"
	"fmt"
	"sync"
	"unsafe"
)

var (
	// libpcap's generated parser kept global state before 1.8; the lock
	// costs nothing and keeps older libraries correct.
	compileMu sync.Mutex
	loadOnce  sync.Once
	loadErr   error
)

func loadLibpcap() error {
	loadOnce.Do(func() {
		errbuf := make([]byte, 512)
		if C.gz_load((*C.char)(unsafe.Pointer(&errbuf[0])), C.size_t(len(errbuf))) != 0 {
			loadErr = fmt.Errorf("filter expressions need libpcap (Debian: libpcap0.8, openEuler: libpcap): %s",
				C.GoString((*C.char)(unsafe.Pointer(&errbuf[0]))))
		}
	})
	return loadErr
}

// Compile compiles a tcpdump filter expression for packets of link type
// linkType (a LINKTYPE_/DLT_ value) captured with snapLen. An empty
// expression matches every packet. Compile errors are libpcap's messages.
func Compile(expr string, linkType int, snapLen int) (*Program, error) {
	if err := loadLibpcap(); err != nil {
		return nil, err
	}
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
	defer C.gz_free(&prog)
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

// CanCompile reports whether this build can compile expressions (it still
// needs libpcap at run time; Compile says so when it is missing).
const CanCompile = true
