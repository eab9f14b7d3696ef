package main

import (
	"errors"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

func TestInOurWords(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`required flag(s) "write" not set`, "--write is required"},
		{`required flag(s) "a", "b" not set`, "--a and --b are required"},
		{`if any flags in the group [check write] are set none of the others can be; [check write] were all set`, "--check and --write cannot be used together"},
		{`accepts 1 arg(s), received 0`, "expected 1 argument, got 0"},
		{`requires at least 2 arg(s), only received 1`, "expected at least 2 arguments, got 1"},
		{`unknown flag: --config`, "unknown flag: --config (only check, capture, collect and diagnose read --config)"},
		{`unknown flag: --nope`, "unknown flag: --nope"},
	} {
		if got := inOurWords(tc.in); got != tc.want {
			t.Errorf("inOurWords(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestUsageErrorsTyped: cobra's own refusals reach execute as usage errors
// (an *exitError with exitUsage), not as text to recognise, in the same
// words as before.
func TestUsageErrorsTyped(t *testing.T) {
	spec := "../../testdata/specs/reference/fedora-22.11.1-d484aba.spec"
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"frobnicate"}, `unknown command "frobnicate" for "gzdoctor"`},
		{[]string{"version", "x"}, `unknown command "x" for "gzdoctor version"`},
		{[]string{"runbooks", "frobnicate"}, `unknown command "frobnicate" for "gzdoctor runbooks"`},
		{[]string{"pcap", "fitler", "a.pcap"}, `unknown command "fitler" for "gzdoctor pcap"`},
		{[]string{"specpatch"}, "expected 1 argument, got 0"},
		{[]string{"pcap", "stats"}, "expected at least 1 argument, got 0"},
		{[]string{"pcap", "merge", "a.pcap"}, "--write is required"},
		{[]string{"specpatch", "--check", "--in-place", spec}, "--check and --in-place cannot be used together"},
		{[]string{"completion", "bash", "x"}, `unknown command "x" for "gzdoctor completion bash"`},
		{[]string{"version", "--frob"}, "unknown flag: --frob"},
		{[]string{"pcap", "stats", "--prefix", "x", "a.pcap"}, "unknown flag: --prefix (only check, capture, collect and diagnose read --prefix)"},
	} {
		code, out, errOut := run(t, tc.args...)
		if code != exitUsage || out != "" || !strings.Contains(errOut, "gzdoctor: "+tc.want+"\n") || !strings.Contains(errOut, "--help' for usage.") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2 and %q", tc.args, code, out, errOut, tc.want)
		}
	}
}

// TestTypeUsageErrors: a validator's error is typed whatever its text, so
// the exit code never depends on the message.
func TestTypeUsageErrors(t *testing.T) {
	root := &cobra.Command{Use: "x"}
	sub := &cobra.Command{Use: "y", Args: func(*cobra.Command, []string) error { return errors.New("no words cobra uses") }, RunE: func(*cobra.Command, []string) error { return nil }}
	root.AddCommand(sub)
	typeUsageErrors(root)
	err := sub.Args(sub, nil)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != exitUsage || err.Error() != "no words cobra uses" {
		t.Errorf("got %v (%T), want a usage error with the validator's text", err, err)
	}
}

// TestNoSentinelInHelp: no flag shows a sentinel ("-1": not given) as
// its default in help (docs/design.md, the flag vocabulary).
func TestNoSentinelInHelp(t *testing.T) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			if strings.HasPrefix(f.DefValue, "-") {
				t.Errorf("%s --%s: default %q shown in help", c.CommandPath(), f.Name, f.DefValue)
			}
		})
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newRootCmd(&app{}))
}

// TestParentHelp: a parent command's help asked for is still help (exit
// 0), only an unknown word after it is a usage error.
func TestParentHelp(t *testing.T) {
	for _, args := range [][]string{{"pcap"}, {"pcap", "--help"}, {"runbooks", "frobnicate", "--help"}, {"help", "pcap"}, {}} {
		code, out, errOut := run(t, args...)
		if code != exitOK || !strings.Contains(out, "Usage:") || errOut != "" {
			t.Errorf("%v: exit %d, stdout %.80q, stderr %q; want the help and exit 0", args, code, out, errOut)
		}
	}
}
