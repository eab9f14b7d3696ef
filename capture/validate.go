package capture

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/gzdoctor/gzdoctor/capture/pcapfile"
)

// A capture is not called good because the backend exited 0: on the lab a
// second pdump on the same primary filled the first's files with 1.1 M
// zero-length records stamped 1970, and both runs printed ✓. Before the
// summary says ✓, the backend's files are read once more and held against
// the capture window and the counts the backend and the primary reported.

// windowSlack widens the capture window on both sides: the backend's
// clock (pdump stamps with the primary's TSC converted to wall time) and
// gzdoctor's need not agree to the millisecond.
const windowSlack = 2 * time.Second

// Validation is what gzdoctor checked in the backend's files (before -c,
// -f, -s and -C) when the backend had ended.
type Validation struct {
	RxRecords   int64  `json:"rx_records"`
	TxRecords   int64  `json:"tx_records"`
	ZeroLength  int64  `json:"zero_length"`
	OutOfWindow int64  `json:"out_of_window"`
	WindowStart string `json:"window_start"` // RFC 3339: the backend's start, less the slack
	WindowEnd   string `json:"window_end"`
	// Problems make the capture a failure (✗, exit 1): its file cannot be
	// trusted. The file is still written: nothing captured is thrown away.
	Problems []string `json:"problems,omitempty"`
	// Warnings are flagged (!) without failing the capture.
	Warnings []string `json:"warnings,omitempty"`
	// ToolClockAhead is how far dpdk-dumpcap's stamps are ahead of the
	// time gzdoctor read the packets (the most any packet was ahead: a
	// packet cannot be read before it was stamped), in seconds; set only
	// with the clock issue's warning.
	ToolClockAhead float64 `json:"tool_clock_ahead_s,omitempty"`
	// clockWarning is the index of the clock issue's warning, +1.
	clockWarning int
}

// OK reports whether nothing failed.
func (v *Validation) OK() bool { return v == nil || len(v.Problems) == 0 }

// tempScan is one pass over the backend's files.
type tempScan struct {
	rx, tx      int64
	zero        int64 // zero-length records stamped outside the window
	emptyInside int64 // zero-length records stamped during the capture
	outside     int64
	first, last uint64 // ns, of the records outside the window (when outside > 0)
	inside      int64
	// ports are rx and tx records per port of Plan.Ports.
	ports [][2]int64
}

// scanTemps reads every record of the backend's (repaired) files.
func scanTemps(p *Plan, from, to uint64) (*tempScan, error) {
	sc := &tempScan{ports: make([][2]int64, len(planPorts(p)))}
	for _, t := range p.Temps {
		f, err := os.Open(t.Path)
		if err != nil {
			return nil, err
		}
		fi, err := f.Stat()
		if err != nil || fi.Size() == 0 {
			f.Close()
			continue
		}
		r, err := pcapfile.NewReader(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("reading %s: %w", t.Path, err)
		}
		var pk pcapfile.Packet
		for {
			err := r.Next(&pk)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				f.Close()
				return nil, fmt.Errorf("reading %s: %w", t.Path, err)
			}
			i := t.Index
			switch direction(t.Dir, &pk) {
			case dirRx:
				sc.rx++
				if i >= 0 {
					sc.ports[i][0]++
				}
			case dirTx:
				sc.tx++
				if i >= 0 {
					sc.ports[i][1]++
				}
			}
			empty := len(pk.Data) == 0 || pk.OrigLen == 0
			if pk.Timestamp < from || pk.Timestamp > to {
				if empty {
					sc.zero++
				}
				if sc.outside == 0 {
					sc.first, sc.last = pk.Timestamp, pk.Timestamp
				}
				sc.outside++
				sc.first, sc.last = min(sc.first, pk.Timestamp), max(sc.last, pk.Timestamp)
			} else {
				sc.inside++
				if empty {
					sc.emptyInside++
				}
			}
		}
		f.Close()
	}
	return sc, nil
}

// validate checks the backend's files of a capture that ran from started
// to ended and fills res.Validation. It needs the temps (call it before
// they are removed) and the backend's and the primary's counters.
func validate(p *Plan, o *Options, res *Result, started, ended time.Time) {
	from, to := started.Add(-windowSlack), ended.Add(windowSlack)
	sc, err := scanTemps(p, uint64(from.UnixNano()), uint64(to.UnixNano()))
	judge(p, o, res, started, ended, sc, err)
}

