package doctor

import (
	"context"
	"os"
	"time"

	"github.com/gzdoctor/gzdoctor/host"
	"github.com/gzdoctor/gzdoctor/host/target"
)

// Config is what the operator told gzdoctor (flags) and who will run the
// capture. The zero value inspects the live machine as the current user.
type Config struct {
	// Host is the machine model; nil means the live machine.
	Host *host.Host
	// Prefix is --prefix: the DPDK --file-prefix the capture must use.
	Prefix string
	// PrefixFrom is what gave Prefix when not --prefix: target.ViaLog for
	// the prefix a capture tool's log names (diagnose --live).
	PrefixFrom target.Via
	// PrefixWhy, with PrefixFrom, hands over a target resolved before
	// (capture's plan to its preflight): see target.Request.Why.
	PrefixWhy string
	// ConfigPath is --config: the lstack.conf or ltran.conf in use. Empty
	// means the live lstack's LSTACK_CONF_PATH, then the capture user's,
	// then /etc/gazelle/{lstack,ltran}.conf.
	ConfigPath string
	// Device is --device: a PCI address or a vdev name (the capture's
	// device_id).
	Device string
	// Devices are every device the capture names (-i repeated), Device
	// among them: the device fix does not offer one of them in place of
	// Device, since the capture has it already.
	Devices []string
	// Rerun is the operator's own command with Device replaced by the
	// device given ("" drops Device from it): gzdoctor capture's preflight
	// sets it so the device fix is the command they typed, corrected,
	// rather than the capture tool's. nil means the capture tool's.
	Rerun func(device string) string
	// Recapture is the operator's own gzdoctor capture command with the
	// prefix, and a device other than Device, put in place of theirs:
	// gzdoctor capture's preflight sets it, so that every fix that says
	// "capture from that primary" is the command they typed (its -c, -w,
	// filter kept), not a capture tool's line. nil, or "", means the
	// capture tool's.
	Recapture func(prefix, device string) string
	// PdumpBin is --pdump-bin: the capture tool; empty means look on PATH.
	PdumpBin string
	// CaptureFile is where the capture will write (rx-dev/tx-dev); empty
	// skips the output-path check.
	CaptureFile string
	// CaptureMbufs is the capture tool's pool in mbufs (pdump's
	// total-num-mbufs); 0 means gzdoctor capture's default, 8191.
	CaptureMbufs int
	// User is who runs the capture tool; nil means this process's user.
	User *User
	// allPrefixes: Prefix is one of the running primaries, set by RunAll,
	// not given by the operator.
	allPrefixes bool
	// startingWindow replaces the package's for tests: negative, no
	// primary is taken for one still starting.
	startingWindow time.Duration
	// Env is the capture user's environment ($PATH, $LSTACK_CONF_PATH...);
	// nil means this process's.
	Env []string
}

// User is the identity the capture tool will run with; it decides which
// DPDK runtime dir the tool looks in.
type User struct {
	UID, GID      int
	XDGRuntimeDir string
}

// Env is one run's view of the machine: the Config and every fact the
// checks share, each gathered once on first use.
type Env struct {
	cfg Config
	h   *host.Host

	runtime lazy[*Runtime]
	target  lazy[*target.Target]
	primary lazy[*host.Process]
	procs   lazy[[]host.Process]
	socks   lazy[host.UnixSockets]
	// prefixArgs maps a --file-prefix to a process whose command line
	// gives it (not a secondary).
	prefixArgs lazy[map[string][]int]
	config     lazy[*GazelleConfig]

	telemetry lazy[*host.TelemetryReport]
	huge      lazy[*host.Hugepages]
	hugeFiles lazy[[]host.HugepageFiles]
	elfs      lazy[*elfFacts]
	pci       lazy[[]host.PCIDevice]

	// factTimeout bounds a fact's gathering; Run sets it to the per-check
	// timeout. Facts outlive the check that first asked for them, so they
	// run under the run's context, not that check's. runDeadline is when
	// the whole run must be over (Run's start + timeout): a fact first asked
	// for late in the run ends early enough for its checks to report it.
	// selected are the IDs of the checks this run runs: a later check
	// leaves a cause to the earlier one that reports it (see reportedBy).
	selected map[string]bool

	factTimeout time.Duration
	runCtx      context.Context
	runDeadline time.Time
}

