package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"

	"github.com/gzdoctor/gzdoctor/capture/bpf"
	"github.com/gzdoctor/gzdoctor/capture/pcapfile"
	"github.com/gzdoctor/gzdoctor/capture/pcapfile/pcapview"
	"github.com/gzdoctor/gzdoctor/ui"
	"github.com/spf13/cobra"
)

func newPcapCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "pcap",
		Short: "Filter, merge and summarise pcap and pcapng files",
		Long: `Filter, merge and summarise capture files without tcpdump, mergecap or capinfos.
Filters are tcpdump expressions compiled by libpcap, so they select exactly
the packets tcpdump selects. '-' as an input reads standard input; -w - writes
to standard output, and the report then goes to stderr.`,
	}
	cmd.AddCommand(newPcapFilterCmd(a), newPcapMergeCmd(a), newPcapStatsCmd(a))
	return cmd
}

// outputOptions are the flags of every pcap command that writes a file.
type outputOptions struct {
	Output  string
	Format  string
	Force   bool
	Salvage bool
}

func (o *outputOptions) bind(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVarP(&o.Output, "write", "w", "", "output file (required; created with mode 0600), or - for stdout")
	f.StringVarP(&o.Format, "format", "F", "", "output format: pcap or pcapng")
	f.BoolVar(&o.Force, "force", false, "overwrite the output file if it exists")
	f.BoolVar(&o.Salvage, "salvage", false, "on a damaged input, keep every intact packet before the damage")
	_ = cmd.MarkFlagRequired("write")
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions([]string{"pcap", "pcapng"}, cobra.ShellCompDirectiveNoFileComp))
}

func (o *outputOptions) format() (pcapfile.Format, error) {
	if o.Format == "" {
		return 0, nil
	}
	f, err := pcapfile.ParseFormat(o.Format)
	if err != nil {
		return 0, usageError("-F: %v", err)
	}
	return f, nil
}

// writeAtomic writes o.Output with pcapfile.Output: a file committed only
// if write succeeds, or stdout with -w -. It returns whether the reader of
// stdout closed it (EPIPE).
func (o *outputOptions) writeAtomic(a *app, write func(w io.Writer) error) (closed bool, err error) {
	out := pcapfile.Output{Path: o.Output, Force: o.Force}
	if o.Output == "-" {
		if a.streams.OutTTY {
			return false, usageError("-w -: stdout is a terminal; pipe it into a reader (| tshark -r -) or redirect it to a file")
		}
		// A reader that goes away must end the write with EPIPE, not
		// kill gzdoctor with SIGPIPE before it can say so.
		a.survivePipes()
		out.Stream = a.streams.Out
	}
	res, err := out.Write(write)
	if errors.Is(err, pcapfile.ErrExists) || errors.Is(err, pcapfile.ErrNotRegular) {
		return false, usageError("%v", err)
	}
	if err != nil {
		return false, failure(err)
	}
	// What killed runs left beside the output: said on stderr, so -o json
	// keeps stdout to itself.
	for _, l := range res.Leftovers {
		if !a.streams.Quiet {
			fmt.Fprintf(ui.SafeWriter(a.streams.Err), "gzdoctor: note: %s\n", l.Words()) // names found in a directory
		}
	}
	return res.StreamClosed, nil
}

// isBrokenPipe reports a write to a pipe whose reader has gone.
func isBrokenPipe(err error) bool {
	return errors.Is(err, syscall.EPIPE)
}

// stdinName is how a report names standard input.
const stdinName = "-"

// openCapture opens path, or standard input for "-". The closer is nil
// for standard input, which is not gzdoctor's to close.
func openCapture(a *app, path string) (io.Closer, *pcapfile.Reader, error) {
	if path == stdinName {
		if a.streams.InTTY {
			return nil, nil, usageError("-: standard input is a terminal; pipe a capture into it (tcpdump -w - | gzdoctor pcap ... -)")
		}
		r, err := pcapfile.NewReader(a.streams.In)
		if err != nil {
			return nil, nil, failure(fmt.Errorf("standard input: %w", err))
		}
		return nopCloser{}, r, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, failure(err)
	}
	r, err := pcapfile.NewReader(f)
	if err != nil {
		f.Close()
		return nil, nil, failure(fmt.Errorf("%s: %w", path, err))
	}
	return f, r, nil
}

