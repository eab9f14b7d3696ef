package capture

import (
	"context"
	"path/filepath"
	"slices"
	"time"

	"github.com/gzdoctor/gzdoctor/doctor"
	"github.com/gzdoctor/gzdoctor/host"
	"github.com/gzdoctor/gzdoctor/host/target"
	"github.com/gzdoctor/gzdoctor/internal/shquote"
	"github.com/gzdoctor/gzdoctor/runbooks"
)

// pdumpOnlyChecks are capture-relevant checks that concern pdump's pcap
// vdevs, which the primary creates and which open the capture files:
// dumpcap writes its file itself and needs neither.
var pdumpOnlyChecks = []string{"pcap-pmd", "output-path"}

// preflightChecks returns the IDs of doctor's capture-relevant checks that
// apply to the backend. The list comes from doctor (Check.CaptureRelevant),
// so a check added there joins the preflight without a change here.
func preflightChecks(backend string) []string {
	var ids []string
	for _, id := range doctor.CaptureRelevant() {
		if backend == BackendDumpcap && slices.Contains(pdumpOnlyChecks, id) {
			continue
		}
		ids = append(ids, id)
	}
	return ids
}

// preflightTimeout bounds the preflight's checks together. `gzdoctor
// check` gives a whole run 1 s; a capture waits for pdump anyway (5 s per
// request to the primary), and on a loaded machine (CI: 2 cores, tests in
// parallel) a healthy primary's telemetry took longer than 1 s to walk, so
// the preflight called it silent and refused the capture. A healthy primary
// answers in milliseconds: the budget costs only a starved one.
const preflightTimeout = 5 * time.Second

// preflight runs the checks for the plan. It returns the report; a failed
// check (status fail) means the capture must not start. A check that could
// not run (error) does not stop the capture: the backend may still work,
// and its live diagnosis takes over.
func preflight(ctx context.Context, h *host.Host, o *Options, p *Plan) (*doctor.Report, bool, error) {
	file := p.Outputs[0].Path
	if p.Stream && len(p.Temps) > 0 {
		// -w -: the primary opens the backend's files only, in a
		// directory gzdoctor creates in TMPDIR: ask about TMPDIR.
		file = filepath.Join(filepath.Dir(p.TempDir), filepath.Base(p.Temps[0].Path))
	}
	var devices []string
	for _, pp := range p.Ports {
		if pp.Device != "" {
			devices = append(devices, pp.Device)
		}
	}
	rerun := func(device string) func(string) string {
		if len(o.CommandLine) == 0 {
			return nil
		}
		return func(use string) string {
			if fixed := replaceDevice(o.CommandLine, device, use); fixed != nil {
				return shquote.Join(fixed)
			}
			return ""
		}
	}
	// A fix that captures from another prefix (a typo'd --prefix, a
	// primary in another namespace) is the operator's own command with
	// that prefix, through the one parser of their command line.
	recapture := func(device string) func(string, string) string {
		if len(o.CommandLine) == 0 {
			return nil
		}
		return func(prefix, use string) string {
			argv, t := o.CommandLine, runbooks.CaptureTarget{Prefix: prefix}
			if use != "" && use != device {
				if fixed := replaceDevice(argv, device, use); fixed != nil {
					argv = fixed
				} else {
					t.Device = use
				}
			}
			return rerunCommand(argv, t)
		}
	}
	// The plan's target, with where it came from: a prefix the config
	// chose is checked as check checks it (not as a --prefix).
	var from target.Via
	var why string
	if t := p.target; t != nil && t.via != target.ViaFlag && t.prefix == p.Prefix {
		from, why = t.via, t.resolvedWhy
	}
	env := func(device string) *doctor.Env {
		return doctor.NewEnv(doctor.Config{
			Host:        h,
			Prefix:      p.Prefix,
			PrefixFrom:  from,
			PrefixWhy:   why,
			ConfigPath:  o.ConfigPath,
			Device:      device,
			PdumpBin:    p.Binary,
			CaptureFile: file,
			// The hugepages check weighs the pool this capture will create.
			CaptureMbufs: captureMbufs(o, p),
			Devices:      devices,
			Rerun:        rerun(device),
			Recapture:    recapture(device),
		})
	}
	ids := preflightChecks(p.Backend)
	// Scope: these are all the checks this backend needs, so the report
	// may vouch for the capture (its summary is not a "subset").
	rep, err := doctor.Run(ctx, env(p.Device), doctor.Options{Only: ids, Scope: ids, Timeout: preflightTimeout})
	if err != nil {
		return nil, false, err
	}
	if rep.Summary.Fail == 0 && len(p.Ports) > 1 && slices.Contains(ids, "device") {
		// The device check knows one device: the others are checked
		// alone, and the first that fails gets the whole preflight, so
		// the report names it as it would a single -i.
		for _, pp := range p.Ports[1:] {
			if pp.Device == "" {
				continue
			}
			one, err := doctor.Run(ctx, env(pp.Device), doctor.Options{Only: []string{"device"}, Scope: []string{"device"}, Timeout: preflightTimeout})
			if err != nil {
				return nil, false, err
			}
			if r, ok := one.Result("device"); ok && r.Status == "fail" {
				rep, err = doctor.Run(ctx, env(pp.Device), doctor.Options{Only: ids, Scope: ids, Timeout: preflightTimeout})
				if err != nil {
					return nil, false, err
				}
				break
			}
		}
	}
	return &rep, rep.Summary.Fail == 0, nil
}

// captureMbufs is the capture tool's pool: pdump creates one per --pdump
// tuple, so one per port.
func captureMbufs(o *Options, p *Plan) int {
	if p.Backend != BackendPdump || len(p.Ports) <= 1 {
		return o.TotalMbufs
	}
	return or(o.TotalMbufs, DefaultTotalMbufs) * len(p.Ports)
}
