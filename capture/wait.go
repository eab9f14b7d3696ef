package capture

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"
)

// wait is the supervisor waiting on a running backend: for its lines, the
// poll, the duration, an interrupt, and its end.
type wait struct {
	s     *supervisor
	b     *backend
	cnt   *counter
	dog   *watchdog
	prog  *progress
	space *spaceWatch
	halt  *haltWatch

	lines      chan backendLine // nil once read to the end
	readerLeft <-chan struct{}  // -w -: the reader closed stdout
	tick       *time.Ticker
	// deadline is --duration's: until the capture begins it counts from
	// the backend's start plus startSlack; from then on, exactly the
	// duration (ready).
	deadline <-chan time.Time
	timer    *time.Timer
	readyAt  time.Time
	ctxDone  <-chan struct{}

	interrupts  int
	backendDone bool
	linesLeft   <-chan time.Time // the backend's output outlives it
	waitErr     error
}

func (s *supervisor) newWait(ctx context.Context, b *backend, cnt *counter, dog *watchdog) *wait {
	w := &wait{s: s, b: b, cnt: cnt, dog: dog, lines: b.lines, ctxDone: ctx.Done(),
		prog: newProgress(s.o, s.started), space: newSpaceWatch(s.p, nil), tick: time.NewTicker(pollEvery),
		halt: newHaltWatch(s.o.Root, s.p.primaryPID)}
	w.prog.ev = s.ev
	if s.stream != nil {
		w.readerLeft = s.stream.pipe.gone
	}
	if s.p.Duration > 0 {
		w.timer = time.NewTimer(s.o.Duration + startSlack)
		w.deadline = w.timer.C
	}
	return w
}

func (w *wait) close() {
	w.tick.Stop()
	if w.timer != nil {
		w.timer.Stop()
	}
}

// loop waits until the backend has ended and its output is read.
func (w *wait) loop(ctx context.Context) {
	s := w.s
	for !w.backendDone || w.lines != nil {
		select {
		case l, ok := <-w.lines:
			if !ok {
				w.lines = nil
				continue
			}
			w.line(l)
		case <-w.readerLeft:
			w.readerLeft = nil
			s.stop(StopReaderGone, stopGrace)
		case <-w.tick.C:
			w.poll(ctx)
		case <-w.deadline:
			w.deadline = nil
			s.stop(StopDuration, stopGrace)
		case <-w.ctxDone:
			w.ctxDone = nil
			s.stop(StopInterrupt, stopGrace)
		case <-s.o.Interrupts:
			w.interrupt()
		case <-w.linesLeft:
			w.abandonLines()
		case w.waitErr = <-w.b.exited:
			w.exited()
		}
	}
	w.prog.done()
}

// line takes one line of the backend's output; the line that says it
// captures starts the duration.
func (w *wait) line(l backendLine) {
	s := w.s
	s.line(l)
	if !s.ready && (s.p.Backend == BackendPdump && rePdumpReady().MatchString(l.text) ||
		s.p.Backend == BackendDumpcap && reDumpcapReady().MatchString(l.text)) {
		w.ready()
	}
}

// ready: the backend began capturing. The duration counts from now.
func (w *wait) ready() {
	s := w.s
	if w.timer != nil && !s.ready {
		w.timer.Reset(s.o.Duration)
	}
	if !s.ready {
		w.readyAt = time.Now()
	}
	s.ready = true
}

// poll reads what the backend's files gained and checks every stop
// condition: the ring, the stream's reader, the watchdog, the disk, -c
// and -C.
func (w *wait) poll(ctx context.Context) {
	s, cnt := w.s, w.cnt
	w.read()
	if !s.ready && cnt.counts.Packets() > 0 {
		w.ready()
	}
	now := time.Now()
	if !s.stopping {
		w.watch(ctx, now)
	}
	if s.o.afterPoll != nil {
		s.o.afterPoll(now, s.started, w.readyAt)
	}
	if s.o.onPoll != nil {
		s.o.onPoll(cnt.records)
	}
	if !s.stopping {
		final := cnt.outSize
		if s.ring != nil {
			// The ring's files are written in place as it goes.
			final = 0
		}
		if why := w.space.check(now, tempSize(s.p), final); why != "" {
			s.res.DiskFull = why
			s.stop(StopDiskFull, stopGrace)
		}
	}
	switch {
	case s.p.Count > 0 && cnt.counts.Packets() >= s.p.Count:
		s.stop(StopCount, stopGrace)
	case s.p.MaxSize > 0 && cnt.outSize >= s.p.MaxSize:
		s.stop(StopSize, stopGrace)
	}
	if s.stopping && !w.backendDone && !s.warned && now.Sub(s.stopAt) > s.grace {
		s.slowExit()
	}
}

