package main

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gzdoctor/gzdoctor/doctor"
	"github.com/gzdoctor/gzdoctor/host"
	"github.com/gzdoctor/gzdoctor/internal/duration"
	"github.com/gzdoctor/gzdoctor/runbooks"
	"github.com/spf13/cobra"
)

type diagnoseOptions struct {
	inputs   []string
	runbooks []string
	live     bool
	timeout  time.Duration
}

func newDiagnoseCmd(a *app) *cobra.Command {
	o := &diagnoseOptions{}
	cmd := &cobra.Command{
		Use:   "diagnose [FILE...|-]",
		Short: "Name the cause of a failed capture from its log, with the evidence and the fix",
		Long: `diagnose reads the output of gazelle-pdump, dpdk-pdump, dpdk-dumpcap, lstack or ltran — files,
'-' or a pipe; on a terminal it asks you to paste — and names each known cause, the lines that
prove it, the values it found (prefix, device, path, errno) and the fix with them filled in.
Root causes come before the messages they explain. Give the tool's log and the primary's log
together when you have both: some causes are told apart only by the primary's side.

With --live, each finding's checks (the CHK IDs of 'gzdoctor check') run on this machine, aimed
at the prefix and device the log names, and say whether they confirm it: for a wrong prefix,
which prefixes are live; for a device mismatch, the devices the primary drives.

Exit 0 when no known cause was found (the lines that look like errors are listed), 1 when at
least one was, 3 when a file could not be read.`,
		Example: `  gazelle-pdump --file-prefix gazelle -- --pdump '...' 2>&1 | gzdoctor diagnose
  gzdoctor diagnose pdump.log ltran.log
  journalctl -u myapp -b | gzdoctor diagnose -o json
  gzdoctor diagnose --live pdump.log`,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.inputs = args
			return runDiagnose(a, cmd, o)
		},
	}
	a.bindTarget(cmd)
	cmd.Flags().StringArrayVar(&o.runbooks, "runbooks", nil, "also load the runbook YAML files in `DIR` (repeatable)")
	_ = cmd.MarkFlagDirname("runbooks")
	cmd.Flags().BoolVar(&o.live, "live", false, "confirm or refute each finding with its checks on this machine (or under --root)")
	duration.Var(cmd.Flags(), &o.timeout, "timeout", doctor.DefaultTimeout, "with --live: time limit for the whole run of checks, as check --timeout (not per check)")
	return cmd
}

func runDiagnose(a *app, cmd *cobra.Command, o *diagnoseOptions) error {
	c, err := runbooks.Load(o.runbooks...)
	if err != nil {
		return failure(err)
	}
	ctx := cmd.Context()
	m := c.NewMatcher()
	dctx := diagnoseContext(a)
	m.SetContext(dctx)
	inputs := o.inputs
	if len(inputs) == 0 {
		inputs = []string{"-"}
		if a.streams.InTTY {
			fmt.Fprintln(a.streams.Err, "Paste the log, then press Ctrl+D on an empty line (Ctrl+C to give up):")
		}
	}
	stdinUsed := false
	for _, in := range inputs {
		if in == "-" {
			if stdinUsed {
				return usageError("'-' (stdin) given twice")
			}
			stdinUsed = true
			m.SetSource("stdin")
			if err := m.ReadFrom(ctx, a.streams.In); err != nil {
				return failure(fmt.Errorf("reading stdin: %w", err))
			}
			continue
		}
		if err := diagnoseFile(ctx, m, in); err != nil {
			return failure(err)
		}
	}
	if err := ctx.Err(); err != nil {
		return failure(err)
	}
	r := m.Report()
	if o.live && len(r.Findings) > 0 {
		if o.timeout <= 0 {
			return usageError("--timeout must be positive, got %s", o.timeout)
		}
		// What the machine says fills what the log could not: the one
		// live primary's prefix, and its one port.
		dctx.LivePrefix = livePrefixFor(a, targetPrefix(r))
		dctx.Ports = livePorts(ctx, a, cmp.Or(a.opts.Prefix, targetPrefix(r), dctx.LivePrefix), o.timeout)
		dctx.LiveDevice = onlyPort(dctx.Ports)
		m.SetContext(dctx)
		r = m.Report()
		if err := verifyLive(ctx, a, r, o.timeout, dctx); err != nil {
			return failure(err)
		}
		for i := range r.Findings {
			f := &r.Findings[i]
			f.Gate(func(when string) (bool, bool, string) { return liveFact(a, f, when) })
		}
	}
	if err := a.render("diagnose", r); err != nil {
		return failure(err)
	}
	if len(r.Findings) > 0 {
		return errProblemFound
	}
	return nil
}

