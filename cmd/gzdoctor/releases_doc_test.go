package main

import (
	"os"
	"strings"
	"testing"

	"github.com/gzdoctor/gzdoctor/doctor"
	"github.com/gzdoctor/gzdoctor/runbooks"
)

// docs/releases.md has a row for every check and every cause: a new one
// must say on which DPDK releases it is proven for real.
func TestReleasesDocCoversEveryID(t *testing.T) {
	b, err := os.ReadFile("../../docs/releases.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, c := range doctor.Checks() {
		if !strings.Contains(doc, "| `"+c.ID+"` |") {
			t.Errorf("docs/releases.md has no row for check %s", c.ID)
		}
	}
	cat, err := runbooks.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range cat.Entries {
		if !strings.Contains(doc, "| `"+e.ID+"` |") {
			t.Errorf("docs/releases.md has no row for cause %s", e.ID)
		}
	}
}
