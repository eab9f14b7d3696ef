package capture

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gzdoctor/gzdoctor/capture/pcapfile"
	"github.com/gzdoctor/gzdoctor/doctor"
	"github.com/gzdoctor/gzdoctor/host/target"
	"github.com/gzdoctor/gzdoctor/internal/shquote"
)

// Plan is everything decided before the backend starts: --dry-run prints
// it, a capture runs it.
type Plan struct {
	Backend string   `json:"backend"` // pdump or dumpcap
	Binary  string   `json:"binary"`
	Args    []string `json:"args"`    // the backend's argv after the binary
	Command string   `json:"command"` // the whole command line, shell-quoted

	Prefix    string `json:"prefix"`
	PrefixWhy string `json:"prefix_why"`
	// PrefixSource is what chose the prefix, as check's report says it
	// (flag, config, live): the two resolve it the same way.
	PrefixSource target.Via `json:"prefix_source,omitempty"`
	Device       string     `json:"device,omitempty"` // device name, when known
	// DeviceWhy says where a device gzdoctor chose was read, when not
	// from the primary's telemetry.
	DeviceWhy string `json:"device_why,omitempty"`
	Port      int    `json:"port"` // -1 when captured by name
	// Ports are every port captured, Device and Port the first.
	Ports []PlanPort `json:"ports"`
	Queue string     `json:"queue"`

	// Drivers are the PMD libraries passed to the tool with -d: the
	// primary's drivers it does not load by itself (pmds.go).
	// DriversNote says what was left out, or why none were derived.
	Drivers     []string `json:"eal_drivers,omitempty"`
	DriversNote string   `json:"eal_drivers_note,omitempty"`
	// EALArgs are the operator's own EAL arguments (--eal-args).
	EALArgs []string `json:"eal_args,omitempty"`

	// PdumpVdevs are pdump's pcap vdevs the primary already holds: another
	// capture runs, or a killed pdump left them. Either way a new capture
	// fails, so Run does not start one.
	PdumpVdevs []string `json:"pdump_vdevs,omitempty"`

	Outputs []Output `json:"outputs"`
	// Stream: -w -, the capture goes to stdout as it arrives (stream.go).
	Stream bool `json:"stream,omitempty"`
	// Temps are the backend's files, in TempDir: a directory only
	// gzdoctor's user can enter, made for this capture (tempdir.go).
	Temps   []Temp `json:"temp_files"`
	TempDir string `json:"temp_dir"`
	// TempNote says why TempDir is not in the output's directory: that
	// directory can be written by another user, or its paths are too long
	// for pdump.
	TempNote string `json:"temp_note,omitempty"`
	// Filter is applied by the backend (dumpcap) or by gzdoctor (pdump).
	Filter          string `json:"filter,omitempty"`
	FilterByBackend bool   `json:"filter_by_backend,omitempty"`
	SnapLen         int    `json:"snaplen,omitempty"`

	// Ring is the ring buffer (-b); nil for one file.
	Ring *RingPlan `json:"ring,omitempty"`
	// PostRotate is -z's program, resolved on PATH.
	PostRotate string `json:"post_rotate,omitempty"`

	Count    int64   `json:"count,omitempty"`
	Duration float64 `json:"duration_s,omitempty"`
	MaxSize  int64   `json:"max_size,omitempty"`

	// overhead estimates the output files' bytes that are not packet
	// records (see size.go), for the -C stop condition while capturing.
	overhead int64
	// primaryPID and runtimeDir locate the primary's rte_pdump_stats
	// (pdumpstats.go); 0 and "" when unknown.
	primaryPID int
	runtimeDir string
	// tempLock holds the flock on TempDir while the capture runs.
	tempLock *os.File
	// telemetry is the primary's telemetry socket, for the port counters
	// the watchdog compares with the files; "" when none.
	telemetry string
	// busy is what holds the primary (doctor.DetectBusy, the detector the
	// busy check uses too), and busyFix what frees it; nil when free.
	busy    *doctor.Busy
	busyFix *doctor.Fix
	// target is the primary as resolved; deferred is why it could not be
	// resolved (no live primary, which device?), told only after the
	// preflight, which usually knows the better reason.
	target   *capTarget
	deferred error
	// afterListing runs in refusedBusy right after the prefix dir is
	// listed: tests attach a capture tool there on purpose.
	afterListing func()
}

