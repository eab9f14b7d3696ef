package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/gzdoctor/gzdoctor/elfcheck"
	"github.com/gzdoctor/gzdoctor/internal/junit"
	"github.com/spf13/cobra"
)

type elfcheckOptions struct {
	Flat          bool
	Require       string
	JUnit         string
	Match         string
	LinkLine      string
	SuggestPdump  string
	Symbols       bool
	Filter        string
	PID           int
	EALArgs       string
	LDLibraryPath string
	Platform      string
}

func newElfcheckCmd(a *app) *cobra.Command {
	var o elfcheckOptions
	cmd := &cobra.Command{
		Use:   "elfcheck [FILE...]",
		Short: "Show what lstack, ltran and gazelle-pdump are really linked with, without running them",
		Long: `elfcheck reads ELF executables and shared objects (never executing them) and shows
their dependency tree with the dynamic loader's rules, under --root; the DPDK they
carry (librte libraries and ABI, static DPDK, drivers, the EAL plugin directory);
whether the pcap PMD is reachable and rte_pdump_init referenced; and, with --match,
whether a capture tool can attach to a primary.

Exit codes: 0 fine, 1 a problem or an unmet --require, 2 usage, 3 a file is not
ELF or cannot be read. See docs/elfcheck.md.`,
		Example: `  gzdoctor elfcheck /usr/lib64/liblstack.so
  gzdoctor elfcheck --require pcap-pmd,pdump,dpdk=22.11 --junit elf.xml build/ltran
  gzdoctor elfcheck --match /usr/local/bin/gazelle-pdump /usr/bin/ltran
  gzdoctor elfcheck --suggest-pdump-link /usr/lib64/liblstack.so
  gzdoctor elfcheck --link-line build.log /usr/lib64/liblstack.so
  gzdoctor elfcheck --symbols --regexp 'socket|epoll' ./app
  gzdoctor elfcheck --pid 1234`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runElfcheck(cmd, a, &o, args)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.Flat, "flat", false, "a flat list of resolved paths in load order instead of the tree")
	f.StringVar(&o.Require, "require", "", "CI gate: comma-separated pcap-pmd, pdump, dpdk=VERSION, deps")
	f.StringVar(&o.JUnit, "junit", "", "write the --require results as JUnit XML to `FILE`")
	f.StringVar(&o.Match, "match", "", "compare FILE (the primary) with this capture tool `OTHER` (gazelle-pdump)")
	f.StringVar(&o.LinkLine, "link-line", "", "check the gcc/ld command line in `FILE` (- for stdin), against FILE if given")
	f.StringVar(&o.SuggestPdump, "suggest-pdump-link", "", "print the gazelle-pdump link command matching `LIB` (liblstack.so, ltran)")
	f.BoolVar(&o.Symbols, "symbols", false, "list the dynamic symbols, C++ names demangled")
	f.StringVar(&o.Filter, "regexp", "", "with --symbols: keep names matching this `REGEXP`")
	// The first releases' spelling; --filter is a tcpdump expression in
	// capture and pcap (docs/design.md, one vocabulary).
	f.StringVar(&o.Filter, "filter", "", "same as --regexp")
	_ = f.MarkHidden("filter")
	f.IntVar(&o.PID, "pid", 0, "inspect running process `N`: its executable and the libraries it mapped")
	f.StringVar(&o.EALArgs, "eal-args", "", "EAL arguments the primary runs with (their -d options load drivers)")
	f.StringVar(&o.LDLibraryPath, "ld-library-path", "", "search these `DIRS` like LD_LIBRARY_PATH (never taken from the environment)")
	f.StringVar(&o.Platform, "platform", "", "value of $PLATFORM (default: from the ELF machine)")
	cmd.MarkFlagsMutuallyExclusive("symbols", "suggest-pdump-link", "pid")
	// --symbols and --suggest-pdump-link are modes of their own: the
	// report's flags would be dropped without a word, and a CI gate
	// (--require) would pass having checked nothing.
	for _, mode := range []string{"symbols", "suggest-pdump-link"} {
		for _, report := range []string{"require", "match", "link-line", "flat"} {
			cmd.MarkFlagsMutuallyExclusive(mode, report)
		}
	}
	return cmd
}

