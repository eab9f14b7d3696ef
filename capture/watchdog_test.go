package capture

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// rising counts a port that sees traffic: every reading is higher.
func rising() portCounter {
	var n atomic.Uint64
	return func(context.Context) (uint64, error) { return n.Add(1000), nil }
}

func flat(context.Context) (uint64, error) { return 42, nil }

// everyOtherLate fails every other reading as a deadline missed.
func everyOtherLate(then portCounter) portCounter {
	var calls atomic.Int64
	return func(ctx context.Context) (uint64, error) {
		if calls.Add(1)%2 == 0 {
			return 0, context.DeadlineExceeded
		}
		return then(ctx)
	}
}

// lateThen fails its first n readings as a deadline missed, then counts.
func lateThen(n int, then portCounter) portCounter {
	var calls atomic.Int64
	return func(ctx context.Context) (uint64, error) {
		if calls.Add(1) <= int64(n) {
			return 0, context.DeadlineExceeded
		}
		return then(ctx)
	}
}

// syncBuf is a progress writer the supervisor and the test share.
type syncBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestWatchdog(t *testing.T) {
	// The silent cases' start grace is out of reach: the fake says it
	// captures, however late a loaded machine lets it.
	fast := [3]time.Duration{500 * time.Millisecond, 700 * time.Millisecond, 100 * time.Millisecond}
	ready := [3]time.Duration{500 * time.Millisecond, time.Hour, 100 * time.Millisecond}
	for _, tc := range []struct {
		name    string
		mode    string
		count   portCounter
		times   [3]time.Duration
		stopped string
		note    string // in the result's notes
	}{
		{"captures but writes nothing", fakeSilent, rising(), ready, StopNoPackets, "said it captures"},
		{"never says it captures", fakeMute, rising(), fast, StopNoPackets, "has not said it captures"},
		{"no traffic: waits", fakeSilent, flat, ready, StopInterrupt, ""},
		{"counters fail: waits", fakeSilent, func(context.Context) (uint64, error) { return 0, errors.New("gone") }, ready, StopInterrupt, ""},
		// A loaded primary misses the first readings' deadline: the
		// watchdog takes its base later and still judges.
		{"first readings late, then counts", fakeSilent, lateThen(watchFailures-1, rising()), ready, StopNoPackets, "said it captures"},
		{"readings late as often as allowed, then counts", fakeMute, lateThen(watchFailures-1, rising()), fast, StopNoPackets, "has not said it captures"},
		{"packets flow", fakeNormal, rising(), ready, StopInterrupt, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := fakeOptions(t, tc.mode)
			o.portCounter = tc.count
			o.watchTimes = tc.times
			prog := &syncBuf{}
			o.Progress, o.PlainEvery = prog, 200*time.Millisecond
			// Interrupt once either grace has passed twice, counted from
			// the supervisor's own start and ready times: a watchdog that
			// was going to fire has fired (it checks every 100 ms), and
			// one that does not fire ends as an interrupt. No wall-clock
			// guess: a loaded machine delays the fake's start, not this.
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			o.afterPoll = func(now, started, readyAt time.Time) {
				if !readyAt.IsZero() && now.Sub(readyAt) >= 2*tc.times[0] || now.Sub(started) >= 2*tc.times[1] {
					cancel()
				}
			}
			start := time.Now()
			res, err := Run(ctx, o)
			if err != nil {
				t.Fatal(err)
			}
			if res.Stopped != tc.stopped {
				t.Fatalf("stopped %q after %v, want %q; notes %q", res.Stopped, time.Since(start), tc.stopped, res.Notes)
			}
			if tc.note != "" {
				if !res.Problem() || len(res.Notes) == 0 || !strings.Contains(res.Notes[0], "the backend runs but receives nothing") || !strings.Contains(res.Notes[0], tc.note) {
					t.Errorf("problem %v notes %q, want %q", res.Problem(), res.Notes, tc.note)
				}
				var b strings.Builder
				res.RenderText(&b, noStyle, false)
				if !strings.Contains(b.String(), "capture stopped: the backend runs but receives nothing") {
					t.Errorf("summary:\n%s", b.String())
				}
			}
			if idle := strings.Contains(prog.String(), "(no traffic on net_fake0 yet)"); idle != (tc.name == "no traffic: waits") {
				t.Errorf("progress says no traffic: %v\n%s", idle, prog.String())
			}
		})
	}
}

