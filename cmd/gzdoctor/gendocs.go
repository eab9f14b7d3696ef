package main

import (
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// newGenManCmd writes one man page per command (gzdoctor.1,
// gzdoctor-check.1, ...) with cobra's generator. Hidden: packagers run it
// at build time (gzdoctor.spec), operators read the pages it made.
func newGenManCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:    "gen-man DIR",
		Short:  "Write the man pages (section 1) into DIR",
		Hidden: true,
		Args:   cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := args[0]
			if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
				return usageError("gen-man %s: not a directory", dir)
			}
			// A package's files must not change with the day it was built:
			// SOURCE_DATE_EPOCH (reproducible-builds.org) dates the pages.
			date := time.Now()
			if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
				n, err := strconv.ParseInt(s, 10, 64)
				if err != nil {
					return usageError("SOURCE_DATE_EPOCH=%s: not a number of seconds", s)
				}
				date = time.Unix(n, 0).UTC()
			}
			ver, _ := buildVersion()
			root := cmd.Root()
			root.DisableAutoGenTag = true // its date would defeat SOURCE_DATE_EPOCH
			header := &doc.GenManHeader{
				Title:   "GZDOCTOR",
				Section: "1",
				Date:    &date,
				Source:  "gzdoctor " + ver,
				Manual:  "gzdoctor manual",
			}
			if err := doc.GenManTree(root, header, dir); err != nil {
				return failure(fmt.Errorf("writing man pages to %s: %w", dir, err))
			}
			if !a.opts.Quiet {
				fmt.Fprintf(cmd.OutOrStdout(), "man pages written to %s\n", dir)
			}
			return nil
		},
	}
}
