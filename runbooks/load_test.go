package runbooks

import (
	"bytes"
	"os"
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

// TestDocsListEveryID keeps docs/runbooks.md in step with the catalogue:
// IDs are an interface and the docs are where users look them up.
func TestDocsListEveryID(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile("../docs/runbooks.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range c.Entries {
		if !bytes.Contains(doc, []byte("`"+e.ID+"` | "+e.Severity+" | "+e.Title+" |")) {
			t.Errorf("docs/runbooks.md lacks the row of %s (%s)", e.ID, e.Title)
		}
	}
}
