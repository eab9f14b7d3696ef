package capture

import (
	"github.com/gzdoctor/gzdoctor/capture/pcapfile"
	"github.com/gzdoctor/gzdoctor/doctor"
	"github.com/gzdoctor/gzdoctor/runbooks"
)

// Why a capture stopped.
const (
	StopCount      = "count"        // -c reached
	StopDuration   = "duration"     // -a duration / --duration reached
	StopSize       = "size"         // -C reached
	StopInterrupt  = "interrupt"    // Ctrl+C / SIGTERM
	StopBackendEnd = "backend-exit" // the backend exited by itself
	StopDiagnosis  = "diagnosis"    // the backend printed a known fatal failure
	StopPreflight  = "preflight"    // a preflight check failed; nothing started
	StopBusy       = "busy"         // another capture runs on the primary (or left its vdevs); nothing started
	StopNoPackets  = "no-packets"   // the backend ran, the port had traffic, the files stayed empty
	StopDiskFull   = "disk-full"    // the output's filesystem (or the temporaries') ran out of space
	StopReaderGone = "reader-gone"  // -w -: the reader of stdout closed it
	StopRingFiles  = "files"        // -a files:N ring files written
	StopWriteError = "write-error"  // a ring file could not be written
	StopStalled    = "stalled"      // packets came, then the files stopped growing while the port counted
)

// Result is the outcome of `gzdoctor capture`.
type Result struct {
	Plan   *Plan `json:"plan"`
	DryRun bool  `json:"dry_run,omitempty"`
	// Preflight is the report of the capture-relevant checks; nil with
	// --no-preflight or --dry-run.
	Preflight *doctor.Report `json:"preflight,omitempty"`

	Stopped string `json:"stopped,omitempty"`
	// Killed: the backend did not stop when asked (or a second Ctrl+C
	// came) and was killed.
	Killed bool `json:"killed,omitempty"`
	// ExitStatus is the backend's exit: "exit status 0", "signal: killed".
	ExitStatus string `json:"exit_status,omitempty"`
	// Findings are the causes the runbook matcher found in the backend's
	// output, root causes first.
	Findings []runbooks.Finding `json:"findings,omitempty"`
	// LastLines are the backend's last lines when it ended early.
	LastLines []string `json:"last_lines,omitempty"`

	Counts Counts `json:"counts"`
	// Ports are each captured port's share, in Plan.Ports order.
	Ports   []PortResult `json:"ports,omitempty"`
	First   string       `json:"first,omitempty"` // RFC 3339, first packet
	Last    string       `json:"last,omitempty"`
	SpanSec float64      `json:"span_s"`
	Elapsed float64      `json:"elapsed_s"`
	Backend BackendStats `json:"backend_stats"`
	// Primary are the primary's own pdump counters for the captured port
	// over the capture (its rte_pdump_stats): what the capture lost before
	// the backend could see it. Nil when they could not be read;
	// PrimaryUnavailable says why.
	Primary            *PrimaryStats `json:"primary_stats,omitempty"`
	PrimaryUnavailable string        `json:"primary_stats_unavailable,omitempty"`
	// Lstack are lstack's own counters over the capture (gazellectl, when
	// the primary is an lstack and gazellectl is on PATH): drops after the
	// NIC, and the NIC's missed packets. LstackUnavailable says why not.
	Lstack            *LstackStats `json:"lstack_stats,omitempty"`
	LstackUnavailable string       `json:"lstack_stats_unavailable,omitempty"`
	// Holder is the capture that made this one stop busy: the gzdoctor
	// holding the primary's capture lock, or a capture tool gzdoctor did
	// not start.
	Holder *LockHolder `json:"busy_holder,omitempty"`
	// Validation is the check of the backend's files before the summary
	// may say ✓; nil when the capture did not run to the end.
	Validation *Validation  `json:"validation,omitempty"`
	Files      []OutputFile `json:"files"`
	// Promisc is the port's promiscuous mode before and after the
	// capture; nil when the port or its telemetry is unknown.
	Promisc *PromiscState `json:"promiscuous,omitempty"`
	// Stream is what reached stdout with -w -.
	Stream *StreamStats `json:"stream,omitempty"`
	// Ring is what the ring buffer (-b) did; Files are then the files
	// it kept, oldest first.
	Ring *RingResult `json:"ring,omitempty"`
	// PostRotate is what -z did.
	PostRotate *PostRotateResult `json:"post_rotate,omitempty"`
	Repaired   []string          `json:"repaired,omitempty"`
	// TempFiles are left behind only when the final file could not be
	// written: they hold the packets.
	TempFiles []string `json:"temp_files_kept,omitempty"`
	// WriteError says why the final file(s) could not be written; the
	// packets are then in TempFiles. Exit status 3.
	WriteError string `json:"write_error,omitempty"`
	// DiskFull says which filesystem filled up (Stopped is disk-full).
	DiskFull string `json:"disk_full,omitempty"`
	// Recover is the command that turns the kept files into a capture.
	Recover string   `json:"recover,omitempty"`
	Notes   []string `json:"notes,omitempty"`
	// Leftovers are what dead captures left where this one writes.
	Leftovers []pcapfile.Leftover `json:"leftovers,omitempty"`
}

