package capture

import (
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/gzdoctor/gzdoctor/internal/shquote"
	"github.com/gzdoctor/gzdoctor/runbooks"
)

// fixContext tells the runbook matcher what the supervisor knows beyond
// the backend's output, so that a finding's fix is the next command to
// type: the capture's prefix and device, the pdump this machine has, and
// the operator's own gzdoctor capture command, aimed where the fix says,
// instead of a hand-written pdump command.
func fixContext(o *Options, p *Plan) runbooks.Context {
	look := o.lookPath
	if look == nil {
		look = exec.LookPath
	}
	// Findings are rendered after every backend line: look each name up
	// once.
	var mu sync.Mutex
	found := map[string]bool{}
	// Not the device: the fixes read a known device_id as the one the
	// primary looked up and lacked, which the backend's lines alone do not
	// prove (a bad queue= fails with the same lines).
	// The primary's only port is the one a "send it to the primary's own
	// device" fix means, and it is known from telemetry, not the log.
	only := ""
	if t := p.target; t != nil && len(t.ports) == 1 && t.ports[0].Name != "" {
		only = t.ports[0].Name
	}
	// The ports tell a queue= past the port's queues from a wrong
	// device_id, which the backend's lines alone do not.
	var ports []runbooks.LivePort
	if t := p.target; t != nil && t.ports != nil {
		ports = []runbooks.LivePort{}
		for _, pt := range t.ports {
			if pt.Error == "" && !strings.HasPrefix(pt.Name, "net_pcap_") {
				ports = append(ports, runbooks.LivePort{ID: pt.ID, Name: pt.Name, RxQueues: pt.RxQueues, TxQueues: pt.TxQueues})
			}
		}
	}
	lacked := lackedDevice(p)
	return runbooks.Context{
		Prefix:     p.Prefix,
		Device:     lacked,
		LiveDevice: only,
		Ports:      ports,
		LookPath: func(name string) bool {
			if name == filepath.Base(p.Binary) {
				return true
			}
			mu.Lock()
			defer mu.Unlock()
			ok, seen := found[name]
			if !seen {
				_, err := look(name)
				ok = err == nil
				found[name] = ok
			}
			return ok
		},
		Capture: func(t runbooks.CaptureTarget) string { return rerunLacking(o.CommandLine, t, lacked, p.Ports) },
	}
}

// lackedDevice is the one device of the capture that the primary's ports
// (telemetry, every one named) do not have: then the primary's "no such
// device" is about it, whatever the tool's log says first (its command
// names every -i, and a finding reads the first). "" when the ports are
// not known, or when none or several are missing.
func lackedDevice(p *Plan) string {
	t := p.target
	if t == nil || t.ports == nil {
		return ""
	}
	have := map[string]bool{}
	for _, pt := range t.ports {
		if pt.Name == "" {
			return "" // DPDK before 21.11 lists ids only
		}
		have[pt.Name] = true
	}
	lacked := ""
	for _, pp := range p.Ports {
		if pp.Device == "" || have[pp.Device] {
			continue
		}
		if lacked != "" {
			return ""
		}
		lacked = pp.Device
	}
	return lacked
}

// rerunLacking is rerunCommand for a capture one of whose devices the
// primary lacks: only that -i changes (to the fix's device, or it goes
// when the capture has that device already), the others stay.
func rerunLacking(argv []string, t runbooks.CaptureTarget, lacked string, ports []PlanPort) string {
	if lacked == "" || t.Device == "" || asksOperator(t.Device) || len(argv) == 0 {
		return rerunCommand(argv, t)
	}
	use := t.Device
	if slices.ContainsFunc(ports, func(pp PlanPort) bool { return pp.Device == use }) {
		use = ""
	}
	fixed := replaceDevice(argv, lacked, use)
	if fixed == nil {
		return rerunCommand(argv, t)
	}
	t.Device = ""
	return rerunCommand(fixed, t)
}

