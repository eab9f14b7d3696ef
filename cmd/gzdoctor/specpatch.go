package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gzdoctor/gzdoctor/internal/junit"
	"github.com/gzdoctor/gzdoctor/specpatch"
	"github.com/spf13/cobra"
)

type specpatchOptions struct {
	Spec     string
	Write    bool
	Backup   bool
	Out      string
	Check    bool
	Bump     string
	Packager string
	Branch   string
	Force    bool
	JUnit    string
}

func newSpecpatchCmd(a *app) *cobra.Command {
	o := &specpatchOptions{}
	cmd := &cobra.Command{
		Use:   "specpatch SPEC",
		Short: "Make a dpdk.spec build and package the pcap PMD and dpdk-pdump",
		Long: `specpatch reads an RPM dpdk.spec, finds how it configures DPDK (make + sed,
make + setconf, make + a config file from a Source, meson, %meson, shell-array
allowlists) and shows the smallest change that makes it build and package the
pcap PMD and dpdk-pdump, as a unified diff with one line of explanation per
change. Nothing is written unless --in-place or --out is given.

-o is the global output format (text or json); write the patched spec to
another file with --out (-O).

Exit codes: 0 nothing to change, or the change was shown/written; 1 with
--check when a change is needed, or when something specpatch cannot change
keeps pdump out (a source patch that drops app/); 3 when the file is not a
spec specpatch can read (nothing is written then).`,
		Example: `  gzdoctor specpatch dpdk.spec
  gzdoctor specpatch --check dpdk.spec
  gzdoctor specpatch --check --junit specpatch.xml dpdk.spec
  gzdoctor specpatch --in-place --backup --bump "Build the pcap PMD and pdump for gazelle" dpdk.spec
  gzdoctor specpatch --out dpdk-pcap.spec dpdk.spec`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Spec = args[0]
			return runSpecpatch(cmd.Context(), a, o)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.Write, "in-place", false, "write the patched spec in place (atomically, keeping its owner and mode)")
	// The spelling of the first releases: -w/--write names an output file
	// and -i a device everywhere else (docs/design.md, one vocabulary).
	f.BoolVarP(&o.Write, "write", "i", false, "same as --in-place")
	_ = f.MarkHidden("write")
	f.BoolVar(&o.Backup, "backup", false, "with --in-place, keep the original as SPEC.orig")
	f.StringVarP(&o.Out, "out", "O", "", "write the patched spec to this new file instead (-o is the output format)")
	f.BoolVar(&o.Force, "force", false, "with --out, replace the file if it exists")
	f.BoolVar(&o.Check, "check", false, "change nothing; exit 1 if the spec needs a change, 0 if not")
	f.StringVar(&o.Bump, "bump", "", "when something changes, bump Release and add this %changelog entry")
	f.StringVar(&o.Packager, "packager", "", `%changelog author "Name <email>" (default: RPM_PACKAGER, then git config)`)
	f.StringVar(&o.JUnit, "junit", "", "with --check, also write the findings as JUnit XML to `FILE`, atomically")
	f.StringVar(&o.Branch, "branch", "", "edit only the %if/%ifarch arms whose directive contains this text (e.g. \"%ifarch aarch64\")")
	for _, w := range []string{"in-place", "write"} {
		cmd.MarkFlagsMutuallyExclusive("check", w)
		cmd.MarkFlagsMutuallyExclusive(w, "out")
	}
	return cmd
}

func runSpecpatch(ctx context.Context, a *app, o *specpatchOptions) error {
	if o.Backup && !o.Write {
		return usageError("--backup needs --in-place")
	}
	if o.Force && o.Out == "" {
		return usageError("--force needs --out")
	}
	if o.JUnit != "" && !o.Check {
		return usageError("--junit needs --check")
	}
	if err := notStdout("--junit", o.JUnit, "give a FILE (./- if you mean that name)"); err != nil {
		return err
	}
	res, err := specpatch.Apply(ctx, specpatch.Request{
		Spec: o.Spec, Branch: o.Branch, Bump: o.Bump, Packager: o.Packager, Check: o.Check,
		InPlace: o.Write, Backup: o.Backup, Out: o.Out, Force: o.Force, Now: time.Now(),
	})
	if errors.Is(err, specpatch.ErrExists) && o.Out != "" {
		return usageError("%s exists; specpatch never replaces a file (use --force, or another --out); nothing was written", o.Out)
	}
	if err != nil {
		return failure(err)
	}
	if o.JUnit != "" {
		meta := a.meta()
		if err := junit.WriteFile(o.JUnit, "gzdoctor specpatch", res.JUnit(meta.Host, meta.Time, time.Since(meta.Time))); err != nil {
			return failure(fmt.Errorf("--junit: %w", err))
		}
	}
	if err := a.render("specpatch", res); err != nil {
		return failure(err)
	}
	switch {
	case res.Verdict == specpatch.VerdictBlocked:
		return errProblemFound
	case o.Check && res.Verdict != specpatch.VerdictGood:
		return errProblemFound
	}
	return nil
}
