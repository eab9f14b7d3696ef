package capture

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/gzdoctor/gzdoctor/capture/pcapfile"
)

// A ring buffer cannot come from the backends: dpdk-dumpcap 22.11 answers
// -b with "multiple files not implemented" and pdump writes one file per
// direction until it stops. Restarting the backend per file would lose
// the packets between two runs, so one backend runs for the whole capture
// and gzdoctor cuts its stream into files as it reads it (counter.go):
// every packet read goes into exactly one file, and the files together
// hold what one file would have.

// maxRingFiles: dumpcap numbers files %05u modulo 100000
// (RINGBUFFER_MAX_NUM_FILES); keeping more would reuse a kept file's number.
const maxRingFiles = 99999

// RingPlan is the ring buffer as planned (-b, -a files:N).
type RingPlan struct {
	FileSize  int64   `json:"file_size,omitempty"` // bytes
	Duration  float64 `json:"duration_s,omitempty"`
	Packets   int64   `json:"packets,omitempty"`
	Files     int     `json:"files,omitempty"`      // kept at most; 0: all
	StopFiles int     `json:"stop_files,omitempty"` // -a files:N
	// Names shows how files are named: dumpcap's <name>_NNNNN_YYYYmmddHHMMSS<ext>.
	Names string `json:"names"`
}

// RingResult is what the ring buffer did.
type RingResult struct {
	Written int `json:"files_written"`
	// Removed are the files the ring deleted beyond -b files:N.
	Removed int `json:"files_removed"`
	// Gone are the files the ring let go but found gone: -z had moved
	// or renamed them (gzip), so what -z made of them stays on disk and
	// files:N does not bound it. GonePaths are the first 20.
	Gone      int      `json:"files_gone_before_removal,omitempty"`
	GonePaths []string `json:"files_gone_paths,omitempty"`
	// RemovedPackets are the packets of the files the ring let go
	// (removed or gone): with the kept files' packets, every packet
	// captured.
	RemovedPackets int64 `json:"packets_removed"`
	// RemoveErrors are removals that failed (the file stays).
	RemoveErrors []string `json:"remove_errors,omitempty"`
	// NamesTaken are ring names that existed when their file was to
	// open: never replaced without --force, the file took the next
	// number instead.
	NamesTaken []string `json:"names_taken,omitempty"`
}

// maxNameTries bounds the search for a free name: past it, the directory
// is someone else's ring and the capture stops (its packets kept).
const maxNameTries = 100

func newRingPlan(o *Options, base string) *RingPlan {
	if !o.Ring.On() {
		return nil
	}
	dir, prefix, suffix := ringParts(base)
	return &RingPlan{FileSize: o.Ring.FileSize, Duration: o.Ring.Duration.Seconds(), Packets: o.Ring.Packets,
		Files: o.Ring.Files, StopFiles: o.StopFiles,
		Names: filepath.Join(dir, prefix+"_NNNNN_YYYYmmddHHMMSS"+suffix)}
}

// ringParts splits -w's name as dumpcap does: the extension stays at the
// end of every file's name.
func ringParts(path string) (dir, prefix, suffix string) {
	dir, base := filepath.Split(path)
	suffix = filepath.Ext(base)
	if suffix == base {
		suffix = "" // ".pcapng" alone is a name, not an extension
	}
	return filepath.Clean(dir), strings.TrimSuffix(base, suffix), suffix
}

// ringWriter writes the packets it is given into the ring's files.
type ringWriter struct {
	p   *Plan
	o   *Options
	out Output
	rp  *RingPlan

	dir, prefix, suffix string
	num                 int
	cur                 *ringFile
	kept                []OutputFile // closed files still there, oldest first
	res                 RingResult
	post                *postRunner
	// full: -a files:N files were written; later packets are not.
	full bool
	// err is the first write error: later writes fail with it.
	err         error
	first, last uint64
	maxTs       uint64 // the newest packet written
	total       Counts // every packet written, removed files' included
	ports       []Counts
}

type ringFile struct {
	af     *pcapfile.AtomicFile
	w      pcapfile.Writer
	ifc    map[ifKey]int
	res    OutputFile
	opened time.Time
	size   int64 // the whole file when closed: headers, records, statistics
	first  uint64
	last   uint64
	perIf  []int64 // packets per interface of the file (ifc's values)
}

func newRingWriter(p *Plan, o *Options, post *postRunner) *ringWriter {
	dir, prefix, suffix := ringParts(p.Outputs[0].Path)
	return &ringWriter{p: p, o: o, out: p.Outputs[0], rp: p.Ring,
		dir: dir, prefix: prefix, suffix: suffix, post: post, ports: make([]Counts, len(planPorts(p)))}
}

func (r *ringWriter) name(num int, t time.Time) string {
	return filepath.Join(r.dir, fmt.Sprintf("%s_%05d_%s%s", r.prefix, num%100000, t.Format("20060102150405"), r.suffix))
}

// due reports whether the current file must be closed before a record
// of rec bytes stamped ts goes in. A file holds at least one packet: a
// packet larger than filesize gets a file of its own. Duration counts by
// the packets' stamps (a file never spans more than it), and by the clock
// (tick) when no packet comes; dpdk-dumpcap's stamps can be centuries
// off, but their spacing is right.
func (r *ringWriter) due(now time.Time, rec int64, ts uint64) bool {
	c := r.cur
	if c == nil || c.res.Packets == 0 {
		return false
	}
	d := time.Duration(r.rp.Duration * float64(time.Second))
	return r.rp.FileSize > 0 && c.size+rec > r.rp.FileSize ||
		r.rp.Packets > 0 && c.res.Packets >= r.rp.Packets ||
		d > 0 && (ts-c.first >= uint64(d) && ts >= c.first || now.Sub(c.opened) >= d)
}

