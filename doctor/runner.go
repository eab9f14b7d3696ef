package doctor

import (
	"context"
	"fmt"
	"time"
)

// DefaultTimeout bounds each check: a hung socket or process costs at most
// this long, never a hang.
const DefaultTimeout = time.Second

// Options chooses what Run runs.
type Options struct {
	// Only and Skip take check IDs or CHK-nn aliases (see Select).
	Only, Skip []string
	// Timeout per check; zero means DefaultTimeout.
	Timeout time.Duration
	// Checks replaces the built-in list (tests; a preflight with its own
	// checks). Nil means Checks().
	Checks []Check
}

// Run executes the selected checks against env and returns their results in
// list order. Checks run concurrently: most wait on I/O (sockets, /proc) and
// the facts they share are gathered once by env. A check waits for the
// checks it depends on; a panic or a timeout makes its result Error and the
// run goes on. The only error is a bad selection.
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
	env.factTimeout, env.runCtx = timeout, ctx

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
			for _, dep := range c.DependsOn {
				d, ok := slots[dep]
				if !ok {
					continue // not selected: the check gathers what it needs itself
				}
				select {
				case <-d.done:
				case <-ctx.Done():
					s.res = finish(c, errored("interrupted: "+ctx.Err().Error()), 0)
					return
				}
				if d.res.Status != OK && d.res.Status != Warn {
					s.res = finish(c, skip(fmt.Sprintf("needs %s, which did not pass", dep)), 0)
					return
				}
			}
			s.res = runOne(ctx, env, c, timeout)
		}(c)
	}

	rep := Report{Results: make([]Result, 0, len(sel))}
	for _, c := range sel {
		<-slots[c.ID].done
		rep.Results = append(rep.Results, slots[c.ID].res)
	}
	rep.Summary = summarize(rep.Results)
	rep.Target = env.targetSummary()
	return rep, nil
}

// runOne runs c with a deadline. A check that overruns is abandoned (its
// goroutine ends when its I/O does) and reported as Error.
func runOne(ctx context.Context, env *Env, c Check, timeout time.Duration) Result {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
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
		msg := fmt.Sprintf("timed out after %s", timeout)
		if ctx.Err() == context.Canceled {
			msg = "interrupted"
		}
		return finish(c, errored(msg), time.Since(start))
	}
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
