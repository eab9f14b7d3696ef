package doctor

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gzdoctor/gzdoctor/host"
	"github.com/gzdoctor/gzdoctor/host/target"
	"github.com/gzdoctor/gzdoctor/runbooks"
)

// This file is diagnose's use of the machine: what it knows before the
// log is read (FixContext) and, with --live, what the machine says about
// the log's findings (DiagnoseLive).

// FixContext is what the operator told gzdoctor and what this machine
// has, for diagnose's fixes to print: cfg.Prefix (--prefix, and its
// runtime dir for the capture user) and whether a program is installed.
func FixContext(cfg Config) runbooks.Context {
	e := NewEnv(cfg)
	ctx := runbooks.Context{Prefix: cfg.Prefix, LookPath: e.installed}
	if ctx.Prefix != "" {
		ctx.RuntimeDir = host.RuntimeBase(e.cfg.User.UID, e.userEnv()) + "/" + ctx.Prefix
	}
	return ctx
}

// DiagnoseLive confirms or refutes the findings of the log m has read on
// the machine cfg describes, within timeout, and returns the report: what
// the machine says fills what the log could not (the one live primary's
// prefix, its ports, which can promote one cause over another), then
// every check that covers a finding's CHK IDs runs once, aimed at the
// prefix and device the findings name (cfg.Prefix wins), and each
// finding gets its own checks' outcomes; fix steps that need a fact
// (runbooks Step.When) are kept or replaced by what the machine says.
// fix is FixContext's, before the log was read.
func DiagnoseLive(ctx context.Context, cfg Config, m *runbooks.Matcher, fix runbooks.Context, timeout time.Duration) (*runbooks.Report, error) {
	r := m.Report()
	prefix, _ := findingsTarget(r)
	fix.LivePrefix = livePrefixFor(ctx, cfg, prefix)
	fix.Ports = livePorts(ctx, cfg, cmp.Or(cfg.Prefix, prefix, fix.LivePrefix), timeout)
	fix.LiveDevice = onlyPort(fix.Ports)
	m.SetContext(fix)
	r = m.Report()
	// Aimed as the findings read now: a live fact may have promoted one.
	prefix, device := findingsTarget(r)
	if cfg.Prefix == "" && prefix != "" {
		// Not a flag the operator typed: the checks say where it came from.
		cfg.PrefixFrom = target.ViaLog
	}
	if err := verifyFindings(ctx, cfg, r, timeout, fix, cmp.Or(cfg.Prefix, prefix), device); err != nil {
		return nil, err
	}
	h := NewEnv(cfg).h
	for i := range r.Findings {
		f := &r.Findings[i]
		f.Gate(func(when string) (bool, bool, string) { return liveFact(h, f, when) })
	}
	return r, nil
}

// runtimeDirPrefix is the prefix of the runtime dir a finding names (a
// log that names only the dir, secondary-hugepage-info-missing, still
// names its primary: adv3 F23); the catalogue's placeholder is none.
func runtimeDirPrefix(dir string) string {
	if p := host.RuntimeDirPrefix(dir); !strings.HasPrefix(p, "<") {
		return p
	}
	return ""
}

// findingsTarget is the prefix and the device the findings name, the
// first finding that names one first. The tool's prefix is the one to
// check: the prefix check then says whether it is live and which prefixes
// are. device_id is the device the capture asked for; a bare device may
// be one the tool merely probed.
func findingsTarget(r *runbooks.Report) (prefix, device string) {
	for _, f := range r.Findings {
		if prefix == "" {
			prefix = cmp.Or(f.Values["prefix"], f.Values["primary_prefix"], runtimeDirPrefix(f.Values["runtime_dir"]))
		}
		if device == "" {
			device = cmp.Or(f.Values["device_id"], f.Values["device"])
		}
	}
	return prefix, device
}