// NewEnv returns an Env for cfg.
func NewEnv(cfg Config) *Env {
	h := cfg.Host
	if h == nil {
		h = host.New("/")
	}
	if cfg.Env == nil {
		cfg.Env = os.Environ()
	}
	if cfg.User == nil {
		cfg.User = &User{UID: os.Geteuid(), GID: os.Getegid(), XDGRuntimeDir: os.Getenv("XDG_RUNTIME_DIR")}
	}
	return &Env{cfg: cfg, h: h}
}

// factContext is the context a shared fact is gathered under: the run's
// cancellation (Ctrl-C) but not the asking check's deadline. A fact gets ¾
// of the timeout, but never past the last eighth of the run: that much is
// left to the checks waiting for it (reading a fact takes no I/O) to say
// what they waited for before the run's deadline turns them into a bare
// "timed out".
func (e *Env) factContext(ctx context.Context) (context.Context, context.CancelFunc) {
	d := e.factTimeout
	if d <= 0 {
		d = DefaultTimeout
	}
	deadline := time.Now().Add(d * 3 / 4)
	if !e.runDeadline.IsZero() {
		if last := e.runDeadline.Add(-d / 8); last.Before(deadline) {
			deadline = last
		}
	}
	if e.runCtx != nil {
		ctx = e.runCtx
	}
	return context.WithDeadline(ctx, deadline)
}

// Host returns the machine model the checks read.
func (e *Env) Host() *host.Host { return e.h }

// Config returns what the run was asked to check.
func (e *Env) Config() Config { return e.cfg }

// getenv reads the capture user's environment.
func (e *Env) getenv(key string) string {
	for i := len(e.cfg.Env) - 1; i >= 0; i-- {
		if k, v, ok := cutEnv(e.cfg.Env[i]); ok && k == key {
			return v
		}
	}
	return ""
}

func cutEnv(kv string) (string, string, bool) {
	for i := 0; i < len(kv); i++ {
		if kv[i] == '=' {
			return kv[:i], kv[i+1:], true
		}
	}
	return "", "", false
}

// Target is what the run examined, for the report's header and for callers
// (capture uses the resolved prefix).
type Target struct {
	Root         string     `json:"root"`
	UID          int        `json:"uid"`
	Prefix       string     `json:"prefix,omitempty"`
	PrefixSource target.Via `json:"prefix_source,omitempty"`
	RuntimeDir   string     `json:"runtime_dir,omitempty"`
	PrimaryPID   int        `json:"primary_pid,omitempty"`
	// PrimaryRole is ltran, lstack or dpdk (any other primary), when a
	// primary holds the prefix.
	PrimaryRole string `json:"primary_role,omitempty"`
	Config      string `json:"config,omitempty"`
	Device      string `json:"device,omitempty"`
}

func (e *Env) targetSummary() Target {
	t := Target{Root: e.h.Root, UID: e.cfg.User.UID, Device: e.cfg.Device}
	if tp, ok := e.target.peek(); ok && tp != nil && !tp.Ambiguous() {
		t.Prefix, t.PrefixSource, t.RuntimeDir = tp.Prefix, tp.Via, tp.RuntimeDir
	}
	if p, ok := e.primary.peek(); ok && p != nil {
		t.PrimaryPID, t.PrimaryRole = p.PID, primaryRole(p)
	}
	if c, ok := e.config.peek(); ok && c != nil {
		t.Config = c.Path
	}
	return t
}