// PlanPort is one port captured.
type PlanPort struct {
	Device string `json:"device,omitempty"` // "" when only its number is known
	Port   int    `json:"port"`             // -1 when captured by name and the primary did not say
}

// label names the port in interface names, messages and the summary.
func (pp PlanPort) label() string {
	if pp.Device != "" {
		return pp.Device
	}
	return "port" + strconv.Itoa(pp.Port)
}

// Output is one final file.
type Output struct {
	Path   string          `json:"path"`
	Format pcapfile.Format `json:"format"`
	Rx     bool            `json:"rx"`
	Tx     bool            `json:"tx"`
}

// Temp is one file the backend writes.
type Temp struct {
	Path string `json:"path"`
	// Dir is the direction the file holds: "rx", "tx", or "both" (dumpcap
	// marks each packet).
	Dir string `json:"direction"`
	// Index is the file's port in Plan.Ports (pdump: one tuple per port);
	// dumpcap's one file holds them all, told apart by interface.
	Index int `json:"port_index"`
}

// maxPdumpPath is the longest rx-dev/tx-dev path that survives pdump whole.
// Two 64-byte arrays cut longer ones silently: pdump's own rx_dev/tx_dev
// (TX_STREAM_SIZE, app/pdump/main.c) and the pcap PMD's copy of its
// devargs, "tx_pcap=<path>" (ETH_PCAP_ARG_MAXLEN, pcap_ethdev.c), from which
// the secondary reopens the file: 63 - len("tx_pcap=") = 55. Seen on the
// lab: a 57-byte path made pdump write into the 55-byte prefix of its name.
const maxPdumpPath = 55

// Directions a temp file can hold.
const (
	dirRx   = "rx"
	dirTx   = "tx"
	dirBoth = "both"
)

func (p *Plan) wants(rx bool) bool {
	for _, o := range p.Outputs {
		if rx && o.Rx || !rx && o.Tx {
			return true
		}
	}
	return false
}

// resolveBinary picks the backend and its binary.
func resolveBinary(o *Options, lookPath func(string) (string, error)) (backend, bin string, err error) {
	backend = o.Backend
	if o.PdumpBin != "" {
		if backend == BackendAuto {
			backend = BackendPdump
			if strings.Contains(filepath.Base(o.PdumpBin), "dumpcap") {
				backend = BackendDumpcap
			}
		}
		bin, err := lookPath(o.PdumpBin)
		if err != nil {
			return "", "", usagef("--pdump-bin %s: %v", o.PdumpBin, err)
		}
		return backend, bin, nil
	}
	var candidates []string
	switch backend {
	case BackendPdump:
		candidates = []string{"gazelle-pdump", "dpdk-pdump"}
	case BackendDumpcap:
		candidates = []string{"dpdk-dumpcap"}
	default:
		candidates = []string{"gazelle-pdump", "dpdk-pdump", "dpdk-dumpcap"}
	}
	for _, c := range candidates {
		if p, err := lookPath(c); err == nil {
			if backend == BackendAuto {
				backend = BackendPdump
				if c == "dpdk-dumpcap" {
					backend = BackendDumpcap
				}
			}
			return backend, p, nil
		}
	}
	return "", "", fmt.Errorf("no capture tool found: none of %s is on PATH; install the dpdk tools (openEuler: dpdk-tools) or give --pdump-bin",
		strings.Join(candidates, ", "))
}

