package capture

import (
	"context"
	"fmt"
	"path"
	"path/filepath"
	"strconv"
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
	off      bool // the capture got packets, or the counters failed
	// idle: the port has counted no packet since the backend started.
	idle bool
	// filtered: the backend applies the filter itself (dumpcap -f), so
	// empty files on a busy port may only mean nothing matched yet.
	filtered  bool
	unmatched bool
}

// newWatchdog takes the port's first reading; nil when the port cannot be
// counted (no telemetry, port unknown): then nothing is judged.
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
		sock := s.p.telemetry
		if !path.IsAbs(sock) {
			sock = path.Join(s.p.runtimeDir, sock)
		}
		c, cl, err := telemetryPortCounter(ctx, host.New(orRoot(s.o.Root)), sock, ports)
		if err != nil {
			return nil, closeFn
		}
		count, closeFn = c, cl
	}
	w := &watchdog{count: count, device: deviceLabel(s.p), tool: filepath.Base(s.p.Binary), readyGrace: readyGrace, startGrace: startGrace, every: watchEvery,
		filtered: s.p.FilterByBackend}
	if t := s.o.watchTimes; t[0] > 0 {
		w.readyGrace, w.startGrace, w.every = t[0], t[1], t[2]
	}
	qctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if n, err := count(qctx); err == nil {
		w.base, w.haveBase = n, true
	}
	if !w.haveBase {
		closeFn()
		return nil, func() {}
	}
	return w, closeFn
}

// check returns why the capture must stop, or "". records are the packet
// records in the backend's files so far (before any filter of gzdoctor's),
// readyAt when the backend said it captures (zero: not yet).
func (w *watchdog) check(ctx context.Context, now, started, readyAt time.Time, records int64) string {
	if w == nil || w.off {
		return ""
	}
	if records > 0 {
		w.off, w.idle = true, false
		return ""
	}
	if now.Before(w.next) {
		return ""
	}
	w.next = now.Add(w.every)
	qctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	n, err := w.count(qctx)
	if err != nil || n < w.base {
		// The primary restarted or stopped answering: no judgement.
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
