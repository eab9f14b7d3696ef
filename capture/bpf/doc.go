// Package bpf compiles tcpdump filter expressions with libpcap, so that they
// mean exactly what they mean to tcpdump, and runs the resulting classic BPF
// programs over packets with an interpreter of its own.
//
// Compiling needs libpcap at run time (libpcap.so.1 or .so.0.8, opened with
// purego: no cgo, so the binary needs no glibc symbol version); running a
// program does not. The interpreter is a flat switch over pre-decoded
// instructions with libpcap's bpf_filter semantics (loads past the captured
// data reject the packet, division by a zero X rejects, shifts by 32 or more
// give 0). An absolute load followed by a jeq or jset on a constant runs
// as one fused instruction: compiled filters are mostly such pairs.
package bpf

import "errors"

// ErrNoLibpcap is wrapped by Compile's error when libpcap cannot be loaded:
// the tool cannot do its job, which is not the user's expression's fault.
var ErrNoLibpcap = errors.New("filter expressions need libpcap")
