package capture

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/gzdoctor/gzdoctor/runbooks"
)

// Timing of the supervisor.
const (
	pollEvery = 100 * time.Millisecond
	// stopGrace is how long a backend may take to flush and exit after
	// SIGINT before gzdoctor says it is still waiting. pdump stuck in an
	// mp request waits 5 s per request. gzdoctor never kills it on its
	// own: a killed pdump leaves its vdevs and rings in the primary until
	// the primary restarts (lab: a primary without rte_pdump_init, whose
	// pdump, left alone, times out by itself and removes them).
	stopGrace = 12 * time.Second
	// diagnosisGrace is the same after a known fatal failure.
	diagnosisGrace = stopGrace
	// startSlack bounds how long a --duration waits for the capture to
	// begin before it counts from the backend's start.
	startSlack = 10 * time.Second
	// linesGrace is how long the backend's output is read after it
	// exited: its pipes close with it unless a process it started
	// inherited them.
	linesGrace = 3 * time.Second
	// lastLines is how many of the backend's lines an early exit shows.
	lastLines = 12
)

// supervisor runs one backend.
type supervisor struct {
	o       *Options
	p       *Plan
	res     *Result
	matcher *runbooks.Matcher
	sel     *selector

	cmd      *exec.Cmd
	started  time.Time
	stopping bool
	stopAt   time.Time
	grace    time.Duration
	tail     []string
	ready    bool // the backend began capturing
	fatal    bool

	pstats []*pdumpStatsReader // one per port; nil when the primary's counters cannot be read
	// primaryPorts are the primary's counters per port (primaryAfter).
	primaryPorts []PrimaryStats
	gzctl        *gazellectl // nil when lstack's counters cannot be read
	lock         *captureLock
	// stream writes the capture to stdout (-w -); streamErr is why it
	// could not.
	stream    *streamer
	streamErr error
	// scan is the stream's validation scan (livescan.go).
	scan         *tempScan
	scanErr      error
	scanRepaired []string
	// ev writes -o json's event lines; told lists the findings already
	// written there.
	ev   *events
	told map[string]bool
	cnt  *counter
	// ring writes the ring buffer's files (-b) as packets are read; post
	// runs -z and removes old ring files. Both nil without -b.
	ring   *ringWriter
	post   *postRunner
	ended  time.Time
	warned bool // said that the backend is slow to exit
}

var (
	rePdumpReady   = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`core \(\d+\)[,;] (capture for|port)`) })
	reDumpcapReady = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^Capturing on '`) })
	rePdumpStat    = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^\s*-packets (dequeued|transmitted to vdev|freed):\s*(\d+)`)
	})
	reDumpcapStats = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^Packets received/dropped on interface '.*': (\d+)/(\d+)`)
	})
)

// newSupervisor prepares the supervisor of p's backend. Its diagnosis
// starts from the arguments gzdoctor passes, as an operator's paste
// starts with the command typed: the catalogue then knows the prefix and
// the device_id asked for from them, not from whatever else the tool's
// lines name (a probed NIC, a runtime dir).
func newSupervisor(o *Options, p *Plan, res *Result, cat *runbooks.Catalogue, lock *captureLock) *supervisor {
	s := &supervisor{o: o, p: p, res: res, matcher: cat.NewMatcher(), sel: newSelector(p), lock: lock}
	s.matcher.SetSource("gzdoctor")
	s.matcher.Feed("$ " + p.Command)
	s.matcher.SetSource(filepath.Base(p.Binary))
	s.matcher.SetContext(fixContext(o, p))
	return s
}

// run starts the backend and watches it until it has ended and its output
// is read: the primary's counters and promiscuous mode before, the
// backend started with its output read line by line, its files followed
// as they grow (counted, and streamed or written into the ring), the
// stop conditions checked every poll, then the files drained and the
// counters read again after.
func (s *supervisor) run(ctx context.Context) error {
	s.before(ctx)
	dog, closeDog := s.newWatchdog(ctx)
	defer closeDog()
	b, err := s.start()
	if err != nil {
		return err
	}
	if dog != nil {
		dog.pid = s.cmd.Process.Pid
	}
	cnt, err := s.follow()
	if cnt != nil {
		defer cnt.close()
	}
	if err != nil {
		s.kill()
		<-b.exited
		return err
	}
	w := s.newWait(ctx, b, cnt, dog)
	defer w.close()
	w.loop(ctx)
	s.ended = time.Now()
	if s.ring != nil {
		s.drainRing(cnt)
	}
	if s.stream != nil {
		s.drainStream(cnt)
	}
	return s.after(ctx, w.waitErr)
}

// before reads what the capture changes or is compared with afterwards:
// the primary's and lstack's counters, the port's promiscuous mode.
func (s *supervisor) before(ctx context.Context) {
	s.primaryBefore()
	s.lstackBefore(ctx)
	if before := s.readPromisc(ctx); before != nil {
		s.res.Promisc = &PromiscState{Port: s.p.Port, Before: before, Asked: s.o.Promisc}
	}
}

