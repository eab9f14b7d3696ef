package capture

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gzdoctor/gzdoctor/capture/bpf"
	"github.com/gzdoctor/gzdoctor/capture/pcapfile"
	"github.com/gzdoctor/gzdoctor/doctor"
	"github.com/gzdoctor/gzdoctor/host"
	"github.com/gzdoctor/gzdoctor/internal/shquote"
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

// Prepare validates the options and decides the plan without starting
// anything; Run calls it. It returns a *UsageError for bad options.
func Prepare(ctx context.Context, o *Options) (*Plan, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	h := host.New(orRoot(o.Root))
	lookPath := o.lookPath
	if lookPath == nil {
		lookPath = exec.LookPath
	}
	backend, bin, err := resolveBinary(o, lookPath)
	if err != nil {
		return nil, err
	}
	p := &Plan{Backend: backend, Binary: bin, Queue: o.Queue, Filter: o.Filter, SnapLen: o.SnapLen,
		Count: o.Count, Duration: o.Duration.Seconds(), MaxSize: o.MaxSize}
	p.FilterByBackend = o.Filter != "" && backend == BackendDumpcap

	var t *target
	if o.Prefix != "" && (o.Device != "" || o.Port >= 0) && o.DryRun {
		// Everything is given: a dry run teaches the command without
		// looking at the machine.
		t = &target{prefix: o.Prefix, why: "--prefix"}
	} else {
		t, err = resolvePrefix(ctx, h, o)
		if err != nil {
			if !deferrable(o, err) {
				return nil, err
			}
			// No live primary: the preflight says why (a typo, another
			// user's primary, a stopped one) better than this.
			p.deferred = err
			t = &target{prefix: o.Prefix, why: "--prefix"}
		}
		// Also with -i: the ports show pdump vdevs another capture holds.
		t.probePorts(ctx, h)
		if o.Device == "" && o.Port < 0 {
			t.readEAL(ctx, h, o.ConfigPath)
		}
	}
	p.target = t
	p.Prefix, p.PrefixWhy = t.prefix, t.why
	if t.dir != nil {
		p.runtimeDir = t.dir.Dir
		if len(t.dir.Telemetry) > 0 {
			p.telemetry = t.dir.Telemetry[0]
		}
		if t.dir.Lock.Holder != nil {
			p.primaryPID = t.dir.Lock.Holder.PID
		}
	}
	p.detectBusy(h)
	if err := resolveDevice(o, t, p); err != nil {
		if !deferrable(o, err) {
			return nil, err
		}
		// "Which device?" is asked only of a healthy primary: with an
		// unknown port list, the preflight's verdict comes first.
		if p.deferred == nil {
			p.deferred = err
		}
	}
	if o.Filter != "" {
		// Compile now: a typo is a usage error, not a failed capture.
		if _, err := bpf.NewPrograms(o.Filter).For(int(ethernet.LinkType), int(ethernet.SnapLen)); err != nil {
			return nil, usagef("-f: %v", err)
		}
	}
	if err := planOutputs(o, p); err != nil {
		return nil, err
	}
	if n := len(p.Ports); n > 1 {
		for _, out := range p.Outputs {
			if out.Format == pcapfile.FormatPcap {
				return nil, usagef("%s: a pcap file cannot tell %d ports apart (it has no interfaces): write pcapng (-F pcapng, or -w)", out.Path, n)
			}
		}
	}
	if o.PostRotate != "" {
		// Found now: a typo must not wait for the first closed file.
		bin, err := exec.LookPath(o.PostRotate)
		if err != nil {
			return nil, usagef("-z %s: %v (give a program, run as PROGRAM FILE without a shell)", o.PostRotate, err)
		}
		if bin, err = filepath.Abs(bin); err != nil {
			return nil, err
		}
		p.PostRotate = bin
	}
	if p.deferred == nil {
		if err := checkQueue(t, p); err != nil {
			return nil, err
		}
	}
	planPMDs(ctx, h, p)
	if err := buildArgs(o, p); err != nil {
		return nil, err
	}
	if p.MaxSize > 0 {
		oh, err := overhead(p, o, pcapLink)
		if err != nil {
			return nil, err
		}
		if p.MaxSize <= oh {
			return nil, usagef("-C %d bytes: the output's headers alone take %d bytes; no packet would fit", p.MaxSize, oh)
		}
		p.overhead = oh
	}
	return p, nil
}