type nopCloser struct{}

func (nopCloser) Close() error { return nil }

// oneStdin refuses "-" given more than once: standard input is one stream.
func oneStdin(paths []string) error {
	n := 0
	for _, p := range paths {
		if p == stdinName {
			n++
		}
	}
	if n > 1 {
		return usageError("- (standard input) given %d times: it can be read once", n)
	}
	return nil
}

type pcapFilterOptions struct {
	outputOptions
	Input string
	Expr  string
}

func newPcapFilterCmd(a *app) *cobra.Command {
	var o pcapFilterOptions
	var exprFlag string
	cmd := &cobra.Command{
		Use:   "filter IN [EXPRESSION...] -w OUT",
		Short: "Keep the packets that match a tcpdump expression",
		Long: `Copy the packets of IN that match a tcpdump filter expression to OUT, like
'tcpdump -r IN -w OUT EXPRESSION'. The expression is given with -f or, as with
tcpdump, as the words after IN. OUT has IN's format unless -F says otherwise.`,
		Example: `  gzdoctor pcap filter capture.pcap src host 192.168.1.10 -w filtered.pcap
  gzdoctor pcap filter rx.pcapng -f 'udp port 53 or icmp' -w dns.pcap -F pcap`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Input = args[0]
			o.Expr = strings.Join(args[1:], " ")
			if exprFlag != "" {
				if o.Expr != "" {
					return usageError("give the expression with -f or after the input file, not both")
				}
				o.Expr = exprFlag
			}
			return runPcapFilter(cmd.Context(), a, o)
		},
	}
	cmd.Flags().StringVarP(&exprFlag, "filter", "f", "", "tcpdump filter expression")
	o.bind(cmd)
	return cmd
}

func runPcapFilter(ctx context.Context, a *app, o pcapFilterOptions) error {
	format, err := o.format()
	if err != nil {
		return err
	}
	in, r, err := openCapture(a, o.Input)
	if err != nil {
		return err
	}
	defer in.Close()
	progs := bpf.NewPrograms(o.Expr)
	compile := func(ifc pcapfile.Interface) (pcapfile.Matcher, error) {
		m, err := progs.Matcher(int(ifc.LinkType), int(ifc.SnapLen))
		return m, exprError(err)
	}
	// Compiled up front so that a bad expression is a usage error before
	// any output exists.
	for _, ifc := range r.Interfaces() {
		if _, err := compile(ifc); err != nil {
			return err
		}
	}
	rep := pcapview.FilterReport{Input: o.Input, Output: o.Output, Expression: o.Expr, Format: format}
	if rep.Format == 0 {
		rep.Format = r.Format()
	}
	rep.StdoutClosed, err = o.writeAtomic(a, func(w io.Writer) error {
		res, err := pcapfile.Filter(ctx, r, w, pcapfile.FilterOptions{
			Format:  rep.Format,
			Salvage: o.Salvage,
			Matcher: compile,
			// From a pipe to a pipe: nothing waits in a buffer for the
			// next packet.
			Live: o.Input == stdinName && o.Output == "-",
		})
		rep.FilterResult = res
		if isBrokenPipe(err) {
			return err
		}
		if err != nil {
			return failure(fmt.Errorf("%s: %w", o.Input, err))
		}
		return nil
	})
	if err != nil {
		return err
	}
	return a.renderReport("pcap filter", o.Output == "-", rep)
}

// exprError: an expression libpcap refuses is the operator's mistake
// (usage); libpcap missing is gzdoctor's failure.
func exprError(err error) error {
	if err == nil || errors.Is(err, bpf.ErrNoLibpcap) {
		return failure(err)
	}
	return usageError("%v", err)
}

