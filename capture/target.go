package capture

import (
	"context"
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/gzdoctor/gzdoctor/doctor"
	"github.com/gzdoctor/gzdoctor/host"
	"github.com/gzdoctor/gzdoctor/host/target"
	"github.com/gzdoctor/gzdoctor/host/telemetry"
)

// capTarget is the primary a capture attaches to: the target check
// resolves (host/target), with what a capture reads of it.
type capTarget struct {
	prefix string
	why    string
	via    target.Via
	dir    *host.Prefix // nil when no runtime dir was found
	// pid is the primary's (target.Target.PID), 0 when none is known.
	pid int
	// resolvedWhy is target.Target.Why, handed to the preflight so its
	// findings say where the prefix came from as check's do (why is the
	// plan's shorter words).
	resolvedWhy string
	ports       []telemetry.EthPort
	// portsErr says why the ports are unknown (no telemetry socket, an
	// old DPDK...).
	portsErr error
	// telemetry is the primary's telemetry report, nil when none.
	telemetry *host.TelemetryReport
	// ealDevices are the devices the primary's EAL arguments say it
	// drives (ealFrom: where they were read), read when its telemetry
	// cannot list its ports.
	ealDevices []string
	ealFrom    string
}

// readEAL names the devices the primary drives from its EAL arguments
// (doctor's reading: the Gazelle config, else the command line, with
// sysfs for PCI), for a primary whose telemetry cannot list its ports.
func (t *capTarget) readEAL(ctx context.Context, h *host.Host, configPath string) {
	if t.portsErr == nil || t.dir == nil || t.dir.Lock.Holder == nil {
		return
	}
	env := doctor.NewEnv(doctor.Config{Host: h, Prefix: t.prefix, ConfigPath: configPath})
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	devs, from := env.DrivenDevices(ctx)
	if from == "" || from == "telemetry" {
		return
	}
	t.ealDevices, t.ealFrom = devs, from
}

// resolvePrefix resolves the target as check does, through the same
// doctor.Env.Target (host/target's rules, the same facts): --prefix, else
// the Gazelle config in use, else the only live prefix. What check reports
// as a finding, a capture refuses: nothing live to attach to (DPDK's
// default with no primary), or nothing to choose between several.
func resolvePrefix(ctx context.Context, h *host.Host, o *Options) (*capTarget, error) {
	env := doctor.NewEnv(doctor.Config{Host: h, Prefix: o.Prefix, ConfigPath: o.ConfigPath})
	if o.ConfigPath != "" {
		// Named by the operator: a file that cannot be read is an error,
		// not an absence.
		if _, err := env.GazelleConfig(ctx); err != nil {
			return nil, fmt.Errorf("reading --config %s: %w", o.ConfigPath, err)
		}
	}
	tg, err := env.Target(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing DPDK runtime dirs: %w", err)
	}
	t := &capTarget{prefix: tg.Prefix, why: tg.Why, via: tg.Via, dir: tg.Dir, pid: tg.PID, resolvedWhy: tg.Why}
	switch {
	case tg.Ambiguous() && len(tg.Candidates) > 0:
		// Asked after the preflight, whose prefix check names each live
		// primary with its pid and program.
		e := usagef("several live DPDK primaries (%s): choose one with --prefix", strings.Join(tg.CandidateNames(), ", "))
		e.(*UsageError).needsHealthy = true
		return nil, e
	case tg.Ambiguous():
		e := usagef("%s: give --prefix (the --file-prefix of the primary that owns the NIC), or --config with the ltran.conf in use", tg.Why)
		e.(*UsageError).needsHealthy = true
		return nil, e
	case tg.Via == target.ViaDefault:
		var where []string
		if rt, err := env.Runtime(ctx); err == nil {
			for _, b := range rt.Bases {
				where = append(where, b.Path)
			}
		}
		return nil, fmt.Errorf("no live DPDK primary found (looked in %s): start lstack/ltran, or give --prefix (and run as the primary's user)",
			strings.Join(where, ", "))
	case tg.Via == target.ViaFlag:
		t.why = "--prefix"
	case tg.Via == target.ViaLive:
		t.why = "the only live prefix (" + tg.RuntimeDir + ")"
	}
	return t, nil
}

