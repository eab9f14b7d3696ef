//go:build !(linux && (amd64 || arm64))

package bpf

import "fmt"

// Compile needs libpcap loaded with purego, which this build's platform does
// not have (gzdoctor is built for linux/amd64 and linux/arm64).
func Compile(expr string, linkType int, snapLen int) (*Program, error) {
	return nil, fmt.Errorf("%w, which gzdoctor loads only on linux/amd64 and linux/arm64", ErrNoLibpcap)
}

// CanCompile reports whether this build can compile expressions.
const CanCompile = false