// rerunCommand is the operator's gzdoctor command line with the prefix,
// device and queue a fix names put in place of theirs (added when they
// gave none; queue=* is the default, so --queue goes). A value the fix
// asks of the operator because the log does not show it (<your device>)
// is the operator's own, if they gave one; one it says theirs is not
// (<the primary's device>) replaces it.
func rerunCommand(argv []string, t runbooks.CaptureTarget) string {
	if len(argv) == 0 {
		argv = []string{"gzdoctor", "capture"}
	}
	args := parseCommandLine(argv)
	gave := func(flags ...string) bool {
		return slices.ContainsFunc(args, func(a cmdArg) bool { return slices.Contains(flags, a.flag) })
	}
	if asksOperator(t.Prefix) && gave("--prefix") {
		t.Prefix = ""
	}
	if asksOperator(t.Device) && gave("-i", "--port") {
		t.Device = ""
	}
	set := map[string]string{}
	if t.Prefix != "" {
		set["--prefix"] = t.Prefix
	}
	if t.Device != "" {
		set["-i"] = t.Device
	}
	if t.Queue != "" {
		set["--queue"] = t.Queue
	}
	var out []string
	done := map[string]bool{}
	for _, a := range args {
		if a.flag == "--port" && t.Device != "" {
			continue // a device by name replaces a port number
		}
		nv, ok := set[a.flag]
		if a.flag == "" || !ok {
			out = append(out, a.words...)
			continue
		}
		again := done[a.flag]
		done[a.flag] = true
		if again && a.flag == "-i" {
			continue // -i repeated: the fix's device once, not once per -i
		}
		if a.flag == "--queue" && nv == "*" {
			continue
		}
		out = append(out, a.spelled, nv) // the operator's spelling of the flag
	}
	// Flags the operator did not give go right after the subcommand.
	at := len(out)
	for i, a := range out {
		if a == "capture" {
			at = i + 1
			break
		}
	}
	var add []string
	for _, f := range []string{"--prefix", "-i", "--queue"} {
		v, ok := set[f]
		if !ok || done[f] || f == "--queue" && v == "*" {
			continue
		}
		add = append(add, f, v)
	}
	out = append(out[:at], append(add, out[at:]...)...)
	return shquote.Join(out)
}

// asksOperator: a fix's value the log does not show (<your device>), which
// the operator's own value answers.
func asksOperator(v string) bool { return strings.HasPrefix(v, "<your ") }

// replaceDevice is the operator's gzdoctor command line with the device
// old, in whichever spelling they gave it, replaced by new, or dropped
// when new is "". The other devices of a multi-port capture stay as they
// were. nil when old is not on the line: a fix must not guess which flag
// to change.
func replaceDevice(argv []string, old, new string) []string {
	var out []string
	found := false
	for _, a := range parseCommandLine(argv) {
		if a.flag != "-i" || a.val != old || found {
			out = append(out, a.words...)
			continue
		}
		found = true
		if new != "" {
			out = append(out, a.spelled, new)
		}
	}
	if !found {
		return nil
	}
	return out
}

// cmdArg is one argument of the operator's command line: a flag a fix may
// change, with its value, or any other word (flag "").
type cmdArg struct {
	words   []string // as the operator typed it: one word, or flag and value
	flag    string   // "--prefix", "-i" (also for --device), "--queue", "--port"
	spelled string   // the flag as typed ("--device" stays "--device")
	val     string
}

// parseCommandLine reads the flags of gzdoctor capture's command line that
// a fix changes, in every spelling pflag accepts (--flag v, --flag=v, and
// for -i also -iv and -i=v); every other word is kept as it is.
func parseCommandLine(argv []string) []cmdArg {
	long := map[string]string{"--prefix": "--prefix", "--device": "-i", "--queue": "--queue", "--port": "--port"}
	var out []cmdArg
	for i := 0; i < len(argv); i++ {
		a := argv[i]
		arg := cmdArg{words: argv[i : i+1]}
		name, val, joined := strings.Cut(a, "=")
		switch {
		case strings.HasPrefix(a, "--") && long[name] != "":
			arg.flag, arg.spelled = long[name], name
		case a == "-i" || strings.HasPrefix(a, "-i="):
			arg.flag, arg.spelled = "-i", "-i"
		case strings.HasPrefix(a, "-i") && !strings.HasPrefix(a, "--"):
			arg.flag, arg.spelled, val, joined = "-i", "-i", a[2:], true
		}
		if arg.flag != "" {
			if joined {
				arg.val = val
			} else if i+1 < len(argv) {
				arg.words = argv[i : i+2]
				arg.val = argv[i+1]
				i++
			}
		}
		out = append(out, arg)
	}
	return out
}
