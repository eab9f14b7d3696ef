package host

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/gzdoctor/gzdoctor/host/libconfig"
)

// GazelleRole says which Gazelle program a config file is for.
type GazelleRole string

const (
	RoleLstack GazelleRole = "lstack"
	RoleLtran  GazelleRole = "ltran"
)

// Default config paths (gazelle-facts.md §1).
const (
	DefaultLstackConf = "/etc/gazelle/lstack.conf"
	DefaultLtranConf  = "/etc/gazelle/ltran.conf"
	// LstackConfEnv is the environment variable lstack reads its path from.
	LstackConfEnv = "LSTACK_CONF_PATH"
)

// ConfigPaths resolves which config files to read: the --config flag, else
// $LSTACK_CONF_PATH, else the two default paths. explicit is true for the
// first two (a missing file is then an error, not an absence).
func ConfigPaths(flag string, getenv func(string) string) (paths []string, explicit bool) {
	if flag != "" {
		return []string{flag}, true
	}
	if getenv != nil {
		if p := getenv(LstackConfEnv); p != "" {
			return []string{p}, true
		}
	}
	return []string{DefaultLstackConf, DefaultLtranConf}, false
}

// GazelleConfig is the part of lstack.conf / ltran.conf that decides how
// DPDK runs and so how a capture must attach.
type GazelleConfig struct {
	File string      `json:"file"`
	Role GazelleRole `json:"role"`

	// lstack: use_ltran (default 1 when absent!).
	UseLtran    bool `json:"use_ltran"`
	UseLtranSet bool `json:"use_ltran_set"`

	// DPDKArgs is the EAL argv as lstack/ltran build it from the file
	// (lstack: dpdk_args; ltran: forward_kit_args split on spaces), before
	// Gazelle adds its own options.
	DPDKArgs []string `json:"dpdk_args"`
	// ArgsPos is where dpdk_args / forward_kit_args is set.
	ArgsPos libconfig.Pos `json:"args_pos"`
	// ArgPos is the position of each DPDKArgs element (for ltran, all
	// point at the one string).
	ArgPos []libconfig.Pos `json:"-"`
	EAL    *EALArgs        `json:"eal"`

	// Prefix is the DPDK file prefix this process runs with. For lstack in
	// ltran mode without --file-prefix it is "gazelle_<pid>", a pattern.
	Prefix string `json:"prefix"`
	// PrefixSource: "file-prefix" (given), "default" (rte), or
	// "ltran-pid" (lstack in ltran mode adds gazelle_<pid>).
	PrefixSource string `json:"prefix_source"`
	// CapturePrimary names the process a capture must attach to: "lstack"
	// (this config's process) or "ltran" (lstack in ltran mode: the NIC
	// belongs to ltran, whose prefix comes from ltran.conf).
	CapturePrimary GazelleRole `json:"capture_primary"`

	Devices    string        `json:"devices,omitempty"` // lstack: MAC, normalised
	DevicesPos libconfig.Pos `json:"devices_pos"`
	NumCPUs    string        `json:"num_cpus,omitempty"`
	UnixPrefix string        `json:"unix_prefix,omitempty"`
	HostAddr   string        `json:"host_addr,omitempty"`
	NumProcess int64         `json:"num_process,omitempty"`
	KNISwitch  bool          `json:"kni_switch,omitempty"`
	BondMode   int64         `json:"bond_mode,omitempty"`
	BondSlaves []string      `json:"bond_slave_mac,omitempty"`

	// ltran.
	DispatchSubnet       string   `json:"dispatch_subnet,omitempty"`
	DispatchSubnetLength int64    `json:"dispatch_subnet_length,omitempty"`
	DispatchMaxClients   int64    `json:"dispatch_max_clients,omitempty"`
	BondMacs             []string `json:"bond_macs,omitempty"`
	BondPorts            []string `json:"bond_ports,omitempty"`

	Gotchas []ConfigGotcha `json:"gotchas,omitempty"`

	// Raw is the parsed file, for keys not modelled here.
	Raw *libconfig.Config `json:"-"`
}

