package capture

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gzdoctor/gzdoctor/host"
)

// A backend can run and write nothing: stopped (SIGSTOP, a debugger),
// stuck in EAL init, or capturing a queue the traffic does not use. Its
// output says nothing, so without a watchdog the capture waits forever.
// The watchdog compares the port's own counters with the capture files.
const (
	// readyGrace: after the backend said it captures, its first packet
	// reaches the file within a flush; 5 s is far beyond that.
	readyGrace = 5 * time.Second
	// startGrace: the backend never said it captures. pdump's EAL init
	// takes about a second on the lab.
	startGrace = 10 * time.Second
	// watchEvery is how often the port counters are asked.
	watchEvery = time.Second
	// watchFailures: a primary's telemetry on a loaded host misses a
	// 1 s deadline now and then; only this many misses in a row mean it
	// stopped answering and the watchdog has nothing to judge by.
	watchFailures = 3
)

// portCounter returns the packets the port received and sent so far.
type portCounter func(ctx context.Context) (uint64, error)

// telemetryPortCounter asks the primary's telemetry for /ethdev/stats,N
// of each port and adds them up. The connection stays open for the
// capture; close it with the returned func.
func telemetryPortCounter(ctx context.Context, h *host.Host, sock string, ports []int) (portCounter, func(), error) {
	t, err := h.DialTelemetry(ctx, sock)
	if err != nil {
		return nil, nil, err
	}
	count := func(ctx context.Context) (uint64, error) {
		var sum uint64
		for _, port := range ports {
			cmd := "/ethdev/stats," + strconv.Itoa(port)
			var st struct {
				IPackets *uint64 `json:"ipackets"`
				OPackets *uint64 `json:"opackets"`
			}
			if err := t.QueryInto(ctx, cmd, &st); err != nil {
				return 0, err
			}
			if st.IPackets == nil || st.OPackets == nil {
				return 0, fmt.Errorf("telemetry %s: no ipackets/opackets", cmd)
			}
			sum += *st.IPackets + *st.OPackets
		}
		return sum, nil
	}
	return count, func() { t.Close() }, nil
}

// watchdog decides, once a second, whether the capture is receiving.
type watchdog struct {
	count      portCounter
	device     string
	tool       string
	readyGrace time.Duration
	startGrace time.Duration
	every      time.Duration

	base     uint64
	haveBase bool
	next     time.Time
	off      bool // the counters failed watchFailures times in a row, or went back
	fails    int  // readings failed in a row
	// idle: the port has counted no packet since the backend started.
	idle bool
	// filtered: the backend applies the filter itself (dumpcap -f), so
	// empty files on a busy port may only mean nothing matched yet.
	filtered  bool
	unmatched bool

	// The middle of a capture: once packets came, the files must keep
	// growing while the port (or the primary's copies for the capture)
	// counts. pid is the backend's, pstats the primary's counters for
	// the capture (nil: unreadable), allQueues whether the port's own
	// counters speak for the capture (not with --queue N).
	pid       int
	pstats    []*pdumpStatsReader
	allQueues bool
	flowing   bool
	// The last time the files grew, and the readings taken then (the
	// offered count, and the primary's counters when readable).
	grewAt    time.Time
	records   int64
	grewN     uint64
	haveGrewN bool
	grewStats PrimaryStats
	// lastN is the reading before the latest: a packet counted then and
	// not in the files a whole watch period later is late, not in flight.
	lastN   uint64
	root    string
	stalled bool
}