type pcapMergeOptions struct {
	outputOptions
	Inputs []string
}

func newPcapMergeCmd(a *app) *cobra.Command {
	var o pcapMergeOptions
	cmd := &cobra.Command{
		Use:   "merge IN... -w OUT",
		Short: "Merge capture files in time order, like mergecap",
		Long: `Merge capture files into one, packets in timestamp order as mergecap orders
them. The output is pcapng (one interface per input interface) unless -F pcap.`,
		Example: `  gzdoctor pcap merge rx.pcap tx.pcap -w both.pcapng`,
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Inputs = args
			return runPcapMerge(cmd.Context(), a, o)
		},
	}
	o.bind(cmd)
	return cmd
}

func runPcapMerge(ctx context.Context, a *app, o pcapMergeOptions) error {
	format, err := o.format()
	if err != nil {
		return err
	}
	if format == 0 {
		format = pcapfile.FormatPcapNG
	}
	if err := oneStdin(o.Inputs); err != nil {
		return err
	}
	var readers []*pcapfile.Reader
	for _, path := range o.Inputs {
		f, r, err := openCapture(a, path)
		if err != nil {
			return err
		}
		defer f.Close()
		readers = append(readers, r)
	}
	rep := pcapview.MergeReport{Inputs: o.Inputs, Output: o.Output, Format: format}
	rep.StdoutClosed, err = o.writeAtomic(a, func(w io.Writer) error {
		res, err := pcapfile.Merge(ctx, w, readers, pcapfile.MergeOptions{Format: format, Salvage: o.Salvage, Names: o.Inputs})
		rep.MergeResult = res
		if isBrokenPipe(err) {
			return err
		}
		return failure(err)
	})
	if err != nil {
		return err
	}
	return a.renderReport("pcap merge", o.Output == "-", rep)
}

type pcapStatsOptions struct {
	Files   []string
	Top     int
	Salvage bool
}

func newPcapStatsCmd(a *app) *cobra.Command {
	var o pcapStatsOptions
	cmd := &cobra.Command{
		Use:   "stats FILE...",
		Short: "Summarise capture files: counts, time span, rates, protocols, talkers",
		Example: `  gzdoctor pcap stats capture.pcap
  gzdoctor pcap stats -o json rx.pcap tx.pcap`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Files = args
			return runPcapStats(cmd.Context(), a, o)
		},
	}
	cmd.Flags().IntVar(&o.Top, "top", 10, "how many talkers and conversations to list")
	cmd.Flags().BoolVar(&o.Salvage, "salvage", false, "on a damaged file, report the intact part before the damage")
	return cmd
}

func runPcapStats(ctx context.Context, a *app, o pcapStatsOptions) error {
	if o.Top < 1 {
		return usageError("--top must be at least 1")
	}
	if err := oneStdin(o.Files); err != nil {
		return err
	}
	var rep pcapview.StatsReport
	for _, path := range o.Files {
		var in countingReader
		if path == stdinName {
			// Standard input has no size to stat: count what was read.
			in.r = a.streams.In
			sa := *a
			st := *a.streams
			st.In = &in
			sa.streams = &st
			a = &sa
		}
		f, r, err := openCapture(a, path)
		if err != nil {
			return err
		}
		s, err := pcapfile.ComputeStats(ctx, r, pcapfile.StatsOptions{Top: o.Top, Salvage: o.Salvage})
		f.Close()
		if err != nil {
			return failure(fmt.Errorf("%s: %w", path, err))
		}
		s.File = path
		if path == stdinName {
			s.FileSize = in.n
		} else if fi, err := os.Stat(path); err == nil {
			s.FileSize = fi.Size()
		}
		rep.Files = append(rep.Files, s)
	}
	return a.render("pcap stats", rep)
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += int64(n)
	return n, err
}