// ConfigGotcha is a configuration mistake that affects capture, with where
// it is. IDs are stable.
type ConfigGotcha struct {
	ID       string        `json:"id"`
	Severity string        `json:"severity"` // "error" (the process fails or capture cannot work), "warn", "info"
	Pos      libconfig.Pos `json:"pos"`      // Line 0 when the problem is an absent key
	Message  string        `json:"message"`
}

// Gotcha IDs.
const (
	GotchaUseLtranMissing     = "use-ltran-missing"
	GotchaLtranMode           = "ltran-mode"
	GotchaOneTokenOption      = "eal-option-one-token"
	GotchaProcTypeOneToken    = "proc-type-one-token"
	GotchaMapPerfectNoLegacy  = "map-perfect-without-legacy-mem"
	GotchaMapPerfectOpenEuler = "map-perfect-openeuler-only"
	GotchaLtranNeedsSocketMem = "ltran-mode-socket-mem-missing"
	GotchaLtranNeedsLegacyMem = "ltran-mode-legacy-mem-missing"
	GotchaNoSharedConfig      = "eal-no-shared-config"
	GotchaFilePrefixRepeated  = "file-prefix-repeated"
	GotchaEALArgProblem       = "eal-arg-invalid"
	GotchaTooManyArgs         = "dpdk-args-too-many"
	GotchaKeyType             = "key-wrong-type"
	GotchaOctalInt            = "int-octal"
	GotchaDevicesNotMAC       = "devices-not-mac"
	GotchaArgsMissing         = "dpdk-args-missing"
)

// gazelleMaxArgs is GAZELLE_MAX_REG_ARGS: argv including argv[0].
const gazelleMaxArgs = 32

// ReadGazelleConfig reads and models the config file p.
func (h *Host) ReadGazelleConfig(p string) (*GazelleConfig, error) {
	lc, err := h.ReadLibconfig(p)
	if err != nil {
		return nil, err
	}
	return NewGazelleConfig(lc, path.Base(p))
}

