package capture

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/gzdoctor/gzdoctor/capture/pcapfile"
)

// Counts are packets and bytes per direction.
type Counts struct {
	RxPackets int64 `json:"rx_packets"`
	RxBytes   int64 `json:"rx_bytes"`
	TxPackets int64 `json:"tx_packets"`
	TxBytes   int64 `json:"tx_bytes"`
}

// Packets is the total of both directions.
func (c Counts) Packets() int64 { return c.RxPackets + c.TxPackets }

// Bytes is the total of both directions.
func (c Counts) Bytes() int64 { return c.RxBytes + c.TxBytes }

// packets is the packets of one direction.
func (c Counts) packets(dir string) int64 {
	if dir == dirRx {
		return c.RxPackets
	}
	return c.TxPackets
}

func (c *Counts) add(dir string, n int) {
	if dir == dirRx {
		c.RxPackets++
		c.RxBytes += int64(n)
	} else {
		c.TxPackets++
		c.TxBytes += int64(n)
	}
}

// counter follows the backend's files as they grow and counts what the
// final file will hold: gzdoctor's progress and stop conditions come from
// the files, never from what the backend says.
type counter struct {
	sel     *selector
	format  func(dir string) pcapfile.Format // output format of a direction
	files   []*tailFile
	counts  Counts
	records int64 // packet records read, before the selector
	outSize int64 // bytes the final files will take, headers included
	// stream, with -w -, gets every packet kept; live scans every record
	// for the validation, and what was read is freed (livescan.go).
	stream   *streamer
	live     *liveScan
	punchErr error
	punched  bool
	// ring, with -b, gets every packet kept, merged in time order across
	// the files; it needs live too, as the files are freed.
	ring *ringWriter
	// merge, with -w - or -b, is the stream's or the ring's time-order
	// merge: it learns how far each file has come from every record.
	merge *holdMerge
	// ringLimit is -c: the ring gets the first ringLimit packets in time
	// order, counted as they are merged (emit), never as the files are
	// read: pdump's rx file is read before its tx file, and counting
	// there kept rx packets whose older tx twins were then dropped.
	ringLimit, ringAdded int64
	// ringLost counts packets left out of the ring although older than
	// one it holds: a hole inside the saved span, never a ✓.
	ringLost int64
	// ahead is the most a record's stamp was ahead of the time it was
	// read (ns, two's complement): a packet is read after it was stamped,
	// so a backend whose clock is off by X shows X here, to within a poll.
	ahead     int64
	haveAhead bool
}

// ringHold is how long a packet waits for an older one in the other
// direction's file (holdMerge): pdump's rx and tx files fill side by
// side, each flushed per burst, so the other file's older packets come
// within a poll or two. Longer than streamHold: no one reads the ring's
// files as they are written, so the hold costs memory alone, while a
// packet that comes too late is out of order in a file for good, and
// past -c left out (ringLost).
const ringHold = time.Second

type tailFile struct {
	temp Temp
	f    *os.File
	r    *pcapfile.Reader
	// damage stops counting a file whose writer wrote nonsense.
	damage error
	// w and punched: a stream frees what it read (livescan.go).
	w       *os.File
	punched int64
}

func newCounter(p *Plan, sel *selector) (*counter, error) {
	c := &counter{sel: sel, outSize: p.overhead, format: func(dir string) pcapfile.Format {
		for _, o := range p.Outputs {
			if dir == dirRx && o.Rx || dir == dirTx && o.Tx {
				return o.Format
			}
		}
		return pcapfile.FormatPcapNG
	}}
	for _, t := range p.Temps {
		f, err := os.Open(t.Path)
		if err != nil {
			c.close()
			return nil, fmt.Errorf("following %s: %w", t.Path, err)
		}
		c.files = append(c.files, &tailFile{temp: t, f: f, r: pcapfile.NewTailReader(f)})
	}
	return c, nil
}

