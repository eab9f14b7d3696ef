package host

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gzdoctor/gzdoctor/host/libconfig"
)

const gazelleRefSamples = "../testdata/conf/reference"

// manySettings is a valid configuration of about n bytes, each setting named
// once (a repeated name is an error of its own).
func manySettings(n int) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "k%d = \"v%d\";\n", i, i)
	}
	return b.Bytes()
}

// A configuration is read only from a regular file, of bounded size, both
// as the file named and as an include: /dev/zero used to grow to 10 GB.
func TestReadLibconfigRefusesSpecialAndHuge(t *testing.T) {
	dir := t.TempDir()
	h := New(dir)
	write := func(name string, b []byte) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("/dev/zero", filepath.Join(dir, "zero")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o600); err != nil {
		t.Fatal(err)
	}
	os.Mkdir(filepath.Join(dir, "adir"), 0o755)
	write("inc-zero.conf", []byte("a = 1;\n@include \"/zero\"\n"))
	write("inc-fifo.conf", []byte("@include \"fifo\"\n"))
	write("big.conf", manySettings(libconfig.MaxBytes+10))
	half := manySettings(libconfig.MaxBytes / 2)
	write("half1.conf", half)
	write("half2.conf", half)
	write("inc-two-halves.conf", []byte("@include \"half1.conf\"\n@include \"half2.conf\"\n"))
	write("inc-one-half.conf", []byte("@include \"half1.conf\"\nz = 1;\n"))

	for _, tc := range []struct{ file, want string }{
		{"/zero", "/zero is a character device, not a regular file"},
		{"/fifo", "/fifo is a FIFO, not a regular file"},
		{"/adir", "/adir is a directory, not a regular file"},
		{"/inc-zero.conf", `/inc-zero.conf:2:1: cannot open include file "/zero": /zero is a character device, not a regular file`},
		{"/inc-fifo.conf", `cannot open include file "/fifo": /fifo is a FIFO, not a regular file`},
		{"/big.conf", "/big.conf is larger than the 4194304-byte (4 MiB) limit"},
		{"/inc-two-halves.conf", `include file "/half2.conf": configuration too large`},
	} {
		done := make(chan error, 1)
		go func() { _, err := h.ReadLibconfig(tc.file); done <- err }()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: err = %v, want it to say %q", tc.file, err, tc.want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: still reading after 10 s", tc.file)
		}
	}
	if _, err := h.ReadLibconfig("/inc-one-half.conf"); err != nil {
		t.Errorf("a config under the limit: %v", err)
	}
}
