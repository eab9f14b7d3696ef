package runbooks

import (
	"bytes"
	"testing"
)

func TestLoadEmbedded(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Entries) < 60 {
		t.Errorf("%d entries, want at least 60", len(c.Entries))
	}
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
