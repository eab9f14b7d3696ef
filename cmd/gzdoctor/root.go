package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/gzdoctor/gzdoctor/host"
	"github.com/gzdoctor/gzdoctor/ui"
	"github.com/spf13/cobra"
)

// globalOptions are the flags every command shares.
type globalOptions struct {
	Output  string
	NoColor bool
	Quiet   bool
	Verbose bool
	Root    string
	Prefix  string
	Config  string
}

// app is what every command constructor receives: the streams and the
// stopSignals end a command cleanly: the first cancels its context.
var stopSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP}

// global options, bound once the command line is parsed.
type app struct {
	// args are the arguments Main got (without the program name).
	args    []string
	streams *ui.Streams
	opts    globalOptions
	format  ui.Format
	// started is when the command started: the time every document names.
	started time.Time
	// recorder, when set, watches every file the command's host reads
	// (gzdoctor collect runs check in-process with one).
	recorder host.Recorder
	// fixtureCapture lets a test run capture's preflight on a fixture
	// tree (--root); users cannot set it: a bundle has no primary to
	// capture from.
	fixtureCapture bool
	// pipesStop ends survivePipes, after the last error is printed.
	pipesStop func()
}

// host returns the machine model under --root.
func (a *app) host() *host.Host {
	h := host.New(a.opts.Root)
	h.Recorder = a.recorder
	return h
}

// render prints a command's result in the format chosen with -o.
func (a *app) render(command string, result ui.TextRenderer) error {
	return ui.Render(a.streams, a.format, a.meta(), command, a.opts.Verbose, result)
}

// meta is what every document says about itself: gzdoctor's version, the
// host it describes (under --root, the collected one) and when.
func (a *app) meta() ui.Meta {
	ver, rev := buildVersion()
	return ui.Meta{Version: ver, Revision: rev, Host: a.host().Hostname(), Time: a.started}
}

// renderReport prints a command's result: on stdout, or on stderr when
// stdout carries packets (-w -).
func (a *app) renderReport(command string, toStderr bool, result ui.TextRenderer) error {
	if !toStderr {
		return a.render(command, result)
	}
	s := *a.streams
	s.Out, s.OutTTY, s.OutColor = s.Err, s.ErrTTY, s.ErrColor
	return ui.Render(&s, a.format, a.meta(), command, a.opts.Verbose, result)
}

// Main runs gzdoctor with args (without the program name) and returns the
// process exit code. streams nil means the process's own.
func Main(args []string, streams *ui.Streams) int {
	// SIGHUP is an SSH session or terminal that went away: like SIGTERM,
	// a reason to stop cleanly (finish or remove what is being written),
	// never to die with the packets in hidden temporary files.
	ctx, stop := signal.NotifyContext(context.Background(), stopSignals...)
	defer stop()

	return execute(ctx, &app{streams: streams, args: args, started: time.Now()}, args)
}

// execute runs the command line args in a and returns its exit code.
func execute(ctx context.Context, a *app, args []string) int {
	defer func() {
		if a.pipesStop != nil {
			a.pipesStop()
		}
	}()
	if args == nil {
		// cobra reads os.Args for a nil command line: gzdoctor runs the
		// line Main got, also when it is empty.
		args = []string{}
	}
	root := newRootCmd(a)
	root.SetArgs(args)
	if a.streams != nil {
		root.SetIn(a.streams.In)
		root.SetOut(a.streams.Out)
		root.SetErr(a.streams.Err)
	}
	// cobra adds these at Execute; added now, their Args are typed too.
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd(args...)
	typeUsageErrors(root)
	// A word that is none of a parent's subcommands (gzdoctor pcap fitler)
	// reaches cobra's help, which would print the parent's help and exit 0.
	var helpErr error
	help := root.HelpFunc()
	root.SetHelpFunc(func(c *cobra.Command, args []string) {
		if helpErr = unknownSubcommand(c); helpErr == nil {
			help(c, args)
		}
	})
	err := root.ExecuteContext(ctx)
	if err == nil {
		err = helpErr
	}
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if !errors.As(err, &ee) {
		// The one cobra error no hook sees: a command line that names no
		// command (Find's only error, before any flag is parsed).
		if _, _, ferr := root.Find(args); ferr != nil {
			err = usageError("%s", inOurWords(ferr.Error()))
		}
	}
	code := exitCode(err)
	if errors.As(err, &ee) && ee.err == nil {
		return code // the command already reported its findings
	}
	// Error messages carry paths and names from the input too.
	errOut := ui.SafeWriter(a.errWriter())
	fmt.Fprintf(errOut, "gzdoctor: %s\n", err)
	if code == exitUsage {
		fmt.Fprintf(errOut, "Run '%s --help' for usage.\n", commandPath(root, args))
	}
	return code
}