// newWatchdog takes the port's first reading; nil when the port cannot be
// counted (no telemetry, port unknown): then nothing is judged. A first
// reading that fails (a slow answer) is taken again at the next check.
func (s *supervisor) newWatchdog(ctx context.Context) (*watchdog, func()) {
	count, closeFn := s.o.portCounter, func() {}
	if count == nil {
		var ports []int
		for _, pp := range planPorts(s.p) {
			if pp.Port < 0 {
				return nil, closeFn
			}
			ports = append(ports, pp.Port)
		}
		if s.p.telemetry == "" {
			return nil, closeFn
		}
		c, cl, err := telemetryPortCounter(ctx, host.New(orRoot(s.o.Root)), s.p.telemetry, ports)
		if err != nil {
			return nil, closeFn
		}
		count, closeFn = c, cl
	}
	w := &watchdog{count: count, device: deviceLabel(s.p), tool: filepath.Base(s.p.Binary), readyGrace: readyGrace, startGrace: startGrace, every: watchEvery,
		filtered: s.p.FilterByBackend, pstats: s.pstats, allQueues: s.p.Queue == "*", root: orRoot(s.o.Root)}
	if t := s.o.watchTimes; t[0] > 0 {
		w.readyGrace, w.startGrace, w.every = t[0], t[1], t[2]
	}
	qctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if n, err := count(qctx); err == nil {
		w.base, w.haveBase = n, true
	} else {
		w.fails = 1
	}
	return w, closeFn
}

// failed counts a reading that failed and turns the watchdog off after
// watchFailures in a row.
func (w *watchdog) failed() {
	w.fails++
	if w.fails >= watchFailures {
		w.off, w.idle = true, false
	}
}

// check returns why the capture must stop, or "". records are the packet
// records in the backend's files so far (before any filter of gzdoctor's),
// readyAt when the backend said it captures (zero: not yet).
func (w *watchdog) check(ctx context.Context, now, started, readyAt time.Time, records int64) string {
	if w == nil || w.off {
		return ""
	}
	if records > 0 || w.flowing {
		if !w.flowing {
			w.flowing, w.idle, w.unmatched = true, false, false
		}
		return w.stall(ctx, now, records)
	}
	if now.Before(w.next) {
		return ""
	}
	w.next = now.Add(w.every)
	qctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	n, err := w.count(qctx)
	if err != nil {
		w.failed()
		return ""
	}
	w.fails = 0
	if !w.haveBase {
		// The first reading was late: count from this one.
		w.base, w.haveBase = n, true
		return ""
	}
	if n < w.base {
		// The primary restarted: no judgement.
		w.off, w.idle = true, false
		return ""
	}
	seen := n - w.base
	w.idle = seen == 0
	w.unmatched = false
	if seen == 0 {
		return ""
	}
	switch {
	case !readyAt.IsZero() && w.filtered:
		// A filter that matches nothing is not a broken backend.
		w.unmatched = true
	case !readyAt.IsZero() && now.Sub(readyAt) >= w.readyGrace:
		return fmt.Sprintf("the backend runs but receives nothing: %s said it captures %s ago, and its files are still empty while %s counted %d packets (rx+tx) since it started",
			w.tool, now.Sub(readyAt).Round(time.Second), w.device, seen)
	case readyAt.IsZero() && now.Sub(started) >= w.startGrace:
		return fmt.Sprintf("the backend runs but receives nothing: %s has not said it captures %s after it started (stopped, or stuck attaching to the primary?), and its files are empty while %s counted %d packets (rx+tx)",
			w.tool, now.Sub(started).Round(time.Second), w.device, seen)
	}
	return ""
}

// note is what the progress line adds.
func (w *watchdog) note() string {
	switch {
	case w == nil:
		return ""
	case w.idle:
		return "no traffic on " + w.device + " yet"
	case w.unmatched:
		return w.device + " has traffic; none matched the filter yet"
	}
	return ""
}

// offered is what the capture should be receiving, counted by the primary:
// its copies for the capture (rte_pdump_stats: accepted, ring full
// included, and no-mbuf; not what a filter in the primary rejected), else
// the port's packets when every queue is captured and nothing filters.
func (w *watchdog) offered(ctx context.Context) (uint64, PrimaryStats, bool, error) {
	if w.pstats != nil {
		var sum PrimaryStats
		var err error
		for _, r := range w.pstats {
			var st PrimaryStats
			if st, err = r.read(); err != nil {
				break
			}
			sum.Rx.add(st.Rx)
			sum.Tx.add(st.Tx)
		}
		if err == nil {
			return sum.Rx.Accepted + sum.Rx.NoMbuf + sum.Tx.Accepted + sum.Tx.NoMbuf, sum, true, nil
		}
		w.pstats = nil
	}
	if !w.allQueues || w.filtered {
		return 0, PrimaryStats{}, false, nil
	}
	qctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	n, err := w.count(qctx)
	return n, PrimaryStats{}, err == nil, err
}

