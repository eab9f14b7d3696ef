package ui

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
)

// SchemaVersion is the version of every JSON document gzdoctor prints. It
// changes only when a field changes meaning or disappears, or when the
// envelope itself changes; new fields of data do not bump it.
// docs/json.md describes the envelope and what each version changed.
const SchemaVersion = 2

// TextRenderer is implemented by every result a command prints. Results are
// plain data with JSON tags; this method is their only text form.
type TextRenderer interface {
	RenderText(w io.Writer, st Style, verbose bool) error
}

// MetricsRenderer is implemented by the results that have a Prometheus
// form (check's reports). They register their series on reg; the
// registry checks names, label sets and duplicates before anything is
// printed, so a result cannot emit an invalid exposition.
type MetricsRenderer interface {
	RegisterMetrics(reg prometheus.Registerer) error
}

// Format is the output format chosen with -o.
type Format string

const (
	FormatText       Format = "text"
	FormatJSON       Format = "json"
	FormatPrometheus Format = "prometheus"
)

// ParseFormat validates the -o flag.
func ParseFormat(s string) (Format, error) {
	switch Format(s) {
	case FormatText, FormatJSON, FormatPrometheus:
		return Format(s), nil
	}
	return "", fmt.Errorf("unknown output format %q: use text, json or prometheus (check only)", s)
}

// Meta is what every document says about where and when it was made: the
// JSON envelope and the Prometheus info series carry it.
type Meta struct {
	// Version and Revision are gzdoctor's own.
	Version  string
	Revision string
	// Host is the machine's hostname (under --root, the collected
	// machine's, when the tree holds it).
	Host string
	// Time is when the command started.
	Time time.Time
}

// Envelope is the top level of every JSON document.
type Envelope struct {
	SchemaVersion int    `json:"schema_version"`
	Command       string `json:"command"`
	Version       string `json:"gzdoctor_version"`
	Host          string `json:"host"`
	// Time is RFC 3339 in UTC, to the millisecond.
	Time string `json:"time"`
	Data any    `json:"data"`
}

// TimeFormat is the envelope's time format: RFC 3339, UTC, milliseconds.
const TimeFormat = "2006-01-02T15:04:05.000Z07:00"

// Render writes result to s.Out in the chosen format. In text mode with -q
// nothing is printed: the exit code carries the verdict.
func Render(s *Streams, f Format, meta Meta, command string, verbose bool, result TextRenderer) error {
	switch f {
	case FormatJSON:
		enc := json.NewEncoder(s.Out)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(Envelope{
			SchemaVersion: SchemaVersion, Command: command,
			Version: meta.Version, Host: meta.Host, Time: meta.Time.UTC().Format(TimeFormat),
			Data: result,
		})
	case FormatPrometheus:
		reg, err := Metrics(result, meta)
		if err != nil {
			return err
		}
		return WriteMetrics(s.Out, reg)
	}
	if s.Quiet {
		return nil
	}
	// Every text renderer prints strings from input files; escaping is done
	// here, once, rather than trusted to each field of each renderer.
	return result.RenderText(SafeWriter(s.Out), s.OutStyle(), verbose)
}

// Metrics builds the registry of a result's series, with gzdoctor_info
// (version and revision as labels, value 1) and the time the run started.
func Metrics(result any, meta Meta) (*prometheus.Registry, error) {
	m, ok := result.(MetricsRenderer)
	if !ok {
		return nil, fmt.Errorf("this command has no prometheus output: use -o text or -o json")
	}
	reg := prometheus.NewPedanticRegistry()
	info := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "gzdoctor_info",
		Help:        "gzdoctor's version and revision (value 1).",
		ConstLabels: prometheus.Labels{"version": meta.Version, "revision": meta.Revision},
	})
	info.Set(1)
	started := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "gzdoctor_last_run_timestamp_seconds",
		Help: "When the gzdoctor run that wrote these series started, in seconds since the epoch.",
	})
	started.Set(float64(meta.Time.UnixNano()) / 1e9)
	if err := reg.Register(info); err != nil {
		return nil, err
	}
	if err := reg.Register(started); err != nil {
		return nil, err
	}
	if err := m.RegisterMetrics(reg); err != nil {
		return nil, err
	}
	return reg, nil
}

// WriteMetrics prints the registry in Prometheus' text exposition format
// (version 0.0.4, what node_exporter's textfile collector reads).
func WriteMetrics(w io.Writer, g prometheus.Gatherer) error {
	mfs, err := g.Gather()
	if err != nil {
		return err
	}
	enc := expfmt.NewEncoder(w, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			return err
		}
	}
	return nil
}
