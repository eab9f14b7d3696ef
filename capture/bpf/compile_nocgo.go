//go:build !cgo

package bpf

import "errors"

// Compile needs libpcap through cgo; this build has neither.
func Compile(expr string, linkType int, snapLen int) (*Program, error) {
	return nil, errors.New("filter expressions need a gzdoctor built with cgo and libpcap (CGO_ENABLED=1, libpcap-dev)")
}

// CanCompile reports whether this build can compile expressions.
const CanCompile = false
