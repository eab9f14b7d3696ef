package capture

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/gzdoctor/gzdoctor/capture/pcapfile"
	"golang.org/x/sys/unix"
)

// -w - streams the capture to stdout while the backend runs. The backend
// still writes its own files (one per direction for pdump); the counter
// reads them as they grow and hands every packet it keeps to the
// streamer, which merges the directions in time order and writes them
// out. Merging live cannot wait for the end as finalize does (holdMerge):
// a packet is held only until every other file has shown a later one, or
// for streamHold, whichever comes first, so a silent direction delays the
// other by at most streamHold (plus a poll), and what is held is bounded
// by the rate times streamHold and by streamMaxPending.
const (
	// streamHold is short: a reader (wireshark -k) shows the packets as
	// they come, and the hold is its latency. The ring's is longer
	// (ringHold).
	streamHold = 250 * time.Millisecond
	// streamMaxPending bounds the packets held for ordering, in bytes:
	// beyond it the oldest are written whatever the other files say.
	streamMaxPending = 16 << 20
	// streamMaxQueued bounds what waits for a slow reader, in bytes:
	// beyond it gzdoctor stops reading the backend's files (which keep
	// growing on disk, watched like any capture's) until the reader
	// catches up. The supervisor never blocks on stdout, so Ctrl+C and
	// the stop conditions keep working while a reader is paused.
	streamMaxQueued = 32 << 20
)

// StreamStats is what a capture to stdout (-w -) wrote.
type StreamStats struct {
	// Packets and Bytes (file bytes: headers and records) reached stdout:
	// the writes the pipe accepted (what its reader then read is its
	// own business).
	Packets int64 `json:"packets"`
	Bytes   int64 `json:"bytes"`
	// Closed: the reader closed stdout (EPIPE), which stopped the
	// capture; the packets after that were captured but not written.
	Closed bool `json:"stdout_closed,omitempty"`
	// OutOfOrder counts packets written after a later one: a file that
	// was silent for longer than the hold (250 ms) and then delivered
	// older packets.
	OutOfOrder int64 `json:"out_of_order,omitempty"`
	// LatePastCount counts packets older than the last one written that
	// came after -c was reached: the Count written are then not the first
	// Count in time order (a file written to the end would be).
	LatePastCount int64 `json:"late_past_count,omitempty"`
	// MaxLatencyMs is the longest a packet waited between gzdoctor
	// reading it from the backend's file and handing it to stdout.
	MaxLatencyMs float64 `json:"max_latency_ms"`
}

// streamer merges the packets of the backend's files and writes them to
// the output as they arrive.
type streamer struct {
	p   *Plan
	w   pcapfile.Writer
	ifc map[ifKey]int
	// ports counts what was emitted per port of Plan.Ports.
	ports []Counts
	buf   bytes.Buffer // encoded records not yet handed to the pipe

	merge *holdMerge // the packets held for time order

	lastEmitted uint64
	counts      Counts      // emitted, per direction
	unsent      streamChunk // records encoded since the last flush
	first, last uint64
	stats       StreamStats
	written     Counts // what the pipe accepted, once finished

	pipe *streamPipe
}

func newStreamer(p *Plan, o *Options, files int) (*streamer, error) {
	if o.Stdout == nil {
		return nil, errors.New("-w -: no standard output to write to")
	}
	s := &streamer{p: p, merge: newHoldMerge(streamHold, files)}
	s.pipe = newStreamPipe(o.Stdout)
	// The header goes out at once, so a reader (wireshark -k -i -) shows
	// the interfaces before the first packet. DPDK's pcap PMD and
	// dpdk-dumpcap both write Ethernet; another link type stops the
	// stream when it shows up (see add).
	w, ifc, err := newOutputWriter(&s.buf, p.Outputs[0], p, o, pcapLink)
	if err != nil {
		return nil, err
	}
	s.w, s.ifc, s.ports = w, ifc, make([]Counts, len(planPorts(p)))
	if err := s.flush(); err != nil {
		return nil, err
	}
	return s, nil
}

