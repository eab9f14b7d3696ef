// Package bpf compiles tcpdump filter expressions with libpcap, so that they
// mean exactly what they mean to tcpdump, and runs the resulting classic BPF
// programs over packets with an interpreter of its own.
//
// Compiling needs cgo and libpcap (libpcap.so.0.8 at run time); running a
// program does not. The interpreter is a flat switch over pre-decoded
// instructions with libpcap's bpf_filter semantics (loads past the captured
// data reject the packet, division by a zero X rejects, shifts by 32 or more
// give 0).
package bpf