func (a *app) errWriter() io.Writer {
	if a.streams != nil {
		return a.streams.Err
	}
	return os.Stderr
}

// typeUsageErrors makes every argument validator in the tree return a
// usage error (exit 2) in gzdoctor's words: cobra's own are untyped, and an
// exit code must not depend on an error's text. Flag errors are typed by
// the root's FlagErrorFunc, required flags and flag groups by its
// PersistentPreRunE (validateFlags).
func typeUsageErrors(c *cobra.Command) {
	if v := c.Args; v != nil {
		c.Args = func(cmd *cobra.Command, args []string) error {
			if err := v(cmd, args); err != nil {
				return usageError("%s", inOurWords(err.Error()))
			}
			return nil
		}
	}
	for _, sub := range c.Commands() {
		typeUsageErrors(sub)
	}
}

// unknownSubcommand is the usage error of a parent command (pcap,
// runbooks) given a word that is none of its subcommands, when cobra
// shows its help for it; nil for a help asked for (--help, gzdoctor help
// pcap, the parent alone).
func unknownSubcommand(c *cobra.Command) error {
	if c.Runnable() || !c.HasSubCommands() {
		return nil
	}
	if h := c.Flags().Lookup("help"); h != nil && h.Changed {
		return nil
	}
	if rest := c.Flags().Args(); len(rest) > 0 {
		return usageError("unknown command %q for %q", rest[0], c.CommandPath())
	}
	return nil
}

// validateFlags runs cobra's required-flag and flag-group checks before
// cobra does (it would then find nothing), so their errors are usage
// errors.
func validateFlags(cmd *cobra.Command) error {
	if err := cmd.ValidateRequiredFlags(); err != nil {
		return usageError("%s", inOurWords(err.Error()))
	}
	if err := cmd.ValidateFlagGroups(); err != nil {
		return usageError("%s", inOurWords(err.Error()))
	}
	return nil
}

func commandPath(root *cobra.Command, args []string) string {
	if c, _, err := root.Find(args); err == nil && c != nil {
		return c.CommandPath()
	}
	return root.Name()
}

// bindTarget adds --prefix and --config, the flags that name the primary,
// to the commands that read them (check, capture, collect, diagnose): on any other
// command they would be accepted and ignored.
func (a *app) bindTarget(cmd *cobra.Command) {
	f := cmd.Flags()
	f.Var((*prefixValue)(&a.opts.Prefix), "prefix", "DPDK file prefix of the primary (its --file-prefix)")
	f.StringVar(&a.opts.Config, "config", "", "the lstack.conf or ltran.conf in use")
	_ = cmd.RegisterFlagCompletionFunc("prefix", a.completePrefixes)
}

// prefixValue is --prefix: a DPDK file prefix is one name under the
// runtime dir (and of hugepage files), so an empty one (which reads as
// no --prefix at all) and one with a slash (--file-prefix ../x puts the
// primary's files in /var/run/x) are usage errors, not targets.
type prefixValue string

func (p *prefixValue) String() string { return string(*p) }
func (p *prefixValue) Type() string   { return "string" }
func (p *prefixValue) Set(s string) error {
	switch {
	case s == "":
		return errors.New("empty: give the primary's --file-prefix, or leave --prefix out")
	case strings.ContainsAny(s, "/\x00"), s == ".", s == "..":
		return errors.New("a DPDK file prefix is a name, not a path")
	}
	*p = prefixValue(s)
	return nil
}

func newRootCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "gzdoctor",
		Short: "Packet capture on Gazelle that works the first time",
		Long: `gzdoctor checks a Gazelle/DPDK machine before a capture, runs the capture,
and explains DPDK's errors when something fails.

Exit codes: 0 fine, 1 a problem was found, 2 usage error, 3 gzdoctor could not
do its job (see docs/exit-codes.md).`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			f, err := ui.ParseFormat(a.opts.Output)
			if err != nil {
				return usageError("%v", err)
			}
			a.format = f
			if f == ui.FormatPrometheus && cmd.Name() != "check" {
				return usageError("-o prometheus is for gzdoctor check only: use -o text or -o json")
			}
			if a.streams == nil {
				a.streams = ui.System(a.opts.NoColor)
			} else if a.opts.NoColor {
				a.streams.SetColor(false)
			}
			a.streams.Quiet = a.opts.Quiet
			if fi, err := os.Stat(a.opts.Root); err != nil || !fi.IsDir() {
				return usageError("--root %s: not a directory", a.opts.Root)
			}
			return validateFlags(cmd)
		},
	}
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return usageError("%s", inOurWords(err.Error()))
	})

	pf := cmd.PersistentFlags()
	pf.StringVarP(&a.opts.Output, "output", "o", "text", "output format: text, json, or prometheus (check)")
	pf.BoolVar(&a.opts.NoColor, "no-color", false, "never colour the output (also NO_COLOR=1)")
	pf.BoolVarP(&a.opts.Quiet, "quiet", "q", false, "print nothing but errors; the exit code tells the result")
	pf.BoolVarP(&a.opts.Verbose, "verbose", "v", false, "show details")
	pf.StringVar(&a.opts.Root, "root", "/", "filesystem root to inspect (a fixture tree or sysroot)")
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"text", "json", "prometheus"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.MarkPersistentFlagDirname("root")

	cmd.AddCommand(
		newVersionCmd(a),
		newElfcheckCmd(a),
		newSpecpatchCmd(a),
		newPcapCmd(a),
		newCheckCmd(a),
		newCaptureCmd(a),
		newDiagnoseCmd(a),
		newRunbooksCmd(a),
		newCollectCmd(a),
		newGenManCmd(a),
	)
	return cmd
}

// inOurWords rewrites cobra's and pflag's stock usage messages the way the
// rest of gzdoctor speaks: flags named as typed, what to do, no "(s)".
func inOurWords(msg string) string {
	flagList := func(names string) []string {
		var out []string
		for _, n := range strings.Fields(strings.NewReplacer(`"`, " ", ",", " ").Replace(names)) {
			out = append(out, "--"+n)
		}
		return out
	}
	and := func(l []string) string {
		if len(l) < 2 {
			return strings.Join(l, "")
		}
		return strings.Join(l[:len(l)-1], ", ") + " and " + l[len(l)-1]
	}
	if m := regexp.MustCompile(`^required flag\(s\) (.+) not set$`).FindStringSubmatch(msg); m != nil {
		l := flagList(m[1])
		if len(l) == 1 {
			return l[0] + " is required"
		}
		return and(l) + " are required"
	}
	if m := regexp.MustCompile(`^if any flags in the group \[([^]]*)\] are set none of the others can be; \[([^]]*)\] were all set$`).FindStringSubmatch(msg); m != nil {
		return and(flagList(m[2])) + " cannot be used together"
	}
	if m := regexp.MustCompile(`^(accepts|requires at least|requires at most) (\d+) arg\(s\), (?:only )?received (\d+)$`).FindStringSubmatch(msg); m != nil {
		want := map[string]string{"accepts": "", "requires at least": "at least ", "requires at most": "at most "}[m[1]]
		unit := "arguments"
		if m[2] == "1" {
			unit = "argument"
		}
		return fmt.Sprintf("expected %s%s %s, got %s", want, m[2], unit, m[3])
	}
	if m := regexp.MustCompile(`^unknown flag: --(prefix|config)$`).FindStringSubmatch(msg); m != nil {
		return msg + " (only check, capture, collect and diagnose read --" + m[1] + ")"
	}
	return msg
}