// verifyFindings runs, once, every check that covers a CHK ID of a
// finding, aimed at prefix and device, and gives each finding the outcomes
// of its own checks. A failing check confirms a finding; the check's own
// text names what is live instead.
func verifyFindings(ctx context.Context, cfg Config, r *runbooks.Report, timeout time.Duration, fix runbooks.Context, prefix, device string) error {
	var chks []string
	for _, f := range r.Findings {
		for _, c := range f.Checks {
			if len(Covering(c)) > 0 && !slices.Contains(chks, c) {
				chks = append(chks, c)
			}
		}
	}
	if len(chks) == 0 {
		return nil
	}
	cfg.Prefix, cfg.Device = prefix, device
	rep, err := Run(ctx, NewEnv(cfg), Options{Only: chks, Timeout: timeout})
	if err != nil {
		return fmt.Errorf("running checks: %w", err)
	}
	for i := range r.Findings {
		f := &r.Findings[i]
		var outs []runbooks.CheckOutcome
		for _, res := range rep.Results {
			if !coversAny(res.Covers, f.Checks) {
				continue
			}
			o := runbooks.CheckOutcome{ID: res.ID, Covers: res.Covers, Status: string(res.Status), Finding: res.Finding, Details: res.Details}
			if res.Fix != nil {
				o.Fix = res.Fix.Text
				// The checks' commands name the pdump this machine has too.
				for _, c := range res.Fix.Commands {
					o.Commands = append(o.Commands, fix.Command(c, prefix))
				}
			}
			outs = append(outs, o)
		}
		if len(f.Checks) > 0 {
			f.Verify(outs)
		}
	}
	return nil
}

func coversAny(covers, want []string) bool {
	for _, c := range covers {
		if slices.Contains(want, c) {
			return true
		}
	}
	return false
}

// liveFact reads on this machine the fact a fix step needs (runbooks
// Step.When). prefix-dead: the finding's runtime dir exists and no process
// holds its config lock; a live, unreadable or missing dir is not dead.
func liveFact(h *host.Host, f *runbooks.Finding, when string) (holds, ok bool, why string) {
	switch when {
	case "prefix-dead":
		dir := f.Values["path"]
		if dir == "" {
			return false, false, ""
		}
		p, err := h.ScanPrefix(dir)
		if err != nil {
			return false, true, fmt.Sprintf("%s is gone already: nothing to remove.", dir)
		}
		switch p.State {
		case host.PrefixStale:
			return true, true, ""
		case host.PrefixLive:
			holder := "a process"
			if hl := p.Lock.Holder; hl != nil && hl.PID > 0 {
				holder = fmt.Sprintf("pid %d", hl.PID)
			}
			return false, true, fmt.Sprintf("Keep %s: %s holds its config lock, so it is live, not stale.", dir, holder)
		}
		return false, true, fmt.Sprintf("Keep %s: it is not a stale primary's dir (%s).", dir, prefixStateWords(p.State))
	}
	return false, false, ""
}

func prefixStateWords(state host.PrefixState) string {
	switch state {
	case host.PrefixNoConfig:
		return "it has no config file"
	case host.PrefixUnknown:
		return "its lock could not be read"
	}
	return string(state)
}

// livePrefixFor names the live primary a fix that asks for the primary's
// prefix means: the one live primary this machine has (the runtime dirs
// as check reads them) or, with several, the one whose prefix the log's
// (logPrefix, when it has no live primary itself) is an unambiguous typo
// of. Otherwise "" and the fix keeps asking.
func livePrefixFor(ctx context.Context, cfg Config, logPrefix string) string {
	rt, err := NewEnv(cfg).Runtime(ctx)
	if err != nil {
		return ""
	}
	var live []string
	for _, p := range rt.Live() {
		if !slices.Contains(live, p.Name) {
			live = append(live, p.Name)
		}
	}
	switch {
	case len(live) == 1:
		return live[0]
	case logPrefix == "" || slices.Contains(live, logPrefix):
		return ""
	}
	return NearestPrefix(live, logPrefix)
}

// livePorts are the ports of the primary on prefix, from its telemetry,
// without pdump's own vdevs; nil when they cannot be read (the log alone
// then decides between causes it cannot tell apart).
func livePorts(ctx context.Context, cfg Config, prefix string, timeout time.Duration) []runbooks.LivePort {
	if prefix == "" {
		return nil
	}
	cfg.Prefix = prefix
	tctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	t, err := NewEnv(cfg).Telemetry(tctx)
	if err != nil || t == nil {
		return nil
	}
	ports := []runbooks.LivePort{}
	for _, p := range t.Ports {
		if p.Error != "" || strings.HasPrefix(p.Name, "net_pcap_") {
			continue
		}
		ports = append(ports, runbooks.LivePort{ID: p.ID, Name: p.Name, RxQueues: p.RxQueues, TxQueues: p.TxQueues})
	}
	return ports
}

// onlyPort names the primary's port when it has exactly one.
func onlyPort(ports []runbooks.LivePort) string {
	if len(ports) != 1 {
		return ""
	}
	return ports[0].Name
}
