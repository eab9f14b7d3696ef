package host

import (
	"fmt"
	"strings"
)

// DefaultFilePrefix is the DPDK file prefix when no --file-prefix is given.
const DefaultFilePrefix = "rte"

// EALArg is one option found in an EAL argv.
type EALArg struct {
	// Index is the position of the option's token in the argv given to
	// ParseEALArgs (0-based, not counting a program name).
	Index int `json:"index"`
	// Name is the canonical option name: "--file-prefix", "-l", ...
	// Aliases are mapped to one name (-w and --pci-whitelist to --allow,
	// -b and --pci-blacklist to --block, -a to --allow).
	Name string `json:"name"`
	// Written is the option as written, e.g. "--file-pre" or "-w".
	Written string `json:"written"`
	Value   string `json:"value,omitempty"`
	// Joined is set when the value was in the same token ("--opt=value"
	// or "-l0-3"). Gazelle's own look-ups only see the two-token form.
	Joined bool `json:"joined,omitempty"`
}

// EALArgs is an EAL argv parsed as DPDK's getopt_long sees it.
type EALArgs struct {
	Argv []string `json:"argv"`
	Opts []EALArg `json:"opts"`
	// Positional are the non-option arguments (getopt moves them past the
	// options; the application gets them, EAL ignores them).
	Positional []string `json:"positional,omitempty"`
	// Problems are argv mistakes EAL would reject: an unknown option, a
	// missing value, an ambiguous abbreviation.
	Problems []EALProblem `json:"problems,omitempty"`

	FilePrefix   string   `json:"file_prefix,omitempty"` // last --file-prefix ("" when absent)
	SocketMem    string   `json:"socket_mem,omitempty"`
	HugeDir      string   `json:"huge_dir,omitempty"`
	Allow        []string `json:"allow,omitempty"` // -a/-w values, as written
	Block        []string `json:"block,omitempty"`
	VDevs        []string `json:"vdevs,omitempty"`
	Drivers      []string `json:"drivers,omitempty"` // -d
	ProcType     string   `json:"proc_type,omitempty"`
	IOVAMode     string   `json:"iova_mode,omitempty"`
	Lcores       string   `json:"lcores,omitempty"`   // -l or --lcores
	Coremask     string   `json:"coremask,omitempty"` // -c
	BaseVirtaddr string   `json:"base_virtaddr,omitempty"`
	NoPCI        bool     `json:"no_pci,omitempty"`
	NoHuge       bool     `json:"no_huge,omitempty"`
	LegacyMem    bool     `json:"legacy_mem,omitempty"`
	MapPerfect   bool     `json:"map_perfect,omitempty"` // openEuler DPDK only
	InMemory     bool     `json:"in_memory,omitempty"`
	NoShconf     bool     `json:"no_shconf,omitempty"`
	// HugeUnlink: the hugepage files are unlinked once mapped (a bare
	// --huge-unlink, or 22.11's --huge-unlink=always), so no secondary
	// can map the primary's memory. =existing and =never keep them.
	HugeUnlink bool `json:"huge_unlink,omitempty"`
}

// EALProblem is an argv mistake at argv index Index.
type EALProblem struct {
	Index   int    `json:"index"`
	Message string `json:"message"`
}

// Prefix is the DPDK file prefix the argv selects: the last --file-prefix
// (EAL keeps the last one), else "rte".
func (e *EALArgs) Prefix() string {
	if e.FilePrefix != "" {
		return e.FilePrefix
	}
	return DefaultFilePrefix
}

// Has reports whether the option name (canonical) appears.
func (e *EALArgs) Has(name string) bool { return e.Find(name) != nil }

// Find returns the last occurrence of the option name (canonical), or nil.
func (e *EALArgs) Find(name string) *EALArg {
	for i := len(e.Opts) - 1; i >= 0; i-- {
		if e.Opts[i].Name == name {
			return &e.Opts[i]
		}
	}
	return nil
}

// FindAll returns every occurrence of the option name (canonical).
func (e *EALArgs) FindAll(name string) []EALArg {
	var out []EALArg
	for _, o := range e.Opts {
		if o.Name == name {
			out = append(out, o)
		}
	}
	return out
}

// UnlinksHugepages reports whether a --huge-unlink option removes the
// hugepage files once mapped: bare (every release) or =always (22.11).
func UnlinksHugepages(a EALArg) bool {
	return a.Name == "--huge-unlink" && (a.Value == "" || a.Value == "always")
}