// A backend that filters (dumpcap -f) and writes nothing on a busy port may
// only be waiting for a match: the watchdog says so and does not stop it.
func TestWatchdogBackendFilter(t *testing.T) {
	for _, filtered := range []bool{false, true} {
		w := &watchdog{count: rising(), device: "net_ring0", tool: "dpdk-dumpcap", readyGrace: time.Second, startGrace: 2 * time.Second, filtered: filtered}
		w.base, w.haveBase = 0, true
		start := time.Now()
		why := w.check(context.Background(), start.Add(3*time.Second), start, start.Add(time.Second), 0)
		if filtered {
			if why != "" {
				t.Errorf("filtered: stopped with %q", why)
			}
			if note := w.note(); note != "net_ring0 has traffic; none matched the filter yet" {
				t.Errorf("filtered: note %q", note)
			}
		} else if !strings.Contains(why, "receives nothing") {
			t.Errorf("unfiltered: check = %q, want a stop", why)
		}
	}
}

// A backend stopped in the middle of a capture (SIGSTOP, on purpose here)
// writes no more while the port counts: the watchdog stops the capture and
// says why, naming the process state. On a quiet port it waits.
func TestWatchdogMidCaptureStall(t *testing.T) {
	for _, tc := range []struct {
		name    string
		count   portCounter
		stopped string
	}{
		{"port counts", rising(), StopStalled},
		// Every other reading misses its deadline: never enough in a row
		// to turn the watchdog off.
		{"port counts, every other reading late", everyOtherLate(rising()), StopStalled},
		{"quiet port", flat, StopInterrupt},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := fakeOptions(t, fakeNormal)
			log := filepath.Join(t.TempDir(), "fake.log")
			t.Setenv(fakeBackendLog, log)
			o.portCounter = tc.count
			o.watchTimes = [3]time.Duration{500 * time.Millisecond, time.Hour, 100 * time.Millisecond}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var pid int
			var stoppedAt time.Time
			o.onPoll = func(records int64) {
				if pid == 0 && records >= 200 {
					b, _ := os.ReadFile(log)
					if _, err := fmt.Sscanf(string(b), "pid %d", &pid); err == nil {
						syscall.Kill(pid, syscall.SIGSTOP)
						stoppedAt = time.Now()
					}
				}
				// Four graces after the stop: a stall was caught by then.
				if !stoppedAt.IsZero() && time.Since(stoppedAt) > 4*500*time.Millisecond+time.Second {
					cancel()
				}
			}
			res, err := Run(ctx, o)
			if pid != 0 {
				syscall.Kill(pid, syscall.SIGCONT)
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Stopped != tc.stopped {
				t.Fatalf("stopped %q, want %q; notes %q", res.Stopped, tc.stopped, res.Notes)
			}
			if tc.stopped != StopStalled {
				return
			}
			want := fmt.Sprintf("(pid %d) is stopped (state T: SIGSTOP, ^Z or a debugger; kill -CONT %d resumes it)", pid, pid)
			if !res.Problem() || len(res.Notes) == 0 || !strings.Contains(res.Notes[0], "the capture stalled: ") ||
				!strings.Contains(res.Notes[0], "net_fake0 counted") || !strings.Contains(res.Notes[0], want) {
				t.Errorf("problem %v, notes %q; want %q", res.Problem(), res.Notes, want)
			}
			// What came before the stall is written.
			if pkts, _ := readAll(t, o.Write); len(pkts) < 200 || int64(len(pkts)) != res.Counts.Packets() {
				t.Errorf("file holds %d packets, result %+v", len(pkts), res.Counts)
			}
			var b strings.Builder
			res.RenderText(&b, noStyle, false)
			if !strings.Contains(b.String(), "✗ capture stopped: the capture stalled") {
				t.Errorf("summary:\n%s", b.String())
			}
			t.Logf("%s", res.Notes[0])
		})
	}
}