// add takes a packet the counter kept from backend file i.
func (s *streamer) add(i int, link pcapfile.Interface, dir string, pk *pcapfile.Packet, now time.Time) error {
	if link.LinkType != pcapLink.LinkType {
		return fmt.Errorf("the backend wrote link type %d; a stream to stdout is written as Ethernet (1)", link.LinkType)
	}
	c := *pk
	c.Data = bytes.Clone(pk.Data)
	idx := 0
	if i < len(s.p.Temps) {
		idx = s.p.Temps[i].Index
	}
	s.merge.add(i, heldPacket{p: c, dir: dir, idx: idx, link: link, read: now})
	return nil
}

// full reports whether the counter should stop reading for now: enough
// is held for ordering, or waits for the reader.
func (s *streamer) full() bool {
	return s.merge.bytes >= streamMaxPending || s.pipe.queued() >= streamMaxQueued
}

// release writes the held packets whose turn has come: all of them when
// final (the backend has ended and its files are read to the end).
func (s *streamer) release(now time.Time, final bool) error {
	n := 0
	emit := func(h *heldPacket) error {
		n++
		return s.emit(h, now)
	}
	err := s.merge.release(now, final, emit)
	// Beyond streamMaxPending the oldest go whatever the files say.
	for err == nil && s.merge.bytes >= streamMaxPending {
		err = s.merge.releaseOldest(emit)
	}
	if err != nil {
		return err
	}
	if n > 0 {
		return s.flush()
	}
	return nil
}

func (s *streamer) emit(h *heldPacket, now time.Time) error {
	if s.p.Count > 0 && s.counts.Packets() >= s.p.Count {
		// -c: exactly Count packets. They are the first in time order
		// unless a direction's file came later than the hold (pdump
		// writes each file a buffer at a time): an older packet past the
		// count is one the stream should have had instead, so say so.
		if h.p.Timestamp < s.lastEmitted {
			s.stats.LatePastCount++
		}
		return nil
	}
	pk := &h.p
	markPacket(pk, s.ifc, h.idx, h.dir)
	if err := s.w.WritePacket(pk); err != nil {
		return err
	}
	if pk.Timestamp < s.lastEmitted {
		s.stats.OutOfOrder++
	}
	s.lastEmitted = max(s.lastEmitted, pk.Timestamp)
	if ms := float64(now.Sub(h.read)) / 1e6; ms > s.stats.MaxLatencyMs {
		s.stats.MaxLatencyMs = ms
	}
	s.counts.add(h.dir, len(pk.Data))
	s.ports[h.idx].add(h.dir, len(pk.Data))
	// The record's end, for counting what a cut-short write delivered.
	if err := s.w.Flush(); err != nil {
		return err
	}
	s.unsent.ends = append(s.unsent.ends, s.buf.Len())
	s.unsent.dirs = append(s.unsent.dirs, h.dir)
	s.unsent.lens = append(s.unsent.lens, len(pk.Data))
	if s.first == 0 {
		s.first = pk.Timestamp
	}
	s.first, s.last = min(s.first, pk.Timestamp), max(s.last, pk.Timestamp)
	return nil
}

// flush hands what was encoded to the pipe, as one write.
func (s *streamer) flush() error {
	if err := s.w.Flush(); err != nil {
		return err
	}
	if s.buf.Len() > 0 {
		c := s.unsent
		c.b = bytes.Clone(s.buf.Bytes())
		s.pipe.send(c)
		s.buf.Reset()
		s.unsent = streamChunk{}
	}
	return nil
}

// finish writes what is held, the interface statistics, and waits until
// the pipe has written everything (or its reader has gone).
func (s *streamer) finish(now time.Time) error {
	err := s.release(now, true)
	if err == nil {
		setInterfaceStats(s.w, s.ifc, s.first, s.last, func(k ifKey) int64 { return s.ports[k.index].packets(k.dir) })
	}
	if err == nil {
		err = s.w.Close()
	}
	if err == nil {
		err = s.flush()
	}
	perr := s.pipe.close()
	var written Counts
	written, s.stats.Bytes = s.pipe.result()
	s.stats.Packets = written.Packets()
	s.written = written
	if errors.Is(perr, syscall.EPIPE) {
		s.stats.Closed = true
		perr = nil
	}
	return errors.Join(err, perr)
}