// backend is the running backend as the supervisor waits on it.
type backend struct {
	outR, errR *os.File // its stdout and stderr, read into lines
	lines      chan backendLine
	exited     chan error // Wait's result
}

// start starts the backend, its output read into b.lines, and says so
// (-o json's start event).
func (s *supervisor) start() (*backend, error) {
	outR, outW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return nil, err
	}
	s.cmd = exec.Command(s.p.Binary, s.p.Args...)
	s.cmd.Stdout, s.cmd.Stderr = outW, errW
	if s.lock != nil {
		// The backend holds the lock too: should gzdoctor die, no other
		// capture starts until its backend has left the primary.
		s.cmd.ExtraFiles = []*os.File{s.lock.f}
	}
	s.cmd.SysProcAttr = &syscall.SysProcAttr{
		// Its own process group: a terminal's ^C reaches gzdoctor alone,
		// which stops the backend its way. If gzdoctor dies, the backend
		// gets SIGINT, which both backends handle by flushing and leaving.
		Setpgid:   true,
		Pdeathsig: syscall.SIGINT,
	}
	b := &backend{outR: outR, errR: errR, lines: make(chan backendLine, 256), exited: make(chan error, 1)}
	err = startLocked(s.cmd, b.exited)
	outW.Close()
	errW.Close()
	if err != nil {
		outR.Close()
		errR.Close()
		removeTemps(s.p)
		return nil, fmt.Errorf("starting %s: %w", s.p.Binary, err)
	}
	s.started = time.Now()
	s.lock.backendStarted(s.cmd.Process.Pid, s.p.Command)
	s.ev = &events{w: s.o.Events, start: s.started}
	s.ev.emit(Event{Type: "start", Backend: s.p.Backend, Command: s.p.Command, PID: s.cmd.Process.Pid, Prefix: s.p.Prefix, Device: deviceLabel(s.p), Stream: s.p.Stream})
	// The channel is passed, not captured: the wait loop sets its
	// variable to nil when it stops reading (seen: "close of nil
	// channel" once the backend's output outlived it).
	go func(lines chan<- backendLine) {
		done := make(chan struct{}, 2)
		go func() { readLines(outR, "stdout", lines); done <- struct{}{} }()
		go func() { readLines(errR, "stderr", lines); done <- struct{}{} }()
		<-done
		<-done
		outR.Close()
		errR.Close()
		close(lines)
	}(b.lines)
	return b, nil
}

// follow opens the backend's files to be read as they grow: counted, and
// with -b written into the ring, with -w - streamed to stdout.
func (s *supervisor) follow() (*counter, error) {
	cnt, err := newCounter(s.p, s.sel)
	if err != nil {
		return nil, err
	}
	s.cnt = cnt
	if s.p.Ring != nil {
		s.post = newPostRunner(s.p.PostRotate)
		s.ring = newRingWriter(s.p, s.o, s.post)
		// The tool's files are freed as they are read (a ring runs for
		// days), so they are validated as they are read too.
		cnt.ring, cnt.ringLimit = s.ring, s.p.Count
		cnt.merge = newHoldMerge(ringHold, len(cnt.files))
		cnt.live = newLiveScan(s.p, uint64(s.started.Add(-windowSlack).UnixNano()))
	}
	if s.p.Stream {
		s.stream, err = newStreamer(s.p, s.o, len(cnt.files))
		if err != nil {
			return cnt, err
		}
		cnt.stream, cnt.merge = s.stream, s.stream.merge
		cnt.live = newLiveScan(s.p, uint64(s.started.Add(-windowSlack).UnixNano()))
	}
	return cnt, nil
}

// after reads the counters and the promiscuous mode again and records how
// the backend ended; waitErr is Wait's.
func (s *supervisor) after(ctx context.Context, waitErr error) error {
	s.primaryAfter()
	s.lstackAfter(context.WithoutCancel(ctx))
	if pr := s.res.Promisc; pr != nil {
		pr.After = s.readPromisc(ctx)
		if pr.Changed() {
			s.note(fmt.Sprintf("%s's promiscuous mode was %s before the capture and is %s now: %s changed it (gzdoctor passes dpdk-dumpcap -p to leave it alone)",
				deviceLabel(s.p), onOff(pr.Before), onOff(pr.After), filepath.Base(s.p.Binary)))
		}
	}
	s.res.Elapsed = time.Since(s.started).Seconds()
	s.res.ExitStatus = "exit status 0"
	if waitErr != nil {
		s.res.ExitStatus = waitErr.Error()
		var ee *exec.ExitError
		if !errors.As(waitErr, &ee) {
			return fmt.Errorf("waiting for %s: %w", s.p.Binary, waitErr)
		}
	}
	return nil
}