// planOutputs decides the final files and the backend's temporary files.
func planOutputs(o *Options, p *Plan) error {
	abs := func(flag, f string) (string, error) {
		if f == "-" {
			return "", usagef("%s -: stdout carries one stream: use -w - (both directions in one pcapng, each packet's direction flagged; -F pcap for pcap)", flag)
		}
		// The directory as given, before filepath.Abs cleans it: the
		// kernel would refuse "rel/../x" when rel is missing, and so
		// does gzdoctor, rather than write next to it.
		if i := strings.LastIndex(f, "/"); i > 0 && !o.DryRun {
			if fi, err := os.Stat(f[:i]); err != nil || !fi.IsDir() {
				return "", usagef("%s: no such directory %s", f, f[:i])
			}
		}
		a, err := filepath.Abs(f)
		if err != nil {
			return "", fmt.Errorf("%s %s: %w", flag, f, err)
		}
		return a, nil
	}
	switch {
	case o.Write == "-":
		p.Stream = true
		p.Outputs = []Output{{Path: "-", Format: orDefault(o.Format, pcapfile.FormatPcapNG), Rx: true, Tx: true}}
		// Nothing to check on disk: the backend's files go where
		// TMPDIR says.
		return planTemps(o, p)
	case o.Write != "":
		path, err := abs("-w", o.Write)
		if err != nil {
			return err
		}
		p.Outputs = []Output{{Path: path, Format: orDefault(o.Format, pcapfile.FormatPcapNG), Rx: true, Tx: true}}
	case o.RxFile != "" || o.TxFile != "":
		if o.RxFile != "" {
			path, err := abs("--rx", o.RxFile)
			if err != nil {
				return err
			}
			p.Outputs = append(p.Outputs, Output{Path: path, Format: orDefault(o.Format, pcapfile.FormatPcap), Rx: true})
		}
		if o.TxFile != "" {
			path, err := abs("--tx", o.TxFile)
			if err != nil {
				return err
			}
			p.Outputs = append(p.Outputs, Output{Path: path, Format: orDefault(o.Format, pcapfile.FormatPcap), Tx: true})
		}
		if len(p.Outputs) == 2 && p.Outputs[0].Path == p.Outputs[1].Path {
			return usagef("--rx and --tx name the same file; use -w for one file with both directions")
		}
	default:
		now := time.Now
		if o.now != nil {
			now = o.now
		}
		name := fmt.Sprintf("%s-%s.pcapng", p.Prefix, now().Format("20060102-150405"))
		path, err := abs("-w", name)
		if err != nil {
			return err
		}
		p.Outputs = []Output{{Path: path, Format: orDefault(o.Format, pcapfile.FormatPcapNG), Rx: true, Tx: true}}
	}
	for _, out := range p.Outputs {
		// Refused now, not after the capture: a final file that cannot
		// be written would cost the whole capture.
		if fi, err := os.Stat(out.Path); err == nil && fi.IsDir() {
			example := filepath.Join(out.Path, "capture."+out.Format.String())
			return usagef("%s is a directory: give a file name (e.g. %s)", out.Path, example)
		}
		if !o.DryRun {
			if fi, err := os.Stat(filepath.Dir(out.Path)); err != nil || !fi.IsDir() {
				return usagef("%s: no such directory %s", out.Path, filepath.Dir(out.Path))
			}
		}
	}
	p.Ring = newRingPlan(o, p.Outputs[0].Path)
	if !o.DryRun && p.Ring == nil {
		// A ring never writes -w's own name; each of its files is
		// created without overwriting. The final file is refused by
		// the same rule (pcapfile.CheckOutput) now, before the capture.
		for _, out := range p.Outputs {
			err := pcapfile.CheckOutput(out.Path, o.Force)
			if errors.Is(err, pcapfile.ErrExists) {
				return usagef("%s exists; gzdoctor never overwrites a capture (use --force, or another -w)", out.Path)
			}
			if err != nil {
				return usagef("%v", err)
			}
		}
	}

	return planTemps(o, p)
}

