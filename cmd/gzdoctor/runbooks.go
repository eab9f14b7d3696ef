package main

import (
	"fmt"

	"github.com/gzdoctor/gzdoctor/runbooks"
	"github.com/spf13/cobra"
)

type runbooksOptions struct {
	dirs     []string // --runbooks
	patterns bool     // list --patterns
	samples  []string // lint --samples
}

func newRunbooksCmd(a *app) *cobra.Command {
	o := &runbooksOptions{}
	cmd := &cobra.Command{
		Use:   "runbooks",
		Short: "List, show and lint the catalogue of known failures behind 'diagnose'",
		Long: `The runbook catalogue names every DPDK/Gazelle capture failure gzdoctor knows: a stable
cause ID, the message patterns per DPDK version, the fix and the checks that confirm it.
Entries are YAML (see docs/runbooks.md); --runbooks DIR adds local ones.`,
		Args: cobra.NoArgs,
	}
	cmd.PersistentFlags().StringArrayVar(&o.dirs, "runbooks", nil, "also load the runbook YAML files in `DIR` (repeatable)")
	_ = cmd.MarkPersistentFlagDirname("runbooks")

	list := &cobra.Command{
		Use:   "list",
		Short: "List every cause ID with its severity and title",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := runbooks.Load(o.dirs...)
			if err != nil {
				return failure(err)
			}
			if o.patterns {
				// One grep -E pattern per line: `grep -E -f` takes it as is.
				for _, p := range c.PatternsERE() {
					fmt.Fprintln(a.streams.Out, p)
				}
				return nil
			}
			return a.render("runbooks list", c.List())
		},
	}
	list.Flags().BoolVar(&o.patterns, "patterns", false, "print the catalogue's patterns as grep -E regexes, one per line")

	show := &cobra.Command{
		Use:   "show ID",
		Short: "Show one entry: patterns, conditions, cause, fix, checks, alternatives",
		Args:  cobra.ExactArgs(1),
		ValidArgsFunction: func(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
			c, err := runbooks.Load(o.dirs...)
			if err != nil || len(args) > 0 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			var ids []string
			for _, e := range c.Entries {
				ids = append(ids, e.ID)
			}
			return ids, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := runbooks.Load(o.dirs...)
			if err != nil {
				return failure(err)
			}
			v := c.View(args[0])
			if v == nil {
				return usageError("no runbook entry %q (see 'gzdoctor runbooks list')", args[0])
			}
			return a.render("runbooks show", v)
		},
	}

	lint := &cobra.Command{
		Use:   "lint DIR",
		Short: "Check a directory of runbook entries: schema, patterns, and their sample logs",
		Long: `lint loads DIR/*.yaml together with the built-in catalogue and checks the schema (unique IDs,
known severities, phases and check IDs, placeholders that name extracted values), that every pattern
compiles (and has a grep -E form), and, over the sample logs in DIR/samples and --samples DIRs,
that each entry in DIR is found in at least one sample that names it and in no other.
Exit 1 when there are problems.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			res, err := runbooks.LintDir(cmd.Context(), args[0], o.samples)
			if err != nil {
				return failure(err)
			}
			if err := a.render("runbooks lint", res); err != nil {
				return failure(err)
			}
			if len(res.Problems) > 0 {
				return errProblemFound
			}
			return nil
		},
	}
	lint.Flags().StringArrayVar(&o.samples, "samples", nil, "also check against the sample logs under `DIR` (repeatable)")

	cmd.AddCommand(list, show, lint)
	return cmd
}
