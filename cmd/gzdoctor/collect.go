package main

import (
	"cmp"
	"context"
	"os"
	"path/filepath"
	"time"

	"github.com/gzdoctor/gzdoctor/collect"
	"github.com/gzdoctor/gzdoctor/doctor"
	"github.com/gzdoctor/gzdoctor/host"
	"github.com/gzdoctor/gzdoctor/internal/duration"
	"github.com/gzdoctor/gzdoctor/ui"
	"github.com/spf13/cobra"
)

type collectOptions struct {
	File      string
	Device    string
	PdumpBin  string
	Timeout   time.Duration
	MaxSize   int64
	Binaries  bool
	LogsSince time.Duration
}

func newCollectCmd(a *app) *cobra.Command {
	var o collectOptions
	cmd := &cobra.Command{
		Use:   "collect [-w FILE]",
		Short: "Write a support bundle that gzdoctor --root replays offline",
		Long: `collect writes a support bundle (tar.gz) of this machine: laid out as a --root
tree, it holds what gzdoctor check reads (the DPDK runtime dirs, the DPDK
processes' /proc files, sysfs PCI and hugepage files, hugetlbfs mounts, the
Gazelle configs), the telemetry answers, recent log lines about DPDK and
Gazelle, the live outputs of check, elfcheck and version, and a manifest of
what was taken and what was not, with why.

Unpacked, 'gzdoctor --root DIR check' gives the live verdicts offline; collect
replays its own bundle before writing it and lists in the manifest every check
whose replay differs. Never packet data, hugepage contents or process memory;
process environments are cut to the variables gzdoctor reads.

The file is written under a temporary name and renamed, mode 0600, and an
existing file is never overwritten.`,
		Example: `  gzdoctor collect
  gzdoctor collect --prefix gazelle -w /tmp/gz.tar.gz
  mkdir b && tar -xzf /tmp/gz.tar.gz -C b && gzdoctor --root b/gzdoctor-collect-* check`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runCollect(cmd.Context(), a, o)
		},
	}
	a.bindTarget(cmd)
	f := cmd.Flags()
	f.StringVarP(&o.File, "write", "w", "", "bundle file (default: gzdoctor-collect-HOST-TIME.tar.gz here)")
	f.StringVar(&o.Device, "device", "", "as check --device")
	f.StringVar(&o.PdumpBin, "pdump-bin", "", "as check --pdump-bin")
	duration.Var(f, &o.Timeout, "timeout", doctor.DefaultTimeout, "as check --timeout, for each check run")
	f.Int64Var(&o.MaxSize, "max-size", collect.DefaultMaxBytes, "limit in bytes for the machine files taken, before compression")
	f.BoolVar(&o.Binaries, "binaries", false, "take ELF files check reads too (executables, DPDK libraries), for an offline build-match")
	duration.Var(f, &o.LogsSince, "logs-since", time.Hour, "take log lines of this last period")
	return cmd
}

func runCollect(ctx context.Context, a *app, o collectOptions) error {
	if filepath.Clean(a.opts.Root) != "/" {
		return usageError("collect reads this machine: --root %s is for replaying a bundle (gzdoctor --root DIR check)", a.opts.Root)
	}
	if o.MaxSize <= 0 {
		return usageError("--max-size must be positive, got %d", o.MaxSize)
	}
	if o.LogsSince < 0 {
		return usageError("--logs-since must not be negative, got %s (the last hour is --logs-since 1h)", o.LogsSince)
	}
	// The bundle is not streamed: collect replays it before writing it and
	// prints where it went on stdout.
	if err := notStdout("-w", o.File, "give a FILE (./- if you mean that name)"); err != nil {
		return err
	}
	now := time.Now().UTC()
	hostname, _ := os.Hostname()
	name := collect.Name(hostname, now)
	file := cmp.Or(o.File, name+".tar.gz")
	if _, err := os.Lstat(file); err == nil {
		return usageError("%s exists: collect never overwrites a file (give another -w)", file)
	}
	dir := filepath.Dir(file)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return usageError("-w %s: %s is not a directory", file, dir)
	}
	ver, _ := buildVersion()
	res, err := collect.Run(ctx, collect.Request{
		File: file, Name: name, Hostname: hostname, Time: now, Version: ver, Command: append([]string{"gzdoctor"}, a.args...),
		Prefix: a.opts.Prefix, Config: a.opts.Config, Device: o.Device, PdumpBin: o.PdumpBin, Timeout: o.Timeout,
		MaxSize: o.MaxSize, Binaries: o.Binaries, LogsSince: o.LogsSince,
		Gzdoctor: inProcess,
	})
	if err != nil {
		return failure(err)
	}
	if err := a.render("collect", res); err != nil {
		return failure(err)
	}
	return nil
}

// inProcess runs gzdoctor args in this process, its host watched by rec,
// and returns what it printed (collect's outputs and replays).
func inProcess(ctx context.Context, rec host.Recorder, args []string) (int, []byte, string) {
	streams, _, out, errOut := ui.Test()
	code := execute(ctx, &app{streams: streams, args: args, recorder: rec, started: time.Now()}, args)
	return code, out.Bytes(), errOut.String()
}
