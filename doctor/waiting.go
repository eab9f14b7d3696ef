package doctor

import (
	"context"
	"strings"
	"sync"
)

// waiting records what a check is blocked on, so that a check the run's
// deadline cuts off can say what it waited for instead of a bare "timed
// out". The runner puts one in each check's context; facts push their name
// while the check waits for them.
type waiting struct {
	mu    sync.Mutex
	stack []string
}

type waitingKey struct{}

func withWaiting(ctx context.Context) (context.Context, *waiting) {
	w := &waiting{}
	return context.WithValue(ctx, waitingKey{}, w), w
}

func waitingFrom(ctx context.Context) *waiting {
	if ctx == nil {
		return nil
	}
	w, _ := ctx.Value(waitingKey{}).(*waiting)
	return w
}

// enter notes that the check waits for what until the returned func runs.
func (w *waiting) enter(what string) func() {
	if w == nil {
		return func() {}
	}
	w.mu.Lock()
	w.stack = append(w.stack, what)
	n := len(w.stack)
	w.mu.Unlock()
	return func() {
		w.mu.Lock()
		if len(w.stack) >= n {
			w.stack = w.stack[:n-1]
		}
		w.mu.Unlock()
	}
}

// what describes the innermost thing being waited for, with the facts that
// led to it ("the primary's telemetry socket (for the target prefix)"), or
// "" when the check waits for no shared fact.
func (w *waiting) what() string {
	if w == nil {
		return ""
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.stack) == 0 {
		return ""
	}
	last := w.stack[len(w.stack)-1]
	if len(w.stack) == 1 {
		return last
	}
	outer := make([]string, 0, len(w.stack)-1)
	for i := len(w.stack) - 2; i >= 0; i-- {
		outer = append(outer, w.stack[i])
	}
	return last + " (needed for " + strings.Join(outer, ", for ") + ")"
}
