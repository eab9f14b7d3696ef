// Package bpf compiles tcpdump filter expressions with libpcap, so that they
// mean exactly what they mean to tcpdump, and runs the resulting classic BPF
// programs over packets with an interpreter of its own.
//
// Compiling needs cgo and libpcap (libpcap.so.0.8 at run time); running a
// program does not. golang.org/x/net/bpf's VM was measured and not used: it
// dispatches every instruction through an interface call and copies the
// packet's bounds checks into each instruction, several times slower than
// this interpreter's flat switch over pre-decoded instructions
// (BenchmarkVM).
package bpf
