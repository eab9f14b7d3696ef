package doctor

import (
	"fmt"
	"os"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/gzdoctor/gzdoctor/host"
	"github.com/gzdoctor/gzdoctor/host/telemetry"
	"github.com/gzdoctor/gzdoctor/internal/shquote"
)

// Busy is what a capture (running, or killed without cleaning up) holds in
// a primary. It is the one detector of a busy primary: the busy check and
// capture's refusal to start both read it, so they never disagree.
//
// Measured on the lab (DPDK 22.11): dpdk-pdump hot-plugs the vdevs
// net_pcap_rx_N/net_pcap_tx_N into the primary and creates the memzones
// MP_pdump_pool_N, RG_rx_ring_N and RG_tx_ring_N there; dpdk-dumpcap
// creates RG_dumpcap-<pid> and MP_capture_<pid> and registers callbacks.
// A clean exit (SIGINT) removes all of it; SIGKILL leaves all of it, and
// the next pdump fails ("RING: Cannot reserve memory", "Mempool creation
// failed: File exists") as does the next dumpcap ("Packet dump enable
// failed: Operation not permitted") until the primary restarts.
type Busy struct {
	// Vdevs are pdump's vdevs among the primary's ports (telemetry).
	Vdevs []string `json:"vdevs,omitempty"`
	// Memzones are the capture tools' rings and pools in the primary's
	// memzone table (telemetry, else the prefix's fbarray_memzone).
	Memzones []string `json:"memzones,omitempty"`
	// Captures are capture tools (pdump, dumpcap) attached to the primary
	// right now: secondaries whose mp_socket_<pid>_* is bound.
	Captures []Attached `json:"captures,omitempty"`
	// Others are other live secondaries (an lstack attached to ltran,
	// dpdk-proc-info): not captures.
	Others []Attached `json:"others,omitempty"`
	// Gone are the pids of secondaries whose socket file outlived them.
	Gone []int `json:"gone,omitempty"`
	// Unknown says what could not be read (memzones, ports), so an empty
	// Busy is not taken for proof of a free primary.
	Unknown []string `json:"unknown,omitempty"`
}

// Attached is a live secondary of the primary.
type Attached struct {
	PID     int      `json:"pid"`
	Exe     string   `json:"exe,omitempty"`
	Cmdline []string `json:"cmdline,omitempty"`
}

// Words names the process: "pid 7249 (dpdk-pdump --file-prefix …)".
func (a Attached) Words() string {
	cmd := strings.Join(a.Cmdline, " ")
	if cmd == "" {
		cmd = orUnknown(a.Exe)
	}
	if len(cmd) > 160 {
		cmd = cmd[:157] + "..."
	}
	return fmt.Sprintf("pid %d (%s)", a.PID, cmd)
}

// Held reports whether a capture runs on the primary or left its
// plumbing in it: a new capture would fail either way.
func (b *Busy) Held() bool {
	return len(b.Vdevs) > 0 || len(b.Memzones) > 0 || len(b.Captures) > 0
}

// Poisoned reports plumbing that no running capture owns: a capture tool
// was killed, and only a restart of the primary frees it.
func (b *Busy) Poisoned() bool {
	return (len(b.Vdevs) > 0 || len(b.Memzones) > 0) && len(b.Captures) == 0
}

