package doctor

import (
	"context"
	"fmt"
	"sync"
)

// lazy computes a fact once, on first use, and shares it between the checks
// that run concurrently. A fact that failed keeps its error: no probe runs
// twice in one run.
type lazy[T any] struct {
	once sync.Once
	done chan struct{}
	mu   sync.Mutex
	v    T
	err  error
}

// await is get for a check: while it blocks, the check's context records
// that it waits for what, so a check cut off by the run's deadline names the
// fact it was waiting for.
func (l *lazy[T]) await(ctx context.Context, what string, f func() (T, error)) (T, error) {
	defer waitingFrom(ctx).enter(what)()
	return l.get(f)
}

func (l *lazy[T]) get(f func() (T, error)) (T, error) {
	l.init()
	l.once.Do(func() {
		defer close(l.done)
		defer func() {
			// A crashing probe becomes an error every check sees, not a
			// zero value that looks like an empty machine.
			if p := recover(); p != nil {
				l.mu.Lock()
				l.err = fmt.Errorf("probe crashed: %v", p)
				l.mu.Unlock()
			}
		}()
		v, err := f()
		l.mu.Lock()
		l.v, l.err = v, err
		l.mu.Unlock()
	})
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.v, l.err
}

// peek returns the fact if it was computed already, without computing it.
func (l *lazy[T]) peek() (T, bool) {
	l.init()
	select {
	case <-l.done:
		l.mu.Lock()
		defer l.mu.Unlock()
		return l.v, l.err == nil
	default:
		var zero T
		return zero, false
	}
}

func (l *lazy[T]) init() {
	l.mu.Lock()
	if l.done == nil {
		l.done = make(chan struct{})
	}
	l.mu.Unlock()
}
