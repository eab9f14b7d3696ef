package capture

import (
	"slices"
	"time"

	"github.com/gzdoctor/gzdoctor/capture/pcapfile"
)

// holdMerge puts the packets of the backend's files into time order while
// the backend still writes them: pdump's rx and tx files fill side by
// side, each through its own stdio buffer (4 KiB reach the file at a
// time), so a packet read from one may be newer than one the other has
// not delivered yet. finalize merges the finished
// files; the stream (-w -) and the ring (-b) cannot wait for the end, so
// each holds a packet until no file can deliver an older one (every file
// has shown a record at least as late: every record counts, kept or
// not), or for the hold, whichever comes first. A packet held that long
// goes, with every packet older than it; a damaged file holds nothing
// back. A file that has shown nothing for a while still holds back, for
// the hold: at a low rate its buffer reaches the file seldom, and its
// packets are older than they look. An older packet that comes after the
// hold is late, and the consumer says so (the stream writes and counts
// it, the ring leaves it out past -c).
//
// The hold is the consumer's: streamHold is what a live reader waits,
// ringHold what files no one reads yet can afford (see both).
type holdMerge struct {
	hold    time.Duration
	files   []mergeFile
	pending []heldPacket // sorted by stamp, oldest first, when sorted
	sorted  bool
	bytes   int64 // packet data held
}

// mergeFile is how far one of the backend's files has come.
type mergeFile struct {
	lastTs uint64 // the stamp of its last record; 0 before the first
	done   bool   // it delivers nothing more (damaged)
}

// heldPacket is one packet kept, waiting for its turn: a copy, as the
// backend's files are freed under it.
type heldPacket struct {
	p    pcapfile.Packet
	idx  int    // the port's index (Temp.Index)
	dir  string // rx or tx
	link pcapfile.Interface
	read time.Time
}

func newHoldMerge(hold time.Duration, files int) *holdMerge {
	return &holdMerge{hold: hold, files: make([]mergeFile, files), sorted: true}
}

// saw records that file i has come as far as a record stamped ts.
func (m *holdMerge) saw(i int, ts uint64) {
	m.files[i].lastTs = ts
}

// stop records that file i delivers nothing more.
func (m *holdMerge) stop(i int) {
	m.files[i].done = true
}

// add holds h, which file i delivered (saw is implied).
func (m *holdMerge) add(i int, h heldPacket) {
	m.saw(i, h.p.Timestamp)
	if n := len(m.pending); n > 0 && m.pending[n-1].p.Timestamp > h.p.Timestamp {
		m.sorted = false
	}
	m.pending = append(m.pending, h)
	m.bytes += int64(len(h.p.Data))
}

func (m *holdMerge) sort() {
	if !m.sorted {
		// Stable: packets stamped alike keep the order they were read in.
		slices.SortStableFunc(m.pending, func(a, b heldPacket) int {
			switch {
			case a.p.Timestamp < b.p.Timestamp:
				return -1
			case a.p.Timestamp > b.p.Timestamp:
				return 1
			}
			return 0
		})
		m.sorted = true
	}
}

// release hands the packets whose turn has come to emit, oldest first:
// all of them when all (the files are read to their end). After an
// error of emit's it drops what it holds: the consumer has failed.
func (m *holdMerge) release(now time.Time, all bool, emit func(*heldPacket) error) error {
	m.sort()
	upTo := uint64(1<<64 - 1)
	if !all {
		// A file not read yet holds back too (its lastTs is 0): with -c
		// the counter may have stopped before reading it at all.
		for _, f := range m.files {
			if !f.done {
				upTo = min(upTo, f.lastTs)
			}
		}
		for i := range m.pending {
			if now.Sub(m.pending[i].read) >= m.hold {
				upTo = max(upTo, m.pending[i].p.Timestamp)
			}
		}
	}
	n := 0
	for n < len(m.pending) && m.pending[n].p.Timestamp <= upTo {
		if err := emit(&m.pending[n]); err != nil {
			m.drop(len(m.pending))
			return err
		}
		n++
	}
	m.drop(n)
	return nil
}

// releaseOldest hands the oldest packet to emit whatever the files say.
func (m *holdMerge) releaseOldest(emit func(*heldPacket) error) error {
	m.sort()
	if len(m.pending) == 0 {
		return nil
	}
	if err := emit(&m.pending[0]); err != nil {
		m.drop(len(m.pending))
		return err
	}
	m.drop(1)
	return nil
}

// drop forgets the n oldest packets.
func (m *holdMerge) drop(n int) {
	for i := range m.pending[:n] {
		m.bytes -= int64(len(m.pending[i].p.Data))
	}
	clear(m.pending[:n])
	m.pending = append(m.pending[:0], m.pending[n:]...)
}
