package collect

import (
	"path"
	"sort"
	"sync"

	"github.com/gzdoctor/gzdoctor/host"
)

// Recorder is a host.Recorder: it keeps the machine paths a check read and
// the telemetry answers it got, for the bundle to take.
type Recorder struct {
	mu        sync.Mutex
	paths     map[string]bool
	telemetry map[string]host.RecordedTelemetry
}

// NewRecorder returns an empty Recorder.
func NewRecorder() *Recorder {
	return &Recorder{paths: map[string]bool{}, telemetry: map[string]host.RecordedTelemetry{}}
}

// Accessed implements host.Recorder.
func (r *Recorder) Accessed(p string) {
	if !path.IsAbs(p) {
		return
	}
	r.mu.Lock()
	r.paths[path.Clean(p)] = true
	r.mu.Unlock()
}

// Telemetry implements host.Recorder. The first answer of a socket is
// kept: it is the one the check judged.
func (r *Recorder) Telemetry(p string, rep *host.TelemetryReport, err error) {
	rec := host.RecordedTelemetry{Report: rep}
	if err != nil {
		rec.Error = err.Error()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, seen := r.telemetry[path.Clean(p)]; !seen {
		r.telemetry[path.Clean(p)] = rec
	}
}

// Paths returns the recorded paths, sorted.
func (r *Recorder) Paths() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, 0, len(r.paths))
	for p := range r.paths {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// Answers returns the recorded telemetry answers by socket path.
func (r *Recorder) Answers() map[string]host.RecordedTelemetry {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]host.RecordedTelemetry, len(r.telemetry))
	for k, v := range r.telemetry {
		out[k] = v
	}
	return out
}
