package main

import (
	"fmt"
	"slices"
	"time"

	"github.com/gzdoctor/gzdoctor/doctor"
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
	if i := slices.Index(o.inputs, "-"); i >= 0 && slices.Contains(o.inputs[i+1:], "-") {
		return usageError("'-' (stdin) given twice")
	}
	c, err := runbooks.Load(o.runbooks...)
	if err != nil {
		return failure(err)
	}
	ctx := cmd.Context()
	m := c.NewMatcher()
	cfg := doctor.Config{Host: a.host(), Prefix: a.opts.Prefix, ConfigPath: a.opts.Config}
	fix := doctor.FixContext(cfg)
	m.SetContext(fix)
	inputs := o.inputs
	if len(inputs) == 0 {
		inputs = []string{"-"}
		if a.streams.InTTY {
			fmt.Fprintln(a.streams.Err, "Paste the log, then press Ctrl+D on an empty line (Ctrl+C to give up):")
		}
	}
	if err := m.ReadInputs(ctx, inputs, a.streams.In); err != nil {
		return failure(err)
	}
	r := m.Report()
	if o.live && len(r.Findings) > 0 {
		if o.timeout <= 0 {
			return usageError("--timeout must be positive, got %s", o.timeout)
		}
		if r, err = doctor.DiagnoseLive(ctx, cfg, m, fix, o.timeout); err != nil {
			return failure(err)
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
