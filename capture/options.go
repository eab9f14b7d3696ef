package capture

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gzdoctor/gzdoctor/capture/pcapfile"
	"github.com/gzdoctor/gzdoctor/host"
	"github.com/gzdoctor/gzdoctor/internal/duration"
)

// Backend names.
const (
	BackendAuto    = "auto"
	BackendPdump   = "pdump"
	BackendDumpcap = "dumpcap"
)

// Defaults for pdump's mempool and ring. pdump's own defaults (ring 16384,
// 65535 mbufs of 2176 bytes: about 150 MiB of hugepages) are sized for
// 10G line rate; ours need about 20 MiB, which a Gazelle host that reserved
// hugepages for lstack can spare, and still absorb a 4096-packet burst.
const (
	DefaultRingSize   = 4096
	DefaultTotalMbufs = 8191
	DefaultMbufSize   = 2176 // RTE_MBUF_DEFAULT_BUF_SIZE, pdump's default
)

// The values pdump takes (host.Pdump*, shared with check's fixes).
const (
	MinMbufSize   = host.PdumpMinMbufSize
	MaxMbufSize   = host.PdumpMaxMbufSize
	MinTotalMbufs = host.PdumpMinTotalMbufs
	MaxTotalMbufs = host.PdumpMaxTotalMbufs
	MinRingSize   = host.PdumpMinRingSize
	MaxRingSize   = host.PdumpMaxRingSize
)

// Options is what the operator asked for. The zero value (plus Port -1)
// captures the only port of the only live primary into
// <prefix>-<timestamp>.pcapng in the working directory until interrupted.
type Options struct {
	Root       string // filesystem root (--root); "" means /
	Prefix     string // --prefix; "" resolves it
	ConfigPath string // --config

	Device string // -i/--device: PCI address or vdev name
	Port   int    // --port; -1 means not given
	// Devices and Ports are more ports captured at once, in one file: a
	// second -i or --port (Device and Port hold the first). AllPorts
	// captures every port of the primary but pdump's own vdevs.
	Devices  []string
	Ports    []int
	AllPorts bool
	Queue    string // --queue: a number or "*" (default)

	Write  string          // -w: one file, both directions; "-" streams to Stdout
	RxFile string          // --rx
	TxFile string          // --tx
	Format pcapfile.Format // -F; 0: pcapng for -w, pcap for --rx/--tx

	Count int64 // -c; 0 means no limit
	// Ring is dumpcap's -b: a ring buffer of files instead of one file.
	Ring Ring
	// StopFiles is dumpcap's -a files:N: stop once N ring files were
	// written; 0 means none.
	StopFiles int
	// PostRotate is -z: a program run on every closed file (tcpdump's
	// postrotate-command), with the file as its one argument.
	PostRotate string
	Duration   time.Duration // -a duration:N / --duration; 0 means none
	MaxSize    int64         // -C/--max-size in bytes, for all output files together; 0 means none
	Filter     string        // -f: tcpdump filter expression
	SnapLen    int           // -s; 0 means whole packets

	Backend    string // auto, pdump, dumpcap
	PdumpBin   string // --pdump-bin
	RingSize   int    // --ring-size; 0: default
	MbufSize   int    // --mbuf-size (pdump only); 0: default
	TotalMbufs int    // --total-num-mbufs (pdump only); 0: default
	// EALArgs are more EAL arguments for the tool (pdump only), after
	// the -d gzdoctor derives and before "--".
	EALArgs []string

	// Promisc lets dpdk-dumpcap put the port in promiscuous mode for the
	// capture; without it gzdoctor passes -p (the port is left alone).
	Promisc bool

	Force       bool
	DryRun      bool
	NoPreflight bool

	// CommandLine is gzdoctor's own argv, recorded in the pcapng comment.
	CommandLine []string

	// Stdout receives the capture with -w - (the process's stdout).
	Stdout io.Writer

	// Live output while the capture runs. Nil writers print nothing.
	Log         io.Writer // backend lines (-v)
	Progress    io.Writer // progress (stderr; nil with -q)
	ProgressTTY bool      // one refreshed line instead of periodic lines
	// Events, with -o json, receives the event lines (events.go) instead
	// of the progress line: start, progress once a second, findings,
	// notes, stopping. Nil with -q.
	Events     io.Writer
	Interval   time.Duration // progress refresh on a TTY; default 250ms
	PlainEvery time.Duration // plain progress lines; default 5s

	// Interrupts carries the operator's signals (SIGINT, SIGTERM): the
	// first stops the capture gracefully, the second kills the backend.
	Interrupts <-chan os.Signal

	// tag names temporary files (default: the pid); tests fix it.
	tag string
	// now is the clock for default file names; tests fix it.
	now func() time.Time
	// lookPath finds binaries; tests fix it.
	lookPath func(string) (string, error)
	// portCounter counts the port's packets for the watchdog (default:
	// the primary's telemetry); watchTimes replace readyGrace, startGrace
	// and watchEvery. Tests fix them.
	portCounter portCounter
	watchTimes  [3]time.Duration
	// afterPoll runs on every poll, after the watchdog's check, with the
	// times it judges by: tests stop a capture once the watchdog has had
	// its chance, whatever the machine's load did to the backend's start.
	afterPoll func(now, started, readyAt time.Time)
	// onPoll runs on every poll with the records the backend's files
	// hold: tests stop a capture once packets are there, not after a
	// sleep that a loaded machine may outlast.
	onPoll func(records int64)
	// beforeBackend runs once the backend's files exist, before the
	// backend starts: tests race it there on purpose.
	beforeBackend func(p *Plan)
	// lockDir replaces /run/gzdoctor for the capture locks; tests fix it.
	lockDir string
}

