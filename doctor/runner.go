package doctor

import (
	"context"
	"fmt"
	"time"
)

// DefaultTimeout bounds a whole run: a hung socket or process costs at
// most this long, never a hang.
const DefaultTimeout = time.Second

// Options chooses what Run runs.
type Options struct {
	// Only and Skip take check IDs or CHK-nn aliases (see Select).
	Only, Skip []string
	// Timeout bounds the run: every check must be done this long after Run
	// starts, however long the checks it depends on took. Zero means
	// DefaultTimeout.
	Timeout time.Duration
	// Checks replaces the built-in list (tests; a preflight with its own
	// checks). Nil means Checks().
	Checks []Check
	// Scope lists the checks that must all run for the report to vouch for
	// a capture (Summary.Complete); nil means every capture-relevant check
	// of the list. A capture preflight that leaves out checks its backend
	// does not need (dumpcap: pcap-pmd, output-path) passes its own list.
	Scope []string
	// Machine adds the machine's facts (Report.Machine), gathered while
	// the checks run.
	Machine bool
}

// Run executes the selected checks against env and returns their results in
// list order. Checks run concurrently: most wait on I/O (sockets, /proc) and
// the facts they share are gathered once by env. A check waits for the
// checks it depends on; a panic or the run's deadline makes its result Error
// and the run goes on. The only error is a bad selection.
//
// The deadline is one for the whole run (start + timeout), not one per
// check: a check that starts only when its dependencies are done (prefix →
// primary → device) must not get a fresh timeout at each link, or a hung
// primary would cost several timeouts.
func Run(ctx context.Context, env *Env, opts Options) (Report, error) {
	list := opts.Checks
	if list == nil {
		list = Checks()
	}
	sel, err := Select(list, opts.Only, opts.Skip)
	if err != nil {
		return Report{}, err
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	start := time.Now()
	runCtx, cancel := context.WithDeadline(ctx, start.Add(timeout))
	defer cancel()
	env.factTimeout, env.runCtx, env.runDeadline = timeout, runCtx, start.Add(timeout)
	sel = withUnresolvedTarget(runCtx, env, list, sel)
	env.selected = map[string]bool{}
	for _, c := range sel {
		env.selected[c.ID] = true
	}

	type slot struct {
		res  Result
		done chan struct{}
	}
	slots := make(map[string]*slot, len(sel))
	for _, c := range sel {
		slots[c.ID] = &slot{done: make(chan struct{})}
	}
	for _, c := range sel {
		go func(c Check) {
			s := slots[c.ID]
			defer close(s.done)
			for _, dep := range selectedDeps(list, c, slots) {
				d := slots[dep]
				select {
				case <-d.done:
				case <-runCtx.Done():
					s.res = finish(c, errored(cutOff(ctx, timeout, "check "+dep+" to finish")), time.Since(start))
					return
				}
				if d.res.Status != OK && d.res.Status != Warn {
					s.res = finish(c, skip(fmt.Sprintf("needs %s, which did not pass", dep)), 0)
					return
				}
			}
			s.res = runOne(ctx, runCtx, env, c, timeout)
		}(c)
	}

	var machine chan *Machine
	if opts.Machine {
		machine = make(chan *Machine, 1)
		go func() { machine <- env.machine(runCtx) }()
	}

	rep := Report{Results: make([]Result, 0, len(sel))}
	for _, c := range sel {
		<-slots[c.ID].done
		rep.Results = append(rep.Results, slots[c.ID].res)
	}
	scope := opts.Scope
	if scope == nil {
		for _, c := range list {
			if c.CaptureRelevant {
				scope = append(scope, c.ID)
			}
		}
	}
	complete := true
	for _, id := range scope {
		if _, ran := slots[id]; !ran {
			complete = false
		}
	}
	rep.Summary = summarize(rep.Results, complete)
	rep.Target = env.targetSummary()
	if machine != nil {
		rep.Machine = <-machine
	}
	rep.Duration = time.Since(start)
	rep.Millis = float64(rep.Duration.Microseconds()) / 1000
	return rep, nil
}

// withUnresolvedTarget adds the prefix check to a selection that lacks it,
// when a selected check is about the target's primary (depends on prefix,
// directly or through checks left out) and the target cannot be resolved (several live prefixes and nothing
// to choose): every check about "the primary" would otherwise skip for want
// of one, and a run of skips must not read as a pass (`--only CHK-11` on a
// machine with two primaries).
func withUnresolvedTarget(ctx context.Context, env *Env, list, sel []Check) []Check {
	has := map[string]bool{}
	for _, c := range sel {
		has[c.ID] = true
	}
	listed := false
	for _, c := range list {
		listed = listed || c.ID == "prefix"
	}
	if !listed || has["prefix"] || len(sel) == 0 {
		return sel
	}
	// Only checks about the target's primary need it: --only aslr does not.
	needs := false
	for _, c := range sel {
		for _, d := range selectedDeps(list, Check{DependsOn: c.DependsOn}, map[string]bool{"prefix": true}) {
			needs = needs || d == "prefix"
		}
	}
	if !needs {
		return sel
	}
	if t, err := env.Target(ctx); err != nil || !t.Ambiguous() {
		return sel
	}
	has["prefix"] = true
	var out []Check
	for _, c := range list {
		if has[c.ID] {
			out = append(out, c)
		}
	}
	return out
}

// selectedDeps are the checks c waits for: its dependencies that run, and
// for one that does not run, that one's own dependencies in its place (so
// pcap-pmd → primary → prefix still waits for prefix under --only).
func selectedDeps[S any](list []Check, c Check, slots map[string]S) []string {
	byID := map[string]Check{}
	for _, x := range list {
		byID[x.ID] = x
	}
	var out []string
	seen := map[string]bool{}
	var walk func(ids []string)
	walk = func(ids []string) {
		for _, id := range ids {
			if seen[id] {
				continue
			}
			seen[id] = true
			if _, ok := slots[id]; ok {
				out = append(out, id)
				continue
			}
			walk(byID[id].DependsOn)
		}
	}
	walk(c.DependsOn)
	return out
}

// runOne runs c under the run's deadline. A check that overruns is
// abandoned (its goroutine ends when its I/O does) and reported as Error,
// naming what it was waiting for.
func runOne(parent, runCtx context.Context, env *Env, c Check, timeout time.Duration) Result {
	ctx, w := withWaiting(runCtx)
	start := time.Now()
	ch := make(chan Result, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				ch <- errored(fmt.Sprintf("check crashed: %v", p))
			}
		}()
		ch <- c.Run(ctx, env)
	}()
	select {
	case r := <-ch:
		return finish(c, r, time.Since(start))
	case <-ctx.Done():
		return finish(c, errored(cutOff(parent, timeout, w.what())), time.Since(start))
	}
}

// cutOff says why a check ended unfinished: the caller's context was
// cancelled (Ctrl-C), or the run's deadline passed while it waited for what
// ("" when it waited for no shared fact but on its own reads).
func cutOff(parent context.Context, timeout time.Duration, what string) string {
	where := "waiting for " + what
	if what == "" {
		where = "in its own reads, waiting for no shared fact"
	}
	if err := parent.Err(); err != nil {
		return fmt.Sprintf("interrupted (%v) %s", err, where)
	}
	return fmt.Sprintf("timed out after %s (the limit for the whole run) %s", timeout, where)
}

// finish stamps the check's identity on its result.
func finish(c Check, r Result, d time.Duration) Result {
	r.ID, r.Title, r.Covers, r.DependsOn = c.ID, c.Title, c.Covers, c.DependsOn
	if r.Covers == nil {
		r.Covers = []string{}
	}
	if r.Status == "" {
		r.Status = Error
		r.Finding = "check returned no status"
	}
	r.Duration = d
	r.Millis = float64(d.Microseconds()) / 1000
	return r
}
