package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/gzdoctor/gzdoctor/doctor"
	"github.com/gzdoctor/gzdoctor/internal/atomicfile"
	"github.com/gzdoctor/gzdoctor/internal/duration"
	"github.com/gzdoctor/gzdoctor/internal/junit"
	"github.com/gzdoctor/gzdoctor/ui"
	"github.com/prometheus/client_golang/prometheus"
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
	AllPrefixes bool
	FailOn      string
	ExitZero    bool
	TextfileDir string
	JUnit       string
}

// textfileName is the file --textfile-dir writes: node_exporter's textfile
// collector reads every *.prom in its directory.
const textfileName = "gzdoctor.prom"

func newCheckCmd(a *app) *cobra.Command {
	var o checkOptions
	cmd := &cobra.Command{
		Use:   "check [flags]",
		Short: "Find everything that will make a capture fail, before it starts",
		Long: `check inspects the DPDK runtime dirs, the primary (lstack or ltran), the device,
the pcap PMD, pdump, the capture tool's build, hugepages, permissions and the
Gazelle config, and prints one line per check with the fix under each failure.

Checks are named by ID (see --list); --only and --skip also accept the
reference IDs CHK-01 … CHK-16. --all-prefixes checks every running primary
(ltran and its lstack applications, or several lstack applications), one
report each. Exit status 1 when a check failed or could not run (--fail-on
changes which results count; --exit-zero: none), 0 otherwise.

For fleets: -o prometheus prints the Prometheus text format, --textfile-dir
writes it to DIR/gzdoctor.prom for node_exporter's textfile collector, and
--junit writes a JUnit XML report (docs/fleet.md).`,
		Example: `  gzdoctor check
  gzdoctor check --prefix gazelle --device 0000:01:00.0
  gzdoctor check --all-prefixes
  gzdoctor check --only prefix,primary -o json
  gzdoctor check --only CHK-02 -v
  gzdoctor check --all-prefixes -q --exit-zero --textfile-dir /var/lib/prometheus/node-exporter
  gzdoctor check --all-prefixes --junit gzdoctor-check.xml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runCheck(cmd, a, o)
		},
	}
	a.bindTarget(cmd)
	f := cmd.Flags()
	f.StringVar(&o.Device, "device", "", "device to capture on: PCI address or vdev name (pdump's device_id)")
	f.StringVar(&o.PdumpBin, "pdump-bin", "", "capture tool to check (default: gazelle-pdump, dpdk-pdump or dpdk-dumpcap on PATH)")
	f.StringVar(&o.CaptureFile, "capture-file", "", "where the capture will write (checks the primary can write there)")
	f.StringSliceVar(&o.Only, "only", nil, "run only these checks (IDs or CHK-nn, comma-separated)")
	f.StringSliceVar(&o.Skip, "skip", nil, "do not run these checks (IDs or CHK-nn)")
	duration.Var(f, &o.Timeout, "timeout", doctor.DefaultTimeout, "time limit for the whole run (a hung socket or process costs at most this)")
	f.BoolVar(&o.List, "list", false, "list the checks and exit")
	_ = cmd.RegisterFlagCompletionFunc("device", a.completeDevices(true))
	_ = cmd.RegisterFlagCompletionFunc("only", completeCheckIDs)
	_ = cmd.RegisterFlagCompletionFunc("skip", completeCheckIDs)
	f.BoolVar(&o.AllPrefixes, "all-prefixes", false, "check every running primary, one report per prefix")
	f.StringVar(&o.FailOn, "fail-on", doctor.FailOnFail, "which results make the exit status 1: `warn`, fail (failed or could not run) or never")
	f.BoolVar(&o.ExitZero, "exit-zero", false, "exit 0 whatever the checks found (same as --fail-on never): for timers and config management")
	f.StringVar(&o.TextfileDir, "textfile-dir", "", "also write the Prometheus series to `DIR`/gzdoctor.prom, atomically (node_exporter's textfile collector)")
	f.StringVar(&o.JUnit, "junit", "", "also write the results as JUnit XML to `FILE`, atomically")
	_ = cmd.RegisterFlagCompletionFunc("fail-on", cobra.FixedCompletions([]string{doctor.FailOnWarn, doctor.FailOnFail, doctor.FailOnNever}, cobra.ShellCompDirectiveNoFileComp))
	cmd.MarkFlagsMutuallyExclusive("all-prefixes", "device")
	cmd.MarkFlagsMutuallyExclusive("exit-zero", "fail-on")
	cmd.MarkFlagsMutuallyExclusive("list", "textfile-dir")
	cmd.MarkFlagsMutuallyExclusive("list", "junit")
	_ = cmd.MarkFlagDirname("textfile-dir")
	_ = cmd.MarkFlagFilename("junit", "xml")
	return cmd
}

// checkResult is what check hands the renderer: a report, or one per
// prefix with --all-prefixes.
type checkResult interface {
	ui.TextRenderer
	RegisterMetrics(prometheus.Registerer) error
	FailsOn(policy string) bool
}

func runCheck(cmd *cobra.Command, a *app, o checkOptions) error {
	if o.List {
		if a.format == ui.FormatPrometheus {
			return usageError("--list has no prometheus form: use -o json")
		}
		return a.render("check", doctor.List())
	}
	if o.Timeout <= 0 {
		return usageError("--timeout must be positive, got %s", o.Timeout)
	}
	policy, err := doctor.ParseFailOn(o.FailOn)
	if err != nil {
		return usageError("%v", err)
	}
	if o.ExitZero {
		policy = doctor.FailOnNever
	}
	if o.AllPrefixes && a.opts.Prefix != "" {
		return usageError("--all-prefixes checks every running primary: drop --prefix, or drop --all-prefixes to check one")
	}
	if err := notStdout("--textfile-dir", o.TextfileDir, "-o prometheus prints the series on stdout"); err != nil {
		return err
	}
	if err := notStdout("--junit", o.JUnit, "give a FILE (./- if you mean that name)"); err != nil {
		return err
	}
	// Refuse an output that cannot be written before running anything: a
	// timer's broken --textfile-dir must not look like a healthy run.
	if o.TextfileDir != "" {
		if fi, err := os.Stat(o.TextfileDir); err != nil || !fi.IsDir() {
			return usageError("--textfile-dir %s: not a directory", o.TextfileDir)
		}
	}
	if o.JUnit != "" {
		if fi, err := os.Stat(filepath.Dir(o.JUnit)); err != nil || !fi.IsDir() {
			return usageError("--junit %s: %s is not a directory", o.JUnit, filepath.Dir(o.JUnit))
		}
		if fi, err := os.Stat(o.JUnit); err == nil && fi.IsDir() {
			return usageError("--junit %s: is a directory", o.JUnit)
		}
	}
	cfg := doctor.Config{
		Host:        a.host(),
		Prefix:      a.opts.Prefix,
		ConfigPath:  a.opts.Config,
		Device:      o.Device,
		PdumpBin:    o.PdumpBin,
		CaptureFile: o.CaptureFile,
	}
	opts := doctor.Options{Only: o.Only, Skip: o.Skip, Timeout: o.Timeout, Machine: true}
	var res checkResult
	var suites []junit.Suite
	meta := a.meta()
	if o.AllPrefixes {
		all, err := doctor.RunAll(cmd.Context(), cfg, opts)
		var scan *doctor.ScanError
		if errors.As(err, &scan) {
			return failure(err)
		}
		if err != nil {
			return usageError("%v", err)
		}
		res, suites = all, all.JUnit(meta.Host, meta.Time, policy)
	} else {
		rep, err := doctor.Run(cmd.Context(), doctor.NewEnv(cfg), opts)
		if err != nil {
			return usageError("%v", err)
		}
		res, suites = rep, []junit.Suite{rep.JUnit(meta.Host, meta.Time, policy)}
	}
	// The files first: a report on stdout that a closed pipe cut short
	// must not cost the timer its textfile.
	if o.TextfileDir != "" {
		reg, err := ui.Metrics(res, meta)
		if err != nil {
			return failure(err)
		}
		// The client's own text encoder (what its WriteToTextfile uses),
		// under the project's one durability rule (internal/atomicfile):
		// WriteToTextfile syncs neither the file nor the directory, so a
		// crash could leave node_exporter an empty gzdoctor.prom. The
		// temporary name (.gzdoctor.prom.gzdoctor-tmp-N) does not end in
		// .prom: the collector ignores it.
		if err := atomicfile.Write(filepath.Join(o.TextfileDir, textfileName), 0o644, true, func(w io.Writer) error {
			return ui.WriteMetrics(w, reg)
		}); err != nil {
			return failure(fmt.Errorf("--textfile-dir: %w", err))
		}
	}
	if o.JUnit != "" {
		if err := junit.WriteFile(o.JUnit, "gzdoctor check", suites...); err != nil {
			return failure(fmt.Errorf("--junit: %w", err))
		}
	}
	if err := a.render("check", res); err != nil {
		return failure(err)
	}
	if res.FailsOn(policy) {
		return errProblemFound
	}
	return nil
}
