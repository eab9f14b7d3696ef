package host

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gzdoctor/gzdoctor/host/telemetry"
)

// DialTelemetry connects to the telemetry socket at machine path p.
func (h *Host) DialTelemetry(ctx context.Context, p string) (*telemetry.Client, error) {
	return telemetry.Dial(ctx, h.Path(p))
}

// PdumpMemzone is the memzone rte_pdump_init() reserves since DPDK 21.11:
// its presence proves the primary can serve pdump. Earlier releases
// reserve none, so its absence there proves nothing.
const PdumpMemzone = "rte_pdump_stats"

// TelemetryReport is everything gzdoctor asks a telemetry socket, in one
// value. Each part that failed leaves its error in Errors and the rest
// stands.
type TelemetryReport struct {
	Socket      string              `json:"socket"`
	Info        telemetry.Info      `json:"info"`
	DPDKVersion string              `json:"dpdk_version"`
	EALParams   []string            `json:"eal_params,omitempty"`
	Ports       []telemetry.EthPort `json:"ports,omitempty"`
	Memzones    []string            `json:"memzones,omitempty"`
	// PdumpInit: the rte_pdump_stats memzone exists. nil when that cannot
	// be told: memzones unreadable, or DPDK older than 21.11.
	PdumpInit *bool             `json:"pdump_init,omitempty"`
	Errors    map[string]string `json:"errors,omitempty"`
	// Unanswered lists the parts of Errors that got no reply in time: the
	// server greeted, then fell silent (stuck or starved), as opposed to
	// refusing a command it does not know.
	Unanswered []string `json:"unanswered,omitempty"`
}

// ProbeTelemetry connects to the telemetry socket at machine path p and
// asks for the DPDK version, EAL params, ports and memzones. Every
// exchange has its own deadline (telemetry.DefaultTimeout unless ctx sets
// one); a dead or hung socket costs at most that per exchange.
func (h *Host) ProbeTelemetry(ctx context.Context, p string) (rep *TelemetryReport, err error) {
	if h.Recorder != nil {
		defer func() { h.Recorder.Telemetry(p, rep, err) }()
	}
	t, err := h.DialTelemetry(ctx, p)
	if err != nil {
		return nil, err
	}
	defer t.Close()
	r := &TelemetryReport{Socket: p, Info: t.Info, DPDKVersion: t.Info.DPDKVersion()}
	fail := func(what string, err error) {
		if r.Errors == nil {
			r.Errors = map[string]string{}
		}
		r.Errors[what] = err.Error()
		if errors.Is(err, context.DeadlineExceeded) {
			r.Unanswered = append(r.Unanswered, what)
		}
	}
	if r.EALParams, err = t.EALParams(ctx); err != nil {
		fail("eal_params", err)
	}
	if r.Ports, err = t.Ports(ctx); err != nil {
		fail("ports", err)
	} else if len(r.EALParams) > 1 {
		NamePortsFromEAL(r.Ports, ParseEALArgs(r.EALParams[1:]))
	}
	mzs, err := t.Memzones(ctx)
	if err != nil {
		fail("memzones", err)
	} else {
		found, unsure := false, !ReleaseAtLeast(r.DPDKVersion, 21, 11)
		for _, m := range mzs {
			if m.Name != "" {
				r.Memzones = append(r.Memzones, m.Name)
			}
			found = found || m.Name == PdumpMemzone
			unsure = unsure || m.Error != ""
		}
		if found || !unsure {
			r.PdumpInit = &found
		}
	}
	if errors.Is(ctx.Err(), context.Canceled) {
		return r, fmt.Errorf("telemetry %s: %w", p, ctx.Err())
	}
	return r, nil
}

// ReleaseBefore reports whether a DPDK version ("20.11.10", "DPDK 20.11.10")
// is known and older than year.month. An unparsable version is not.
func ReleaseBefore(version string, year, month int) bool {
	var y, m int
	if _, err := fmt.Sscanf(strings.TrimPrefix(version, "DPDK "), "%d.%d", &y, &m); err != nil {
		return false
	}
	return y < year || (y == year && m < month)
}

// ReleaseAtLeast reports whether a DPDK version ("22.11.11", "21.11") is at
// least year.month. An unparsable version is not.
func ReleaseAtLeast(version string, year, month int) bool {
	var y, m int
	if _, err := fmt.Sscanf(version, "%d.%d", &y, &m); err != nil {
		return false
	}
	return y > year || (y == year && m >= month)
}