// SharesConfig reports whether a secondary process (pdump) can attach to a
// primary started with these args: --in-memory and --no-shconf leave no
// shared config in the runtime dir.
func (e *EALArgs) SharesConfig() bool { return !e.InMemory && !e.NoShconf }

// ealOption describes an EAL option: its canonical name and whether it
// takes a value (0 no, 1 required, 2 optional and only as "--opt=value").
type ealOption struct {
	name string
	arg  int
}

// ealShort is DPDK 22.11's eal_short_options, plus -w (the pre-20.11
// spelling of -a that 19.11 builds still take).
var ealShort = map[byte]ealOption{
	'a': {"--allow", 1}, 'w': {"--allow", 1}, 'b': {"--block", 1},
	'c': {"-c", 1}, 's': {"-s", 1}, 'd': {"-d", 1}, 'h': {"--help", 0},
	'l': {"-l", 1}, 'S': {"-S", 1}, 'm': {"-m", 1}, 'n': {"-n", 1},
	'r': {"-r", 1}, 'v': {"-v", 0},
}

// ealLong is DPDK 22.11's eal_long_options, the pre-20.11 names, and the
// options openEuler's DPDK adds for Gazelle (--map-perfect, --pri-and-sec).
var ealLong = map[string]ealOption{
	"base-virtaddr": {"--base-virtaddr", 1}, "create-uio-dev": {"--create-uio-dev", 0},
	"file-prefix": {"--file-prefix", 1}, "help": {"--help", 0},
	"huge-dir": {"--huge-dir", 1}, "huge-unlink": {"--huge-unlink", 2},
	"iova-mode": {"--iova-mode", 1}, "lcores": {"--lcores", 1},
	"log-level": {"--log-level", 1}, "trace": {"--trace", 1}, "trace-dir": {"--trace-dir", 1},
	"trace-bufsz": {"--trace-bufsz", 1}, "trace-mode": {"--trace-mode", 1},
	"main-lcore": {"--main-lcore", 1}, "master-lcore": {"--main-lcore", 1},
	"mbuf-pool-ops-name": {"--mbuf-pool-ops-name", 1}, "no-hpet": {"--no-hpet", 0},
	"no-huge": {"--no-huge", 0}, "no-pci": {"--no-pci", 0}, "no-shconf": {"--no-shconf", 0},
	"in-memory": {"--in-memory", 0}, "block": {"--block", 1}, "allow": {"--allow", 1},
	"pci-blacklist": {"--block", 1}, "pci-whitelist": {"--allow", 1},
	"proc-type": {"--proc-type", 1}, "socket-mem": {"--socket-mem", 1},
	"socket-limit": {"--socket-limit", 1}, "syslog": {"--syslog", 1}, "vdev": {"--vdev", 1},
	"vfio-intr": {"--vfio-intr", 1}, "vfio-vf-token": {"--vfio-vf-token", 1},
	"vmware-tsc-map": {"--vmware-tsc-map", 0}, "legacy-mem": {"--legacy-mem", 0},
	"single-file-segments": {"--single-file-segments", 0}, "match-allocations": {"--match-allocations", 0},
	"telemetry": {"--telemetry", 0}, "no-telemetry": {"--no-telemetry", 0},
	"force-max-simd-bitwidth": {"--force-max-simd-bitwidth", 1}, "huge-worker-stack": {"--huge-worker-stack", 2},
	"map-perfect": {"--map-perfect", 0}, "pri-and-sec": {"--pri-and-sec", 0},
}

