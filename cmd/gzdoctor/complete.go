package main

import (
	"strings"

	"github.com/gzdoctor/gzdoctor/capture"
	"github.com/gzdoctor/gzdoctor/doctor"
	"github.com/spf13/cobra"
)

// Shell completion: cobra's `gzdoctor completion bash|zsh|fish` scripts
// call `gzdoctor __complete …`, which runs these with the flags typed so
// far parsed (so --root and --prefix apply). Candidates come from the
// packages' own resolution (capture.CompletePrefixes, CompletePorts;
// doctor.List), never from a second one here.

func (a *app) completePrefixes(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return capture.CompletePrefixes(a.opts.Root), cobra.ShellCompDirectiveNoFileComp
}

// completeDevices offers the target primary's port names (byName) or
// numbers.
func (a *app) completeDevices(byName bool) cobra.CompletionFunc {
	return func(cmd *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
		return capture.CompletePorts(cmd.Context(), a.opts.Root, a.opts.Prefix, a.opts.Config, byName), cobra.ShellCompDirectiveNoFileComp
	}
}

// completeCheckIDs offers check IDs for a comma-separated list flag
// (--only, --skip): what is typed before the last comma is kept.
func completeCheckIDs(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	done, _ := cutLast(toComplete, ",")
	typed := map[string]bool{}
	for _, id := range strings.Split(done, ",") {
		typed[id] = true
	}
	var out []string
	for _, c := range doctor.List().Checks {
		if typed[c.ID] {
			continue
		}
		v := c.ID
		if done != "" {
			v = done + "," + c.ID
		}
		out = append(out, v+"\t"+c.Title)
	}
	return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
}

// cutLast splits s at its last sep: ("a,b,c", ",") is ("a,b", "c").
func cutLast(s, sep string) (before, after string) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return "", s
	}
	return s[:i], s[i+len(sep):]
}