// ProblemError is a problem found on the machine that keeps a capture
// from being planned (no primary to ask for the device): exit status 1,
// as check's verdict on the same machine.
type ProblemError struct{ Msg string }

func (e *ProblemError) Error() string { return e.Msg }

// UsageError is a problem with the options: exit status 2.
type UsageError struct {
	Msg string
	// needsHealthy: a question only a healthy primary should be asked
	// about ("which device?"); the preflight's verdict comes first.
	needsHealthy bool
}

func (e *UsageError) Error() string { return e.Msg }

func usagef(format string, args ...any) error {
	return &UsageError{Msg: fmt.Sprintf(format, args...)}
}

// ParseAutostop applies one dumpcap-style -a condition to o:
// duration:SECONDS, packets:N or filesize:KB.
func (o *Options) ParseAutostop(s string) error {
	k, v, ok := strings.Cut(s, ":")
	if !ok {
		return usagef("-a %q: want duration:SECONDS, packets:N or filesize:KB", s)
	}
	switch k {
	case "duration":
		d, err := duration.Parse(v)
		if err := positive(d, err, 0); err != "" {
			return usagef("-a duration:%s: %s", v, err)
		}
		o.Duration = d
	case "packets":
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return usagef("-a packets:%s: want a positive count", v)
		}
		o.Count = n
	case "filesize":
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return usagef("-a filesize:%s: want a positive size in kB", v)
		}
		o.MaxSize = n * 1000
	case "files":
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return usagef("-a files:%s: want a positive number of files", v)
		}
		o.StopFiles = n
	default:
		return usagef("-a %q: unknown condition %q (duration, packets, filesize, files)", s, k)
	}
	return nil
}

// Ring is dumpcap's ring buffer (-b): the capture goes into a series of
// files, each closed (and renamed into place) when it is full or old
// enough, the oldest removed beyond Files.
type Ring struct {
	FileSize int64         // -b filesize:KB, in bytes (KB × 1000); 0: none
	Duration time.Duration // -b duration:S; 0: none
	Packets  int64         // -b packets:N; 0: none
	Files    int           // -b files:N; 0: keep every file
}

// On reports whether a ring buffer was asked for: it needs a condition
// that closes a file (dumpcap's rule; files:N alone is refused).
func (r Ring) On() bool { return r.FileSize > 0 || r.Duration > 0 || r.Packets > 0 }

func (r Ring) given() bool { return r.On() || r.Files > 0 }