// lookupLong finds a long option by exact name or, as getopt_long does, by
// an unambiguous abbreviation.
func lookupLong(name string) (ealOption, error) {
	if o, ok := ealLong[name]; ok {
		return o, nil
	}
	var found []ealOption
	var names []string
	for k, o := range ealLong {
		if strings.HasPrefix(k, name) {
			dup := false
			for _, f := range found {
				dup = dup || f.name == o.name
			}
			if !dup {
				found = append(found, o)
				names = append(names, "--"+k)
			}
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return ealOption{}, fmt.Errorf("unrecognized option '--%s'", name)
	}
	return ealOption{}, fmt.Errorf("option '--%s' is ambiguous (%s)", name, strings.Join(names, ", "))
}

// ParseEALArgs parses argv (without a program name) the way DPDK's
// eal_parse_args (getopt_long) does. It never fails: mistakes are listed in
// Problems, as EAL would report them.
func ParseEALArgs(argv []string) *EALArgs {
	e := &EALArgs{Argv: append([]string(nil), argv...)}
	for i := 0; i < len(argv); i++ {
		tok := argv[i]
		switch {
		case tok == "--":
			e.Positional = append(e.Positional, argv[i+1:]...)
			i = len(argv)
		case strings.HasPrefix(tok, "--"):
			name, val, joined := strings.Cut(tok[2:], "=")
			o, err := lookupLong(name)
			if err != nil {
				e.Problems = append(e.Problems, EALProblem{i, err.Error()})
				continue
			}
			arg := EALArg{Index: i, Name: o.name, Written: "--" + name}
			switch {
			case o.arg == 0 && joined:
				e.Problems = append(e.Problems, EALProblem{i, fmt.Sprintf("option '%s' doesn't allow an argument", o.name)})
				continue
			case joined:
				arg.Value, arg.Joined = val, true
			case o.arg == 1:
				if i+1 >= len(argv) {
					e.Problems = append(e.Problems, EALProblem{i, fmt.Sprintf("option '%s' requires an argument", o.name)})
					continue
				}
				i++
				arg.Value = argv[i]
			}
			e.add(arg)
		case len(tok) > 1 && tok[0] == '-':
			// A cluster of short options: "-l0-3", "-vh", "-l 0-3".
			for j := 1; j < len(tok); j++ {
				o, ok := ealShort[tok[j]]
				if !ok {
					e.Problems = append(e.Problems, EALProblem{i, fmt.Sprintf("invalid option -- '%c'", tok[j])})
					break
				}
				arg := EALArg{Index: i, Name: o.name, Written: "-" + string(tok[j])}
				if o.arg == 0 {
					e.add(arg)
					continue
				}
				if j+1 < len(tok) {
					arg.Value, arg.Joined = tok[j+1:], true
				} else if i+1 < len(argv) {
					i++
					arg.Value = argv[i]
				} else {
					e.Problems = append(e.Problems, EALProblem{i, fmt.Sprintf("option requires an argument -- '%c'", tok[j])})
					break
				}
				e.add(arg)
				break
			}
		default:
			e.Positional = append(e.Positional, tok)
		}
	}
	return e
}

func (e *EALArgs) add(a EALArg) {
	e.Opts = append(e.Opts, a)
	switch a.Name {
	case "--file-prefix":
		e.FilePrefix = a.Value
	case "--socket-mem":
		e.SocketMem = a.Value
	case "--huge-dir":
		e.HugeDir = a.Value
	case "--allow":
		e.Allow = append(e.Allow, a.Value)
	case "--block":
		e.Block = append(e.Block, a.Value)
	case "--vdev":
		e.VDevs = append(e.VDevs, a.Value)
	case "-d":
		e.Drivers = append(e.Drivers, a.Value)
	case "--proc-type":
		e.ProcType = a.Value
	case "--iova-mode":
		e.IOVAMode = a.Value
	case "-l", "--lcores":
		e.Lcores = a.Value
	case "-c":
		e.Coremask = a.Value
	case "--base-virtaddr":
		e.BaseVirtaddr = a.Value
	case "--no-pci":
		e.NoPCI = true
	case "--no-huge":
		e.NoHuge = true
	case "--legacy-mem":
		e.LegacyMem = true
	case "--map-perfect":
		e.MapPerfect = true
	case "--in-memory":
		e.InMemory = true
	case "--no-shconf":
		e.NoShconf = true
	case "--huge-unlink":
		e.HugeUnlink = UnlinksHugepages(a)
	}
}

// AllowedPCI returns the PCI addresses of the -a/-w values (a value may
// carry device arguments after a comma: "0000:01:00.0,txq_inline=128").
// Values that are not PCI addresses (vdev-style names) are skipped.
func (e *EALArgs) AllowedPCI() []PCIAddr {
	return pciValues(e.Allow)
}

// BlockedPCI is AllowedPCI for -b.
func (e *EALArgs) BlockedPCI() []PCIAddr {
	return pciValues(e.Block)
}

func pciValues(vals []string) []PCIAddr {
	var out []PCIAddr
	for _, v := range vals {
		name, _, _ := strings.Cut(v, ",")
		if a, err := ParsePCIAddr(name); err == nil {
			out = append(out, a)
		}
	}
	return out
}

// ProbesPCI reports whether EAL would probe the PCI device a: not with
// --no-pci, not when blocked, and only when allowed if an allow list exists.
func (e *EALArgs) ProbesPCI(a PCIAddr) bool {
	if e.NoPCI {
		return false
	}
	for _, b := range e.BlockedPCI() {
		if b == a {
			return false
		}
	}
	allow := e.AllowedPCI()
	if len(e.Allow) == 0 {
		return true
	}
	for _, x := range allow {
		if x == a {
			return true
		}
	}
	return false
}
