// Package testenv lets tests that need a real tool (tcpdump, tshark, gcc,
// dpdk-pdump…) say so once. Locally a missing tool skips the test with the
// package that provides it; in CI (GZDOCTOR_REQUIRE_LAB=1, set by .ci/run)
// it fails, because lab/setup installs every one and a silent skip there
// would hide a missing install step.
package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// Required reports whether missing tools must fail tests (CI).
func Required() bool { return os.Getenv("GZDOCTOR_REQUIRE_LAB") == "1" }

// Tool returns the path of the program name, or ends the test: why says
// what provides it (a Debian package).
func Tool(t testing.TB, name, why string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		missing(t, name+" not installed ("+why+")")
	}
	return p
}

// File ends the test when the file p is missing; why says what provides it.
func File(t testing.TB, p, why string) {
	t.Helper()
	if _, err := os.Stat(p); err != nil {
		missing(t, p+" missing ("+why+")")
	}
}

func missing(t testing.TB, msg string) {
	t.Helper()
	if Required() {
		t.Fatalf("%s: lab/setup installs it, and CI runs every test", msg)
	} else {
		t.Skipf("%s: run lab/setup (as root) to install it", msg)
	}
}