// LoadGazelleConfigs reads the configs ConfigPaths names. Absent default
// files are skipped; an absent explicit file is an error.
func (h *Host) LoadGazelleConfigs(flag string, getenv func(string) string) ([]*GazelleConfig, error) {
	paths, explicit := ConfigPaths(flag, getenv)
	var out []*GazelleConfig
	for _, p := range paths {
		c, err := h.ReadGazelleConfig(p)
		if err != nil {
			if !explicit && errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

var (
	lstackKeys = []string{"dpdk_args", "use_ltran", "devices", "host_addr", "num_cpus", "stack_thread_mode", "tcp_conn_count"}
	ltranKeys  = []string{"forward_kit_args", "dispatch_subnet", "dispatch_max_clients", "bond_ports", "bond_macs", "forward_kit"}
)

// DetectRole tells lstack.conf from ltran.conf by their keys; when the
// keys do not decide, by the file name.
func DetectRole(lc *libconfig.Config, name string) (GazelleRole, error) {
	count := func(keys []string) int {
		n := 0
		for _, k := range keys {
			if lc.Lookup(k) != nil {
				n++
			}
		}
		return n
	}
	ls, lt := count(lstackKeys), count(ltranKeys)
	switch {
	case ls > lt:
		return RoleLstack, nil
	case lt > ls:
		return RoleLtran, nil
	case strings.Contains(name, "ltran"):
		return RoleLtran, nil
	case strings.Contains(name, "lstack"):
		return RoleLstack, nil
	}
	return "", fmt.Errorf("%s: cannot tell whether this is an lstack.conf or an ltran.conf (neither dpdk_args nor forward_kit_args is set)", lc.File)
}

// NewGazelleConfig models a parsed lstack.conf or ltran.conf. name (the
// file's base name) breaks ties when the keys do not tell the role.
func NewGazelleConfig(lc *libconfig.Config, name string) (*GazelleConfig, error) {
	role, err := DetectRole(lc, name)
	if err != nil {
		return nil, err
	}
	c := &GazelleConfig{File: lc.File, Role: role, Raw: lc, CapturePrimary: role}
	c.checkOctal(lc.Root)
	if role == RoleLtran {
		c.modelLtran(lc)
	} else {
		c.modelLstack(lc)
	}
	c.EAL = ParseEALArgs(c.DPDKArgs)
	c.derivePrefix()
	c.checkEAL()
	return c, nil
}

func (c *GazelleConfig) gotcha(id, sev string, p libconfig.Pos, format string, args ...any) {
	c.Gotchas = append(c.Gotchas, ConfigGotcha{ID: id, Severity: sev, Pos: p, Message: fmt.Sprintf(format, args...)})
}

func (c *GazelleConfig) filePos() libconfig.Pos { return libconfig.Pos{File: c.File} }

// str reads a string key; a key of another type is a gotcha (Gazelle's
// config_lookup_string fails and the program exits).
func (c *GazelleConfig) str(lc *libconfig.Config, key string) (string, libconfig.Pos, bool) {
	s := lc.Lookup(key)
	if s == nil {
		return "", libconfig.Pos{}, false
	}
	v, ok := s.Value.AsString()
	if !ok {
		c.gotcha(GotchaKeyType, "error", s.Pos, "%s is %s; %s reads it as a string (write it in double quotes)", key, s.Value.Describe(), c.Role)
		return "", s.Pos, false
	}
	return v, s.Pos, true
}

// integer reads an int key; a quoted number is a string, and Gazelle's
// int getter then fails.
func (c *GazelleConfig) integer(lc *libconfig.Config, key string) (int64, libconfig.Pos, bool) {
	s := lc.Lookup(key)
	if s == nil {
		return 0, libconfig.Pos{}, false
	}
	v, ok := s.Value.AsInt()
	if !ok {
		c.gotcha(GotchaKeyType, "error", s.Pos, "%s is %s; %s reads it as an integer (write it without quotes)", key, s.Value.Describe(), c.Role)
		return 0, s.Pos, false
	}
	return v, s.Pos, true
}

func (c *GazelleConfig) modelLstack(lc *libconfig.Config) {
	c.UseLtran = true // lstack's default when the key is absent
	if v, p, ok := c.integer(lc, "use_ltran"); ok {
		c.UseLtran, c.UseLtranSet = v != 0, true
		if c.UseLtran {
			c.gotcha(GotchaLtranMode, "info", p, "use_ltran=1: ltran owns the NIC, so a capture must attach to ltran's prefix (ltran.conf forward_kit_args), not lstack's")
		}
	} else if lc.Lookup("use_ltran") == nil {
		c.gotcha(GotchaUseLtranMissing, "warn", c.filePos(), "use_ltran is not set: lstack defaults to 1 (ltran mode) and waits for ltran (`wait for connecting to ltran`); set use_ltran=0 unless you run ltran")
	}

	if c.UseLtran {
		c.CapturePrimary = RoleLtran
	}

	if s := lc.Lookup("dpdk_args"); s != nil {
		c.ArgsPos = s.Pos
		args, ok := s.Value.AsStrings()
		if !ok {
			c.gotcha(GotchaKeyType, "error", s.Pos, "dpdk_args is %s; lstack wants a list of strings such as [\"--socket-mem\", \"2048\"]", s.Value.Describe())
		} else {
			c.DPDKArgs = args
			for _, e := range s.Value.Elems {
				c.ArgPos = append(c.ArgPos, e.Pos)
			}
			if len(args)+1 > gazelleMaxArgs {
				c.gotcha(GotchaTooManyArgs, "error", s.Pos, "dpdk_args has %d entries; lstack takes at most %d", len(args), gazelleMaxArgs-1)
			}
		}
	} else {
		c.gotcha(GotchaArgsMissing, "error", c.filePos(), "dpdk_args is not set; lstack requires it")
	}

	if v, p, ok := c.str(lc, "devices"); ok {
		c.DevicesPos = p
		if mac, err := NormalizeMAC(v); err == nil {
			c.Devices = mac
		} else {
			c.Devices = v
			c.gotcha(GotchaDevicesNotMAC, "error", p, "devices=%q is not a MAC address; lstack matches DPDK ports by MAC only", v)
		}
	}
	c.NumCPUs, _, _ = c.str(lc, "num_cpus")
	c.UnixPrefix, _, _ = c.str(lc, "unix_prefix")
	c.HostAddr, _, _ = c.str(lc, "host_addr")
	c.NumProcess, _, _ = c.integer(lc, "num_process")
	if v, _, ok := c.integer(lc, "kni_switch"); ok {
		c.KNISwitch = v != 0
	}
	c.BondMode = -1
	if v, _, ok := c.integer(lc, "bond_mode"); ok {
		c.BondMode = v
	}
	if v, _, ok := c.str(lc, "bond_slave_mac"); ok && v != "" {
		c.BondSlaves = strings.Split(v, ";")
	}
}

func (c *GazelleConfig) modelLtran(lc *libconfig.Config) {
	if v, p, ok := c.str(lc, "forward_kit_args"); ok {
		c.ArgsPos = p
		// ltran splits on single spaces without quoting; empty fields
		// (double spaces) do not become arguments.
		for _, f := range strings.Split(v, " ") {
			if f != "" {
				c.DPDKArgs = append(c.DPDKArgs, f)
				c.ArgPos = append(c.ArgPos, p)
			}
		}
		if len(c.DPDKArgs)+1 > gazelleMaxArgs {
			c.gotcha(GotchaTooManyArgs, "error", p, "forward_kit_args has %d arguments; ltran takes at most %d", len(c.DPDKArgs), gazelleMaxArgs-1)
		}
	} else if lc.Lookup("forward_kit_args") == nil {
		c.gotcha(GotchaArgsMissing, "error", c.filePos(), "forward_kit_args is not set; ltran requires it")
	}
	c.UnixPrefix, _, _ = c.str(lc, "unix_prefix")
	c.DispatchSubnet, _, _ = c.str(lc, "dispatch_subnet")
	c.DispatchSubnetLength, _, _ = c.integer(lc, "dispatch_subnet_length")
	c.DispatchMaxClients, _, _ = c.integer(lc, "dispatch_max_clients")
	c.BondMode, _, _ = c.integer(lc, "bond_mode")
	if v, _, ok := c.integer(lc, "kni_switch"); ok {
		c.KNISwitch = v != 0
	}
	if v, _, ok := c.str(lc, "bond_macs"); ok && v != "" {
		for _, m := range strings.Split(v, ",") {
			m = strings.TrimSpace(m)
			if n, err := NormalizeMAC(m); err == nil {
				m = n
			}
			c.BondMacs = append(c.BondMacs, m)
		}
	}
	if v, _, ok := c.str(lc, "bond_ports"); ok && v != "" {
		for _, p := range strings.Split(v, ",") {
			c.BondPorts = append(c.BondPorts, strings.TrimSpace(p))
		}
	}
}

func (c *GazelleConfig) derivePrefix() {
	switch {
	case c.EAL.FilePrefix != "":
		c.Prefix, c.PrefixSource = c.EAL.FilePrefix, "file-prefix"
	case c.Role == RoleLstack && c.UseLtran:
		c.Prefix, c.PrefixSource = "gazelle_<pid>", "ltran-pid"
	default:
		c.Prefix, c.PrefixSource = DefaultFilePrefix, "default"
	}
}

func (c *GazelleConfig) argPos(i int) libconfig.Pos {
	if i >= 0 && i < len(c.ArgPos) {
		return c.ArgPos[i]
	}
	return c.ArgsPos
}

func (c *GazelleConfig) checkEAL() {
	e := c.EAL
	key := "dpdk_args"
	if c.Role == RoleLtran {
		key = "forward_kit_args"
	}
	for _, p := range e.Problems {
		c.gotcha(GotchaEALArgProblem, "error", c.argPos(p.Index), "%s: %s (EAL will refuse to start)", key, p.Message)
	}
	if c.Role == RoleLstack {
		// Gazelle finds these by prefix match and reads the next element
		// as the value: the one-token form gives it the wrong value.
		for _, name := range []string{"--file-prefix", "--socket-mem", "--base-virtaddr"} {
			for _, a := range e.FindAll(name) {
				if !a.Joined {
					continue
				}
				next := "nothing"
				if a.Index+1 < len(e.Argv) {
					next = fmt.Sprintf("%q", e.Argv[a.Index+1])
				}
				c.gotcha(GotchaOneTokenOption, "warn", c.argPos(a.Index),
					"%q is one token: DPDK reads it, but lstack's own parsing of %s takes the next element (%s) as its value; write \"%s\", \"%s\"",
					e.Argv[a.Index], name, next, name, a.Value)
			}
		}
		for _, a := range e.FindAll("--proc-type") {
			if a.Joined && a.Value == "secondary" {
				c.gotcha(GotchaProcTypeOneToken, "warn", c.argPos(a.Index),
					"%q is one token: DPDK starts a secondary, but lstack looks for a separate \"secondary\" element and runs as primary; write \"--proc-type\", \"secondary\"", e.Argv[a.Index])
			}
		}
		// With a use_ltran of the wrong type lstack stops at cfg_init:
		// what ltran mode would need is beside the point.
		if c.UseLtran && (c.UseLtranSet || c.Raw.Lookup("use_ltran") == nil) {
			if !e.Has("--socket-mem") {
				c.gotcha(GotchaLtranNeedsSocketMem, "error", c.ArgsPos, "ltran mode needs --socket-mem in dpdk_args (lstack: `Cannot find param --socket-mem`)")
			}
			if !e.LegacyMem || !e.MapPerfect {
				c.gotcha(GotchaLtranNeedsLegacyMem, "warn", c.ArgsPos, "ltran mode needs \"--legacy-mem\" and \"--map-perfect\" in dpdk_args")
			}
		}
	}
	if a := e.Find("--map-perfect"); a != nil {
		if !e.LegacyMem {
			c.gotcha(GotchaMapPerfectNoLegacy, "error", c.argPos(a.Index), "--map-perfect without --legacy-mem: openEuler's DPDK refuses it (`Option --legacy-mem or in-memory or no-huge is not compatible with --map-perfect and pri-and-sec`)")
		}
		c.gotcha(GotchaMapPerfectOpenEuler, "info", c.argPos(a.Index), "--map-perfect exists only in openEuler's DPDK; a stock DPDK (and its pdump) rejects it")
	}
	if fp := e.FindAll("--file-prefix"); len(fp) > 1 {
		c.gotcha(GotchaFilePrefixRepeated, "warn", c.argPos(fp[len(fp)-1].Index), "--file-prefix is given %d times; DPDK uses the last (%q)", len(fp), e.FilePrefix)
	}
	if !e.SharesConfig() {
		opt := "--in-memory"
		if !e.InMemory {
			opt = "--no-shconf"
		}
		a := e.Find(opt)
		c.gotcha(GotchaNoSharedConfig, "error", c.argPos(a.Index), "%s: the primary keeps no shared config in its runtime dir, so no secondary (gazelle-pdump, dpdk-dumpcap) can attach to capture", opt)
	}
}

// checkOctal flags integers written with a leading 0 anywhere in the file.
func (c *GazelleConfig) checkOctal(v *libconfig.Value) {
	if v == nil {
		return
	}
	for _, s := range v.Settings {
		if s.Value.Octal {
			c.gotcha(GotchaOctalInt, "warn", s.Value.Pos, "%s is written with a leading 0: libconfig reads it as octal (%d)", s.Name, s.Value.Int)
		}
		c.checkOctal(s.Value)
	}
	for _, e := range v.Elems {
		c.checkOctal(e)
	}
}