// streamPipe writes to stdout on its own goroutine: a reader that is slow
// or paused must not stall the supervisor.
type streamPipe struct {
	out io.Writer

	mu      sync.Mutex
	cond    *sync.Cond
	chunks  []streamChunk
	nqueued int64
	closed  bool
	err     error
	written Counts // packets whose records the pipe accepted
	bytes   int64

	gone chan struct{} // closed when a write failed
	done chan struct{}
}

// streamChunk is one write: its records' end offsets and directions, so
// a write the reader cut short still counts the records it carried whole.
type streamChunk struct {
	b    []byte
	ends []int // offset in b after each record
	dirs []string
	lens []int // captured bytes of each record
}

func newStreamPipe(out io.Writer) *streamPipe {
	sp := &streamPipe{out: out, gone: make(chan struct{}), done: make(chan struct{})}
	sp.cond = sync.NewCond(&sp.mu)
	go sp.run()
	return sp
}

func (sp *streamPipe) run() {
	defer close(sp.done)
	for {
		sp.mu.Lock()
		for len(sp.chunks) == 0 && !sp.closed {
			sp.cond.Wait()
		}
		if len(sp.chunks) == 0 {
			sp.mu.Unlock()
			return
		}
		c := sp.chunks[0]
		sp.chunks = sp.chunks[1:]
		failed := sp.err != nil
		sp.mu.Unlock()
		if failed {
			sp.mu.Lock()
			sp.nqueued -= int64(len(c.b))
			sp.mu.Unlock()
			continue // the reader is gone: what is left is dropped
		}
		n, err := sp.out.Write(c.b)
		sp.mu.Lock()
		sp.nqueued -= int64(len(c.b))
		sp.bytes += int64(n)
		for i, end := range c.ends {
			if end > n {
				break
			}
			sp.written.add(c.dirs[i], c.lens[i])
		}
		if err != nil && sp.err == nil {
			sp.err = err
			close(sp.gone)
		}
		sp.mu.Unlock()
	}
}

func (sp *streamPipe) send(c streamChunk) {
	b := c.b
	sp.mu.Lock()
	if sp.err != nil {
		// Failed or given up on: nothing more is queued (the writer may
		// be stuck in a write that never returns).
		sp.mu.Unlock()
		return
	}
	sp.chunks = append(sp.chunks, c)
	sp.nqueued += int64(len(b))
	sp.mu.Unlock()
	sp.cond.Signal()
}

func (sp *streamPipe) queued() int64 {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	return sp.nqueued
}

// close waits until everything sent is written or dropped and returns
// the first write error. Abandoned, it returns at once: the goroutine may
// be stuck in a write to a reader that never reads again, and the
// process is about to end.
func (sp *streamPipe) close() error {
	sp.mu.Lock()
	sp.closed = true
	sp.mu.Unlock()
	sp.cond.Signal()
	for {
		select {
		case <-sp.done:
			return sp.err
		case <-sp.gone:
			sp.mu.Lock()
			err := sp.err
			sp.mu.Unlock()
			if errors.Is(err, errAbandoned) {
				return err
			}
			<-sp.done
			return err
		}
	}
}

func (sp *streamPipe) result() (Counts, int64) {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	return sp.written, sp.bytes
}

// failed reports whether a write failed or the pipe was given up on:
// what is queued is being dropped.
func (sp *streamPipe) failed() bool {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	return sp.err != nil
}

// errAbandoned is why a pipe dropped what it held: the operator
// interrupted a capture whose reader had stopped reading.
var errAbandoned = errors.New("interrupted while the reader of stdout was not reading")

// abandon drops what is queued and what is sent later.
func (sp *streamPipe) abandon() {
	sp.mu.Lock()
	if sp.err == nil {
		sp.err = errAbandoned
		close(sp.gone)
	}
	sp.mu.Unlock()
	sp.cond.Signal()
}

// readerGone reports, without writing, whether stdout is a pipe or socket
// whose reader has gone: tshark -c N exits between two packets, and a
// capture on a quiet port must still notice at once.
func readerGone(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fds := []unix.PollFd{{Fd: int32(f.Fd()), Events: 0}}
	n, err := unix.Poll(fds, 0)
	return err == nil && n > 0 && fds[0].Revents&(unix.POLLERR|unix.POLLHUP) != 0
}

