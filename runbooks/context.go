package runbooks

import (
	"cmp"
	"regexp"
	"strings"
	"sync"

	"github.com/gzdoctor/gzdoctor/internal/shquote"
)

// Context is what the caller knows beyond the log, used to make every fix
// the next command to type: the target the operator named (gzdoctor's
// --prefix / --device, or the capture supervisor's own arguments), the
// capture tool that exists on this machine, and the gzdoctor command that
// was running. The zero Context changes nothing.
type Context struct {
	// Prefix is the primary's file prefix as the operator named it. It
	// wins over the log's prefix fact, fills the target_prefix fact
	// (<primary's prefix>), and every gzdoctor command printed gets it as
	// --prefix.
	Prefix string
	// LivePrefix is the only prefix with a live primary on this machine
	// (diagnose --live): it fills target_prefix (<primary's prefix>) when
	// the operator named none, and leaves the log's own prefix alone.
	LivePrefix string
	// LiveDevice is the only port of the target primary (diagnose --live,
	// from its telemetry): it fills primary_device (<the primary's
	// device>) in fixes that send the capture to the primary's own port.
	LiveDevice string
	// Device is the capture target the operator named; it wins over the
	// log's device_id fact.
	Device string
	// RuntimeDir is the runtime dir of Prefix for the user who runs the
	// capture (/var/run/dpdk/<prefix> for root); it wins over the log's
	// runtime_dir fact.
	RuntimeDir string
	// LookPath reports whether a program exists on this machine (PATH, or
	// under --root). Fix commands that run gazelle-pdump then name the
	// pdump that exists: gazelle-pdump, else dpdk-pdump. Injected so that
	// tests do not depend on the machine.
	LookPath func(name string) bool
	// Ports, when set, are the target primary's ports as this machine
	// reports them (diagnose --live, capture's preflight): they pick, among
	// a finding's alternatives, the one the lines alone cannot tell from
	// it (a queue= past the port's queues fails like a wrong device_id).
	// nil: the log alone decides.
	Ports []LivePort
	// Capture, when set, returns the gzdoctor command that reruns the
	// capture the operator was running, aimed where the fix says (a value
	// in <…> is one the fix asks for). A fix that runs the capture tool by
	// hand prints that command instead.
	Capture func(CaptureTarget) string
}

// CaptureTarget is where a fix's capture command aims, as its pdump
// arguments say: --file-prefix, device_id= and queue= (empty when the
// command does not say).
type CaptureTarget struct {
	Prefix, Device, Queue string
}

// contextFacts are the facts only a Context provides.
var contextFacts = []string{"target_prefix", "primary_device"}

// SetContext gives the matcher what the caller knows; the findings
// returned from then on use it.
func (m *Matcher) SetContext(ctx Context) { m.ctx = ctx }

// addFacts lays the context over the log's facts.
func (ctx *Context) addFacts(facts map[string]string) {
	if ctx.LivePrefix != "" {
		facts["target_prefix"] = ctx.LivePrefix
	}
	if ctx.LiveDevice != "" {
		facts["primary_device"] = ctx.LiveDevice
	}
	if ctx.Prefix != "" {
		facts["prefix"] = ctx.Prefix
		facts["target_prefix"] = ctx.Prefix
	}
	if ctx.Device != "" {
		facts["device_id"] = ctx.Device
	}
	if ctx.RuntimeDir != "" {
		facts["runtime_dir"] = ctx.RuntimeDir
	}
}

// pdumpTool is the pdump program to print: gazelle-pdump when it exists
// here or nothing can be looked up, else dpdk-pdump when that exists.
func (ctx *Context) pdumpTool() string {
	if ctx.LookPath == nil || ctx.LookPath("gazelle-pdump") || !ctx.LookPath("dpdk-pdump") {
		return "gazelle-pdump"
	}
	return "dpdk-pdump"
}

// Compiled on first use, as the rest of the package's (no regexp at init).
var (
	// A command word may follow sudo, env -u VAR, VAR=value and setarch's
	// arguments.
	reLead = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^((?:sudo |env -u \S+ |[A-Z_]+=\S+ |setarch (?:\$\(uname -m\)|\S+) -R )*)(\S+)(.*)$`)
	})
	reFilePrefix = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`--file-prefix[ =](\S+)`) })
	reDeviceID   = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`device_id=(<[^>]*>|[^,']+)`) })
	reQueue      = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`queue=([^,']+)`) })
)