func runElfcheck(cmd *cobra.Command, a *app, o *elfcheckOptions, args []string) error {
	ctx := cmd.Context()
	opts := elfcheck.Options{Root: a.opts.Root, LDLibraryPath: o.LDLibraryPath, Platform: o.Platform, RealPaths: a.opts.Output == "json" || a.opts.Verbose}
	if o.EALArgs != "" {
		opts.EALArgs = strings.Fields(o.EALArgs)
	}
	if o.Filter != "" && !o.Symbols {
		return usageError("--regexp needs --symbols")
	}
	if o.JUnit != "" && o.Require == "" {
		return usageError("--junit needs --require")
	}
	if err := notStdout("--junit", o.JUnit, "give a FILE (./- if you mean that name)"); err != nil {
		return err
	}

	switch {
	case o.Symbols:
		if len(args) != 1 {
			return usageError("--symbols takes exactly one FILE")
		}
		var re *regexp.Regexp
		if o.Filter != "" {
			var err error
			if re, err = regexp.Compile(o.Filter); err != nil {
				return usageError("--regexp: %v", err)
			}
		}
		list, err := elfcheck.DynamicSymbols(ctx, a.opts.Root, elfcheckPath(a, args[0]), re)
		if err != nil {
			return failure(err)
		}
		return a.render("elfcheck", list)
	case o.SuggestPdump != "":
		if len(args) > 0 {
			return usageError("--suggest-pdump-link takes no FILE")
		}
		pl, err := elfcheck.SuggestPdump(ctx, elfcheckPath(a, o.SuggestPdump), opts)
		if err != nil {
			return failure(err)
		}
		return a.render("elfcheck", pl)
	}

	req := elfcheck.Request{PID: o.PID, Match: o.Match, Flat: o.Flat, Options: opts}
	if o.Require != "" {
		var err error
		if req.Require, err = elfcheck.ParseRequirements(o.Require); err != nil {
			return usageError("--require: %v", err)
		}
	}
	reports := len(args)
	if o.PID != 0 {
		reports++
	}
	switch {
	case o.PID != 0 && len(args) > 0:
		return usageError("--pid takes no FILE")
	case o.PID == 0 && len(args) == 0 && o.LinkLine == "":
		return usageError("give at least one FILE, --pid, or --link-line")
	case o.Match != "" && reports != 1:
		return usageError("--match compares one primary FILE (or --pid) with OTHER")
	}
	for _, f := range args {
		req.Files = append(req.Files, elfcheckPath(a, f))
	}
	if o.Match != "" {
		req.Match = elfcheckPath(a, o.Match)
	}
	if o.LinkLine != "" {
		text, err := elfcheckReadArg(a, o.LinkLine)
		if err != nil {
			return failure(err)
		}
		if req.LinkLine, err = elfcheck.ParseLinkLine(text); err != nil {
			return failure(fmt.Errorf("--link-line %s: %w", o.LinkLine, err))
		}
	}
	res, err := elfcheck.Run(ctx, req)
	if err != nil {
		return failure(err)
	}
	if o.JUnit != "" {
		meta := a.meta()
		if err := junit.WriteFile(o.JUnit, "gzdoctor elfcheck", elfcheck.JUnit(meta.Host, meta.Time, res.Requirements)...); err != nil {
			return failure(fmt.Errorf("--junit: %w", err))
		}
	}
	if err := a.render("elfcheck", res); err != nil {
		return failure(err)
	}
	if res.Failed() {
		return errProblemFound
	}
	return nil
}

// elfcheckPath makes a relative FILE absolute against the working directory when
// inspecting the live machine; under --root paths are machine paths.
func elfcheckPath(a *app, p string) string {
	if filepath.IsAbs(p) || filepath.Clean(a.opts.Root) != "/" {
		return p
	}
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return p
}

func elfcheckReadArg(a *app, name string) (string, error) {
	if name == "-" {
		b, err := io.ReadAll(io.LimitReader(a.streams.In, 16<<20))
		return string(b), err
	}
	b, err := os.ReadFile(name)
	return string(b), err
}