// stall watches the middle of a capture: the backend alive, packets
// offered to it, its files not growing for readyGrace. It says why: the
// backend's process state (stopped, traced, blocked on its disk) and what
// the primary did with the packets meanwhile (ring full: nobody empties
// the ring; no copies: the capture's callbacks are gone).
func (w *watchdog) stall(ctx context.Context, now time.Time, records int64) string {
	if records != w.records || w.grewAt.IsZero() {
		w.records, w.grewAt, w.haveGrewN = records, now, false
		w.stalled = false
		return ""
	}
	if now.Before(w.next) {
		return ""
	}
	w.next = now.Add(w.every)
	n, st, ok, err := w.offered(ctx)
	switch {
	case err != nil:
		w.failed()
		return ""
	case !ok:
		w.off = true // nothing left to judge by
		return ""
	}
	w.fails = 0
	if !w.haveGrewN || n < w.grewN {
		w.grewN, w.grewStats, w.haveGrewN, w.lastN = n, st, true, n
		return ""
	}
	late := w.lastN > w.grewN
	w.lastN = n
	if !late {
		// Nothing offered since the files last grew (a quiet port): not
		// a stall; the quiet time does not count.
		w.grewAt = now
		return ""
	}
	stuck := now.Sub(w.grewAt)
	if stuck < w.readyGrace {
		return ""
	}
	w.stalled = true
	what := fmt.Sprintf("%s counted %s packets (rx+tx)", w.device, group(int64(n-w.grewN)))
	if w.pstats != nil {
		what = fmt.Sprintf("the primary offered it %s packets of %s (rx+tx)", group(int64(n-w.grewN)), w.device)
		full := st.Rx.RingFull + st.Tx.RingFull - w.grewStats.Rx.RingFull - w.grewStats.Tx.RingFull
		nombuf := st.Rx.NoMbuf + st.Tx.NoMbuf - w.grewStats.Rx.NoMbuf - w.grewStats.Tx.NoMbuf
		var lost []string
		if full > 0 {
			lost = append(lost, group(int64(full))+" of them for a full ring")
		}
		if nombuf > 0 {
			lost = append(lost, group(int64(nombuf))+" for lack of mbufs")
		}
		if len(lost) > 0 {
			what += fmt.Sprintf(" and dropped %s: %s is not emptying its ring", strings.Join(lost, " and "), w.tool)
		}
	}
	why := fmt.Sprintf("the capture stalled: %s's files have not grown for %s while %s", w.tool, stuck.Round(time.Second), what)
	if state := w.procState(); state != "" {
		why += "; " + state
	}
	return why
}

// procState says what the backend's process is doing, from
// /proc/<pid>/stat, when that explains a stall.
func (w *watchdog) procState() string {
	if w.pid <= 0 {
		return ""
	}
	st, err := host.New(w.root).ReadProcStat(w.pid)
	if err != nil {
		return ""
	}
	switch st.State {
	case 'T':
		return fmt.Sprintf("%s (pid %d) is stopped (state T: SIGSTOP, ^Z or a debugger; kill -CONT %d resumes it)", w.tool, w.pid, w.pid)
	case 't':
		return fmt.Sprintf("%s (pid %d) is held by a debugger (state t)", w.tool, w.pid)
	case 'D':
		return fmt.Sprintf("%s (pid %d) is blocked in the kernel (state D: waiting for its disk?)", w.tool, w.pid)
	case 'Z':
		return fmt.Sprintf("%s (pid %d) has exited", w.tool, w.pid)
	}
	return fmt.Sprintf("%s (pid %d) runs (state %c)", w.tool, w.pid, st.State)
}
