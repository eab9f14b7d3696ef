package doctor

import (
	"bytes"
	"path/filepath"
	"testing"
	"time"

	gold "github.com/gzdoctor/gzdoctor/internal/golden"

	"github.com/gzdoctor/gzdoctor/ui"
)

// golden compares got with testdata/golden/<name>, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	gold.Check(t, filepath.Join("testdata", "golden", name), got)
}

func sampleReport() Report {
	c := func(id string, r Result) Result {
		return finish(Check{ID: id, Title: id, Covers: []string{"CHK-01"}}, r, time.Millisecond)
	}
	rs := []Result{
		c("runtime-dir", ok("/var/run/dpdk: live prefix gazelle (pid 4242)", "gazelle: config mp_socket hugepage_info (owner 0, mode 0700)")),
		c("prefix", fail(`config says --file-prefix "rte" but the only live prefix is "gazelle"`,
			fix("pass the live prefix to the capture tool", "gazelle-pdump --file-prefix gazelle -- --pdump 'device_id=0000:01:00.0,queue=*,rx-dev=/tmp/cap.pcap'"),
			"/etc/gazelle/lstack.conf:3 dpdk_args has no --file-prefix")),
		c("hugepages", warn("12 free 2048 kB pages (24 MiB)", fix("reserve more hugepages", "echo 1024 > /proc/sys/vm/nr_hugepages"))),
		c("pdump", skip("needs primary, which did not pass")),
		c("build-match", errored("timed out after 1s")),
	}
	return Report{Results: rs, Summary: summarize(rs, true)}
}

// testMeta stands for the host, the time and the version a real run
// fills in, so goldens do not change with the machine or the clock.
var testMeta = ui.Meta{Version: "test", Revision: "0123456789ab", Host: "lab-host", Time: time.Date(2026, 12, 2, 1, 2, 3, 4_000_000, time.UTC)}

func TestRenderTextGolden(t *testing.T) {
	for _, verbose := range []bool{false, true} {
		var b bytes.Buffer
		if err := sampleReport().RenderText(&b, ui.Style{}, verbose); err != nil {
			t.Fatal(err)
		}
		name := "report.txt"
		if verbose {
			name = "report-verbose.txt"
		}
		golden(t, name, b.Bytes())
	}
}

func TestRenderJSONGolden(t *testing.T) {
	s, _, out, _ := ui.Test()
	if err := ui.Render(s, ui.FormatJSON, testMeta, "check", false, sampleReport()); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.json", out.Bytes())
}
