package host

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// FixtureTelemetryFile holds, in a fixture tree or a collected bundle,
// what each telemetry socket answered on the live machine: a JSON object
// mapping the socket's machine path to RecordedTelemetry. A tree has no
// sockets to ask; this is the recording gzdoctor collect made of the
// answers its own check got.
const FixtureTelemetryFile = ".fixture/telemetry.json"

// RecordedTelemetry is one socket's recorded answer: the report, or the
// error the probe returned (a primary that never greeted, a refused
// connection).
type RecordedTelemetry struct {
	Report *TelemetryReport `json:"report,omitempty"`
	Error  string           `json:"error,omitempty"`
}

// ErrNotRecorded: the tree holds no recording for that socket.
var ErrNotRecorded = errors.New("no recorded telemetry answer")

// RecordedTelemetry returns the recorded answer of the telemetry socket at
// machine path p in a fixture tree (FixtureTelemetryFile). ErrNotRecorded
// when the tree has none for p; the recorded error, if the probe failed.
func (h *Host) RecordedTelemetry(p string) (*TelemetryReport, error) {
	b, err := os.ReadFile(filepath.Join(h.Root, FixtureTelemetryFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotRecorded
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", FixtureTelemetryFile, err)
	}
	var all map[string]RecordedTelemetry
	if err := json.Unmarshal(b, &all); err != nil {
		return nil, fmt.Errorf("%s: %w", FixtureTelemetryFile, err)
	}
	r, ok := all[filepath.Clean(p)]
	if !ok {
		return nil, ErrNotRecorded
	}
	if r.Error != "" {
		return r.Report, fmt.Errorf("%s (recorded)", r.Error)
	}
	return r.Report, nil
}
