package capture

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/gzdoctor/gzdoctor/host"
)

// The primary counts what its pdump callbacks do in the memzone
// "rte_pdump_stats" (DPDK 21.11 to at least 24.11, lib/pdump/rte_pdump.c):
//
//	struct { struct rte_pdump_stats rx[RTE_MAX_ETHPORTS][RTE_MAX_QUEUES_PER_PORT];
//	         struct rte_pdump_stats tx[RTE_MAX_ETHPORTS][RTE_MAX_QUEUES_PER_PORT];
//	         const struct rte_memzone *mz; }
//
// with struct rte_pdump_stats { uint64_t accepted, filtered, nombuf,
// ringfull, reserved[4]; } (64 bytes). pdump itself never prints ringfull
// or nombuf: they are the packets the capture lost in the primary. A
// secondary reads them with rte_pdump_stats(); gzdoctor is no DPDK
// process, so it finds the memzone's address in the primary's
// fbarray_memzone (struct rte_memzone: name[32], iova, addr, len, ...) and
// reads those bytes from /proc/<pid>/mem, read-only and only the rows of
// the captured port.
const (
	pdumpStatsMemzone = "rte_pdump_stats"
	memzoneElt        = 72 // sizeof(struct rte_memzone), packed, 18.05+
	pdumpStatsRow     = 64 // sizeof(struct rte_pdump_stats)
	// maxQueuesPerPort is RTE_MAX_QUEUES_PER_PORT, a constant of
	// config/rte_config.h in every release with the memzone. The number
	// of ports (RTE_MAX_ETHPORTS, a build option) follows from the
	// memzone's length.
	maxQueuesPerPort = 1024
)

// PdumpCounters are one direction's rte_pdump_stats, summed over the
// captured queues.
type PdumpCounters struct {
	Accepted uint64 `json:"accepted"` // copied into pdump's ring
	Filtered uint64 `json:"filtered"` // rejected by a filter in the primary (dumpcap's BPF)
	NoMbuf   uint64 `json:"nombuf"`   // lost: no mbuf in the capture's mempool
	RingFull uint64 `json:"ringfull"` // lost: the capture's ring was full
}

// Lost is what the capture lost in the primary.
func (c PdumpCounters) Lost() uint64 { return c.NoMbuf + c.RingFull }

// Copied is what the primary put into the capture's ring.
func (c PdumpCounters) Copied() uint64 { return c.Accepted - min(c.RingFull, c.Accepted) }

// PrimaryStats are the primary's pdump counters of the captured port over
// the capture (see primaryAfter).
type PrimaryStats struct {
	Rx PdumpCounters `json:"rx"`
	Tx PdumpCounters `json:"tx"`
}

// Lost is what the capture lost in the primary, both directions.
func (s PrimaryStats) Lost() uint64 { return s.Rx.Lost() + s.Tx.Lost() }

// errNoPdumpStats: the primary has no such memzone (DPDK before 21.11,
// or rte_pdump_init never called).
var errNoPdumpStats = errors.New("the primary has no rte_pdump_stats memzone (DPDK before 21.11, or no rte_pdump_init)")

// pdumpStatsReader reads one port's rows of a live primary's memzone.
type pdumpStatsReader struct {
	mem   string // /proc/<pid>/mem
	addr  uint64 // the memzone's address in the primary
	ports int    // RTE_MAX_ETHPORTS of the primary's build
	port  int
	queue int // -1: all
}

