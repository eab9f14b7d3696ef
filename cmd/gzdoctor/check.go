package main

import (
	"time"

	"github.com/gzdoctor/gzdoctor/doctor"
	"github.com/spf13/cobra"
)

type checkOptions struct {
	Device      string
	PdumpBin    string
	CaptureFile string
	Only        []string
	Skip        []string
	Timeout     time.Duration
	List        bool
}

func newCheckCmd(a *app) *cobra.Command {
	var o checkOptions
	cmd := &cobra.Command{
		Use:   "check [flags]",
		Short: "Find everything that will make a capture fail, before it starts",
		Long: `check inspects the DPDK runtime dirs, the primary (lstack or ltran), the device,
the pcap PMD, pdump, the capture tool's build, hugepages, permissions and the
Gazelle config, and prints one line per check with the fix under each failure.

Checks are named by ID (see --list); --only and --skip also accept the
reference IDs CHK-01 … CHK-16. Exit status 1 when a check failed or could not
run, 0 otherwise.`,
		Example: `  gzdoctor check
  gzdoctor check --prefix gazelle --device 0000:01:00.0
  gzdoctor check --only prefix,primary -o json
  gzdoctor check --only CHK-02 -v`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runCheck(cmd, a, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Device, "device", "", "device to capture on: PCI address or vdev name (pdump's device_id)")
	f.StringVar(&o.PdumpBin, "pdump-bin", "", "capture tool to check (default: gazelle-pdump, dpdk-pdump or dpdk-dumpcap on PATH)")
	f.StringVar(&o.CaptureFile, "capture-file", "", "where the capture will write (checks the primary can write there)")
	f.StringSliceVar(&o.Only, "only", nil, "run only these checks (IDs or CHK-nn, comma-separated)")
	f.StringSliceVar(&o.Skip, "skip", nil, "do not run these checks (IDs or CHK-nn)")
	f.DurationVar(&o.Timeout, "timeout", doctor.DefaultTimeout, "time limit for the whole run (a hung socket or process costs at most this)")
	f.BoolVar(&o.List, "list", false, "list the checks and exit")
	_ = cmd.RegisterFlagCompletionFunc("device", a.completeDevices(true))
	_ = cmd.RegisterFlagCompletionFunc("only", completeCheckIDs)
	_ = cmd.RegisterFlagCompletionFunc("skip", completeCheckIDs)
	return cmd
}

func runCheck(cmd *cobra.Command, a *app, o checkOptions) error {
	if o.List {
		return a.render("check", doctor.List())
	}
	if o.Timeout <= 0 {
		return usageError("--timeout must be positive, got %s", o.Timeout)
	}
	env := doctor.NewEnv(doctor.Config{
		Host:        a.host(),
		Prefix:      a.opts.Prefix,
		ConfigPath:  a.opts.Config,
		Device:      o.Device,
		PdumpBin:    o.PdumpBin,
		CaptureFile: o.CaptureFile,
	})
	rep, err := doctor.Run(cmd.Context(), env, doctor.Options{Only: o.Only, Skip: o.Skip, Timeout: o.Timeout})
	if err != nil {
		return usageError("%v", err)
	}
	if err := a.render("check", rep); err != nil {
		return failure(err)
	}
	if rep.Failed() {
		return errProblemFound
	}
	return nil
}