// judge fills res.Validation from a scan of the backend's files: one read
// back at the end (scanTemps), or one made while streaming (liveScan).
func judge(p *Plan, o *Options, res *Result, started, ended time.Time, sc *tempScan, err error) {
	from, to := started.Add(-windowSlack), ended.Add(windowSlack)
	v := &Validation{WindowStart: from.UTC().Format(time.RFC3339Nano), WindowEnd: to.UTC().Format(time.RFC3339Nano)}
	res.Validation = v
	if err != nil {
		v.Problems = append(v.Problems, "the backend's files could not be read back: "+err.Error())
		return
	}
	v.RxRecords, v.TxRecords, v.ZeroLength, v.OutOfWindow = sc.rx, sc.tx, sc.zero+sc.emptyInside, sc.outside
	tool := filepath.Base(p.Binary)
	// A reopened file's damage is empty records stamped 1970; an empty
	// frame stamped during the capture is one the port delivered (1 in
	// 113,608 from a DPDK 20.11 net_null primary in a CI run): kept, said,
	// not a failure.
	if sc.emptyInside > 0 {
		v.Warnings = append(v.Warnings, fmt.Sprintf("%s of the %s records in %s's files have no data but were stamped during the capture: the port delivered empty frames; they are kept as they are",
			group(sc.emptyInside), group(sc.rx+sc.tx), tool))
	}
	if sc.zero > 0 {
		v.Problems = append(v.Problems, fmt.Sprintf("%s of the %s records in %s's files have no data (zero length): the files were written by something else too (a second capture on the same primary reopens them) and cannot be trusted",
			group(sc.zero), group(sc.rx+sc.tx), tool))
	}
	if sc.outside > 0 {
		stamp := func(t time.Time) string { return t.UTC().Format(time.RFC3339) }
		if p.Backend == BackendDumpcap && sc.inside == 0 && sc.last-sc.first <= uint64(to.Sub(from)) {
			// All packets shifted by one offset, their spacing intact: the
			// clock issue documented for dpdk-dumpcap 22.11 (the year 2251
			// on the lab VM, 2265 a year later), not a damaged
			// file.
			v.Warnings = append(v.Warnings, fmt.Sprintf("%s stamped every packet outside the capture window (%s … %s, the capture ran %s … %s): a known clock issue of dpdk-dumpcap 22.11 on some machines; the times between packets are right, the dates are not",
				tool, stamp(pcapfile.TimeOf(sc.first)), stamp(pcapfile.TimeOf(sc.last)), stamp(started), stamp(ended)))
			v.clockWarning = len(v.Warnings)
		} else {
			v.Problems = append(v.Problems, fmt.Sprintf("%s of the %s records carry timestamps outside the capture window (%s … %s, the capture ran %s … %s): the files were written by something else too (a second capture on the same primary reopens them) and cannot be trusted",
				group(sc.outside), group(sc.rx+sc.tx), stamp(pcapfile.TimeOf(sc.first)), stamp(pcapfile.TimeOf(sc.last)), stamp(started), stamp(ended)))
		}
	}
	// What the backend says it wrote is in the files (pdump prints its
	// counters before it drains its rings, so the files may hold more).
	if tr := res.Backend.Transmitted; tr != nil && *tr > sc.rx+sc.tx {
		v.Problems = append(v.Problems, fmt.Sprintf("%s says it wrote %s packets, its files hold %s: packets were lost after it wrote them (a second capture truncates the files when it reopens them)",
			tool, group(*tr), group(sc.rx+sc.tx)))
	}
	for i := range res.Ports {
		res.Ports[i].RxRecords, res.Ports[i].TxRecords = sc.ports[i][0], sc.ports[i][1]
	}
	// Each port's files against the primary's copies for that port: the
	// sums could hide one port's loss behind another's surplus.
	type held struct {
		name    string
		copied  int64
		records int64
		wanted  bool
	}
	var checks []held
	switch pr := res.Primary; {
	case len(res.Ports) > 1 && res.Ports[0].Primary != nil:
		for _, pt := range res.Ports {
			label := PlanPort{Device: pt.Device, Port: pt.Port}.label()
			checks = append(checks,
				held{label + " rx", int64(pt.Primary.Rx.Copied()), pt.RxRecords, p.wants(true)},
				held{label + " tx", int64(pt.Primary.Tx.Copied()), pt.TxRecords, p.wants(false)})
		}
	case pr != nil:
		checks = []held{{"rx", int64(pr.Rx.Copied()), sc.rx, p.wants(true)}, {"tx", int64(pr.Tx.Copied()), sc.tx, p.wants(false)}}
	}
	{
		ring := int64(or(o.RingSize, DefaultRingSize))
		for _, d := range checks {
			if !d.wanted && p.Backend == BackendPdump {
				continue
			}
			switch {
			case d.records > d.copied && d.records-d.copied <= ring:
				// The primary zeroes a queue's counters after it adds the
				// capture's callback (rte_pdump.c, 22.11 to 24.11: memset
				// after rte_eth_add_rx/tx_callback), so what the callback
				// copied in between is in the files but not counted. Seen
				// on the lab: a healthy 1 s capture at 10 kpps held 10,027
				// tx packets, the primary counted 10,022. Beyond a ring's
				// worth, the files hold what this capture did not copy.
			case d.records > d.copied:
				v.Problems = append(v.Problems, fmt.Sprintf("%s: the files hold %s packets, the primary copied %s for this capture: something else wrote into them (a second capture on the same primary?)",
					d.name, group(d.records), group(d.copied)))
			case d.copied-d.records > ring:
				// Up to a ring's worth is what the primary enqueued while
				// the backend was leaving; more was lost on the way.
				v.Warnings = append(v.Warnings, fmt.Sprintf("%s: the primary copied %s packets for this capture, the files hold %s: %s lost between the primary and the file",
					d.name, group(d.copied), group(d.records), group(d.copied-d.records)))
			}
		}
	}
}