// pollToEnd polls until a poll reads no new record: the backend's files to
// their end once it has ended, past -c, so that the validation sees every
// record, as it does reading a capture's files back. before, when set,
// runs before each poll and may stop the drain (false); after runs after
// each poll that worked.
func (c *counter) pollToEnd(before func() bool, after func()) error {
	for before == nil || before() {
		n := c.records
		if err := c.poll(0); err != nil {
			return err
		}
		if after != nil {
			after()
		}
		if c.records == n {
			return nil
		}
	}
	return nil
}

// poll reads whatever the backend appended since the last call. It stops
// early once limit packets are counted (0: no limit). It reads the files
// in turns of pollSlice records, so that a stream (-w -) gets every
// direction's packets in step.
func (c *counter) poll(limit int64) error {
	now := time.Now()
	for {
		progress := false
		for i, tf := range c.files {
			n, err := c.read(i, tf, limit, pollSlice, now)
			if err != nil {
				return err
			}
			progress = progress || n > 0
		}
		if !progress || limit > 0 && c.counts.Packets() >= limit || c.stream != nil && c.stream.full() {
			break
		}
	}
	if c.ring == nil {
		return nil
	}
	return c.emit(now, false)
}

// emit writes the packets held (merge) into the ring in time order: those
// whose turn has come, or all of them (the backend ended).
func (c *counter) emit(now time.Time, all bool) error {
	err := c.merge.release(now, all, func(h *heldPacket) error {
		if c.ringLimit > 0 && c.ringAdded >= c.ringLimit {
			if h.p.Timestamp < c.ring.maxTs {
				c.ringLost++
			}
			return nil
		}
		c.ringAdded++
		return c.ring.write(h.idx, h.dir, &h.p, len(h.p.Data), h.link, now)
	})
	if err != nil {
		return &ringError{err}
	}
	return nil
}

// ringError is a ring file that could not be written.
type ringError struct{ err error }

func (e *ringError) Error() string { return e.err.Error() }
func (e *ringError) Unwrap() error { return e.err }

const pollSlice = 512

// read reads up to most records of file i.
func (c *counter) read(i int, tf *tailFile, limit int64, most int, now time.Time) (int, error) {
	var p pcapfile.Packet
	if tf.damage != nil {
		return 0, nil
	}
	n := 0
	for ; n < most && (limit == 0 || c.counts.Packets() < limit); n++ {
		err := tf.r.Next(&p)
		if errors.Is(err, pcapfile.ErrNeedMore) || err == io.EOF {
			break
		}
		if err != nil {
			var fe *pcapfile.FormatError
			if errors.As(err, &fe) {
				tf.damage = err
				if c.merge != nil {
					c.merge.stop(i)
				}
				break
			}
			return n, fmt.Errorf("reading %s: %w", tf.temp.Path, err)
		}
		c.records++
		if c.merge != nil {
			// Every record, kept or not, shows how far this file has come.
			c.merge.saw(i, p.Timestamp)
		}
		if d := int64(p.Timestamp - uint64(now.UnixNano())); !c.haveAhead || d > c.ahead {
			c.ahead, c.haveAhead = d, true
		}
		if c.live != nil {
			c.live.add(tf.temp.Dir, tf.temp.Index, &p, now)
		}
		link := tf.r.Interfaces()[p.Interface]
		ok, dir, err := c.sel.keep(tf.temp.Dir, link, &p)
		if err != nil {
			return n, err
		}
		if !ok {
			continue
		}
		kept := c.sel.capLen(&p)
		c.counts.add(dir, kept)
		c.outSize += pcapfile.RecordSize(c.format(dir), kept)
		if c.stream != nil {
			p.Data = p.Data[:kept]
			if err := c.stream.add(i, link, dir, &p, now); err != nil {
				return 0, err
			}
		}
		if c.ring != nil {
			h := heldPacket{idx: tf.temp.Index, dir: dir, p: p, link: tf.r.Interfaces()[0], read: now}
			h.p.Data = append([]byte(nil), p.Data[:kept]...)
			c.merge.add(i, h)
		}
	}
	if c.live != nil && n > 0 {
		c.punch(tf)
		c.punched = c.punched || tf.punched > 0
	}
	return n, nil
}

func (c *counter) close() {
	for _, tf := range c.files {
		tf.f.Close()
		if tf.w != nil {
			tf.w.Close()
		}
	}
}
