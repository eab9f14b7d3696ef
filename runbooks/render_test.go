package runbooks

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/gzdoctor/gzdoctor/internal/golden"
	"github.com/gzdoctor/gzdoctor/ui"
)

// goldenCases are diagnoses whose text and JSON are pinned: one per shape
// of report (root with symptom, several sources, healthy, unrecognised).
var goldenCases = []struct {
	name  string
	files []string
}{
	{"null-prefix", []string{"public/02-gazelle-pdump-null-prefix-no-primary.log"}},
	{"device-mismatch", []string{"public/01-gazelle-pdump-device-id-mismatch.log"}},
	{"pcap-pmd-two-logs", []string{"lab/pcap-pmd-hidden-pdump.log", "lab/pcap-pmd-hidden-primary.log"}},
	{"wrong-prefix-in-paste", []string{"synthetic/file-prefix-mismatch-19.11-lstack-and-pdump.log"}},
	{"healthy", []string{"public/24-gazelle-lstack-healthy-auto-file-prefix.log"}},
	{"unrecognised", []string{"synthetic/unrecognised-only.txt"}},
}

func TestGolden(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			m := c.NewMatcher()
			for _, f := range tc.files {
				data, err := os.ReadFile(filepath.Join(corpusDir, f))
				if err != nil {
					t.Fatal(err)
				}
				m.SetSource(f)
				if err := m.ReadFrom(context.Background(), bytes.NewReader(blankHeaders(data))); err != nil {
					t.Fatal(err)
				}
			}
			r := m.Report()
			var text bytes.Buffer
			if err := r.RenderText(&text, ui.Style{}, false); err != nil {
				t.Fatal(err)
			}
			js, err := json.MarshalIndent(r, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden.Check(t, filepath.Join("testdata", "golden", tc.name+".txt"), text.Bytes())
			golden.Check(t, filepath.Join("testdata", "golden", tc.name+".json"), append(js, '\n'))
		})
	}
}

// blankHeaders empties the corpus's "# " header lines, keeping numbering.
func blankHeaders(data []byte) []byte {
	lines := bytes.Split(data, []byte("\n"))
	for i, l := range lines {
		if bytes.HasPrefix(l, []byte("# ")) {
			lines[i] = nil
		}
	}
	return bytes.Join(lines, []byte("\n"))
}

func TestContextCommand(t *testing.T) {
	onlyDpdk := func(n string) bool { return n == "dpdk-pdump" }
	both := func(n string) bool { return true }
	rerun := func(t CaptureTarget) string {
		return "gzdoctor capture --prefix " + t.Prefix + " -i " + t.Device + " --queue " + t.Queue + " -w /tmp/x.pcap"
	}
	tests := []struct {
		ctx    Context
		cmd    string
		prefix string
		want   string
	}{
		{Context{}, "gzdoctor check --only CHK-11", "", "gzdoctor check --only CHK-11"},
		{Context{}, "gzdoctor check --only CHK-11", "gazelle", "gzdoctor check --prefix gazelle --only CHK-11"},
		{Context{}, "gzdoctor check --only CHK-11", "(null)", "gzdoctor check --prefix '(null)' --only CHK-11"},
		{Context{}, "gzdoctor check --prefix x --only CHK-11", "gazelle", "gzdoctor check --prefix x --only CHK-11"},
		{Context{}, "gzdoctor specpatch --check dpdk.spec", "gazelle", "gzdoctor specpatch --check dpdk.spec"},
		{Context{}, "gazelle-pdump --file-prefix g -- --pdump 'x'", "", "gazelle-pdump --file-prefix g -- --pdump 'x'"},
		{Context{LookPath: onlyDpdk}, "sudo gazelle-pdump --file-prefix g -- --pdump 'x'", "", "sudo dpdk-pdump --file-prefix g -- --pdump 'x'"},
		{Context{LookPath: onlyDpdk}, "setarch $(uname -m) -R gazelle-pdump --file-prefix g", "", "setarch $(uname -m) -R dpdk-pdump --file-prefix g"},
		{Context{LookPath: onlyDpdk}, "ldd $(which gazelle-pdump) | grep pcap", "", "ldd $(which dpdk-pdump) | grep pcap"},
		{Context{LookPath: both}, "gazelle-pdump -- --pdump 'x'", "", "gazelle-pdump -- --pdump 'x'"},
		{Context{LookPath: onlyDpdk, Capture: rerun}, "gazelle-pdump --file-prefix gazelle -- --pdump 'device_id=net_ring0,queue=*,rx-dev=/tmp/capture.pcap'", "",
			"gzdoctor capture --prefix gazelle -i net_ring0 --queue * -w /tmp/x.pcap"},
		{Context{Capture: rerun}, "gazelle-pdump --file-prefix g -- --pdump 'device_id=<the primary's device>,queue=*,rx-dev=/tmp/capture.pcap'", "",
			"gzdoctor capture --prefix g -i <the primary's device> --queue * -w /tmp/x.pcap"},
	}
	for _, tt := range tests {
		if got := tt.ctx.command(tt.cmd, tt.prefix); got != tt.want {
			t.Errorf("%q (prefix %q): got %q, want %q", tt.cmd, tt.prefix, got, tt.want)
		}
	}
}