// ParseRing applies one dumpcap-style -b option to o: filesize:KB,
// duration:SECONDS, packets:N or files:N.
func (o *Options) ParseRing(s string) error {
	k, v, ok := strings.Cut(s, ":")
	if !ok {
		return usagef("-b %q: want filesize:KB, duration:SECONDS, packets:N or files:N", s)
	}
	switch k {
	case "filesize":
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 || n > 1<<40 {
			return usagef("-b filesize:%s: want a positive size in kB (1 kB = 1000 bytes, as dumpcap)", v)
		}
		o.Ring.FileSize = n * 1000
	case "duration":
		d, err := duration.Parse(v)
		if err := positive(d, err, 1e9*time.Second); err != "" {
			return usagef("-b duration:%s: %s", v, err)
		}
		o.Ring.Duration = d
	case "packets":
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return usagef("-b packets:%s: want a positive count", v)
		}
		o.Ring.Packets = n
	case "files":
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 || n > maxRingFiles {
			return usagef("-b files:%s: want a number of files from 1 to %d", v, maxRingFiles)
		}
		o.Ring.Files = n
	case "interval", "printname", "nametimenum":
		return usagef("-b %s: dumpcap's, not supported by gzdoctor (filesize, duration, packets, files are)", k)
	default:
		return usagef("-b %q: unknown option %q (filesize, duration, packets, files)", s, k)
	}
	return nil
}

// ParseSize reads a -C/--max-size value. A plain number is in millions of
// bytes, as tcpdump's -C; suffixes k, m, g (KiB, MiB, GiB) and an explicit
// B (bytes) are accepted.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(strings.ToLower(s))
	mul := int64(1_000_000)
	switch {
	case strings.HasSuffix(t, "kib") || strings.HasSuffix(t, "k"):
		mul, t = 1<<10, strings.TrimSuffix(strings.TrimSuffix(t, "kib"), "k")
	case strings.HasSuffix(t, "mib") || strings.HasSuffix(t, "m"):
		mul, t = 1<<20, strings.TrimSuffix(strings.TrimSuffix(t, "mib"), "m")
	case strings.HasSuffix(t, "gib") || strings.HasSuffix(t, "g"):
		mul, t = 1<<30, strings.TrimSuffix(strings.TrimSuffix(t, "gib"), "g")
	case strings.HasSuffix(t, "b"):
		mul, t = 1, strings.TrimSuffix(t, "b")
	}
	n, err := strconv.ParseFloat(t, 64)
	if err != nil || n <= 0 {
		return 0, usagef("size %q: want a positive number, optionally with k, m, g or b", s)
	}
	return int64(n * float64(mul)), nil
}