// command rewrites one fix command with the context: gzdoctor commands
// get --prefix, a pdump run names the pdump that exists here, or becomes
// the gzdoctor capture the operator was running.
func (ctx *Context) command(cmd, prefix string) string {
	if cmd == "" {
		return cmd
	}
	cmd = strings.ReplaceAll(cmd, "$(which gazelle-pdump)", "$(which "+ctx.pdumpTool()+")")
	lines := shellLines(cmd)
	for i, l := range lines {
		m := reLead().FindStringSubmatch(l)
		if m == nil {
			continue
		}
		lead, prog, rest := m[1], m[2], m[3]
		switch prog {
		case "gzdoctor":
			// gzdoctor SUB --prefix P …, for the commands aimed at a
			// primary (specpatch reads a file).
			sub, args, _ := strings.Cut(strings.TrimPrefix(rest, " "), " ")
			if prefix != "" && (sub == "check" || sub == "capture") && !strings.Contains(rest, "--prefix") {
				rest = " " + sub + " --prefix " + shquote.Quote(prefix)
				if args != "" {
					rest += " " + args
				}
			}
			lines[i] = lead + prog + rest
		case "gazelle-pdump":
			if ctx.Capture != nil && lead == "" && strings.Contains(rest, "--pdump") {
				lines[i] = ctx.Capture(pdumpTarget(rest))
				continue
			}
			lines[i] = lead + ctx.pdumpTool() + rest
		}
	}
	return strings.Join(lines, "\n")
}

// pdumpTarget is where a pdump command's arguments aim, read as the shell
// reads them: its values were quoted for it (fillCommand). A command the
// words cannot be read from (a <placeholder> with a quote in '…') is read
// by pattern.
func pdumpTarget(args string) CaptureTarget {
	var t CaptureTarget
	words, err := shquote.Split(args)
	if err != nil {
		if fm := reFilePrefix().FindStringSubmatch(args); fm != nil {
			t.Prefix = fm[1]
		}
		if dm := reDeviceID().FindStringSubmatch(args); dm != nil {
			t.Device = dm[1]
		}
		if qm := reQueue().FindStringSubmatch(args); qm != nil {
			t.Queue = qm[1]
		}
		return t
	}
	for i, w := range words {
		next := ""
		if i+1 < len(words) {
			next = words[i+1]
		}
		switch {
		case w == "--file-prefix":
			t.Prefix = next
		case strings.HasPrefix(w, "--file-prefix="):
			t.Prefix = strings.TrimPrefix(w, "--file-prefix=")
		case w == "--pdump" || strings.HasPrefix(w, "--pdump="):
			spec := next
			if w != "--pdump" {
				spec = strings.TrimPrefix(w, "--pdump=")
			}
			for _, kv := range strings.Split(spec, ",") {
				if v, ok := strings.CutPrefix(kv, "device_id="); ok {
					t.Device = v
				} else if v, ok := strings.CutPrefix(kv, "queue="); ok {
					t.Queue = v
				}
			}
		}
	}
	return t
}

// shellLines splits a command at the newlines the shell ends commands
// at; one inside quotes (a path holding a newline) is part of a word.
func shellLines(cmd string) []string {
	var out []string
	var quote byte
	start := 0
	for i := 0; i < len(cmd); i++ {
		c := cmd[i]
		switch {
		case quote == '\'':
			if c == '\'' {
				quote = 0
			}
		case c == '\\':
			i++
		case quote == '"':
			if c == '"' {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '\n':
			out = append(out, cmd[start:i])
			start = i + 1
		}
	}
	return append(out, cmd[start:])
}

// applyContext rewrites a finding's commands with the context, and says
// which gzdoctor check confirms it, aimed at the finding's prefix.
func (ctx *Context) applyContext(f *Finding, facts map[string]string) {
	// The operator's prefix, else the one the finding's lines name (the
	// tool's: the prefix check then says which prefixes are live, as
	// diagnose --live does), else the log's.
	prefix := cmp.Or(ctx.Prefix, f.Values["prefix"], f.Values["primary_prefix"], facts["prefix"])
	for i := range f.Fix {
		f.Fix[i].Command = ctx.command(f.Fix[i].Command, prefix)
	}
	if len(f.Checks) > 0 {
		f.Confirm = ctx.command("gzdoctor check --only "+coversText(f.Checks), prefix)
	}
}

// Command rewrites a command printed elsewhere (a check's fix shown by
// diagnose --live) the way a finding's are: the pdump this machine has,
// and --prefix on gzdoctor commands that lack one.
func (ctx *Context) Command(cmd, prefix string) string {
	return ctx.command(cmd, cmp.Or(ctx.Prefix, prefix))
}
