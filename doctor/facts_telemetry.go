package doctor

import (
	"context"
	"errors"
	"fmt"

	"github.com/gzdoctor/gzdoctor/host"
)

// Telemetry asks the target primary's telemetry socket for its version,
// EAL params, ports and memzones, once per run. nil, nil when the prefix
// has no telemetry socket (DPDK < 20.05, telemetry disabled, or no live
// primary). On a tree (--root), the answer gzdoctor collect recorded on
// the live machine, if any.
func (e *Env) Telemetry(ctx context.Context) (*host.TelemetryReport, error) {
	return e.telemetry.await(ctx, "the primary's telemetry socket", func() (*host.TelemetryReport, error) {
		t, err := e.Target(ctx)
		if err != nil || t.Dir == nil || t.Dir.State != host.PrefixLive || len(t.Dir.Telemetry) == 0 {
			return nil, err
		}
		if !e.h.Live() {
			r, err := e.h.RecordedTelemetry(t.Dir.Telemetry[0])
			if errors.Is(err, host.ErrNotRecorded) {
				return nil, nil
			}
			return r, err
		}
		if p, err := e.Primary(ctx); err == nil && p != nil {
			// A stopped primary answers nothing until it continues: asking
			// costs the whole fact timeout, to every check that reads
			// telemetry (and a capture's preflight) after the primary
			// check has said why.
			if h := p.Halted(); h != nil {
				return nil, fmt.Errorf("pid %d %s %s: its telemetry cannot answer", p.PID, h.Verb, h.Words)
			}
		}
		ctx, cancel := e.factContext(ctx)
		defer cancel()
		return e.h.ProbeTelemetry(ctx, t.Dir.Telemetry[0])
	})
}