// check validates the options that need no machine.
func (o *Options) check() error {
	if o.Write != "" && (o.RxFile != "" || o.TxFile != "") {
		return usagef("-w writes both directions into one file; use either -w or --rx/--tx")
	}
	if o.Write == "-" && o.MaxSize > 0 {
		return usagef("-C limits the size of files; -w - writes to stdout, which has none: stop it with -c or -a duration:N")
	}
	byName, byNumber := o.Device != "" || len(o.Devices) > 0, o.Port >= 0 || len(o.Ports) > 0
	if byName && byNumber {
		return usagef("give the device by name (-i) or by port number (--port), not both")
	}
	if o.AllPorts && (byName || byNumber) {
		return usagef("--all-ports captures every port: give it without -i or --port")
	}
	if len(o.Devices) > 0 && o.Device == "" || len(o.Ports) > 0 && o.Port < 0 {
		return usagef("Devices and Ports extend Device and Port: set those first")
	}
	for i, d := range o.Devices {
		if d == o.Device || slices.Contains(o.Devices[:i], d) {
			return usagef("-i %s given twice", d)
		}
	}
	for i, n := range o.Ports {
		if n < 0 {
			return usagef("--port %d: want a port number (0, 1, …)", n)
		}
		if n == o.Port || slices.Contains(o.Ports[:i], n) {
			return usagef("--port %d given twice", n)
		}
	}
	if o.Queue == "" {
		o.Queue = "*"
	}
	if o.Queue != "*" {
		if q, err := strconv.ParseUint(o.Queue, 10, 16); err != nil || q == 65535 {
			return usagef("--queue %q: want a queue number or * for all", o.Queue)
		}
	}
	if o.Count < 0 || o.MaxSize < 0 || o.Duration < 0 || o.SnapLen < 0 {
		return usagef("-c, -C, --duration and -s take positive values")
	}
	if o.PostRotate != "" && o.Write == "-" {
		return usagef("-z runs on files; -w - writes no file (run it on what reads stdout instead)")
	}
	if o.Ring.given() || o.StopFiles > 0 {
		switch {
		case !o.Ring.On():
			// dumpcap's rule: files:N alone would never switch files.
			return usagef("-b files:N and -a files:N need a condition that closes a file: -b filesize:KB, -b duration:SECONDS or -b packets:N")
		case o.RxFile != "" || o.TxFile != "":
			return usagef("-b writes a ring of -w files (both directions in each); it does not take --rx/--tx")
		case o.MaxSize > 0:
			return usagef("-C / -a filesize stop the whole capture at a size; with -b, bound the disk with -b files:N (at most N files of -b filesize:KB) or stop after N files with -a files:N")
		case o.Write == "-":
			return usagef("-b writes files; it cannot write to stdout (-w -)")
		}
	}
	if o.SnapLen > 262144 {
		return usagef("-s %d: at most 262144", o.SnapLen)
	}
	switch o.Backend {
	case "":
		o.Backend = BackendAuto
	case BackendAuto, BackendPdump, BackendDumpcap:
	default:
		return usagef("--backend %q: want auto, pdump or dumpcap", o.Backend)
	}
	for _, a := range o.EALArgs {
		switch {
		case a == "--":
			return usagef("--eal-args: \"--\" ends the EAL arguments; gzdoctor adds it itself")
		case a == "--file-prefix" || strings.HasPrefix(a, "--file-prefix="):
			return usagef("--eal-args: give the prefix with --prefix, not --file-prefix")
		case a == "--proc-type" || strings.HasPrefix(a, "--proc-type="):
			return usagef("--eal-args: the capture tool is always a secondary; pdump sets --proc-type itself")
		}
	}
	if o.RingSize < 0 || o.MbufSize < 0 || o.TotalMbufs < 0 {
		return usagef("--ring-size, --mbuf-size and --total-num-mbufs take positive values")
	}
	if o.RingSize != 0 && o.RingSize&(o.RingSize-1) != 0 {
		return usagef("--ring-size %d: pdump wants a power of 2", o.RingSize)
	}
	if o.RingSize != 0 && (o.RingSize < MinRingSize || o.RingSize > MaxRingSize) {
		return usagef("--ring-size %d: want a power of 2 from %d to %d", o.RingSize, MinRingSize, MaxRingSize)
	}
	if o.TotalMbufs != 0 && (o.TotalMbufs < MinTotalMbufs || o.TotalMbufs > MaxTotalMbufs) {
		return usagef("--total-num-mbufs %d: pdump takes %d to %d", o.TotalMbufs, MinTotalMbufs, MaxTotalMbufs)
	}
	if o.MbufSize != 0 && o.MbufSize < MinMbufSize {
		return usagef("--mbuf-size %d: below %d (128 bytes of headroom and a 1518-byte frame) the primary chains the mbufs it copies each packet into (on DPDK 22.11 --mbuf-size 1 crashed the primary, 256 crashed pdump); the default is %d", o.MbufSize, MinMbufSize, DefaultMbufSize)
	}
	if o.MbufSize > MaxMbufSize {
		return usagef("--mbuf-size %d: pdump takes at most %d", o.MbufSize, MaxMbufSize)
	}
	return nil
}

// positive says what is wrong with a -a/-b duration: unreadable (the
// parser's words: a number too long is "too long", not "not a number"),
// not positive, or past max (0: no maximum); "" when it is fine.
func positive(d time.Duration, err error, max time.Duration) string {
	switch {
	case errors.Is(err, duration.ErrTooLong), err == nil && max > 0 && d > max:
		return "too long"
	case err != nil, d <= 0:
		return "want a positive number of seconds (or a duration: 1m30s)"
	}
	return ""
}
