package pcapfile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestOutputWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.pcap")
	write := func(s string) func(io.Writer) error {
		return func(w io.Writer) error { _, err := io.WriteString(w, s); return err }
	}
	if _, err := (Output{Path: path}).Write(write("one")); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("committed file: %v %v, want mode 0600", fi, err)
	}
	// Without Force an existing file stays as it was.
	if _, err := (Output{Path: path}).Write(write("two")); !errors.Is(err, ErrExists) {
		t.Fatalf("over an existing file: %v, want ErrExists", err)
	}
	if _, err := (Output{Path: path, Force: true}).Write(write("three")); err != nil {
		t.Fatal(err)
	}
	// A cancelled write leaves nothing: not the file, not its temporary.
	gone := filepath.Join(dir, "gone.pcap")
	_, err := (Output{Path: gone}).Write(func(w io.Writer) error {
		io.WriteString(w, "half")
		return fmt.Errorf("reading: %w", context.Canceled)
	})
	if !errors.Is(err, context.Canceled) || err.Error() != "interrupted: "+gone+" not written" {
		t.Fatalf("cancelled: %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "three" {
		t.Fatalf("%s holds %q, want three", path, b)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("after a cancelled write %s holds %d entries, want only out.pcap", dir, len(ents))
	}

	// A stream: EPIPE is the reader's end, not an error.
	res, err := (Output{Stream: io.Discard}).Write(func(io.Writer) error { return fmt.Errorf("write: %w", syscall.EPIPE) })
	if err != nil || !res.StreamClosed {
		t.Fatalf("EPIPE on a stream: %+v %v, want closed and no error", res, err)
	}
	_, err = (Output{Stream: io.Discard}).Write(func(io.Writer) error { return context.Canceled })
	if !errors.Is(err, context.Canceled) || err.Error() != "interrupted: the capture written to stdout is incomplete" {
		t.Fatalf("cancelled stream: %v", err)
	}
}