// planTemps names the capture's private directory and the backend's files
// in it (see tempdir.go).
func planTemps(o *Options, p *Plan) error {
	tag := o.tag
	if tag == "" {
		// The pid keeps processes apart, the sequence captures run by one
		// process (tests run several at once).
		tag = strconv.Itoa(os.Getpid())
		if n := tempSeq.Add(1); n > 1 {
			tag += "-" + strconv.FormatInt(n, 10)
		}
	}
	base := tempDirPrefix + tag
	var names []Temp
	longest := "rx.pcap"
	if p.Backend == BackendDumpcap {
		names = []Temp{{Path: "all.pcapng", Dir: dirBoth}}
	} else {
		n := max(len(p.Ports), 1)
		for i := range n {
			// One port keeps the names it always had.
			suffix := ""
			if n > 1 {
				suffix = strconv.Itoa(i)
				longest = "rx" + suffix + ".pcap"
			}
			for _, out := range p.Outputs {
				if out.Rx {
					names = append(names, Temp{Path: "rx" + suffix + ".pcap", Dir: dirRx, Index: i})
				}
				if out.Tx {
					names = append(names, Temp{Path: "tx" + suffix + ".pcap", Dir: dirTx, Index: i})
				}
			}
		}
	}
	maxLen := 0
	if p.Backend == BackendPdump {
		// "/" + base + "/" + "rx.pcap": the longest path pdump is given.
		maxLen = maxPdumpPath - len(base) - len(longest) - 2
	}
	outDir := filepath.Dir(p.Outputs[0].Path)
	if p.Stream {
		outDir = os.TempDir()
	}
	euid := os.Geteuid()
	place, err := chooseTempParent(outDir, maxLen, euid)
	if err != nil {
		if !o.DryRun || !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("choosing where the capture tool writes: %w", err)
		}
		// A dry run may name a directory this machine does not have.
		place = tempPlace{parent: outDir}
		if maxLen > 0 && len(outDir) > maxLen {
			place.parent = os.TempDir()
		}
	}
	p.TempNote = place.note
	p.TempDir = filepath.Join(place.parent, base)
	if !o.DryRun {
		// A name a dead capture left (pid reuse) or another user made in
		// a sticky directory: take the next one.
		for i := 2; ; i++ {
			if _, err := os.Lstat(p.TempDir); errors.Is(err, fs.ErrNotExist) {
				break
			}
			if i > 100 {
				return fmt.Errorf("choosing where the capture tool writes: %s-2 … -100 all exist", p.TempDir)
			}
			p.TempDir = filepath.Join(place.parent, base+"-x"+strconv.Itoa(i))
		}
	}
	p.Temps = nil
	for _, t := range names {
		p.Temps = append(p.Temps, Temp{Path: filepath.Join(p.TempDir, t.Path), Dir: t.Dir, Index: t.Index})
	}
	for _, t := range p.Temps {
		if p.Backend == BackendPdump && len(t.Path) > maxPdumpPath {
			return usagef("%s: longer than the %d bytes pdump keeps of rx-dev/tx-dev; set TMPDIR to a shorter directory", t.Path, maxPdumpPath)
		}
		// pdump's --pdump value is a key=value list split on ',' and '='.
		if p.Backend == BackendPdump && strings.ContainsAny(t.Path, ",=") {
			return usagef("%s: pdump cannot take a path with ',' or '=' in it (its --pdump value is split on them); write elsewhere", filepath.Dir(t.Path))
		}
	}
	return nil
}

// tempDirPrefix starts the name of every capture's private directory; the
// next run recognises a dead capture's directory by it (leftovers.go).
const tempDirPrefix = ".gzdoctor-"

var tempSeq atomic.Int64

func orDefault(f, def pcapfile.Format) pcapfile.Format {
	if f == 0 {
		return def
	}
	return f
}