// busyWords explains what holds the primary, in the busy check's words
// (doctor.Busy). Seen on the lab: with a killed capture's plumbing in
// place, pdump dies with "Mempool creation failed: File exists" or "RING:
// Cannot reserve memory" and dumpcap with "Packet dump enable failed",
// each of which reads like another cause.
func busyWords(p *Plan) string {
	b := p.busy
	if b == nil {
		b = &doctor.Busy{Vdevs: p.PdumpVdevs}
	}
	s := b.Finding(p.Prefix)
	if f := p.busyFix; f != nil {
		s += "\n  fix: " + f.Text
		for _, c := range f.Commands {
			s += "\n    " + c
		}
	}
	return s
}

// deferrable reports whether a target error waits for the preflight: one
// the preflight can explain, when a preflight runs.
func deferrable(o *Options, err error) bool {
	if o.DryRun || o.NoPreflight {
		return false
	}
	var ue *UsageError
	if errors.As(err, &ue) && !ue.needsHealthy {
		return false
	}
	return true
}

// detectBusy reads what holds the primary (doctor.DetectBusy, the one
// detector the busy check uses too) from the target's ports.
func (p *Plan) detectBusy(h *host.Host) {
	t := p.target
	p.busy, p.busyFix = nil, nil
	// One detector with the busy check: the vdevs, the capture tools'
	// memzones, the attached capture tools.
	busy := doctor.DetectBusy(h, t.dir, t.ports, t.portsErr == nil, nil)
	p.PdumpVdevs = busy.Vdevs
	if busy.Held() {
		p.busy = busy
		proc, _ := h.ReadProcess(p.primaryPID)
		p.busyFix = busy.Fix(proc)
	}
}

func orRoot(r string) string {
	if r == "" {
		return "/"
	}
	return r
}

