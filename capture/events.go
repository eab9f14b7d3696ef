package capture

import (
	"encoding/json"
	"io"
	"time"

	"github.com/gzdoctor/gzdoctor/runbooks"
)

// With -o json a capture reports as it goes: one JSON object per line on
// stderr (see docs/json.md#capture-events), so automation can follow a
// capture that runs for hours without scraping the progress line.

// Event is one line of a capture's -o json event stream.
type Event struct {
	Type string `json:"type"` // start, progress, finding, note, stopping (the summary line is written by the command)
	Time string `json:"time"` // RFC 3339, UTC
	// ElapsedSec counts from the backend's start.
	ElapsedSec float64 `json:"elapsed_s"`

	// start
	Backend string `json:"backend,omitempty"`
	Command string `json:"command,omitempty"`
	PID     int    `json:"pid,omitempty"`
	Prefix  string `json:"prefix,omitempty"`
	Device  string `json:"device,omitempty"`
	Stream  bool   `json:"stream,omitempty"`

	// progress: what the output will hold so far, and the rate.
	Counts  *Counts  `json:"counts,omitempty"`
	RatePPS *float64 `json:"rate_pps,omitempty"`

	// finding: a known cause the backend's output matched.
	Finding *runbooks.Finding `json:"finding,omitempty"`
	// note, and progress's remark (e.g. "no traffic on net_ring0 yet").
	Text string `json:"text,omitempty"`
	// stopping: why gzdoctor asked the backend to stop (a Result.Stopped value).
	Reason string `json:"reason,omitempty"`
}

// events writes the event lines; the zero value writes nothing.
type events struct {
	w     io.Writer
	start time.Time
}

func (e *events) on() bool { return e != nil && e.w != nil }

func (e *events) emit(ev Event) {
	if !e.on() {
		return
	}
	now := time.Now()
	ev.Time = now.UTC().Format(time.RFC3339Nano)
	if !e.start.IsZero() {
		ev.ElapsedSec = float64(now.Sub(e.start).Round(time.Millisecond)) / 1e9
	}
	b, err := json.Marshal(ev)
	if err != nil {
		return
	}
	// One write per line: a line is never split by another writer.
	_, _ = e.w.Write(append(b, '\n'))
}
