package runbooks

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestRecycledShortBuffer: a chunk whose buffer a long line re-sliced
// (its skipped head, a progress line's kept tail) comes back to the pool
// with less room than a chunk needs; the reader read into it and panicked
// on the corpus repeated to 64 MiB.
func TestRecycledShortBuffer(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	healthy := "EAL: Detected CPU lcores: 2\nEAL: Selected IOVA mode 'PA'\n"
	for range 3 {
		log.WriteString(strings.Repeat("x", chunkSize+chunkSize/2) + "\n")            // cut: the next chunk skips its tail
		log.WriteString(strings.Repeat("\b1", chunkSize) + " EAL: Cannot init EAL\n") // a progress line: its tail is kept
		for log.Len()%(3*chunkSize) != 0 && log.Len()%(3*chunkSize) < 2*chunkSize {
			log.WriteString(healthy)
		}
	}
	for log.Len() < 40*chunkSize {
		log.WriteString(healthy)
	}
	r, err := c.Diagnose(context.Background(), bytes.NewReader(log.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if r.CutLines != 6 {
		t.Errorf("%d lines cut, want 6", r.CutLines)
	}
}
