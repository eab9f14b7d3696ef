package doctor

import (
	"context"
	"time"

	"github.com/gzdoctor/gzdoctor/host"
)

// startingWindow: a primary this young that has not yet created its
// telemetry socket or its rte_pdump_stats memzone is taken for one still
// starting, not for one that never will. The config lock and mp_socket
// come early in rte_eal_init; telemetry at its end, rte_pdump_init after
// it. A --legacy-mem primary with --socket-mem 512 took about 4 s on the
// lab (adv3 F18); lstack with gigabytes of --socket-mem, and ltran, take
// longer.
const startingWindow = 30 * time.Second

// primaryStarting reports how long ago p started when it is younger than
// startingWindow (live hosts only: a file tree under --root has no clock
// to compare with).
func (e *Env) primaryStarting(p *host.Process) (time.Duration, bool) {
	if p == nil || !e.h.Live() {
		return 0, false
	}
	started, err := e.h.ProcessStarted(p.PID)
	if err != nil {
		return 0, false
	}
	window := startingWindow
	if e.cfg.startingWindow != 0 {
		window = e.cfg.startingWindow
	}
	age := time.Since(started)
	return age, age >= 0 && age < window
}

// telemetryExpected reports whether p would have a telemetry socket once
// started: DPDK 20.05 or later (or unknown) and no --no-telemetry.
func (e *Env) telemetryExpected(ctx context.Context, p *host.Process) bool {
	if r := p.DPDK.Release; r != "" && host.ReleaseBefore(r, 20, 5) {
		return false
	}
	a, _, _ := e.primaryEAL(ctx, p)
	return a == nil || !a.Has("--no-telemetry")
}

// startingWords says how long ago a starting primary started.
func startingWords(age time.Duration) string {
	return age.Round(time.Second).String()
}
