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
	gave := func(flags ...string) bool {
		for _, a := range argv {
			for _, f := range flags {
				if a == f || strings.HasPrefix(a, f+"=") {
					return true
				}
			}
		}
		return false
	}
	if asksOperator(t.Prefix) && gave("--prefix") {
		t.Prefix = ""
	}
	if asksOperator(t.Device) && gave("-i", "--device", "--port") {
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
	canon := func(flag string) string {
		switch flag {
		case "--device", "-i":
			return "-i"
		}
		return flag
	}
	var out []string
	done := map[string]bool{}
	for i := 0; i < len(argv); i++ {
		a := argv[i]
		name, _, hasVal := strings.Cut(a, "=")
		if !strings.HasPrefix(a, "--") {
			name, hasVal = a, false
		}
		c := canon(name)
		nv, ok := set[c]
		if !ok {
			out = append(out, a)
			continue
		}
		if c == "-i" {
			// A device by name replaces a port number.
			out = dropFlag(out, "--port")
		}
		again := done[c]
		done[c] = true
		if !hasVal && i+1 < len(argv) {
			i++ // the flag's value
		}
		if again && c == "-i" {
			continue // -i repeated: the fix's device once, not once per -i
		}
		if c == "--queue" && nv == "*" {
			continue
		}
		out = append(out, name, nv) // the operator's spelling of the flag
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
		if f == "-i" {
			out = dropFlag(out, "--port")
			at = min(at, len(out))
		}
		add = append(add, f, v)
	}
	out = append(out[:at], append(add, out[at:]...)...)
	return shquote.Join(out)
}

// asksOperator: a fix's value the log does not show (<your device>), which
// the operator's own value answers.
func asksOperator(v string) bool { return strings.HasPrefix(v, "<your ") }

// dropFlag removes a flag and its value (--flag v or --flag=v).
func dropFlag(args []string, flag string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		if args[i] == flag {
			i++
			continue
		}
		if strings.HasPrefix(args[i], flag+"=") {
			continue
		}
		out = append(out, args[i])
	}
	return out
}

// replaceDevice is the operator's gzdoctor command line with the device
// old, in whichever spelling they gave it (-i X, -iX, -i=X, --device X,
// --device=X), replaced by new, or dropped when new is "". The other
// devices of a multi-port capture stay as they were. nil when old is not
// on the line: a fix must not guess which flag to change.
func replaceDevice(argv []string, old, new string) []string {
	var out []string
	found := false
	for i := 0; i < len(argv); i++ {
		a := argv[i]
		flag, val, next := "", "", false
		switch {
		case (a == "-i" || a == "--device") && i+1 < len(argv):
			flag, val, next = a, argv[i+1], true
		case strings.HasPrefix(a, "--device="):
			flag, val = "--device", strings.TrimPrefix(a, "--device=")
		case strings.HasPrefix(a, "-i="):
			flag, val = "-i", strings.TrimPrefix(a, "-i=")
		case strings.HasPrefix(a, "-i") && len(a) > 2:
			flag, val = "-i", a[2:]
		}
		if flag == "" || val != old || found {
			out = append(out, a)
			continue
		}
		found = true
		if next {
			i++
		}
		if new != "" {
			out = append(out, flag, new)
		}
	}
	if !found {
		return nil
	}
	return out
}