// write adds one packet (already cut to n bytes by the selector) of port
// index idx and direction dir; link describes the backend's interface it
// came from.
func (r *ringWriter) write(idx int, dir string, pk *pcapfile.Packet, n int, link pcapfile.Interface, now time.Time) error {
	if r.err != nil {
		return r.err
	}
	if r.full {
		return nil
	}
	rec := pcapfile.RecordSize(r.out.Format, n)
	if r.due(now, rec, pk.Timestamp) {
		if err := r.closeCur(); err != nil {
			return err
		}
		if r.full {
			return nil
		}
	}
	if r.cur == nil {
		if err := r.open(link, now); err != nil {
			return r.fail(err)
		}
	}
	c := r.cur
	pk.Data = pk.Data[:n]
	ifIndex, hasIf := markPacket(pk, c.ifc, idx, dir)
	if err := c.w.WritePacket(pk); err != nil {
		return r.fail(fmt.Errorf("writing %s: %w", c.res.Path, err))
	}
	c.size += rec
	c.res.Packets++
	c.res.Bytes += int64(n)
	if hasIf {
		c.perIf[ifIndex]++
	}
	r.total.add(dir, n)
	if idx >= 0 && idx < len(r.ports) {
		r.ports[idx].add(dir, n)
	}
	if c.first == 0 {
		c.first = pk.Timestamp
	}
	c.last = pk.Timestamp
	if r.first == 0 {
		r.first = pk.Timestamp
	}
	r.last = pk.Timestamp
	r.maxTs = max(r.maxTs, pk.Timestamp)
	return nil
}

// tick closes the current file once its time is up, without waiting for
// the next packet: its -z runs and it can be read while the capture goes
// on.
func (r *ringWriter) tick(now time.Time) error {
	if r.err != nil || r.cur == nil || r.rp.Duration <= 0 {
		return r.err
	}
	if now.Sub(r.cur.opened) >= time.Duration(r.rp.Duration*float64(time.Second)) {
		return r.closeCur()
	}
	return nil
}

func (r *ringWriter) fail(err error) error {
	if r.cur != nil {
		r.cur.af.Abort()
		r.cur = nil
	}
	r.err = err
	return err
}

// open starts the next file. Files open with their first packet: a quiet
// hour makes no empty files, which with -b files:N would push out the
// files that hold traffic (dumpcap opens them on its timer, empty or not).
func (r *ringWriter) open(link pcapfile.Interface, now time.Time) error {
	// dumpcap's files:N counts the file being written: make room first.
	for r.rp.Files > 0 && len(r.kept) >= r.rp.Files {
		old := r.kept[0]
		r.kept = r.kept[1:]
		r.res.RemovedPackets += old.Packets
		r.post.remove(old.Path)
	}
	r.num++
	path := r.name(r.num, now)
	af, err := pcapfile.CreateAtomic(path, 0o600, r.o.Force)
	for tries := 1; errors.Is(err, pcapfile.ErrExists) && tries < maxNameTries; tries++ {
		// dumpcap would replace it; gzdoctor replaces nothing without
		// --force, and stopping would lose the capture: next number.
		r.res.NamesTaken = append(r.res.NamesTaken, path)
		r.num++
		path = r.name(r.num, now)
		af, err = pcapfile.CreateAtomic(path, 0o600, r.o.Force)
	}
	if err != nil {
		return err
	}
	w, ifc, err := newOutputWriter(af, r.out, r.p, r.o, link)
	if err != nil {
		af.Abort()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	oh, err := overhead(r.p, r.o, link)
	if err != nil {
		af.Abort()
		return err
	}
	r.cur = &ringFile{af: af, w: w, ifc: ifc, opened: now, size: oh, perIf: make([]int64, len(ifc)),
		res: OutputFile{Path: path, Format: r.out.Format}}
	return nil
}

// closeCur finishes the current file and renames it into place, then
// hands it to -z.
func (r *ringWriter) closeCur() error {
	c := r.cur
	if c == nil {
		return r.err
	}
	r.cur = nil
	setInterfaceStats(c.w, c.ifc, c.first, c.last, func(k ifKey) int64 { return c.perIf[c.ifc[k]] })
	if err := c.w.Close(); err != nil {
		c.af.Abort()
		r.err = fmt.Errorf("writing %s: %w", c.res.Path, err)
		return r.err
	}
	if fi, err := c.af.Stat(); err == nil {
		c.res.Size = fi.Size()
	}
	if err := c.af.Commit(); err != nil {
		r.err = err
		return err
	}
	r.kept = append(r.kept, c.res)
	r.res.Written++
	r.post.run(c.res.Path)
	if r.rp.StopFiles > 0 && r.res.Written >= r.rp.StopFiles {
		r.full = true
	}
	return nil
}

// finish closes the last file: committed when keep, else (a failed
// capture that caught nothing) removed.
func (r *ringWriter) finish(keep bool) error {
	if r.cur == nil {
		return r.err
	}
	if !keep {
		r.cur.af.Abort()
		r.cur = nil
		return nil
	}
	return r.closeCur()
}

// abort drops the file being written (gzdoctor could not finish).
func (r *ringWriter) abort() {
	if r.cur != nil {
		r.cur.af.Abort()
		r.cur = nil
	}
}