// startLocked starts cmd and sends its Wait result to exited. Start and
// Wait run on one goroutine locked to its OS thread: Linux sends the
// parent-death signal (Pdeathsig) when the thread that forked the child
// ends, not the process, and the Go runtime ends a thread whenever a
// goroutine exits while locked to it (go.dev/issue/27505). Holding the
// forking thread until the child is reaped means the signal comes only
// when gzdoctor itself dies.
func startLocked(cmd *exec.Cmd, exited chan<- error) error {
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		exited <- cmd.Wait()
	}()
	return <-started
}

// line handles one line of the backend's output.
func (s *supervisor) line(l backendLine) {
	if s.o.Log != nil {
		fmt.Fprintf(s.o.Log, "%s: %s\n", filepath.Base(s.p.Binary), l.text)
	}
	s.tail = append(s.tail, l.text)
	if len(s.tail) > lastLines {
		s.tail = s.tail[1:]
	}
	s.stats(l.text)
	s.matcher.Feed(l.text)
	if s.fatal {
		return
	}
	for _, f := range s.matcher.Findings() {
		// Live, only the findings that stop the capture: a weaker one
		// may be withdrawn by later lines (pdump's "waiting for the
		// primary" before it attaches); the summary lists the final ones.
		if fatal := f.Severity == "fatal" || f.Severity == "capture-fatal"; fatal && s.ev.on() && !s.told[f.ID] {
			if s.told == nil {
				s.told = map[string]bool{}
			}
			s.told[f.ID] = true
			s.ev.emit(Event{Type: "finding", Finding: &f})
		}
		if f.Severity == "fatal" || f.Severity == "capture-fatal" {
			s.fatal = true
			s.stop(StopDiagnosis, diagnosisGrace)
			return
		}
	}
}

// stats reads the counters the backend prints when it stops.
func (s *supervisor) stats(text string) {
	add := func(p **int64, v string) {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return
		}
		if *p == nil {
			*p = new(int64)
		}
		**p += n
	}
	b := &s.res.Backend
	if m := rePdumpStat().FindStringSubmatch(text); m != nil {
		switch m[1] {
		case "dequeued":
			add(&b.Dequeued, m[2])
		case "transmitted to vdev":
			add(&b.Transmitted, m[2])
		case "freed":
			add(&b.Freed, m[2])
		}
	}
	if m := reDumpcapStats().FindStringSubmatch(text); m != nil {
		add(&b.Received, m[1])
		add(&b.Dropped, m[2])
	}
}

// pollFailed stops the capture when the backend's files cannot be read
// or a ring file cannot be written.
func (s *supervisor) pollFailed(err error) {
	var re *ringError
	if errors.As(err, &re) {
		if s.res.WriteError == "" {
			s.res.WriteError = re.Error()
		}
		s.stop(StopWriteError, stopGrace)
		return
	}
	s.stop(StopBackendEnd, diagnosisGrace)
	s.note("reading the backend's file failed: " + err.Error())
}

// stop asks the backend to stop (SIGINT: both backends flush and exit)
// and records why, once.
func (s *supervisor) stop(why string, grace time.Duration) {
	if s.res.Stopped == "" || why == StopDiagnosis && s.res.Stopped != StopDiagnosis {
		s.res.Stopped = why
	}
	if s.stopping {
		return
	}
	s.ev.emit(Event{Type: "stopping", Reason: s.res.Stopped})
	s.stopping, s.stopAt, s.grace = true, time.Now(), grace
	_ = s.cmd.Process.Signal(syscall.SIGINT)
	// A stopped backend (SIGSTOP, a debugger) handles SIGINT only once
	// it runs again.
	_ = s.cmd.Process.Signal(syscall.SIGCONT)
}

// note adds a note once: a condition seen on every poll is one note.
func (s *supervisor) note(n string) {
	if !slices.Contains(s.res.Notes, n) {
		s.res.Notes = append(s.res.Notes, n)
		s.ev.emit(Event{Type: "note", Text: n})
	}
}

// slowExit says, once, that the backend has not exited after SIGINT and
// that gzdoctor goes on waiting rather than kill it.
func (s *supervisor) slowExit() {
	s.warned = true
	tool := filepath.Base(s.p.Binary)
	n := fmt.Sprintf("%s had not exited %s after SIGINT (it may be waiting for the primary's answer, 5 s per request); gzdoctor waited for it rather than kill it, because a killed %s leaves its vdevs and rings in the primary until the primary restarts",
		tool, s.grace, tool)
	s.note(n)
	if s.o.Progress != nil {
		fmt.Fprintf(s.o.Progress, "\r\033[K%s has not exited %s after SIGINT; waiting for it (killing it would leave its vdevs in the primary). Ctrl+C again kills it anyway.\n", tool, s.grace)
	}
}

func (s *supervisor) kill() {
	s.res.Killed = true
	_ = s.cmd.Process.Kill()
}