func diagnoseFile(ctx context.Context, m *runbooks.Matcher, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err // *PathError already names the file
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.IsDir() {
		return fmt.Errorf("%s is a directory", path)
	}
	m.SetSource(path)
	if err := m.ReadFrom(ctx, f); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// verifyLive runs, once, every check that covers a CHK ID of a finding,
// aimed at the prefix and device the log names (--prefix wins), and gives
// each finding the outcomes of its own checks. A failing check confirms a
// finding; the check's own text names what is live instead.
func verifyLive(ctx context.Context, a *app, r *runbooks.Report, timeout time.Duration, fixCtx runbooks.Context) error {
	var chks []string
	prefix, device := a.opts.Prefix, ""
	for _, f := range r.Findings {
		for _, c := range f.Checks {
			if len(doctor.Covering(c)) > 0 && !slices.Contains(chks, c) {
				chks = append(chks, c)
			}
		}
		// The tool's prefix is the one to check: the prefix check then says
		// whether it is live and which prefixes are.
		if prefix == "" {
			prefix = cmp.Or(f.Values["prefix"], f.Values["primary_prefix"])
		}
		// device_id is the device the capture asked for; a bare device
		// may be one the tool merely probed.
		if device == "" {
			device = cmp.Or(f.Values["device_id"], f.Values["device"])
		}
	}
	if len(chks) == 0 {
		return nil
	}
	env := doctor.NewEnv(doctor.Config{Host: a.host(), Prefix: prefix, ConfigPath: a.opts.Config, Device: device})
	rep, err := doctor.Run(ctx, env, doctor.Options{Only: chks, Timeout: timeout})
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
					o.Commands = append(o.Commands, fixCtx.Command(c, prefix))
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

// liveFact reads on this machine the fact a fix step needs (runbooks
// Step.When). prefix-dead: the finding's runtime dir exists and no process
// holds its config lock; a live, unreadable or missing dir is not dead.
func liveFact(a *app, f *runbooks.Finding, when string) (holds, ok bool, why string) {
	switch when {
	case "prefix-dead":
		dir := f.Values["path"]
		if dir == "" {
			return false, false, ""
		}
		p, err := a.host().ScanPrefix(dir)
		if err != nil {
			return false, true, fmt.Sprintf("%s is gone already: nothing to remove.", dir)
		}
		switch p.State {
		case "stale":
			return true, true, ""
		case "live":
			holder := "a process"
			if h := p.Lock.Holder; h != nil && h.PID > 0 {
				holder = fmt.Sprintf("pid %d", h.PID)
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

func coversAny(covers, want []string) bool {
	for _, c := range covers {
		if slices.Contains(want, c) {
			return true
		}
	}
	return false
}

// diagnoseContext is what the operator told gzdoctor and what this machine
// has, for the fixes to print: --prefix (and its runtime dir for this
// user) and the pdump that is installed.
func diagnoseContext(a *app) runbooks.Context {
	ctx := runbooks.Context{Prefix: a.opts.Prefix, LookPath: programLookup(a.host())}
	if ctx.Prefix != "" {
		ctx.RuntimeDir = host.RuntimeBase(os.Geteuid(), runtimeEnv()) + "/" + ctx.Prefix
	}
	return ctx
}

// livePrefixFor names the live primary a fix that asks for the primary's
// prefix means: the one live primary this machine has or, with several,
// the one whose prefix the log's (logPrefix, when it has no live primary
// itself) is an unambiguous typo of. Otherwise "" and the fix keeps asking.
func livePrefixFor(a *app, logPrefix string) string {
	h := a.host()
	ps, err := h.Prefixes(h.RuntimeBases(os.Geteuid(), runtimeEnv()))
	if err != nil {
		return ""
	}
	var live []string
	for _, p := range ps {
		if p.State == "live" && !slices.Contains(live, p.Name) {
			live = append(live, p.Name)
		}
	}
	switch {
	case len(live) == 1:
		return live[0]
	case logPrefix == "" || slices.Contains(live, logPrefix):
		return ""
	}
	return doctor.NearestPrefix(live, logPrefix)
}

// targetPrefix is the prefix the findings name, as verifyLive aims.
func targetPrefix(r *runbooks.Report) string {
	for _, f := range r.Findings {
		if p := cmp.Or(f.Values["prefix"], f.Values["primary_prefix"]); p != "" {
			return p
		}
	}
	return ""
}

// livePorts are the ports of the primary on prefix, from its telemetry,
// without pdump's own vdevs; nil when they cannot be read (the log alone
// then decides between causes it cannot tell apart).
func livePorts(ctx context.Context, a *app, prefix string, timeout time.Duration) []runbooks.LivePort {
	if prefix == "" {
		return nil
	}
	env := doctor.NewEnv(doctor.Config{Host: a.host(), Prefix: prefix, ConfigPath: a.opts.Config})
	tctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	t, err := env.Telemetry(tctx)
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

// runtimeEnv holds the variables that choose a user's DPDK runtime dir.
func runtimeEnv() map[string]string {
	env := map[string]string{}
	for _, k := range []string{"RUNTIME_DIRECTORY", "XDG_RUNTIME_DIR"} {
		if v, ok := os.LookupEnv(k); ok {
			env[k] = v
		}
	}
	return env
}

// programLookup says whether a program is installed on the machine being
// diagnosed: on PATH for the live machine, in the usual bin dirs under
// --root for a fixture tree.
func programLookup(h *host.Host) func(string) bool {
	return func(name string) bool {
		if h.Live() {
			_, err := exec.LookPath(name)
			return err == nil
		}
		for _, dir := range []string{"/usr/bin", "/usr/local/bin", "/usr/sbin", "/bin"} {
			if fi, err := os.Stat(h.Path(filepath.Join(dir, name))); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
				return true
			}
		}
		return false
	}
}
