package elfcheck

import (
	"fmt"
	"runtime/debug"
)

// faultGuard makes a fault while reading a mapped file (one truncated while
// it is read: SIGBUS) an error instead of a crash. Use it as
// `defer faultGuard()(&err)` in every entry point that maps files.
func faultGuard() func(*error) {
	old := debug.SetPanicOnFault(true)
	return func(err *error) {
		debug.SetPanicOnFault(old)
		if p := recover(); p != nil {
			if f, ok := p.(interface{ Addr() uintptr }); ok {
				*err = fmt.Errorf("a file changed while it was read (fault at %#x): %v", f.Addr(), p)
				return
			}
			panic(p)
		}
	}
}