// readerWait is how long the drain waits for a slow reader before it says
// so.
const readerWait = 2 * time.Second

// drainStream reads the backend's files to their end once it has exited,
// writes what they hold, and finishes the stream. A reader that stopped
// reading holds this up; Ctrl+C then gives up on it (errAbandoned).
func (s *supervisor) drainStream(cnt *counter) {
	st := s.stream
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		wait := time.NewTimer(readerWait)
		defer wait.Stop()
		for {
			select {
			case <-s.o.Interrupts:
				st.pipe.abandon()
				return
			case <-wait.C:
				// Ctrl+C and the line-clearing escape are for a terminal;
				// a log or a script's pipe gets the signal's name, plainly.
				how := "a second SIGINT or SIGTERM gives up on it"
				if s.o.ProgressTTY {
					how = "Ctrl+C again gives up on it"
				}
				n := fmt.Sprintf("waiting for the reader of stdout to take the last %s; %s", byteSize(st.pipe.queued()), how)
				s.ev.emit(Event{Type: "note", Text: n})
				switch {
				case s.o.Progress != nil && s.o.ProgressTTY:
					fmt.Fprintf(s.o.Progress, "\r\033[K%s\n", n)
				case s.o.Progress != nil:
					fmt.Fprintln(s.o.Progress, n)
				}
			case <-stop:
				return
			}
		}
	}()
	err := cnt.pollToEnd(func() bool {
		if s.streamErr != nil {
			return false
		}
		// A reader that does not keep up: wait for it, unless it was
		// given up on (its writer may be stuck for good).
		for st.pipe.queued() >= streamMaxQueued && !st.pipe.failed() {
			time.Sleep(10 * time.Millisecond)
		}
		return true
	}, func() {
		if err := st.release(time.Now(), false); err != nil {
			s.streamErr = err
		}
	})
	if err != nil {
		s.note("reading the backend's file failed: " + err.Error())
	}
	if err := st.finish(time.Now()); err != nil && s.streamErr == nil {
		s.streamErr = err
	}
	s.endScan(cnt, "streamed")
}

// finishStream is finish's end for -w -: the packets are already out;
// the backend's files are validated and removed.
func (s *supervisor) finishStream() {
	res, p, st := s.res, s.p, s.stream
	res.Stream = &st.stats
	if st.stats.Closed && res.Stopped == "" {
		res.Stopped = StopReaderGone
	}
	if err := s.streamErr; err != nil && s.cnt != nil && s.cnt.punched {
		// What was streamed is gone from the tool's files: nothing to
		// recover them from.
		res.WriteError = fmt.Sprintf("writing stdout: %v; the packets not yet written were lost with it (the tool's files are freed as they are streamed)", err)
		removeTemps(p)
		return
	}
	if err := s.streamErr; err != nil {
		// stdout failed (not a reader that left): the backend's files
		// hold every packet; say how to write them into a file.
		keepTemps(res, p, fmt.Errorf("writing stdout: %w", err))
		q := *p
		q.Outputs = []Output{{Path: "gzdoctor-stream." + p.Outputs[0].Format.String(), Format: p.Outputs[0].Format, Rx: true, Tx: true}}
		res.Recover = recoverCommand(&q)
		return
	}
	res.Repaired = append(res.Repaired, s.scanRepaired...)
	judge(p, s.o, res, s.started, s.ended, s.scan, s.scanErr)
	s.clockWords()
	removeTemps(p)
	res.Counts = st.written
	if st.counts.Packets() == 0 && failedCapture(res.Stopped) {
		return
	}
	res.Files = []OutputFile{{Path: "-", Format: p.Outputs[0].Format, Packets: st.stats.Packets, Bytes: st.written.Bytes(), Size: st.stats.Bytes}}
	if st.written == st.counts {
		// Every packet encoded reached the pipe: the per-port counts of
		// what was encoded are what stdout got, as a file's are. (A
		// reader that left mid-way took an unknown share of each port.)
		res.Ports = s.portResults(st.ports)
	}
	res.setSpan(st.first, st.last)
}
