package capture

import (
	"fmt"
	"io"
	"time"
)

// progress prints the running counts: on a TTY one line rewritten in
// place, otherwise a plain line every few seconds.
type progress struct {
	w        io.Writer
	tty      bool
	every    time.Duration // TTY refresh
	plain    time.Duration // plain line period
	start    time.Time
	last     time.Time
	lastPkts int64
	lastAt   time.Time
	rate     float64
	shown    bool
	// note is added to the line, e.g. "no traffic on net_ring0 yet".
	note string
	// ev, with -o json, gets a progress event instead of the line.
	ev *events
}

// jsonEvery is the period of progress events (-o json).
const jsonEvery = time.Second

func newProgress(o *Options, start time.Time) *progress {
	p := &progress{w: o.Progress, tty: o.ProgressTTY, every: o.Interval, plain: o.PlainEvery, start: start, lastAt: start}
	if p.every <= 0 {
		p.every = 250 * time.Millisecond
	}
	if p.plain <= 0 {
		p.plain = 5 * time.Second
	}
	// The first line comes one period in: a capture that ends sooner
	// needs none.
	p.last = start
	return p
}

// update shows c if it is time to.
func (p *progress) update(now time.Time, c Counts) {
	if p.w == nil && !p.ev.on() {
		return
	}
	period := p.plain
	if p.tty {
		period = p.every
	}
	if p.ev.on() {
		period = jsonEvery
	}
	if now.Sub(p.last) < period {
		return
	}
	p.last = now
	if dt := now.Sub(p.lastAt).Seconds(); dt > 0 {
		p.rate = float64(c.Packets()-p.lastPkts) / dt
	}
	p.lastPkts, p.lastAt = c.Packets(), now
	if p.ev.on() {
		c, rate := c, float64(int64(p.rate+0.5))
		p.ev.emit(Event{Type: "progress", Counts: &c, RatePPS: &rate, Text: p.note})
		return
	}
	line := progressLine(c, p.rate, now.Sub(p.start))
	if p.note != "" {
		line += "  (" + p.note + ")"
	}
	if p.tty {
		fmt.Fprintf(p.w, "\r%s\x1b[K", line)
		p.shown = true
	} else {
		fmt.Fprintln(p.w, line)
	}
}

// done clears the TTY line, so the summary starts on a clean line.
func (p *progress) done() {
	if p.w != nil && p.tty && p.shown {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.shown = false
	}
}

func progressLine(c Counts, rate float64, elapsed time.Duration) string {
	return fmt.Sprintf("capturing: rx %s pkts %s  tx %s pkts %s  %s pkt/s  %s",
		group(c.RxPackets), byteSize(c.RxBytes), group(c.TxPackets), byteSize(c.TxBytes), group(int64(rate+0.5)), clock(elapsed))
}

// group writes n with thousands separators: 1,234,567.
func group(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return s
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// byteSize is a short human size: 512 B, 1.5 kB, 12.3 MB (SI, as capinfos).
func byteSize(n int64) string {
	switch {
	case n < 1000:
		return fmt.Sprintf("%d B", n)
	case n < 1000_000:
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	case n < 1000_000_000:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	}
	return fmt.Sprintf("%.2f GB", float64(n)/1e9)
}

// clock formats an elapsed time as m:ss.
func clock(d time.Duration) string {
	s := int64(d.Round(time.Second).Seconds())
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}
