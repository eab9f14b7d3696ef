package capture

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/gzdoctor/gzdoctor/capture/pcapfile"
	"golang.org/x/sys/unix"
)

// A stream (-w -) can run for hours: the tool's files would grow by the
// whole capture in TMPDIR (often a tmpfs, that is memory). So what the
// stream has read of them is freed as it goes (FALLOC_FL_PUNCH_HOLE: the
// file keeps its size and offsets, pdump keeps appending), and the
// validation that a capture to a file makes by reading them back at the
// end is made record by record as they are read.

// Hole punching: once a file's read part exceeds punchAfter, it is freed
// in steps of punchEvery. Tests lower them.
var (
	punchAfter int64 = 64 << 20
	punchEvery int64 = 16 << 20
)

// liveScan is scanTemps made while reading.
type liveScan struct {
	from uint64 // the window's start: the tool's start less the slack
	sc   tempScan
	// later are records stamped after their reading time plus the slack:
	// outside the window unless the capture ran on past them, which only
	// its end tells. Beyond laterCap they count as outside.
	later []laterRecord
}

type laterRecord struct {
	ts    uint64
	empty bool
}

const laterCap = 1 << 16

// newLiveScan starts a scan for p's files, from the window's start.
func newLiveScan(p *Plan, from uint64) *liveScan {
	return &liveScan{from: from, sc: tempScan{ports: make([][2]int64, len(planPorts(p)))}}
}

// add scans one record of a file of direction dir and port index i.
func (l *liveScan) add(dir string, i int, pk *pcapfile.Packet, now time.Time) {
	switch direction(dir, pk) {
	case dirRx:
		l.sc.rx++
		if i >= 0 && i < len(l.sc.ports) {
			l.sc.ports[i][0]++
		}
	case dirTx:
		l.sc.tx++
		if i >= 0 && i < len(l.sc.ports) {
			l.sc.ports[i][1]++
		}
	}
	empty := len(pk.Data) == 0 || pk.OrigLen == 0
	switch ts := pk.Timestamp; {
	case ts < l.from:
		l.outside(ts, empty)
	case ts > uint64(now.Add(windowSlack).UnixNano()):
		if len(l.later) < laterCap {
			l.later = append(l.later, laterRecord{ts, empty})
		} else {
			l.outside(ts, empty)
		}
	default:
		l.inside(empty)
	}
}

func (l *liveScan) outside(ts uint64, empty bool) {
	if empty {
		l.sc.zero++
	}
	if l.sc.outside == 0 {
		l.sc.first, l.sc.last = ts, ts
	}
	l.sc.outside++
	l.sc.first, l.sc.last = min(l.sc.first, ts), max(l.sc.last, ts)
}

func (l *liveScan) inside(empty bool) {
	l.sc.inside++
	if empty {
		l.sc.emptyInside++
	}
}

// result is the scan for a capture whose window ends at to.
func (l *liveScan) result(to uint64) *tempScan {
	r := *l
	r.sc.ports = slices.Clone(l.sc.ports)
	for _, rec := range l.later {
		if rec.ts > to {
			r.outside(rec.ts, rec.empty)
		} else {
			r.inside(rec.empty)
		}
	}
	return &r.sc
}

// punch frees what was read of tf, up to its next record.
func (c *counter) punch(tf *tailFile) {
	if c.punchErr != nil {
		return
	}
	end := tf.r.Offset() &^ 4095
	if end < punchAfter || end-tf.punched < punchEvery {
		return
	}
	if tf.w == nil {
		w, err := os.OpenFile(tf.temp.Path, os.O_WRONLY, 0)
		if err != nil {
			c.punchErr = err
			return
		}
		tf.w = w
	}
	if err := unix.Fallocate(int(tf.w.Fd()), unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, tf.punched, end-tf.punched); err != nil {
		c.punchErr = fmt.Errorf("fallocate(PUNCH_HOLE) on %s: %w", tf.temp.Path, err)
		return
	}
	tf.punched = end
}

// scanEnd finishes the live scan once the files are read to their end:
// a damaged file is a problem (as for scanTemps), an unfinished last record
// is cut (as finalize's repair does).
func (c *counter) scanEnd(to uint64) (sc *tempScan, repaired []string, err error) {
	for _, tf := range c.files {
		if tf.damage != nil {
			var fe *pcapfile.FormatError
			if errors.As(tf.damage, &fe) {
				return nil, nil, fmt.Errorf("reading %s: %w", tf.temp.Path, tf.damage)
			}
		}
		if fi, err := os.Stat(tf.temp.Path); err == nil && fi.Size() > tf.r.Offset() && tf.r.Offset() > 0 {
			repaired = append(repaired, fmt.Sprintf("%s: cut %d bytes of an unfinished last record (the tool was stopped while writing it)", tf.temp.Path, fi.Size()-tf.r.Offset()))
		}
	}
	return c.live.result(to), repaired, nil
}
