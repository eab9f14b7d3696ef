package capture

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/gzdoctor/gzdoctor/ui"
)

// TestListInterfacesStoppedPrimary: -D says a SIGSTOPped primary (state T,
// as the check's primary check and the preflight refuse it) is stopped,
// not free.
func TestListInterfacesStoppedPrimary(t *testing.T) {
	l, err := ListInterfaces(context.Background(), Options{Root: "../testdata/hosts/chk-stopped", Port: -1})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Primaries) != 1 {
		t.Fatalf("primaries %+v", l.Primaries)
	}
	c := l.Primaries[0].Capture
	if c == nil || c.By != "stopped" || !strings.Contains(c.Detail, "kill -CONT 4242") {
		t.Fatalf("capture %+v, unknown %v", c, l.Primaries[0].Unknown)
	}
	var b bytes.Buffer
	if err := l.RenderText(&b, ui.Style{}, false); err != nil {
		t.Fatal(err)
	}
	if out := b.String(); strings.Contains(out, "free") || !strings.Contains(out, "capture: blocked: stopped (state T") {
		t.Errorf("text:\n%s", out)
	}
}