// Run captures as o says. Bad options are a *UsageError; other errors mean
// gzdoctor could not do its job. Everything the operator must know about
// the capture itself (a failed preflight, a diagnosis, an early exit) is in
// the Result: see Result.Problem.
func Run(ctx context.Context, o Options) (*Result, error) {
	p, err := Prepare(ctx, &o)
	if err != nil {
		return nil, err
	}
	res := &Result{Plan: p, Files: []OutputFile{}}
	if o.DryRun {
		res.DryRun = true
		return res, nil
	}
	// The lock comes before every look at whether the primary is busy:
	// a look without it races with a capture that is starting. Without a
	// target (p.deferred) nothing will start: the preflight says why.
	var lock *captureLock
	if p.deferred == nil {
		lock, err = takeCaptureLock(&o, p)
		var locked *errLocked
		if errors.As(err, &locked) {
			res.Stopped, res.Holder = StopBusy, &locked.holder
			res.Notes = append(res.Notes, busyHolderWords(p, locked.holder))
			return res, nil
		}
		if err != nil {
			return nil, err
		}
		defer lock.release()
	}
	h := host.New(orRoot(o.Root))
	if p.target.dir != nil && p.deferred == nil {
		// Again, now that no other gzdoctor can be starting a capture.
		if d, err := h.ScanPrefix(p.target.dir.Dir); err == nil {
			p.target.dir = d
		}
		p.target.probePorts(ctx, h)
		p.detectBusy(h)
	}
	if p.busy != nil {
		res.Stopped = StopBusy
		if p.busy != nil && len(p.busy.Captures) > 0 {
			c := p.busy.Captures[0]
			res.Holder = &LockHolder{PID: c.PID, Command: shquote.Join(c.Cmdline), Since: processStart(h, c.PID), Alive: true, Foreign: true}
		}
		res.Notes = append(res.Notes, busyWords(p))
		return res, nil
	}
	if p.deferred == nil {
		// A capture tool still starting has no socket, vdev or ring in
		// the primary yet; its command line names the prefix.
		if tools := foreignCaptures(h, p.Prefix, p.runtimeDir); len(tools) > 0 {
			res.Stopped, res.Holder = StopBusy, &tools[0]
			res.Notes = append(res.Notes, busyHolderWords(p, tools[0]))
			return res, nil
		}
	}
	if !o.NoPreflight {
		rep, ok, err := preflight(ctx, h, &o, p)
		if err != nil {
			return nil, err
		}
		res.Preflight = rep
		if !ok {
			res.Stopped = StopPreflight
			return res, nil
		}
	}
	if p.deferred != nil {
		return nil, p.deferred
	}
	cat, err := runbooks.Load()
	if err != nil {
		return nil, fmt.Errorf("loading the runbooks: %w", err)
	}
	res.Leftovers = findLeftovers(p)
	if err := createTemps(p); err != nil {
		return nil, err
	}
	if o.beforeBackend != nil {
		o.beforeBackend(p)
	}
	s := &supervisor{o: &o, p: p, res: res, matcher: cat.NewMatcher(), sel: newSelector(p), lock: lock}
	// The diagnosis starts from the arguments gzdoctor passed, as an
	// operator's paste starts with the command typed: the catalogue then
	// knows the prefix and the device_id asked for from them, not from
	// whatever else the tool's lines name (a probed NIC, a runtime dir).
	s.matcher.SetSource("gzdoctor")
	s.matcher.Feed("$ " + p.Command)
	s.matcher.SetSource(filepath.Base(p.Binary))
	s.matcher.SetContext(fixContext(&o, p))
	runErr := s.run(ctx)
	if runErr != nil {
		if s.ring != nil {
			s.ring.abort()
			s.post.close()
		}
		res.TempFiles = tempPaths(p)
		releaseTemps(p)
		return res, runErr
	}
	s.finish(ctx)
	return res, nil
}

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
	// scan is the stream's validation scan (livescan.go), punched whether
	// the tool's files were freed as they were streamed.
	scan         *tempScan
	scanErr      error
	scanRepaired []string
	punched      bool
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

