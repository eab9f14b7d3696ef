package doctor

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gzdoctor/gzdoctor/host"
	"github.com/gzdoctor/gzdoctor/host/target"
	"github.com/gzdoctor/gzdoctor/ui"
)

func fixed(r Result) func(context.Context, *Env) Result {
	return func(context.Context, *Env) Result { return r }
}

func testEnv(t *testing.T) *Env {
	t.Helper()
	return NewEnv(Config{Host: host.New(t.TempDir()), User: &User{UID: 0}, Env: []string{}})
}

func TestRunStatuses(t *testing.T) {
	hang := make(chan struct{})
	t.Cleanup(func() { close(hang) })
	list := []Check{
		{ID: "a", Covers: []string{"CHK-01"}, Run: fixed(ok("fine"))},
		{ID: "b", Run: func(context.Context, *Env) Result { panic("boom") }},
		{ID: "c", Run: func(context.Context, *Env) Result { <-hang; return ok("never") }},
		{ID: "d", DependsOn: []string{"e"}, Run: fixed(ok("should be skipped"))},
		{ID: "e", Run: fixed(fail("broken", fix("do it", "cmd")))},
		{ID: "f", DependsOn: []string{"a"}, Run: fixed(warn("odd", nil))},
		{ID: "g", Run: fixed(Result{Finding: "forgot status"})},
	}
	start := time.Now()
	rep, err := Run(context.Background(), testEnv(t), Options{Checks: list, Timeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Fatalf("a hung check held the run for %s", el)
	}
	want := map[string]Status{"a": OK, "b": Error, "c": Error, "d": Skip, "e": Fail, "f": Warn, "g": Error}
	if len(rep.Results) != len(list) {
		t.Fatalf("%d results, want %d", len(rep.Results), len(list))
	}
	for i, r := range rep.Results {
		if r.ID != list[i].ID {
			t.Errorf("result %d is %s, want %s (list order)", i, r.ID, list[i].ID)
		}
		if r.Status != want[r.ID] {
			t.Errorf("%s: status %s (%s), want %s", r.ID, r.Status, r.Finding, want[r.ID])
		}
	}
	if r, _ := rep.Result("b"); !strings.Contains(r.Finding, "boom") {
		t.Errorf("panic finding %q", r.Finding)
	}
	if r, _ := rep.Result("c"); !strings.Contains(r.Finding, "timed out after 50ms") {
		t.Errorf("timeout finding %q", r.Finding)
	}
	if r, _ := rep.Result("d"); !strings.Contains(r.Finding, "needs e") {
		t.Errorf("dependency skip finding %q", r.Finding)
	}
	if got := rep.Summary; got != (Summary{Total: 7, OK: 1, Warn: 1, Fail: 1, Skip: 1, Error: 3, Complete: true, Verdict: VerdictFail}) {
		t.Errorf("summary %+v", got)
	}
	if !rep.Failed() {
		t.Error("Failed() false with a failed check")
	}
}

func TestRunConcurrent(t *testing.T) {
	// Two checks that each wait for the other to have started can only both
	// finish if the runner runs them at the same time.
	var started atomic.Int32
	both := make(chan struct{})
	wait := func(context.Context, *Env) Result {
		if started.Add(1) == 2 {
			close(both)
		}
		select {
		case <-both:
			return ok("together")
		case <-time.After(2 * time.Second):
			return fail("ran alone", nil)
		}
	}
	rep, err := Run(context.Background(), testEnv(t), Options{Checks: []Check{{ID: "x", Run: wait}, {ID: "y", Run: wait}}, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rep.Results {
		if r.Status != OK {
			t.Errorf("%s: %s %s", r.ID, r.Status, r.Finding)
		}
	}
}

func TestLazyOnce(t *testing.T) {
	var calls atomic.Int32
	var l lazy[int]
	if _, ok := l.peek(); ok {
		t.Fatal("peek before compute reported a value")
	}
	done := make(chan int)
	for range 8 {
		go func() {
			v, _ := l.get(func() (int, error) { calls.Add(1); time.Sleep(10 * time.Millisecond); return 42, nil })
			done <- v
		}()
	}
	for range 8 {
		if v := <-done; v != 42 {
			t.Errorf("got %d", v)
		}
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("probe ran %d times", n)
	}
	if v, ok := l.peek(); !ok || v != 42 {
		t.Errorf("peek = %d, %v", v, ok)
	}
	var p lazy[int]
	if _, err := p.get(func() (int, error) { panic("probe") }); err == nil || !strings.Contains(err.Error(), "probe crashed") {
		t.Errorf("panicking probe: err %v", err)
	}
}

func TestSelect(t *testing.T) {
	list := []Check{
		{ID: "runtime-dir", Covers: []string{"CHK-01", "CHK-12"}},
		{ID: "primary", Covers: []string{"CHK-02", "CHK-03"}},
		{ID: "permissions", Covers: []string{"CHK-12"}},
	}
	ids := func(cs []Check) string {
		var s []string
		for _, c := range cs {
			s = append(s, c.ID)
		}
		return strings.Join(s, ",")
	}
	tests := []struct {
		only, skip []string
		want       string
		wantErr    string
	}{
		{nil, nil, "runtime-dir,primary,permissions", ""},
		{[]string{"CHK-02"}, nil, "primary", ""},
		{[]string{"chk-12"}, nil, "runtime-dir,permissions", ""},
		{[]string{"permissions", "runtime-dir"}, nil, "runtime-dir,permissions", ""},
		{nil, []string{"CHK-12"}, "primary", ""},
		{[]string{"CHK-12"}, []string{"permissions"}, "runtime-dir", ""},
		{[]string{"nope"}, nil, "", `unknown check "nope"`},
		{[]string{"CHK-99"}, nil, "", `unknown check "CHK-99"`},
		{nil, []string{"also-nope"}, "", `unknown check "also-nope"`},
	}
	for _, tt := range tests {
		got, err := Select(list, tt.only, tt.skip)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("only %v skip %v: err %v, want %q", tt.only, tt.skip, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("only %v skip %v: %v", tt.only, tt.skip, err)
			continue
		}
		if ids(got) != tt.want {
			t.Errorf("only %v skip %v: %s, want %s", tt.only, tt.skip, ids(got), tt.want)
		}
	}
}

// The runbooks name CHK-01 … CHK-16 (eal-errors.md §3): each must select at
// least one check, and every check ID must be unique and kebab-case.
func TestEveryReferenceCheckCovered(t *testing.T) {
	for i := 1; i <= 16; i++ {
		chk := fmt.Sprintf("CHK-%02d", i)
		if len(Covering(chk)) == 0 {
			t.Errorf("%s is implemented by no check", chk)
		}
		if sel, err := Select(Checks(), []string{chk}, nil); err != nil || len(sel) == 0 {
			t.Errorf("--only %s: %v", chk, err)
		}
	}
	seen := map[string]bool{}
	kebab := regexp.MustCompile(`^[a-z]+(-[a-z]+)*$`)
	for _, c := range Checks() {
		if seen[c.ID] || !kebab.MatchString(c.ID) {
			t.Errorf("check ID %q duplicated or not kebab-case", c.ID)
		}
		seen[c.ID] = true
		for _, d := range c.DependsOn {
			if _, ok := Lookup(d); !ok {
				t.Errorf("%s depends on unknown check %s", c.ID, d)
			}
		}
		if c.Run == nil || c.Title == "" {
			t.Errorf("%s: no Run or no title", c.ID)
		}
	}
}

// A chain of checks (prefix → primary → device) must not get a fresh
// timeout at each link: the whole run ends by its start + timeout, a check
// cut off says what it waited for, and a check that only waits for a fact
// that already timed out is not charged again.
func TestRunDeadlineCoversChains(t *testing.T) {
	const timeout = 200 * time.Millisecond
	hang := make(chan struct{})
	t.Cleanup(func() { close(hang) })
	env := testEnv(t)
	// A socket that never answers: the fact gives up at its own deadline.
	telemetry := func(ctx context.Context) (*host.TelemetryReport, error) {
		return env.telemetry.await(ctx, "the fake telemetry socket", func() (*host.TelemetryReport, error) {
			fctx, cancel := env.factContext(ctx)
			defer cancel()
			<-fctx.Done()
			return nil, fctx.Err()
		})
	}
	list := []Check{
		// Slow but not hung: 0.6 of the timeout, so that under per-check
		// timeouts primary's fact would start late and run past the end.
		{ID: "prefix", Run: func(ctx context.Context, _ *Env) Result {
			select {
			case <-time.After(timeout * 6 / 10):
				return ok("slow")
			case <-ctx.Done():
				return errored("prefix cut off")
			}
		}},
		{ID: "primary", DependsOn: []string{"prefix"}, Run: func(ctx context.Context, _ *Env) Result {
			if _, err := telemetry(ctx); err != nil {
				return warn("telemetry did not answer: "+err.Error(), nil)
			}
			return ok("answered")
		}},
		{ID: "pdump", DependsOn: []string{"primary"}, Run: func(ctx context.Context, _ *Env) Result {
			if _, err := telemetry(ctx); err != nil {
				return warn("no telemetry: "+err.Error(), nil)
			}
			return ok("answered")
		}},
		{ID: "device", DependsOn: []string{"primary"}, Run: func(ctx context.Context, _ *Env) Result {
			// A fact whose probe ignores its context (a read on a hung
			// /proc entry).
			env.pci.await(ctx, "the hung fact", func() ([]host.PCIDevice, error) { <-hang; return nil, nil })
			return ok("never")
		}},
		{ID: "build-match", DependsOn: []string{"primary"}, Run: func(context.Context, *Env) Result { <-hang; return ok("never") }},
		{ID: "leaf", DependsOn: []string{"device"}, Run: fixed(ok("never runs"))},
	}
	start := time.Now()
	rep, err := Run(context.Background(), env, Options{Checks: list, Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	// The bound is the timeout; the slack is for the scheduler under -race
	// on a loaded machine, well below a second timeout.
	if el := time.Since(start); el > timeout+timeout/2 {
		t.Errorf("run took %s with a %s timeout", el, timeout)
	}
	want := []struct {
		id      string
		status  []Status
		finding string
	}{
		{"prefix", []Status{OK}, "slow"},
		{"primary", []Status{Warn}, "telemetry did not answer: context deadline exceeded"},
		{"pdump", []Status{Warn}, "no telemetry"},
		{"device", []Status{Error}, "timed out after 200ms (the limit for the whole run) waiting for the hung fact"},
		{"build-match", []Status{Error}, "timed out after 200ms (the limit for the whole run) in its own reads"},
		// Its dependency is cut off at the same instant it is: it either
		// saw device's error first or the deadline first.
		{"leaf", []Status{Skip, Error}, ""},
	}
	for _, w := range want {
		r, found := rep.Result(w.id)
		if !found {
			t.Fatalf("no result for %s", w.id)
		}
		if !slices.Contains(w.status, r.Status) || !strings.Contains(r.Finding, w.finding) {
			t.Errorf("%s: %s %q, want %v %q", w.id, r.Status, r.Finding, w.status, w.finding)
		}
		if r.Status == Error && w.id == "leaf" && !strings.Contains(r.Finding, "waiting for check device to finish") {
			t.Errorf("leaf: %q does not name the check it waited for", r.Finding)
		}
		if r.Status == Skip && !strings.Contains(r.Finding, "needs device") {
			t.Errorf("leaf: skip finding %q", r.Finding)
		}
	}
	// The fact that timed out for primary is shared: pdump, asking after
	// it, is not charged another ¾ timeout.
	if r, _ := rep.Result("pdump"); r.Duration > timeout/10 {
		t.Errorf("pdump waited %s for a fact that had already failed", r.Duration)
	}
}

// A subset of checks never vouches for a capture, and an unresolved target
// brings the prefix check into any selection.
func TestRunSubsetAndUnresolvedTarget(t *testing.T) {
	list := []Check{
		{ID: "prefix", CaptureRelevant: true, Run: func(context.Context, *Env) Result { return fail("several live prefixes", nil) }},
		{ID: "primary", DependsOn: []string{"prefix"}, CaptureRelevant: true, Run: func(context.Context, *Env) Result { return ok("held") }},
		{ID: "pcap-pmd", DependsOn: []string{"primary"}, CaptureRelevant: true, Run: func(context.Context, *Env) Result { return ok("mapped") }},
		{ID: "aslr", Run: func(context.Context, *Env) Result { return ok("on") }},
	}
	run := func(ambiguous bool, only ...string) Report {
		env := NewEnv(Config{Host: host.New(t.TempDir()), User: root, Env: []string{}})
		env.target.get(func() (*target.Target, error) {
			if ambiguous {
				return &target.Target{Candidates: []host.Prefix{{Name: "a"}, {Name: "b"}}}, nil
			}
			return &target.Target{Prefix: "a", Via: target.ViaFlag}, nil
		})
		rep, err := Run(context.Background(), env, Options{Checks: list, Only: only})
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	rep := run(true, "pcap-pmd")
	if r, ok := rep.Result("prefix"); !ok || r.Status != Fail {
		t.Fatalf("ambiguous target under --only pcap-pmd: prefix %+v ran=%v, want a failure\n%s", r, ok, dump(rep))
	}
	if r, _ := rep.Result("pcap-pmd"); r.Status != Skip || !strings.Contains(r.Finding, "needs prefix") {
		t.Errorf("pcap-pmd %s %q: want skipped after prefix (through primary, not selected)", r.Status, r.Finding)
	}
	if rep.Summary.Verdict != VerdictFail || !rep.Failed() {
		t.Errorf("summary %+v, want a failed run", rep.Summary)
	}
	rep = run(false, "pcap-pmd")
	if _, ok := rep.Result("prefix"); ok {
		t.Error("a resolved target added the prefix check")
	}
	if rep.Summary.Complete || rep.Summary.Verdict != VerdictSubset || rep.Failed() {
		t.Errorf("summary %+v: a subset that passes must say subset, not vouch", rep.Summary)
	}
	var b strings.Builder
	rep.RenderText(&b, ui.Style{}, false)
	if strings.Contains(b.String(), "capture should work") || !strings.Contains(b.String(), "no verdict on a capture") {
		t.Errorf("subset summary line:\n%s", b.String())
	}
	if rep = run(false); !rep.Summary.Complete || rep.Summary.Verdict != VerdictFail {
		t.Errorf("full run: summary %+v", rep.Summary)
	}
	if rep = run(false, "aslr"); rep.Summary.Verdict != VerdictSubset {
		t.Errorf("--only aslr: summary %+v", rep.Summary)
	}
	// A check that is not about the primary needs no target.
	if rep = run(true, "aslr"); len(rep.Results) != 1 || rep.Summary.Verdict != VerdictSubset {
		t.Errorf("--only aslr with an ambiguous target: %d results, summary %+v", len(rep.Results), rep.Summary)
	}
}