// read follows the backend's files and hands what they gained to the
// ring and the stream.
func (w *wait) read() {
	s, cnt := w.s, w.cnt
	// With -w - and a reader that does not keep up, the files are read
	// once it has caught up (streamMaxQueued).
	if s.stream == nil || s.stream.pipe.queued() < streamMaxQueued {
		// The ring reads every file on past -c: its first N in time
		// order may lie in a file not read yet (emit).
		limit := s.p.Count
		if s.ring != nil {
			limit = 0
		}
		if err := cnt.poll(limit); err != nil {
			s.pollFailed(err)
		}
	}
	if s.ring != nil {
		if err := s.ring.tick(time.Now()); err != nil {
			s.pollFailed(&ringError{err})
		}
		if s.ring.full {
			s.stop(StopRingFiles, stopGrace)
		}
	}
	if s.stream != nil && s.streamErr == nil {
		if err := s.stream.release(time.Now(), false); err != nil {
			s.streamErr = err
			s.stop(StopBackendEnd, diagnosisGrace)
		}
		if !s.stopping && readerGone(s.o.Stdout) {
			s.stop(StopReaderGone, stopGrace)
		}
	}
}

// watch asks the watchdog whether the capture stalled or receives
// nothing, and shows the progress.
func (w *wait) watch(ctx context.Context, now time.Time) {
	s := w.s
	if why := w.dog.check(ctx, now, s.started, w.readyAt, w.cnt.records); why != "" {
		s.note(why)
		if w.dog.stalled {
			s.stop(StopStalled, stopGrace)
		} else {
			s.stop(StopNoPackets, stopGrace)
		}
	}
	w.prog.note = w.dog.note()
	if halt := w.halt.check(now); halt != "" {
		// Said first on the line, and once in the summary: the
		// counters stand still because the primary does.
		w.prog.note = strings.TrimSuffix(halt+"; "+w.prog.note, "; ")
		s.note("during the capture, " + halt)
	}
	if s.ring != nil && s.ring.cur != nil {
		w.prog.note = strings.TrimPrefix(w.prog.note+"; file "+filepath.Base(s.ring.cur.res.Path), "; ")
	}
	w.prog.update(now, w.cnt.counts)
}

// interrupt: the first stops the backend its way, a second kills it.
func (w *wait) interrupt() {
	s := w.s
	w.interrupts++
	if w.interrupts == 1 {
		s.stop(StopInterrupt, stopGrace)
	} else if !w.backendDone && !s.res.Killed {
		s.note("second interrupt: killed the backend without waiting for it to flush")
		s.kill()
	}
}

// exited: the backend is gone; its last lines are read for linesGrace.
func (w *wait) exited() {
	s := w.s
	w.backendDone = true
	w.b.exited = nil
	w.linesLeft = time.After(linesGrace)
	if !s.stopping {
		s.stopping, s.stopAt = true, time.Now()
		if s.res.Stopped == "" {
			s.res.Stopped = StopBackendEnd
		}
	}
}

// abandonLines: the backend is gone, but something it started still holds
// its stdout or stderr: its last lines are read, and the capture must end
// with the backend, not with that process.
func (w *wait) abandonLines() {
	s := w.s
	w.b.outR.Close()
	w.b.errR.Close()
	go func(l <-chan backendLine) {
		for range l {
		}
	}(w.lines)
	w.lines, w.linesLeft = nil, nil
	s.note(fmt.Sprintf("%s's output stayed open after it exited (a process it started holds it); gzdoctor stopped reading it %s later", filepath.Base(s.p.Binary), linesGrace))
}