func (s *supervisor) run(ctx context.Context) error {
	outR, outW, err := os.Pipe()
	if err != nil {
		return err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return err
	}
	s.primaryBefore()
	s.lstackBefore(ctx)
	if before := s.readPromisc(ctx); before != nil {
		s.res.Promisc = &PromiscState{Port: s.p.Port, Before: before, Asked: s.o.Promisc}
	}
	dog, closeDog := s.newWatchdog(ctx)
	defer closeDog()
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
	exited := make(chan error, 1)
	err = startLocked(s.cmd, exited)
	outW.Close()
	errW.Close()
	if err != nil {
		outR.Close()
		errR.Close()
		removeTemps(s.p)
		return fmt.Errorf("starting %s: %w", s.p.Binary, err)
	}
	s.started = time.Now()
	if dog != nil {
		dog.pid = s.cmd.Process.Pid
	}
	s.lock.backendStarted(s.cmd.Process.Pid, s.p.Command)
	s.ev = &events{w: s.o.Events, start: s.started}
	s.ev.emit(Event{Type: "start", Backend: s.p.Backend, Command: s.p.Command, PID: s.cmd.Process.Pid, Prefix: s.p.Prefix, Device: deviceLabel(s.p), Stream: s.p.Stream})
	lines := make(chan backendLine, 256)
	// The channel is passed, not captured: the loop below sets its
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
	}(lines)

	cnt, err := newCounter(s.p, s.sel)
	if err != nil {
		s.kill()
		<-exited
		return err
	}
	defer cnt.close()
	s.cnt = cnt
	if s.p.Ring != nil {
		s.post = newPostRunner(s.p.PostRotate)
		s.ring = newRingWriter(s.p, s.o, s.post)
		// The tool's files are freed as they are read (a ring runs for
		// days), so they are validated as they are read too.
		cnt.ring, cnt.ringLimit = s.ring, s.p.Count
		cnt.live = newLiveScan(s.p, uint64(s.started.Add(-windowSlack).UnixNano()))
	}
	var readerLeft <-chan struct{}
	if s.p.Stream {
		s.stream, err = newStreamer(s.p, s.o, len(cnt.files))
		if err != nil {
			s.kill()
			<-exited
			return err
		}
		cnt.stream = s.stream
		cnt.live = newLiveScan(s.p, uint64(s.started.Add(-windowSlack).UnixNano()))
		readerLeft = s.stream.pipe.gone
	}
	prog := newProgress(s.o, s.started)
	prog.ev = s.ev
	space := newSpaceWatch(s.p, nil)

	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	var deadline <-chan time.Time
	var startedTimer *time.Timer
	if s.p.Duration > 0 {
		// Until the capture begins, count from the backend's start plus
		// some slack; from then on, exactly the duration.
		startedTimer = time.NewTimer(s.o.Duration + startSlack)
		deadline = startedTimer.C
		defer startedTimer.Stop()
	}
	var readyAt time.Time
	armDuration := func() {
		if startedTimer != nil && !s.ready {
			startedTimer.Reset(s.o.Duration)
		}
		if !s.ready {
			readyAt = time.Now()
		}
		s.ready = true
	}
	ctxDone := ctx.Done()
	var interrupts int
	backendDone := false
	var linesLeft <-chan time.Time
	var waitErr error
	for !backendDone || lines != nil {
		select {
		case l, ok := <-lines:
			if !ok {
				lines = nil
				continue
			}
			s.line(l)
			if !s.ready && (s.p.Backend == BackendPdump && rePdumpReady().MatchString(l.text) ||
				s.p.Backend == BackendDumpcap && reDumpcapReady().MatchString(l.text)) {
				armDuration()
			}
		case <-readerLeft:
			readerLeft = nil
			s.stop(StopReaderGone, stopGrace)
		case <-tick.C:
			// With -w - and a reader that does not keep up, the files
			// are read once it has caught up (streamMaxQueued).
			if s.stream == nil || s.stream.pipe.queued() < streamMaxQueued {
				// The ring reads every file on past -c: its first N in
				// time order may lie in a file not read yet (emit).
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
			if !s.ready && cnt.counts.Packets() > 0 {
				armDuration()
			}
			now := time.Now()
			if !s.stopping {
				if why := dog.check(ctx, now, s.started, readyAt, cnt.records); why != "" {
					s.note(why)
					if dog.stalled {
						s.stop(StopStalled, stopGrace)
					} else {
						s.stop(StopNoPackets, stopGrace)
					}
				}
				prog.note = dog.note()
				if s.ring != nil && s.ring.cur != nil {
					prog.note = strings.TrimPrefix(prog.note+"; file "+filepath.Base(s.ring.cur.res.Path), "; ")
				}
				prog.update(now, cnt.counts)
			}
			if s.o.afterPoll != nil {
				s.o.afterPoll(now, s.started, readyAt)
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
				if why := space.check(now, tempSize(s.p), final); why != "" {
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
			if s.stopping && !backendDone && !s.warned && now.Sub(s.stopAt) > s.grace {
				s.slowExit()
			}
		case <-deadline:
			deadline = nil
			s.stop(StopDuration, stopGrace)
		case <-ctxDone:
			ctxDone = nil
			s.stop(StopInterrupt, stopGrace)
		case <-s.o.Interrupts:
			interrupts++
			if interrupts == 1 {
				s.stop(StopInterrupt, stopGrace)
			} else if !backendDone && !s.res.Killed {
				s.note("second interrupt: killed the backend without waiting for it to flush")
				s.kill()
			}
		case <-linesLeft:
			// The backend is gone, but something it started still holds
			// its stdout or stderr: its last lines are read, and the
			// capture must end with the backend, not with that process.
			outR.Close()
			errR.Close()
			go func(l <-chan backendLine) {
				for range l {
				}
			}(lines)
			lines, linesLeft = nil, nil
			s.note(fmt.Sprintf("%s's output stayed open after it exited (a process it started holds it); gzdoctor stopped reading it %s later", filepath.Base(s.p.Binary), linesGrace))
		case waitErr = <-exited:
			backendDone = true
			exited = nil
			linesLeft = time.After(linesGrace)
			if !s.stopping {
				s.stopping, s.stopAt = true, time.Now()
				if s.res.Stopped == "" {
					s.res.Stopped = StopBackendEnd
				}
			}
		}
	}
	prog.done()
	s.ended = time.Now()
	if s.ring != nil {
		s.drainRing(cnt)
	}
	if s.stream != nil {
		s.drainStream(cnt)
	}
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

// finish explains how the backend ended and writes the final files.
func (s *supervisor) finish(ctx context.Context) {
	res, p := s.res, s.p
	rep := s.matcher.Report()
	res.Findings = rep.Findings
	if res.Stopped == StopBackendEnd || res.Stopped == StopDiagnosis || res.Stopped == StopNoPackets || res.Stopped == StopStalled {
		res.LastLines = s.tail
	}
	if res.Killed && p.Backend == BackendPdump {
		s.note("pdump was killed before it could disable the capture: the primary still holds its rings and pcap vdevs, so the next pdump on this primary fails ('RING: Cannot reserve memory') and reopens (truncates) these temporary files until the primary restarts")
	}
	if res.Stopped == StopBackendEnd && len(res.Findings) == 0 {
		s.note(fmt.Sprintf("%s exited by itself (%s) before any stop condition; no known cause in its output (run with -v to see it all)",
			filepath.Base(p.Binary), res.ExitStatus))
	}
	if s.ring != nil {
		s.finishRing()
		return
	}
	if p.Stream {
		s.finishStream()
		return
	}
	// The first Ctrl+C cancelled ctx; writing the file must go on.
	fin, err := finalize(context.WithoutCancel(ctx), p, s.sel, s.o)
	if err != nil {
		keepTemps(res, p, err)
		return
	}
	res.Repaired = fin.repaired
	res.Ports = nil
	for i, pp := range planPorts(p) {
		pr := PortResult{Device: pp.Device, Port: pp.Port, Counts: fin.ports[i]}
		if i < len(s.primaryPorts) {
			pr.Primary = &s.primaryPorts[i]
		}
		res.Ports = append(res.Ports, pr)
	}
	validate(p, s.o, res, s.started, s.ended)
	s.clockWords()
	removeTemps(p)
	if fin.counts.Packets() == 0 && (res.Stopped == StopDiagnosis || res.Stopped == StopBackendEnd || res.Stopped == StopNoPackets || res.Stopped == StopDiskFull) {
		// Nothing was captured and the capture failed: an empty file
		// would only look like a result.
		for _, f := range fin.files {
			os.Remove(f.Path)
		}
		return
	}
	res.Files = fin.files
	res.Counts = fin.counts
	if p.PostRotate != "" {
		s.post = newPostRunner(p.PostRotate)
		for _, f := range fin.files {
			s.post.run(f.Path)
		}
		s.waitPost()
	}
	if fin.first != 0 {
		res.First = pcapfile.TimeOf(fin.first).UTC().Format(time.RFC3339Nano)
		res.Last = pcapfile.TimeOf(fin.last).UTC().Format(time.RFC3339Nano)
		// Two's complement: a file whose last packet is older than its
		// first gives a negative span, not a huge one.
		res.SpanSec = float64(int64(fin.last-fin.first)) / 1e9
	}
}

// deviceLabel names the captured ports: "net_ring0", "port1",
// "net_ring0+net_ring1".
func deviceLabel(p *Plan) string {
	var names []string
	for _, pp := range planPorts(p) {
		names = append(names, pp.label())
	}
	return strings.Join(names, "+")
}

// failedCapture reports whether the capture failed in a way that makes an
// empty file look like a result.
func failedCapture(stopped string) bool {
	switch stopped {
	case StopDiagnosis, StopBackendEnd, StopNoPackets, StopDiskFull:
		return true
	}
	return false
}

// drainRing reads the backend's files to their end once it has ended
// (past -c: the validation sees every record, the ring gets none past
// it), writes what was held for ordering, and ends the live scan.
func (s *supervisor) drainRing(cnt *counter) {
	for {
		before := cnt.records
		if err := cnt.poll(0); err != nil {
			s.pollFailed(err)
			break
		}
		if cnt.records == before {
			break
		}
	}
	if err := cnt.emit(time.Now(), true); err != nil {
		s.pollFailed(err)
	}
	s.scan, s.scanRepaired, s.scanErr = cnt.scanEnd(uint64(s.ended.Add(windowSlack).UnixNano()))
	if cnt.punchErr != nil {
		s.note(fmt.Sprintf("the tool's files could not be freed as they were read (%v): they held the whole capture in %s until the end", cnt.punchErr, s.p.TempDir))
	}
}

// finishRing closes the ring's last file and sums the capture up.
func (s *supervisor) finishRing() {
	res, p, r := s.res, s.p, s.ring
	keep := r.total.Packets() > 0 || !failedCapture(res.Stopped)
	if err := r.finish(keep); err != nil && res.WriteError == "" {
		res.WriteError = err.Error()
	}
	res.Repaired = append(res.Repaired, s.scanRepaired...)
	judge(p, s.o, res, s.started, s.ended, s.scan, s.scanErr)
	if s.cnt != nil && s.cnt.ringLost > 0 && res.Validation != nil {
		res.Validation.Problems = append(res.Validation.Problems, fmt.Sprintf("%s packets read from %s's files are not in the ring's files although older than the newest one saved: the saved span has holes",
			group(s.cnt.ringLost), filepath.Base(p.Binary)))
	}
	s.clockWords()
	for _, n := range r.res.NamesTaken {
		s.note(fmt.Sprintf("%s existed: the ring never replaces a file without --force, so that file took the next number", n))
	}
	if res.WriteError != "" && len(p.Temps) > 0 {
		// The ring could not go on: the tool's files hold what it had
		// not freed yet (it frees what it read, per MiB), at least every
		// packet the ring's files do not; they are kept, as for -w FILE.
		res.TempFiles = tempPaths(p)
		releaseTemps(p)
		if s.cnt == nil || !s.cnt.punched {
			res.Recover = recoverCommand(p)
		} else {
			s.note(fmt.Sprintf("the tool's files kept in %s lack what gzdoctor had read and freed before the failure; those packets are in the ring's files kept", p.TempDir))
		}
	} else {
		removeTemps(p)
	}
	res.Files = append([]OutputFile{}, r.kept...)
	res.Counts = r.total
	res.Ports = nil
	for i, pp := range planPorts(p) {
		pr := PortResult{Device: pp.Device, Port: pp.Port, Counts: r.ports[i]}
		if i < len(s.primaryPorts) {
			pr.Primary = &s.primaryPorts[i]
		}
		res.Ports = append(res.Ports, pr)
	}
	if r.first != 0 {
		res.First = pcapfile.TimeOf(r.first).UTC().Format(time.RFC3339Nano)
		res.Last = pcapfile.TimeOf(r.last).UTC().Format(time.RFC3339Nano)
		res.SpanSec = float64(int64(r.last-r.first)) / 1e9
	}
	s.waitPost()
	rr := r.res
	res.Ring = &rr
}

// postWaitNote is how long -z may keep gzdoctor before it says why it
// has not exited.
const postWaitNote = time.Second

// waitPost waits for -z and the ring's removals to finish. A Ctrl+C (or
// SIGTERM, SIGHUP) stops the waiting, not the command: it runs in its own
// process group and finishes its file; the summary lists what was left.
func (s *supervisor) waitPost() {
	if s.post == nil {
		return
	}
	s.post.close()
	said := time.NewTimer(postWaitNote)
	defer said.Stop()
	unfinished := false
wait:
	for {
		select {
		case <-s.post.done:
			break wait
		case <-said.C:
			if cur, queued := s.post.busy(); cur != "" && s.o.Progress != nil {
				fmt.Fprintf(s.o.Progress, "waiting for -z %s on %s (%d more queued); Ctrl+C stops waiting\n", filepath.Base(s.p.PostRotate), cur, queued)
			}
		case <-s.o.Interrupts:
			unfinished = true
			break wait
		}
	}
	pr, rmErrs := s.post.result(unfinished)
	if s.p.PostRotate != "" {
		s.res.PostRotate = pr
		if unfinished && len(pr.Unfinished) > 0 {
			s.note(fmt.Sprintf("gzdoctor stopped waiting for -z: it goes on in the background on %s, and does not run on %d more queued file(s)", pr.Unfinished[0], len(pr.Unfinished)-1))
		}
	}
	if s.ring != nil {
		s.ring.res.RemoveErrors = rmErrs
		s.post.mu.Lock()
		s.ring.res.Removed, s.ring.res.Gone = s.post.removed, s.post.gone
		s.ring.res.GonePaths = append([]string(nil), s.post.gonePaths...)
		s.post.mu.Unlock()
	}
	if s.p.PostRotate != "" {
		// The summary says what is on disk, not what was written: -z
		// may have moved the files.
		for i := range s.res.Files {
			s.res.Files[i].State = FileExists
			if _, err := os.Lstat(s.res.Files[i].Path); errors.Is(err, fs.ErrNotExist) {
				s.res.Files[i].State = FileMissing
			}
		}
	}
}

// clockWords completes dpdk-dumpcap's clock warning with how far ahead its
// clock is, measured against when gzdoctor read the packets, and the
// command that writes a copy with the dates shifted back. gzdoctor does
// not shift them itself: it knows the offset to within a poll (0.1 s) and
// the tool's flush, not each packet's true time; the file keeps what the
// tool stamped, the evidence as taken.
func (s *supervisor) clockWords() {
	v := s.res.Validation
	if v == nil || v.clockWarning == 0 || s.cnt == nil || !s.cnt.haveAhead {
		return
	}
	secs := float64(s.cnt.ahead) / 1e9
	v.ToolClockAhead = secs
	in := s.p.Outputs[0].Path
	if len(s.res.Files) > 0 {
		in = s.res.Files[0].Path
	}
	shift := strconv.FormatFloat(-secs, 'f', 1, 64)
	ext := filepath.Ext(in)
	fixed := strings.TrimSuffix(in, ext) + "-clock" + ext
	each := ""
	if s.ring != nil {
		each = " (each file)"
	}
	if s.p.Stream {
		v.Warnings[v.clockWarning-1] += fmt.Sprintf("; its clock is %s s ahead of the time gzdoctor read the packets (to within about 0.2 s): shift a saved copy with editcap -t %s",
			strconv.FormatFloat(secs, 'f', 1, 64), shift)
		return
	}
	v.Warnings[v.clockWarning-1] += fmt.Sprintf("; its clock is %s s (%.1f years) ahead of the time gzdoctor read the packets (to within about 0.2 s). The file keeps the stamps as the tool wrote them; a copy with the dates shifted back%s: %s",
		strconv.FormatFloat(secs, 'f', 1, 64), secs/(365.25*86400), each, shquote.Join([]string{"editcap", "-t", shift, in, fixed}))
}