// openPdumpStats finds the rte_pdump_stats memzone of the primary pid
// whose runtime dir is dir, and checks its layout: the name in exactly one
// used rte_memzone, a length that is two tables of 1024 queues per port
// plus the tail pointer, and that pointer equal to the rte_memzone's own
// address in the primary (where the primary maps fbarray_memzone). Any
// mismatch is an error: no counter is read from a guessed place.
func openPdumpStats(h *host.Host, dir string, pid, port, queue int) (*pdumpStatsReader, error) {
	if pid <= 0 {
		return nil, errors.New("the primary's pid is not visible (it holds no lock we can see, or runs in another pid namespace)")
	}
	if port < 0 {
		return nil, errors.New("the device's port number is unknown (no telemetry)")
	}
	fbPath := path.Join(dir, "fbarray_memzone")
	b, err := h.ReadFile(fbPath)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", fbPath, err)
	}
	names, err := host.ParseFbarrayMemzone(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", fbPath, err)
	}
	if !slices.Contains(names, pdumpStatsMemzone) {
		return nil, errNoPdumpStats
	}
	idx := -1
	for i := 0; (i+1)*memzoneElt <= len(b); i++ {
		name := b[i*memzoneElt : i*memzoneElt+32]
		if string(name[:len(pdumpStatsMemzone)]) == pdumpStatsMemzone && name[len(pdumpStatsMemzone)] == 0 {
			if idx >= 0 {
				return nil, fmt.Errorf("%s: two rte_memzones named %s", fbPath, pdumpStatsMemzone)
			}
			idx = i
		}
	}
	if idx < 0 {
		return nil, fmt.Errorf("%s: %s listed but not found on a %d-byte boundary", fbPath, pdumpStatsMemzone, memzoneElt)
	}
	e := b[idx*memzoneElt:]
	addr, length := binary.LittleEndian.Uint64(e[40:]), binary.LittleEndian.Uint64(e[48:])
	table := uint64(maxQueuesPerPort * pdumpStatsRow)
	// sizeof = 2 tables + an 8-byte pointer, rounded up to a cache line.
	if addr == 0 || addr%64 != 0 || length < 64 || (length-64)%(2*table) != 0 {
		return nil, fmt.Errorf("%s: memzone at %#x of %d bytes is not the rte_pdump_stats layout DPDK 21.11-24.11 use", pdumpStatsMemzone, addr, length)
	}
	r := &pdumpStatsReader{mem: h.Path(fmt.Sprintf("/proc/%d/mem", pid)), addr: addr, ports: int((length - 64) / (2 * table)), port: port, queue: queue}
	if port >= r.ports {
		return nil, fmt.Errorf("port %d is past the primary's %d ports (RTE_MAX_ETHPORTS)", port, r.ports)
	}
	if queue >= maxQueuesPerPort {
		return nil, fmt.Errorf("queue %d is past RTE_MAX_QUEUES_PER_PORT", queue)
	}
	base, err := mappedAt(h, pid, fbPath)
	if err != nil {
		return nil, err
	}
	tail, err := r.readAt(addr+2*uint64(r.ports)*table, 8)
	if err != nil {
		return nil, err
	}
	if got, want := binary.LittleEndian.Uint64(tail), base+uint64(idx*memzoneElt); got != want {
		return nil, fmt.Errorf("%s: its back pointer is %#x, not the rte_memzone's address %#x: not the layout gzdoctor knows", pdumpStatsMemzone, got, want)
	}
	return r, nil
}