// PortResult is one captured port's share of the capture.
type PortResult struct {
	Device string `json:"device,omitempty"`
	Port   int    `json:"port"`
	// Counts are the port's packets in the final file(s).
	Counts Counts `json:"counts"`
	// RxRecords and TxRecords are the port's records in the backend's
	// files (before -c, -f, -s and -C), held against Primary.
	RxRecords int64 `json:"rx_records"`
	TxRecords int64 `json:"tx_records"`
	// Primary are the primary's pdump counters of this port; nil when
	// unknown (Result.PrimaryUnavailable).
	Primary *PrimaryStats `json:"primary_stats,omitempty"`
}

// BackendStats are the counters the backend printed when it stopped.
// Absent numbers are nil: the backend did not say.
type BackendStats struct {
	// pdump: per --pdump tuple, summed.
	Dequeued    *int64 `json:"dequeued,omitempty"`
	Transmitted *int64 `json:"transmitted,omitempty"`
	Freed       *int64 `json:"freed,omitempty"`
	// dumpcap: received and dropped (ring full or no mbuf).
	Received *int64 `json:"received,omitempty"`
	Dropped  *int64 `json:"dropped,omitempty"`
}

// Drops is what the backend reported as lost: pdump's freed packets
// (dequeued but not written), dumpcap's dropped ones. -1 when unknown.
func (b BackendStats) Drops() int64 {
	switch {
	case b.Dropped != nil:
		return *b.Dropped
	case b.Freed != nil:
		return *b.Freed
	}
	return -1
}

// Failed reports whether gzdoctor could not do its job (exit status 3):
// the final file was not written, or the output filesystem filled up.
func (r *Result) Failed() bool {
	return r.WriteError != "" || r.Stopped == StopDiskFull
}

// Drops is every packet the capture lost that gzdoctor knows of: what the
// primary could not copy (ring full, no mbuf) and what the backend
// dropped after that. -1 when nobody said.
func (r *Result) Drops() int64 {
	b := r.Backend
	switch {
	case r.Primary != nil && b.Dropped != nil:
		// dumpcap's "dropped" is the primary's ringfull + nombuf.
		return max(int64(r.Primary.Lost()), *b.Dropped)
	case r.Primary != nil:
		return int64(r.Primary.Lost()) + max(b.Drops(), 0)
	}
	return b.Drops()
}

// Problem reports whether the capture ended in a way the operator must
// look at (exit status 1): a failed preflight, a diagnosis, a backend that
// ended by itself or had to be killed, a file that failed validation.
func (r *Result) Problem() bool {
	if !r.Validation.OK() {
		return true
	}
	if pr := r.PostRotate; pr != nil && (pr.Failures > 0 || len(pr.Unfinished) > 0) {
		// The files are fine, but what the operator set up to run on
		// them did not (all) happen.
		return true
	}
	switch r.Stopped {
	case StopPreflight, StopBusy, StopDiagnosis, StopBackendEnd, StopNoPackets, StopStalled, StopWriteError:
		return true
	}
	return r.Killed && r.Stopped != StopInterrupt
}
