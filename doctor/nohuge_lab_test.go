package doctor

import (
	"bytes"
	"context"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gzdoctor/gzdoctor/internal/lab"
	"github.com/gzdoctor/gzdoctor/internal/shquote"
	"github.com/gzdoctor/gzdoctor/internal/testenv"
	"github.com/gzdoctor/gzdoctor/runbooks"
)

// TestLabNoSecondaryPrimary: a primary started with --no-huge or with
// --huge-unlink holds its prefix and answers telemetry, but no secondary
// can attach (adv3 F8 and F17: check said "capture should work", every
// capture aborted). The runbook's confirm (the checks the catalogue names
// for what the capture tool then prints) must fail on it, and the fix must
// be the primary's own command line without the option.
func TestLabNoSecondaryPrimary(t *testing.T) {
	for _, tc := range []struct {
		name    string
		eal     []string
		opt     string
		runbook string // what dpdk-pdump's failure is diagnosed as
		pdump   string // what dpdk-pdump prints, the oracle
	}{
		{"no-huge", []string{"--no-huge", "-m", "256"}, "--no-huge", "secondary-hugepage-info-missing", "Failed to open shared memory"},
		{"huge-unlink", []string{"--huge-unlink"}, "--huge-unlink", "hugepages-exhausted-runtime", "error allocating rte services array"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := lab.StartT(t, lab.Config{ExtraEAL: tc.eal, Rate: -1})
			cat, err := runbooks.Load()
			if err != nil {
				t.Fatal(err)
			}
			e := cat.Entry(tc.runbook)
			if e == nil || len(e.Checks) == 0 {
				t.Fatalf("runbook %s has no checks to confirm it: %+v", tc.runbook, e)
			}
			rep := liveRun(t, Config{Prefix: p.Prefix, Device: p.Device}, e.Checks...)
			r := mustResult(t, rep, "primary")
			if r.Status != Fail || !strings.Contains(r.Finding, "runs with "+tc.opt) || !strings.Contains(r.Finding, "no secondary can attach") {
				t.Fatalf("primary: %s %q; want a failure for %s\n%s", r.Status, r.Finding, tc.opt, dump(rep))
			}
			if rep.Summary.Fail == 0 {
				t.Errorf("the runbook's confirm (%v) passes on a %s primary", e.Checks, tc.opt)
			}
			want := slices.DeleteFunc(slices.Clone(p.Args), func(a string) bool { return a == tc.opt })
			if r.Fix == nil || len(r.Fix.Commands) == 0 || r.Fix.Commands[0] != shquote.Join(want) {
				t.Errorf("primary fix %+v; want first the primary's command without %s: %s", r.Fix, tc.opt, shquote.Join(want))
			}
			// The oracle: a real secondary cannot attach, and its output
			// is diagnosed as the runbook whose confirm was run.
			pdump := testenv.Tool(t, "dpdk-pdump", "dpdk")
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			out, err := exec.CommandContext(ctx, pdump, "--file-prefix", p.Prefix, "--", "--pdump", "device_id="+p.Device+",queue=*,rx-dev=/dev/null").CombinedOutput()
			if !strings.Contains(string(out), tc.pdump) {
				t.Errorf("dpdk-pdump on a %s primary: %v, want it to fail with %q:\n%s", tc.opt, err, tc.pdump, out)
			}
			m := cat.NewMatcher()
			m.SetSource("")
			if err := m.ReadFrom(ctx, bytes.NewReader(out)); err != nil {
				t.Fatal(err)
			}
			if fs := m.Report().Findings; len(fs) == 0 || fs[0].ID != tc.runbook {
				t.Errorf("dpdk-pdump's output is diagnosed as %+v, want %s first", fs, tc.runbook)
			}
		})
	}
}