// buildArgs fills p.Args and p.Command.
func buildArgs(o *Options, p *Plan) error {
	switch p.Backend {
	case BackendPdump:
		if o.Promisc {
			return usagef("--promisc: pdump never changes the port's promiscuous mode (it captures what the port receives); only --backend dumpcap can turn it on for the capture")
		}
		p.EALArgs = o.EALArgs
		p.Args = []string{"--file-prefix", p.Prefix}
		for _, d := range p.Drivers {
			p.Args = append(p.Args, "-d", d)
		}
		p.Args = append(append(p.Args, o.EALArgs...), "--")
		// One tuple per port: pdump gives each its own mempool
		// (pdump_pool_N), rings (rx_ring_N, tx_ring_N) and pcap vdevs.
		for i, pp := range planPorts(p) {
			var kv []string
			switch {
			case o.Port >= 0:
				kv = append(kv, "port="+strconv.Itoa(pp.Port))
			case pp.Device == "" && pp.Port >= 0:
				// The primary's telemetry gave the port's id, not its name.
				kv = append(kv, "port="+strconv.Itoa(pp.Port))
			default:
				kv = append(kv, "device_id="+pp.Device)
			}
			kv = append(kv, "queue="+p.Queue)
			for _, t := range p.Temps {
				if t.Index == i {
					kv = append(kv, t.Dir+"-dev="+t.Path)
				}
			}
			kv = append(kv,
				"ring-size="+strconv.Itoa(or(o.RingSize, DefaultRingSize)),
				"mbuf-size="+strconv.Itoa(or(o.MbufSize, DefaultMbufSize)),
				"total-num-mbufs="+strconv.Itoa(or(o.TotalMbufs, DefaultTotalMbufs)))
			p.Args = append(p.Args, "--pdump", strings.Join(kv, ","))
		}
	case BackendDumpcap:
		if o.Queue != "*" {
			return usagef("--queue %s: dpdk-dumpcap captures every queue; use the pdump backend to pick one", o.Queue)
		}
		if o.MbufSize != 0 || o.TotalMbufs != 0 {
			return usagef("--mbuf-size and --total-num-mbufs are pdump's; dpdk-dumpcap sizes its pool from -s and its ring")
		}
		if len(o.EALArgs) > 0 {
			// dpdk-dumpcap builds its own EAL arguments (22.11: the
			// prefix, --proc-type, --log-level) and takes no others.
			return usagef("--eal-args: dpdk-dumpcap takes no EAL arguments; use the pdump backend (--backend pdump)")
		}
		if len(p.Ports) > 1 {
			// Seen on the lab: dpdk-dumpcap 22.11 given -i net_ring0 -i
			// net_ring1 says "Capturing on 'net_ring1'" and captures that
			// one alone, exit 0.
			return usagef("%d ports: dpdk-dumpcap 22.11 captures only the last of several -i; use the pdump backend (--backend pdump), which takes one --pdump per port", len(p.Ports))
		}
		p.Args = []string{"--file-prefix", p.Prefix}
		for _, pp := range planPorts(p) {
			iface := pp.Device
			if o.Port >= 0 || pp.Device == "" && pp.Port >= 0 {
				iface = strconv.Itoa(pp.Port)
			}
			p.Args = append(p.Args, "-i", iface)
		}
		p.Args = append(p.Args, "-w", p.Temps[0].Path, "-q")
		// dpdk-dumpcap (22.11) turns promiscuous mode on by default and
		// off again when it exits, whatever the port had before: on the
		// lab a port that was promiscuous was left off. -p leaves the
		// port alone; --promisc lets dumpcap turn it on only where it is
		// off (and so back off at its exit).
		if on := p.target.promiscuous(p.Port); !o.Promisc || on != nil && *on {
			p.Args = append(p.Args, "-p")
		}
		if p.FilterByBackend {
			p.Args = append(p.Args, "-f", p.Filter)
		}
		if o.SnapLen > 0 {
			p.Args = append(p.Args, "-s", strconv.Itoa(o.SnapLen))
		}
		if o.RingSize > 0 {
			// -N is dumpcap's undocumented ring size option (22.11).
			p.Args = append(p.Args, "-N", strconv.Itoa(o.RingSize))
		}
	}
	p.Command = shquote.Join(append([]string{p.Binary}, p.Args...))
	return nil
}

// planPorts are the ports captured; before the target is resolved (a
// deferred "which device?") the one Device/Port says.
func planPorts(p *Plan) []PlanPort {
	if len(p.Ports) > 0 {
		return p.Ports
	}
	return []PlanPort{{Device: p.Device, Port: p.Port}}
}

func or(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}
