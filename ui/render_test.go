package ui

import (
	"encoding/json"
	"fmt"
	"io"
	"testing"
	"time"
)

type sample struct {
	Name string `json:"name"`
}

func (s sample) RenderText(w io.Writer, st Style, verbose bool) error {
	_, err := fmt.Fprintf(w, "%s %s\n", st.Symbol("ok"), s.Name)
	return err
}

// meta is in a zone other than UTC: the envelope's time is UTC.
var meta = Meta{Version: "1.2.3", Host: "h1", Time: time.Date(2026, 12, 2, 2, 2, 3, 4_000_000, time.FixedZone("CET", 3600))}

func TestRender(t *testing.T) {
	tests := []struct {
		name   string
		format Format
		quiet  bool
		want   string
	}{
		{"text", FormatText, false, "✓ lab\n"},
		{"quiet text prints nothing", FormatText, true, ""},
		{"json ignores quiet", FormatJSON, true, "{\n  \"schema_version\": 2,\n  \"command\": \"demo\",\n  \"gzdoctor_version\": \"1.2.3\",\n  \"host\": \"h1\",\n  \"time\": \"2026-12-02T01:02:03.004Z\",\n  \"data\": {\n    \"name\": \"lab\"\n  }\n}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _, out, _ := Test()
			s.Quiet = tt.quiet
			if err := Render(s, tt.format, meta, "demo", false, sample{Name: "lab"}); err != nil {
				t.Fatal(err)
			}
			if got := out.String(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if tt.format == FormatJSON {
				var env Envelope
				if err := json.Unmarshal(out.Bytes(), &env); err != nil {
					t.Fatalf("output is not JSON: %v", err)
				}
			}
		})
	}
}

func TestStyleColour(t *testing.T) {
	if got := (Style{}).Red("x"); got != "x" {
		t.Errorf("colour off: got %q", got)
	}
	if got := (Style{on: true}).Red("x"); got == "x" {
		t.Errorf("colour on: no escape codes in %q", got)
	}
}

func TestParseFormat(t *testing.T) {
	for _, in := range []string{"text", "json"} {
		if _, err := ParseFormat(in); err != nil {
			t.Errorf("%s: %v", in, err)
		}
	}
	if _, err := ParseFormat("yaml"); err == nil {
		t.Error("yaml accepted")
	}
}
