package capture

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"

	"github.com/gzdoctor/gzdoctor/capture/bpf"
	"github.com/gzdoctor/gzdoctor/capture/pcapfile"
	"github.com/gzdoctor/gzdoctor/doctor"
	"github.com/gzdoctor/gzdoctor/host"
	"github.com/gzdoctor/gzdoctor/host/target"
	"github.com/gzdoctor/gzdoctor/internal/shquote"
	"github.com/gzdoctor/gzdoctor/runbooks"
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

	var t *capTarget
	if o.Prefix != "" && (o.Device != "" || o.Port >= 0) && o.DryRun && o.NoPreflight {
		// Everything is given and nothing is to be checked: a dry run
		// teaches the command without looking at the machine.
		t = &capTarget{prefix: o.Prefix, why: "--prefix", via: target.ViaFlag}
	} else {
		t, err = resolvePrefix(ctx, h, o)
		if err != nil {
			if !deferrable(o, err) {
				var ue *UsageError
				if !errors.As(err, &ue) {
					// No primary (DPDK's default): said as check says it.
					if v := targetVerdict(ctx, h, o, nil); v != nil {
						return nil, v
					}
				}
				return nil, err
			}
			// No live primary: the preflight says why (a typo, another
			// user's primary, a stopped one) better than this.
			p.deferred = err
			t = &capTarget{prefix: o.Prefix, why: "--prefix"}
			if o.Prefix != "" {
				t.via = target.ViaFlag
			}
		}
		// Also with -i: the ports show pdump vdevs another capture holds.
		t.probePorts(ctx, h)
		if o.Device == "" && o.Port < 0 {
			t.readEAL(ctx, h, o.ConfigPath)
		}
	}
	p.target = t
	p.Prefix, p.PrefixWhy, p.PrefixSource = t.prefix, t.why, t.via
	p.primaryPID = t.pid
	if t.dir != nil {
		p.runtimeDir = t.dir.Dir
		if len(t.dir.Telemetry) > 0 {
			// Its path, once: the promisc reading and the watchdog dial it.
			p.telemetry = t.dir.Telemetry[0]
			if !filepath.IsAbs(p.telemetry) {
				p.telemetry = filepath.Join(p.runtimeDir, p.telemetry)
			}
		}
	}
	p.detectBusy(h)
	if err := resolveDevice(o, t, p); err != nil {
		if !deferrable(o, err) {
			var ue *UsageError
			if errors.As(err, &ue) && ue.needsHealthy && p.deferred == nil && (t.dir == nil || t.dir.State != host.PrefixLive) {
				// "Which device?" of a primary that is not there: the
				// question is not the problem; check's verdict is.
				if v := targetVerdict(ctx, h, o, t); v != nil {
					return nil, v
				}
			}
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
	if o.NoPreflight {
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
		// The plan, and the verdict the capture would meet: the same
		// preflight (check's checks), so a dry run never plans what its
		// capture refuses. No lock and no busy look under it: nothing
		// starts; the preflight's busy check says what holds the primary.
		res.DryRun = true
		if _, err := runPreflight(ctx, host.New(orRoot(o.Root)), &o, p, res); err != nil {
			return nil, err
		}
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
	if refusedBusy(ctx, h, p, res) {
		return res, nil
	}
	if stop, err := runPreflight(ctx, h, &o, p, res); err != nil {
		return nil, err
	} else if stop {
		return res, nil
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
	s := newSupervisor(&o, p, res, cat, lock)
	runErr := s.run(ctx)
	s.removeBackendSocket()
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

// refusedBusy looks again, under the capture lock, whether something
// holds the primary: what its ports show (the busy detector), or a
// capture tool still starting. If so it says who in res (stopped busy)
// and reports true.
func refusedBusy(ctx context.Context, h *host.Host, p *Plan, res *Result) bool {
	if p.target.dir != nil && p.deferred == nil {
		// Again, now that no other gzdoctor can be starting a capture.
		if d, err := h.ScanPrefix(p.target.dir.Dir); err == nil {
			p.target.dir = d
		}
		if p.afterListing != nil {
			p.afterListing()
		}
		p.target.probePorts(ctx, h)
		p.detectBusy(h)
	}
	if p.busy != nil {
		res.Stopped = StopBusy
		if len(p.busy.Captures) > 0 {
			c := p.busy.Captures[0]
			res.Holder = &LockHolder{PID: c.PID, Command: shquote.Join(c.Cmdline), Since: processStart(h, c.PID), Alive: true, Foreign: true}
		}
		res.Notes = append(res.Notes, busyWords(p))
		return true
	}
	if p.deferred == nil {
		// A capture tool still starting has no socket, vdev or ring in
		// the primary yet; its command line names the prefix.
		if tools := foreignCaptures(h, p.Prefix, p.runtimeDir); len(tools) > 0 {
			res.Stopped, res.Holder = StopBusy, &tools[0]
			res.Notes = append(res.Notes, busyHolderWords(p, tools[0]))
			return true
		}
	}
	return false
}

// runPreflight runs check's checks as the preflight, unless
// --no-preflight, and records them in res. stop: the capture ends here,
// with res saying why (a failed preflight) or with err (no target to
// capture from: the plan's deferred error).
func runPreflight(ctx context.Context, h *host.Host, o *Options, p *Plan, res *Result) (stop bool, err error) {
	if !o.NoPreflight {
		rep, ok, err := preflight(ctx, h, o, p)
		if err != nil {
			return true, err
		}
		res.Preflight = rep
		if !ok {
			res.Stopped = StopPreflight
			return true, nil
		}
	}
	if p.deferred != nil {
		return true, p.deferred
	}
	return false, nil
}