// captureMemzone matches the memzones dpdk-pdump (and gazelle-pdump, the
// same program) and dpdk-dumpcap create in the primary.
var captureMemzone = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^(MP_pdump_pool_[0-9]+|RG_rx_ring_[0-9]+|RG_tx_ring_[0-9]+|RG_dumpcap-[0-9]+|MP_capture_[0-9]+)$`)
})

// IsCaptureMemzone reports whether a memzone is a capture tool's.
func IsCaptureMemzone(name string) bool { return captureMemzone().MatchString(name) }

// IsCaptureTool tells a capture tool (pdump, gazelle-pdump, dumpcap) from
// another secondary (lstack in ltran mode, dpdk-proc-info, …) by its
// executable, its argv[0] or a --pdump argument. Check and capture ask it
// alike, so they agree on what holds a primary.
func IsCaptureTool(exe string, cmdline []string) bool {
	names := []string{path.Base(exe)}
	if len(cmdline) > 0 {
		names = append(names, path.Base(cmdline[0]))
	}
	for _, n := range names {
		if strings.Contains(n, "pdump") || strings.Contains(n, "dumpcap") {
			return true
		}
	}
	for _, a := range cmdline {
		if a == "--pdump" || strings.HasPrefix(a, "--pdump=") {
			return true
		}
	}
	return false
}

// DetectBusy reads what holds the primary of the prefix dir: its ports
// (portsKnown: the caller asked telemetry; ports may then be empty), its
// memzones (from the dir's fbarray_memzone, which needs no IPC and is
// always current; memzones, from telemetry, when that file cannot be
// read) and the secondaries attached in dir.
func DetectBusy(h *host.Host, dir *host.Prefix, ports []telemetry.EthPort, portsKnown bool, memzones []string) *Busy {
	b := &Busy{}
	if dir == nil {
		return b
	}
	if portsKnown {
		for _, p := range ports {
			if host.IsPdumpVdev(p.Name) {
				b.Vdevs = append(b.Vdevs, p.Name)
			}
		}
	} else {
		b.Unknown = append(b.Unknown, "ports (no telemetry)")
	}
	if names, err := h.MemzoneNames(dir.Dir); err == nil {
		memzones = names
	} else if memzones == nil {
		b.Unknown = append(b.Unknown, "memzones ("+err.Error()+")")
	}
	for _, m := range memzones {
		if IsCaptureMemzone(m) {
			b.Memzones = append(b.Memzones, m)
		}
	}
	// The attached tools come from dir's listing, the vdevs and rings from
	// reads made after it (telemetry can take a second under load): a
	// capture tool that attached in between holds the primary without
	// being in the listing, and it would be taken for a killed one's
	// leftovers, whose fix restarts the primary. Its socket came before
	// its rings and vdevs, so a listing made now has it.
	secondaries := dir.Secondaries
	if len(b.Vdevs) > 0 || len(b.Memzones) > 0 {
		if fresh, err := h.ScanPrefix(dir.Dir); err == nil {
			secondaries = fresh.Secondaries
		}
	}
	for _, s := range secondaries {
		if s.Bound != nil && !*s.Bound {
			b.Gone = append(b.Gone, s.PID)
			continue
		}
		q, err := h.ReadProcess(s.PID)
		if err != nil {
			b.Gone = append(b.Gone, s.PID)
			continue
		}
		if s.Bound == nil && q.DPDK.RuntimeDir != "" && !samePath(path.Clean(q.DPDK.RuntimeDir), path.Clean(dir.Dir)) {
			// No socket table to ask, and the pid now runs something
			// else: the secondary is gone and its pid reused.
			b.Gone = append(b.Gone, s.PID)
			continue
		}
		a := Attached{PID: q.PID, Exe: q.Exe, Cmdline: q.Cmdline}
		if IsCaptureTool(q.Exe, q.Cmdline) {
			b.Captures = append(b.Captures, a)
		} else {
			b.Others = append(b.Others, a)
		}
	}
	// dumpcap's memzones carry its pid: one of a live dumpcap is in use.
	sort.Strings(b.Vdevs)
	sort.Strings(b.Memzones)
	sort.Ints(b.Gone)
	return b
}

// ownerPID is the pid a dumpcap memzone names, 0 for pdump's.
func ownerPID(memzone string) int {
	i := strings.LastIndexAny(memzone, "-_")
	if i < 0 || !strings.HasPrefix(memzone, "RG_dumpcap-") && !strings.HasPrefix(memzone, "MP_capture_") {
		return 0
	}
	n, _ := strconv.Atoi(memzone[i+1:])
	return n
}

// Finding says what holds the primary, in the words the busy check and
// capture both print.
func (b *Busy) Finding(prefix string) string {
	var what []string
	if len(b.Vdevs) > 0 {
		what = append(what, "pdump's vdevs "+strings.Join(b.Vdevs, ", "))
	}
	if len(b.Memzones) > 0 {
		what = append(what, "capture rings/pools "+strings.Join(b.Memzones, ", "))
	}
	if len(b.Captures) > 0 {
		var who []string
		for _, c := range b.Captures {
			who = append(who, c.Words())
		}
		s := fmt.Sprintf("a capture is running on prefix %s: %s", prefix, strings.Join(who, "; "))
		if len(what) > 0 {
			s += "; the primary holds its " + strings.Join(what, " and ")
		}
		return s + ". A second capture on the same primary fails, or corrupts the first one's files"
	}
	s := fmt.Sprintf("the primary on prefix %s holds %s, but no capture tool is attached", prefix, strings.Join(what, " and "))
	var dead []string
	for _, m := range b.Memzones {
		if pid := ownerPID(m); pid > 0 && !slices.Contains(b.Gone, pid) {
			dead = append(dead, strconv.Itoa(pid))
		}
	}
	for _, pid := range b.Gone {
		dead = append(dead, strconv.Itoa(pid))
	}
	slices.Sort(dead)
	dead = slices.Compact(dead)
	if len(dead) > 0 {
		s += fmt.Sprintf(" (capture tool %s %s%s)", plural(len(dead), "pid", "pids"), strings.Join(dead, ", "), plural(len(dead), " is gone", " are gone"))
	}
	if b.onlyPdumpPool() {
		// dpdk-pdump 20.11 leaves its pool after a clean exit too, and
		// the next pdump then captures nothing (lab, 20.11.10); so does a
		// 22.11 pdump stopped while its start-up hung (a real Gazelle
		// 1.0.2 lstack, testdata/logs/gazelle-1.0.2).
		return s + ": a dpdk-pdump left it, killed (SIGKILL, OOM), stopped while its start-up hung (`EAL: Request timed out`) or, before DPDK 21.11, even after a clean exit; a new capture on this primary gets nothing until the primary restarts"
	}
	return s + ": a capture tool was killed (SIGKILL, OOM) before it could remove them, and every new capture fails until the primary restarts"
}

// onlyPdumpPool: pdump's pool alone, without its rings or vdevs.
func (b *Busy) onlyPdumpPool() bool {
	if len(b.Vdevs) > 0 || len(b.Memzones) == 0 {
		return false
	}
	for _, m := range b.Memzones {
		if !strings.HasPrefix(m, "MP_pdump_pool_") {
			return false
		}
	}
	return true
}

// Fix is what ends it: wait for (or stop) the running capture, or restart
// the primary, named with its pid and how it was started.
func (b *Busy) Fix(primary *host.Process) *Fix {
	if len(b.Captures) > 0 {
		var cmds []string
		for _, c := range b.Captures {
			cmds = append(cmds, fmt.Sprintf("kill -INT %d", c.PID))
		}
		return fix("wait for the running capture to end, or stop it with SIGINT (it then removes what it created; never SIGKILL it, that leaves the primary unusable for captures)", cmds...)
	}
	if primary == nil {
		return fix("only a restart of the primary frees what the capture tool left in it")
	}
	how := ""
	if len(primary.Cmdline) > 0 {
		how = restartLine(primary)
	}
	text := fmt.Sprintf("only a restart of the primary (pid %d, %s) frees them: stop it, and start it again as it was started", primary.PID, orUnknown(primary.Exe))
	if primary.PPID == 1 {
		text += " (if a service manager started it, restart the service instead)"
	}
	cmds := []string{fmt.Sprintf("kill %d; while kill -0 %d 2>/dev/null; do sleep 0.2; done", primary.PID, primary.PID)}
	if how != "" {
		cmds = append(cmds, how)
	}
	return fix(text, cmds...)
}

// restartLine is the primary's command line with the environment that
// changes how a Gazelle application starts (LD_PRELOAD, LSTACK_CONF_PATH…).
func restartLine(p *host.Process) string {
	var args []string
	var keys []string
	for k := range p.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		args = append(args, k+"="+p.Env[k])
	}
	cmd := slices.Clone(p.Cmdline)
	if p.Exe != "" && len(cmd) > 0 && !strings.HasPrefix(cmd[0], "/") {
		// A relative argv[0] depends on a working directory we do not
		// know, and a bare name on PATH: the executable is certain.
		cmd[0] = p.Exe
	}
	// argv[0] is the process's to choose: env would take "X=1" for a
	// variable and "-i" for its option, and run the next word instead.
	if len(args) > 0 && len(cmd) > 0 && (strings.Contains(cmd[0], "=") || strings.HasPrefix(cmd[0], "-")) {
		return ""
	}
	line := shquote.Join(cmd)
	if len(args) > 0 {
		vars := make([]string, len(args))
		for i, a := range args {
			vars[i] = shquote.Quote(a) // env's own arguments: NAME=value is meant
		}
		line = "env " + strings.Join(vars, " ") + " " + line
	}
	// Started again by whoever pastes it (root, as a rule), another
	// user's primary would run with root's rights: run it as its user.
	if p.UID != os.Getuid() {
		if p.UID == 0 {
			return "sudo " + line
		}
		return fmt.Sprintf("sudo -u '#%d' %s", p.UID, line)
	}
	return line
}