// mappedAt is the address where pid maps file at offset 0. The file is
// matched by inode and name, not by path: the primary may have opened it
// by another path (/var/run is a link to /run on most systems).
func mappedAt(h *host.Host, pid int, file string) (uint64, error) {
	fi, err := os.Stat(h.Path(file))
	if err != nil {
		return 0, err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, fmt.Errorf("%s: no inode", file)
	}
	ino := strconv.FormatUint(st.Ino, 10)
	p := fmt.Sprintf("/proc/%d/maps", pid)
	b, err := h.ReadFile(p)
	if err != nil {
		return 0, fmt.Errorf("reading %s: %w", p, err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		// start-end perms offset dev inode path
		f := strings.Fields(sc.Text())
		if len(f) < 6 || f[4] != ino || path.Base(f[5]) != path.Base(file) || strings.Trim(f[2], "0") != "" {
			continue
		}
		start, _, _ := strings.Cut(f[0], "-")
		v, err := strconv.ParseUint(start, 16, 64)
		if err != nil {
			return 0, fmt.Errorf("%s: %q: %w", p, sc.Text(), err)
		}
		return v, nil
	}
	return 0, fmt.Errorf("%s: the primary does not map %s", p, file)
}

func (r *pdumpStatsReader) readAt(addr uint64, n int) ([]byte, error) {
	f, err := os.Open(r.mem)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := make([]byte, n)
	if _, err := f.ReadAt(b, int64(addr)); err != nil {
		return nil, fmt.Errorf("reading %d bytes at %#x of %s: %w", n, addr, r.mem, err)
	}
	return b, nil
}

// read sums the port's rows (or its one queue's) per direction. A row
// whose reserved words are not zero means the layout is not the one
// assumed.
func (r *pdumpStatsReader) read() (PrimaryStats, error) {
	var out PrimaryStats
	table := uint64(maxQueuesPerPort * pdumpStatsRow)
	for d, sum := range []*PdumpCounters{&out.Rx, &out.Tx} {
		first, n := 0, maxQueuesPerPort
		if r.queue >= 0 {
			first, n = r.queue, 1
		}
		at := r.addr + uint64(d)*uint64(r.ports)*table + uint64(r.port)*table + uint64(first*pdumpStatsRow)
		b, err := r.readAt(at, n*pdumpStatsRow)
		if err != nil {
			return PrimaryStats{}, err
		}
		for q := 0; q < n; q++ {
			row := b[q*pdumpStatsRow:]
			u := func(i int) uint64 { return binary.LittleEndian.Uint64(row[8*i:]) }
			if u(4)|u(5)|u(6)|u(7) != 0 {
				return PrimaryStats{}, fmt.Errorf("%s: queue %d's reserved words are not zero: not the layout gzdoctor knows", pdumpStatsMemzone, first+q)
			}
			sum.Accepted += u(0)
			sum.Filtered += u(1)
			sum.NoMbuf += u(2)
			sum.RingFull += u(3)
		}
	}
	return out, nil
}

// primaryBefore checks, before the backend starts, that the counters can
// be read.
func (s *supervisor) primaryBefore() {
	q := -1
	if s.p.Queue != "*" {
		q, _ = strconv.Atoi(s.p.Queue)
	}
	if s.p.runtimeDir == "" {
		s.res.PrimaryUnavailable = "the primary's runtime dir is unknown"
		return
	}
	var readers []*pdumpStatsReader
	for _, pp := range planPorts(s.p) {
		r, err := openPdumpStats(host.New(orRoot(s.o.Root)), s.p.runtimeDir, s.p.primaryPID, pp.Port, q)
		if err == nil {
			_, err = r.read()
		}
		if err != nil {
			if len(planPorts(s.p)) > 1 {
				err = fmt.Errorf("%s: %w", pp.label(), err)
			}
			s.res.PrimaryUnavailable = err.Error()
			return
		}
		readers = append(readers, r)
	}
	s.pstats = readers
}

// primaryAfter reads the counters once the backend has ended (its
// callbacks are removed, the counters stand still). The primary zeroes a
// queue's rows when a capture enables it (rte_pdump.c, set by
// pdump_register_rx/tx_callbacks; seen on the lab, 22.11: the second of two
// captures read "before" 1,148 and "after" 311), so the reading after is
// this capture's alone, provided the capture was enabled: before that the
// rows still hold the previous capture's counts. The reading before only
// proves the rows are the ones the layout checks found.
func (s *supervisor) primaryAfter() {
	if s.pstats == nil {
		return
	}
	if s.res.Killed && s.p.Backend == BackendPdump {
		// A killed pdump leaves its callbacks in the primary, which go on
		// counting (ring full) after the capture.
		s.res.PrimaryUnavailable = "pdump was killed: the primary goes on counting for its callbacks, so no reading covers just the capture"
		return
	}
	if !s.ready {
		s.res.PrimaryUnavailable = "the capture was never enabled in the primary, so its counters still hold an earlier capture's"
		return
	}
	var sum PrimaryStats
	var each []PrimaryStats
	for _, r := range s.pstats {
		after, err := r.read()
		if err != nil {
			s.res.PrimaryUnavailable = "second reading: " + err.Error()
			return
		}
		// pdump enables only the directions it has a file for; the other's
		// rows were neither reset nor counted.
		if s.p.Backend == BackendPdump {
			if !s.p.wants(true) {
				after.Rx = PdumpCounters{}
			}
			if !s.p.wants(false) {
				after.Tx = PdumpCounters{}
			}
		}
		sum.Rx.add(after.Rx)
		sum.Tx.add(after.Tx)
		each = append(each, after)
	}
	s.res.Primary = &sum
	s.primaryPorts = each
}

func (c *PdumpCounters) add(o PdumpCounters) {
	c.Accepted += o.Accepted
	c.Filtered += o.Filtered
	c.NoMbuf += o.NoMbuf
	c.RingFull += o.RingFull
}
