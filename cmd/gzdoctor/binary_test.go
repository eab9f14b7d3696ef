package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gzdoctor/gzdoctor/internal/testenv"
)

// The binary `make build` makes must start on every openEuler release
// (glibc 2.28 and later): no cgo, no glibc symbol version required, and
// nothing NEEDED beyond what every glibc has. readelf is the oracle.
func TestMadeBinaryNeedsNoGlibcVersion(t *testing.T) {
	testenv.Tool(t, "readelf", "Debian package binutils")
	bin := testenv.Binary(t)

	out, err := exec.Command("go", "version", "-m", bin).Output()
	if err != nil {
		t.Fatalf("go version -m: %v", err)
	}
	if !strings.Contains(string(out), "CGO_ENABLED=0") {
		t.Errorf("%s was not built with CGO_ENABLED=0:\n%s", bin, out)
	}

	v, err := exec.Command("readelf", "-W", "-V", bin).Output()
	if err != nil {
		t.Fatalf("readelf -V: %v", err)
	}
	if m := regexp.MustCompile(`GLIBC_[0-9.]+`).FindAllString(string(v), -1); len(m) > 0 {
		t.Errorf("%s requires glibc symbol versions %v; it must run on glibc 2.28", bin, m)
	}

	d, err := exec.Command("readelf", "-W", "-d", bin).Output()
	if err != nil {
		t.Fatalf("readelf -d: %v", err)
	}
	allowed := []string{"libc.so.6", "libdl.so.2", "libpthread.so.0"}
	for _, m := range regexp.MustCompile(`\(NEEDED\)\s+Shared library: \[([^]]+)\]`).FindAllStringSubmatch(string(d), -1) {
		if !slices.Contains(allowed, m[1]) {
			t.Errorf("%s NEEDs %s; only %v may be needed (libpcap is loaded at run time)", bin, m[1], allowed)
		}
	}

	// Filters load libpcap at run time: the made binary compiles one.
	in := filepath.Join("..", "..", "testdata", "pcap", "le-micro.pcap")
	o := filepath.Join(t.TempDir(), "out.pcap")
	if b, err := exec.Command(bin, "pcap", "filter", in, "udp or not udp", "-w", o).CombinedOutput(); err != nil {
		t.Fatalf("%s pcap filter: %v\n%s", bin, err, b)
	} else if !strings.Contains(string(b), "matched") {
		t.Errorf("pcap filter printed %q", b)
	}
}

// On a host without libpcap the made binary still starts; a filter fails
// with exit 3, says what to install, and writes nothing. libpcap is hidden
// in a mount namespace of this test's own (/dev/null over the library).
func TestMadeBinaryWithoutLibpcap(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("hiding libpcap needs a mount namespace (root)")
	}
	testenv.Tool(t, "unshare", "Debian package util-linux")
	bin := testenv.Binary(t)
	libs, _ := filepath.Glob("/usr/lib/*/libpcap.so.*")
	if len(libs) == 0 {
		t.Skip("libpcap is not installed here at all")
	}
	var hide string
	for _, l := range libs {
		if r, err := filepath.EvalSymlinks(l); err == nil {
			hide += fmt.Sprintf("mount --bind /dev/null %q && ", r)
		}
	}
	o := filepath.Join(t.TempDir(), "out.pcap")
	in := filepath.Join("..", "..", "testdata", "pcap", "le-micro.pcap")
	script := "mount --make-rprivate / && " + hide + `"$0" pcap filter "$1" udp -w "$2"; echo "rc=$?"; "$0" version >/dev/null && echo version-ok`
	out, err := exec.Command("unshare", "-m", "sh", "-c", script, bin, in, o).CombinedOutput()
	if err != nil {
		t.Fatalf("unshare: %v\n%s", err, out)
	}
	s := string(out)
	for _, want := range []string{"filter expressions need libpcap", "apt install libpcap0.8", "dnf install libpcap", "rc=3", "version-ok"} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	if _, err := os.Stat(o); err == nil {
		t.Errorf("%s was written although the filter could not be compiled", o)
	}
}
