package doctor

import (
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

// TestLabNoHugePrimary: a primary started with --no-huge holds its prefix
// and answers telemetry, but no secondary can attach (adv3 F8: check said
// "capture should work", every capture aborted). The runbook's confirm
// (the checks the catalogue names for secondary-hugepage-info-missing)
// must fail on it, and the fix must be the primary's own command line
// without --no-huge.
func TestLabNoHugePrimary(t *testing.T) {
	p := lab.StartT(t, lab.Config{ExtraEAL: []string{"--no-huge", "-m", "256"}, Rate: -1})
	cat, err := runbooks.Load()
	if err != nil {
		t.Fatal(err)
	}
	e := cat.Entry("secondary-hugepage-info-missing")
	if e == nil || len(e.Checks) == 0 {
		t.Fatalf("runbook secondary-hugepage-info-missing has no checks to confirm it: %+v", e)
	}
	rep := liveRun(t, Config{Prefix: p.Prefix, Device: p.Device}, e.Checks...)
	r := mustResult(t, rep, "primary")
	if r.Status != Fail || !strings.Contains(r.Finding, "runs with --no-huge") || !strings.Contains(r.Finding, "no secondary can attach") {
		t.Fatalf("primary: %s %q; want a failure for --no-huge\n%s", r.Status, r.Finding, dump(rep))
	}
	if rep.Summary.Fail == 0 {
		t.Errorf("the runbook's confirm (%v) passes on a --no-huge primary", e.Checks)
	}
	want := slices.DeleteFunc(slices.Clone(p.Args), func(a string) bool { return a == "--no-huge" })
	if r.Fix == nil || len(r.Fix.Commands) == 0 || r.Fix.Commands[0] != shquote.Join(want) {
		t.Errorf("primary fix %+v; want first the primary's command without --no-huge: %s", r.Fix, shquote.Join(want))
	}
	// The oracle: a real secondary cannot attach.
	pdump := testenv.Tool(t, "dpdk-pdump", "dpdk")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, pdump, "--file-prefix", p.Prefix, "--", "--pdump", "device_id="+p.Device+",queue=*,rx-dev=/dev/null").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "Failed to open shared memory") {
		t.Errorf("dpdk-pdump on a --no-huge primary: %v, want it to fail with Failed to open shared memory:\n%s", err, out)
	}
}
