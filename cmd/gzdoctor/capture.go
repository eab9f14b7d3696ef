package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gzdoctor/gzdoctor/capture"
	"github.com/gzdoctor/gzdoctor/capture/pcapfile"
	"github.com/gzdoctor/gzdoctor/internal/duration"
	"github.com/gzdoctor/gzdoctor/internal/shquote"
	"github.com/gzdoctor/gzdoctor/ui"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// captureFlags are the flags as typed; parseCaptureFlags turns them into
// capture.Options.
type captureFlags struct {
	o        capture.Options
	devices  []string
	writes   []string
	ports    []string
	format   string
	autostop []string
	duration string
	maxSize  string
	ealArgs  string
	list     bool
	ring     []string
	// tcpdump's rotation flags, refused with their -b translation.
	tcpdumpW string
	tcpdumpG string
}

func newCaptureCmd(a *app) *cobra.Command {
	var f captureFlags
	cmd := &cobra.Command{
		Use:   "capture [flags] [filter expression]",
		Short: "Capture packets from a Gazelle/DPDK primary, checked and explained",
		Long: `capture attaches a capture tool (gazelle-pdump, dpdk-pdump or dpdk-dumpcap) to
the DPDK primary (lstack or ltran), supervises it and writes one capture file.

Before it starts, it takes the primary's capture lock (one capture per
primary: another one, or a capture tool gzdoctor did not start, is named and
nothing starts), then runs the capture-relevant checks of 'gzdoctor check' and
stops with their fix if one fails. While the tool runs, every line it prints
is matched against the runbooks: a known failure stops the capture with its
cause and fix. gzdoctor counts packets from the files as they grow and stops
the capture itself at -c, -a duration:N or -C (a stop, not tcpdump's
rotation), on Ctrl+C, SIGTERM or SIGHUP,
or when the disk fills, and waits for the tool to exit: it never kills it on
its own (a killed pdump leaves its vdevs in the primary); a second Ctrl+C does.
The tool writes into a fresh directory no other user can enter (in the output's
directory when no other user can write there); gzdoctor then repairs a
truncated last record, merges rx and tx in time order (pcapng, one interface
per direction, direction flags set), applies -c, -f and -s exactly, and
renames the file into place with mode 0600. It never overwrites a file without
--force. When the file cannot be written it says where the packets were kept
(exit 3). Before it says ✓ it checks the tool's files: no zero-length record,
every timestamp inside the capture, counts that agree with the tool's and the
primary's.

Several -i (or --port, or --all-ports) capture several ports with one
backend into one pcapng, one interface per port and direction.
With -b (dumpcap's ring buffer) it writes a series of files instead,
NAME_00001_YYYYmmddHHMMSS.pcapng and on, each renamed into place complete
when it is full (-b filesize:KB, -b packets:N) or old (-b duration:S),
keeping the last N with -b files:N; no packet is lost or doubled between
two files. -z PROGRAM runs on every closed file (tcpdump's -z). tcpdump's
own -W and -G are refused with the -b that does what they do.

With no flags, it captures the only port of the only live primary into
<prefix>-<timestamp>.pcapng until Ctrl+C. -w - writes the capture to stdout
as the packets arrive (pcapng, or pcap with -F pcap; rx and tx merged in time
order) and everything else to stderr; a reader that goes away stops the
capture cleanly (exit 0). With -o json, progress, fatal findings and notes
are JSON lines on stderr, the summary last. --dry-run prints the tool's exact
command line instead, to learn or to run it by hand, and the preflight's
verdict (exit 1 where the capture would stop).

A filter can be given with -f or as the trailing arguments, as with tcpdump.
Exit status: 0 captured (losses are flagged !), 1 a preflight check failed,
another capture runs on the primary, the capture failed or its file failed
validation (the cause is printed), 2 usage error, 3 gzdoctor could not run the
capture, write its file, or the disk filled.`,
		Example: `  gzdoctor capture
  gzdoctor capture --prefix gazelle -i 0000:01:00.0 -c 5000 -w /tmp/cap.pcapng
  gzdoctor capture -i net_ring0 -a duration:10 --rx /tmp/rx.pcap --tx /tmp/tx.pcap
  gzdoctor capture --port 0 -w /tmp/udp.pcapng udp port 8080
  gzdoctor capture --prefix gazelle -i 0000:01:00.0 -i net_bonding0 -w /tmp/ltran.pcapng
  gzdoctor capture --backend dumpcap -i net_ring0 -c 100 -w /tmp/d.pcapng
  ssh host gzdoctor capture -w - | wireshark -k -i -
  gzdoctor capture -i net_ring0 -w /var/cap/lb.pcapng -b filesize:100000 -b files:10 -z gzip
  gzdoctor capture --prefix gazelle -i 0000:01:00.0 -w /tmp/cap.pcapng --dry-run`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCapture(cmd, a, &f, args)
		},
	}
	a.bindTarget(cmd)
	fl := cmd.Flags()
	o := &f.o
	// An array, so that a second -i is seen and refused rather than
	// silently replacing the first.
	fl.StringArrayVarP(&f.devices, "device", "i", nil, "device to capture: PCI address or vdev name (pdump's device_id), repeat for more, or any for every port; default: the primary's only port")
	fl.StringArrayVar(&f.ports, "port", nil, "port number to capture, instead of -i; repeat for more")
	fl.BoolVar(&o.AllPorts, "all-ports", false, "capture every port of the primary (as -i any)")
	fl.StringVar(&o.Queue, "queue", "*", "queue to capture, or * for all")
	fl.StringArrayVarP(&f.writes, "write", "w", nil, "write both directions into FILE (default <prefix>-<timestamp>.pcapng); - streams to stdout as packets arrive")
	fl.StringVar(&o.RxFile, "rx", "", "write received packets into FILE (pcap unless -F)")
	fl.StringVar(&o.TxFile, "tx", "", "write transmitted packets into FILE (pcap unless -F)")
	fl.StringVarP(&f.format, "format", "F", "", "output format: pcapng (default for -w) or pcap")
	fl.Int64VarP(&o.Count, "count", "c", 0, "stop after exactly COUNT packets")
	fl.StringArrayVarP(&f.autostop, "autostop", "a", nil, "stop condition, as dumpcap: duration:SECONDS (or a duration: 1m30s), packets:N, filesize:KB")
	fl.StringVar(&f.duration, "duration", "", "stop after this long: a duration (90s, 1m30s)")
	fl.StringVarP(&f.maxSize, "max-size", "C", "", "STOP the capture when the output reaches SIZE (headers included; millions of bytes, or 500k, 20m, 1g). Not tcpdump's rotation: for a ring of files use -b")
	fl.StringArrayVarP(&f.ring, "ring-buffer", "b", nil, "ring buffer, as dumpcap: filesize:KB, duration:SECONDS (or a duration: 1m30s), packets:N (start the next file), files:N (keep at most N); files are NAME_NNNNN_YYYYmmddHHMMSS.EXT")
	fl.StringVarP(&o.PostRotate, "postrotate-command", "z", "", "run PROGRAM FILE on every closed file, the last included (tcpdump's -z; no shell: a program, not a command line)")
	fl.StringVarP(&f.tcpdumpW, "tcpdump-W", "W", "", "tcpdump's file count: refused; use -b files:N")
	fl.StringVarP(&f.tcpdumpG, "tcpdump-G", "G", "", "tcpdump's rotate seconds: refused; use -b duration:SECONDS")
	_ = fl.MarkHidden("tcpdump-W")
	_ = fl.MarkHidden("tcpdump-G")
	fl.StringVarP(&o.Filter, "filter", "f", "", "keep only packets matching this tcpdump filter expression")
	fl.IntVarP(&o.SnapLen, "snaplen", "s", 0, "keep at most SNAPLEN bytes of each packet (0: all)")
	fl.StringVar(&o.Backend, "backend", capture.BackendAuto, "capture tool: auto, pdump (gazelle-pdump/dpdk-pdump) or dumpcap (dpdk-dumpcap)")
	fl.StringVar(&o.PdumpBin, "pdump-bin", "", "capture tool binary (gazelle-pdump, dpdk-pdump, dpdk-dumpcap or a compatible build)")
	fl.IntVar(&o.RingSize, "ring-size", 0, "pdump's ring size, a power of 2 (default "+strconv.Itoa(capture.DefaultRingSize)+")")
	fl.IntVar(&o.MbufSize, "mbuf-size", 0, "pdump's mbuf data size (default "+strconv.Itoa(capture.DefaultMbufSize)+")")
	fl.IntVar(&o.TotalMbufs, "total-num-mbufs", 0, "pdump's mempool size in mbufs (default "+strconv.Itoa(capture.DefaultTotalMbufs)+"; pdump's own 65535 takes ~150 MiB of hugepages)")
	fl.StringVar(&f.ealArgs, "eal-args", "", "more EAL arguments for pdump, as one shell-quoted string (e.g. '-d /usr/lib64/librte_net_mlx5.so'); gzdoctor already passes -d for the primary's PMDs pdump lacks")
	fl.BoolVarP(&f.list, "list-interfaces", "D", false, "list every live primary and its ports (and whether a capture holds it), then exit")
	fl.BoolVar(&o.Promisc, "promisc", false, "let dpdk-dumpcap put the port in promiscuous mode for the capture (default: dumpcap gets -p and the port is left as it is)")
	fl.BoolVar(&o.Force, "force", false, "overwrite existing output files")
	fl.BoolVar(&o.DryRun, "dry-run", false, "print the capture tool's command line and the preflight's verdict, and stop")
	fl.BoolVar(&o.NoPreflight, "no-preflight", false, "do not run the capture-relevant checks first")
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions([]string{"pcapng", "pcap"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("device", a.completeDevices(true))
	_ = cmd.RegisterFlagCompletionFunc("port", a.completeDevices(false))
	_ = cmd.RegisterFlagCompletionFunc("backend", cobra.FixedCompletions([]string{"auto", "pdump", "dumpcap"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// parseCaptureFlags completes f.o from the flags that need parsing.
func parseCaptureFlags(f *captureFlags, args []string) error {
	o := &f.o
	// Every -i and --port is captured, into one file; "-i any" is
	// tcpdump's word for every port.
	for _, d := range f.devices {
		switch {
		case d == "any":
			o.AllPorts = true
		case o.Device == "":
			o.Device = d
		default:
			o.Devices = append(o.Devices, d)
		}
	}
	if o.AllPorts && len(f.devices) > 1 {
		return usageError("-i any captures every port: give it alone")
	}
	o.Port = -1
	for _, s := range f.ports {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return usageError("--port %q: want a port number (0, 1, …)", s)
		}
		if o.Port < 0 {
			o.Port = n
		} else {
			o.Ports = append(o.Ports, n)
		}
	}
	if len(args) > 0 {
		if o.Filter != "" {
			return usageError("give the filter with -f or as arguments, not both")
		}
		o.Filter = strings.Join(args, " ")
	}
	if f.format != "" {
		ft, err := pcapfile.ParseFormat(f.format)
		if err != nil {
			return usageError("-F: %v", err)
		}
		o.Format = ft
	}
	if f.tcpdumpW != "" || f.tcpdumpG != "" {
		return usageError("%s", tcpdumpRotation(f))
	}
	if err := oncePerKey("-a", f.autostop); err != nil {
		return err
	}
	for _, a := range f.autostop {
		if err := o.ParseAutostop(a); err != nil {
			return usageError("%v", err)
		}
	}
	// A repeated -w or -b key would silently take the last: refused, as a
	// repeated -i is not (each -i is captured).
	switch {
	case len(f.writes) > 1:
		return usageError("-w given %d times (%s): one capture writes one -w; --rx/--tx split the directions", len(f.writes), strings.Join(f.writes, ", "))
	case len(f.writes) == 1 && f.writes[0] == "":
		return usageError("-w \"\": give a file name, - for stdout, or leave -w out for the default name")
	case len(f.writes) == 1:
		o.Write = f.writes[0]
	}
	if err := oncePerKey("-b", f.ring); err != nil {
		return err
	}
	for _, b := range f.ring {
		if err := o.ParseRing(b); err != nil {
			return usageError("%v", err)
		}
	}
	if f.duration != "" {
		d, err := duration.Parse(f.duration)
		if err == nil && d <= 0 {
			err = errors.New("want a positive duration")
		}
		if err != nil {
			return usageError("--duration %q: %v", f.duration, err)
		}
		o.Duration = d
	}
	if f.ealArgs != "" {
		args, err := shquote.Split(f.ealArgs)
		if err != nil {
			return usageError("--eal-args: %v", err)
		}
		o.EALArgs = args
	}
	if f.maxSize != "" {
		n, err := capture.ParseSize(f.maxSize)
		if err != nil {
			return usageError("-C: %v", err)
		}
		o.MaxSize = n
	}
	return nil
}

// zeroFlags refuses 0 given to a flag where 0 means nothing: capture.Options
// takes 0 for "not given" (no -c limit, pdump's default ring), so a typed 0
// would silently be that (-c 0 captured for minutes, into gigabytes).
// tcpdump refuses -c 0 too. -s 0 stays: it is tcpdump's "whole packets".
func zeroFlags(fl *pflag.FlagSet) error {
	for _, z := range []struct{ name, flag, want string }{
		{"count", "-c", "want a positive count; leave -c out to capture until Ctrl+C or another stop"},
		{"ring-size", "--ring-size", fmt.Sprintf("want a power of 2 from %d to %d; leave it out for the default %d", capture.MinRingSize, capture.MaxRingSize, capture.DefaultRingSize)},
		{"mbuf-size", "--mbuf-size", fmt.Sprintf("pdump takes %d to %d; leave it out for the default %d", capture.MinMbufSize, capture.MaxMbufSize, capture.DefaultMbufSize)},
		{"total-num-mbufs", "--total-num-mbufs", fmt.Sprintf("pdump takes %d to %d; leave it out for the default %d", capture.MinTotalMbufs, capture.MaxTotalMbufs, capture.DefaultTotalMbufs)},
	} {
		if f := fl.Lookup(z.name); f != nil && fl.Changed(z.name) && f.Value.String() == "0" {
			return usageError("%s 0: %s", z.flag, z.want)
		}
	}
	return nil
}

// tcpdumpRotation says why tcpdump's -W and -G are refused, with the -b
// options that do what they do. gzdoctor's -C is a stop condition, so
// tcpdump's "-C 100 -W 10" cannot mean what it means to tcpdump; half of
// tcpdump's rotation beside dumpcap's would mix two schemes.
func tcpdumpRotation(f *captureFlags) string {
	flag := "-W"
	if f.tcpdumpW == "" {
		flag = "-G"
	}
	head := flag + " is tcpdump's rotation; gzdoctor rotates with dumpcap's -b (and its -C only stops the capture): "
	var b []string
	if f.maxSize != "" {
		if n, err := capture.ParseSize(f.maxSize); err == nil {
			b = append(b, "-b filesize:"+strconv.FormatInt(max(n/1000, 1), 10))
		}
	}
	if f.tcpdumpG != "" {
		b = append(b, "-b duration:"+f.tcpdumpG)
	}
	switch {
	case f.tcpdumpW == "":
	case f.maxSize != "" && f.tcpdumpG != "":
		// tcpdump ignores -W beside both -C and -G (its manual): so does
		// the translation.
	case f.maxSize != "":
		// -C N -W K: a ring of K files, the oldest reused.
		b = append(b, "-b files:"+f.tcpdumpW)
	case f.tcpdumpG != "":
		// -G S -W K: tcpdump exits after K files, it keeps them all.
		b = append(b, "-a files:"+f.tcpdumpW)
	default:
		// -W alone rotates nothing in tcpdump either.
		return head + fmt.Sprintf("-W %s alone rotates nothing (tcpdump takes it with -C or -G): keep the last %s files of a ring with -b filesize:KB -b files:%s, or stop after %s files with -b duration:SECONDS -a files:%s",
			f.tcpdumpW, f.tcpdumpW, f.tcpdumpW, f.tcpdumpW, f.tcpdumpW)
	}
	return head + "use " + strings.Join(b, " ")
}

// survivePipes keeps a write to a closed stdout or stderr (the SSH session
// that sent SIGHUP is gone, a `| head` that has read its line) from killing
// gzdoctor with SIGPIPE: the write fails with EPIPE instead, until execute
// has printed the command's last error, so that the exit status is the
// command's, never 141. Notify, not Ignore: an ignored signal would stay
// ignored in the capture tool.
func (a *app) survivePipes() {
	if a.pipesStop != nil {
		return
	}
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGPIPE)
	a.pipesStop = func() { signal.Stop(c) }
}

func runCapture(cmd *cobra.Command, a *app, f *captureFlags, args []string) error {
	// --root replays a bundle for check; the packets are this machine's,
	// so a capture (or -D's list) under --root would check one machine and
	// capture from another.
	if filepath.Clean(a.opts.Root) != "/" && !a.fixtureCapture {
		return usageError("capture runs on this machine: --root %s is for replaying a bundle (gzdoctor --root DIR check); drop --root", a.opts.Root)
	}
	if f.list {
		return listInterfaces(cmd, a, args)
	}
	if err := zeroFlags(cmd.Flags()); err != nil {
		return err
	}
	if err := parseCaptureFlags(f, args); err != nil {
		return err
	}
	o := f.o
	o.Root, o.Prefix, o.ConfigPath = a.opts.Root, a.opts.Prefix, a.opts.Config
	o.CommandLine = append([]string{"gzdoctor"}, a.args...)
	// -w -: stdout carries the packets, so everything else goes to
	// stderr, the summary included.
	stream := o.Write == "-" && !o.DryRun
	if stream {
		if a.streams.OutTTY {
			return usageError("-w -: stdout is a terminal; pipe it into a reader (| tshark -r -, | wireshark -k -i -) or redirect it to a file")
		}
		o.Stdout = a.streams.Out
	}
	jsonOut := a.format == ui.FormatJSON
	switch {
	case a.streams.Quiet:
	case jsonOut:
		// Event lines instead of the progress line: automation follows
		// the capture on stderr.
		o.Events = a.streams.Err
	default:
		o.Progress, o.ProgressTTY = a.streams.Err, a.streams.ErrTTY
	}
	if a.opts.Verbose {
		o.Log = a.streams.Err
	}
	// Main's context ends on the first signal too; the channel lets the
	// capture tell a second Ctrl+C (kill the backend) from the first.
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, stopSignals...)
	defer signal.Stop(sigs)
	o.Interrupts = sigs
	a.survivePipes()

	res, err := capture.Run(cmd.Context(), o)
	if err != nil {
		var ue *capture.UsageError
		if errors.As(err, &ue) {
			return usageError("%v", err)
		}
		var pe *capture.ProblemError
		if errors.As(err, &pe) {
			return &exitError{code: exitProblem, err: err}
		}
		if res != nil {
			_ = a.renderCapture(stream, res)
		}
		return failure(err)
	}
	if err := a.renderCapture(stream, res); err != nil && !isBrokenPipe(err) {
		return failure(err)
	}
	// A summary nobody reads (its reader has gone: an SSH session that
	// ended, a `| head -1`) does not change what the capture did: the
	// exit status is the capture's, as for -w - (docs/capture.md).
	if res.Failed() {
		if a.streams.Quiet {
			// -q prints nothing but errors, and this is one.
			fmt.Fprintln(ui.SafeWriter(a.streams.Err), res.FailureLine(a.streams.ErrStyle()))
		}
		return &exitError{code: exitFailure}
	}
	if res.Problem() {
		return errProblemFound
	}
	return nil
}

// renderCapture prints the capture's summary. With -o json the event
// lines on stderr end with it as a "summary" line (not with -q, which
// prints no event lines, unless it is the only summary); the JSON document
// also goes to stdout, unless stdout carries the packets (-w -). Text goes to
// stdout, or to stderr with -w -.
func (a *app) renderCapture(stream bool, res *capture.Result) error {
	if a.format == ui.FormatJSON && (stream || !a.streams.Quiet) {
		// The same envelope values as the stdout document: a reader of
		// stderr alone must not see a summary from nowhere.
		meta := a.meta()
		line := struct {
			Type string `json:"type"`
			Time string `json:"time"`
			ui.Envelope
		}{"summary", time.Now().UTC().Format(time.RFC3339Nano), ui.Envelope{SchemaVersion: ui.SchemaVersion, Command: "capture", Version: meta.Version, Host: meta.Host, Data: res}}
		b, err := json.Marshal(line)
		if err != nil {
			return err
		}
		if _, err := a.streams.Err.Write(append(b, '\n')); err != nil && stream {
			return err
		}
		if stream {
			return nil
		}
	}
	return a.renderReport("capture", stream, res)
}

// listInterfaces is -D: every live primary with its ports. Capture flags
// given with it would be ignored, so they are refused.
func listInterfaces(cmd *cobra.Command, a *app, args []string) error {
	var other []string
	cmd.Flags().Visit(func(fl *pflag.Flag) {
		// --prefix picks the primary to list.
		if fl.Name != "list-interfaces" && fl.Name != "prefix" && cmd.InheritedFlags().Lookup(fl.Name) == nil {
			other = append(other, "--"+fl.Name)
		}
	})
	if len(other) > 0 || len(args) > 0 {
		return usageError("-D lists the primaries and their ports; it takes no capture flags or filter (%s)", strings.Join(append(other, args...), " "))
	}
	list, err := capture.ListInterfaces(cmd.Context(), capture.Options{Root: a.opts.Root, Prefix: a.opts.Prefix, Port: -1})
	if err != nil {
		if a.opts.Prefix != "" {
			return &exitError{code: exitProblem, err: err}
		}
		return failure(err)
	}
	return a.render("capture", list)
}

// oncePerKey refuses a dumpcap-style KEY:VALUE flag whose key is repeated:
// the parser would silently keep the last value.
func oncePerKey(flag string, vals []string) error {
	seen := map[string]string{}
	for _, v := range vals {
		k, _, _ := strings.Cut(v, ":")
		if prev, ok := seen[k]; ok {
			return usageError("%s %s and %s %s: give each %s key once", flag, prev, flag, v, flag)
		}
		seen[k] = v
	}
	return nil
}