// probePorts asks the primary's telemetry socket for its ports.
func (t *capTarget) probePorts(ctx context.Context, h *host.Host) {
	if t.dir == nil {
		t.portsErr = fmt.Errorf("no runtime dir for prefix %s", t.prefix)
		return
	}
	if len(t.dir.Telemetry) == 0 {
		t.portsErr = fmt.Errorf("the primary has no telemetry socket in %s", t.dir.Dir)
		return
	}
	if t.pid > 0 {
		// A stopped primary answers nothing: no 2 s wait for it (the
		// preflight's primary check says it is stopped, and how to go on).
		if pr, err := h.ReadProcess(t.pid); err == nil {
			if hl := pr.Halted(); hl != nil {
				t.portsErr = fmt.Errorf("pid %d %s %s: its telemetry cannot answer", t.pid, hl.Verb, hl.Words)
				return
			}
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	sock := t.dir.Telemetry[0]
	if !path.IsAbs(sock) {
		sock = path.Join(t.dir.Dir, sock)
	}
	rep, err := h.ProbeTelemetry(ctx, sock)
	if err != nil {
		t.portsErr = err
		return
	}
	t.telemetry = rep
	if e, ok := rep.Errors["ports"]; ok {
		t.portsErr = fmt.Errorf("telemetry: %s", e)
		return
	}
	t.ports = rep.Ports
}

// resolveDevice fills p.Ports (and p.Device and p.Port, its first) from
// the flags and, where they say nothing, the primary's ports.
func resolveDevice(o *Options, t *capTarget, p *Plan) error {
	p.Port = -1
	p.Ports = nil
	byName := func(name string) PlanPort {
		pp := PlanPort{Device: name, Port: -1}
		for _, pt := range t.ports {
			if pt.Name == name {
				pp.Port = pt.ID
			}
		}
		return pp
	}
	byNumber := func(n int) (PlanPort, error) {
		pp := PlanPort{Port: n}
		found := false
		for _, pt := range t.ports {
			if pt.ID == n {
				pp.Device, found = pt.Name, true
			}
		}
		if !found && t.portsErr == nil && len(t.ports) > 0 {
			return pp, usagef("--port %d: the primary on prefix %s has no port %d; its ports: %s", n, t.prefix, n, portList(t.ports))
		}
		return pp, nil
	}
	var ports []telemetry.EthPort
	for _, pt := range t.ports {
		if !host.IsPdumpVdev(pt.Name) {
			ports = append(ports, pt)
		}
	}
	switch {
	case o.Device != "":
		for _, d := range append([]string{o.Device}, o.Devices...) {
			p.Ports = append(p.Ports, byName(d))
		}
	case o.Port >= 0:
		for _, n := range append([]int{o.Port}, o.Ports...) {
			pp, err := byNumber(n)
			if err != nil {
				return err
			}
			p.Ports = append(p.Ports, pp)
		}
	case o.AllPorts:
		if t.portsErr != nil {
			e := usagef("--all-ports: the primary's ports are unknown (%v): name them with -i DEVICE or --port N, once per port", t.portsErr)
			e.(*UsageError).needsHealthy = true
			return e
		}
		if len(ports) == 0 {
			return fmt.Errorf("the primary on prefix %s has no ethdev ports: nothing to capture", t.prefix)
		}
		for _, pt := range ports {
			p.Ports = append(p.Ports, PlanPort{Device: pt.Name, Port: pt.ID})
		}
	default:
		if t.portsErr != nil {
			// No telemetry to list the ports (DPDK 19.11, --no-telemetry):
			// the EAL arguments name what the primary drives.
			switch len(t.ealDevices) {
			case 1:
				p.Ports = []PlanPort{{Device: t.ealDevices[0], Port: -1}}
				p.DeviceWhy = "the only device in " + t.ealFrom + "; no telemetry lists the ports (" + t.portsErr.Error() + ")"
			case 0:
				e := usagef("which device? the primary's ports are unknown (%v) and its EAL arguments name none: give -i DEVICE (PCI address or vdev name) or --port N", t.portsErr)
				e.(*UsageError).needsHealthy = true
				return e
			default:
				e := usagef("which device? the primary's ports are unknown (%v); its EAL arguments (%s) name %s: choose one with -i", t.portsErr, t.ealFrom, strings.Join(t.ealDevices, ", "))
				e.(*UsageError).needsHealthy = true
				return e
			}
			break
		}
		switch len(ports) {
		case 0:
			return fmt.Errorf("the primary on prefix %s has no ethdev ports: nothing to capture", t.prefix)
		case 1:
			// An empty name (DPDK before 21.11 lists ids only, and the EAL
			// arguments did not tell it) makes buildArgs use port=N.
			p.Ports = []PlanPort{{Device: ports[0].Name, Port: ports[0].ID}}
		default:
			e := usagef("the primary on prefix %s has %d ports: choose one with -i NAME or --port N (repeat it for several, or --all-ports): %s", t.prefix, len(ports), portList(ports))
			e.(*UsageError).needsHealthy = true
			return e
		}
	}
	for i, a := range p.Ports {
		for _, b := range p.Ports[:i] {
			if a.Port >= 0 && a.Port == b.Port {
				return usagef("%s and %s are both port %d: give it once", a.label(), b.label(), a.Port)
			}
		}
	}
	p.Device, p.Port = p.Ports[0].Device, p.Ports[0].Port
	if len(p.Ports) > maxPdumpTuples {
		return usagef("%d ports: pdump takes at most %d --pdump tuples", len(p.Ports), maxPdumpTuples)
	}
	return nil
}

// maxPdumpTuples is APP_ARG_TCPDUMP_MAX_TUPLES of app/pdump/main.c (20.11
// to 24.11): pdump refuses more --pdump options.
const maxPdumpTuples = 54

// portList names ports for an error: id=name, with their queues when known.
func portList(ports []telemetry.EthPort) string {
	var list []string
	for _, pt := range ports {
		name := pt.Name
		if name == "" {
			name = "?" // DPDK 20.11's telemetry lists port ids only
		}
		s := fmt.Sprintf("%d=%s", pt.ID, name)
		if pt.RxQueues > 0 || pt.TxQueues > 0 {
			s += fmt.Sprintf(" (%d rx, %d tx queues)", pt.RxQueues, pt.TxQueues)
		}
		list = append(list, s)
	}
	return strings.Join(list, ", ")
}

// checkQueue refuses a --queue the captured port does not have. Left to
// the primary, pdump only says "Invalid argument", which the diagnosis
// cannot tell from a wrong device_id.
func checkQueue(t *capTarget, p *Plan) error {
	for _, pp := range p.Ports {
		if err := checkPortQueue(t, p, pp.Port); err != nil {
			return err
		}
	}
	return nil
}

func checkPortQueue(t *capTarget, p *Plan, port int) error {
	if p.Queue == "*" || p.Queue == "" || port < 0 || t.portsErr != nil {
		return nil
	}
	q, err := strconv.Atoi(p.Queue)
	if err != nil {
		return nil // Options.check refused it already
	}
	for _, pt := range t.ports {
		if pt.ID != port || pt.RxQueues == 0 && pt.TxQueues == 0 {
			continue // not it, or its queues unknown (DPDK 20.11: no /ethdev/info)
		}
		var missing []string
		limit := 1 << 16
		if p.wants(true) {
			limit = min(limit, pt.RxQueues)
			if q >= pt.RxQueues {
				missing = append(missing, fmt.Sprintf("%d rx queue%s", pt.RxQueues, plural(pt.RxQueues)))
			}
		}
		if p.wants(false) {
			limit = min(limit, pt.TxQueues)
			if q >= pt.TxQueues {
				missing = append(missing, fmt.Sprintf("%d tx queue%s", pt.TxQueues, plural(pt.TxQueues)))
			}
		}
		if len(missing) == 0 {
			return nil
		}
		valid := "--queue 0"
		if limit > 1 {
			valid = fmt.Sprintf("--queue 0 to %d", limit-1)
		}
		if limit == 0 {
			return usagef("--queue %d: port %d (%s) has %s: it is not set up; nothing to capture on it", q, pt.ID, pt.Name, strings.Join(missing, " and "))
		}
		return usagef("--queue %d: port %d (%s) has %s (numbered from 0): give %s, or --queue '*' for all",
			q, pt.ID, pt.Name, strings.Join(missing, " and "), valid)
	}
	return nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// promiscuous is the port's promiscuous mode as telemetry said it
// (/ethdev/info); nil when unknown (no telemetry, DPDK 20.11, a port not
// listed).
func (t *capTarget) promiscuous(port int) *bool {
	if t == nil || t.portsErr != nil {
		return nil
	}
	for _, pt := range t.ports {
		// A name read from the EAL arguments means no /ethdev/info
		// (20.11): its promiscuous bit was never read.
		if pt.ID == port && pt.Error == "" && pt.Name != "" && pt.NameFrom == "" {
			on := pt.Promiscuous
			return &on
		}
	}
	return nil
}

// targetChecks are check's checks that judge the target itself.
var targetChecks = []string{"runtime-dir", "config", "prefix", "primary"}

// targetVerdict is check's verdict on a target with no live primary, for
// a plan that cannot go on without one (which device?) when no preflight
// runs: the first of check's target checks that fails, with its fix, so
// capture names the missing primary as check does. nil when none fails.
func targetVerdict(ctx context.Context, h *host.Host, o *Options, t *capTarget) error {
	cfg := doctor.Config{Host: h, Prefix: o.Prefix, ConfigPath: o.ConfigPath}
	if t != nil && t.prefix != "" && t.via != target.ViaFlag {
		cfg.Prefix, cfg.PrefixFrom, cfg.PrefixWhy = t.prefix, t.via, t.resolvedWhy
	}
	rep, err := doctor.Run(ctx, doctor.NewEnv(cfg), doctor.Options{Only: targetChecks, Scope: targetChecks, Timeout: preflightTimeout})
	if err != nil {
		return nil
	}
	for _, r := range rep.Results {
		if r.Status != "fail" {
			continue
		}
		msg := r.ID + ": " + r.Finding
		if r.Fix != nil {
			msg += "\n  fix: " + r.Fix.Text
			for _, c := range r.Fix.Commands {
				msg += "\n    " + c
			}
		}
		return &ProblemError{Msg: msg}
	}
	return nil
}
