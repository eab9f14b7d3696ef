package host

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
)

// GazelleRunDir is where lstack and ltran put their control sockets and
// flag files (GAZELLE_RUN_DIR in Gazelle's gazelle_opt.h).
const GazelleRunDir = "/var/run/gazelle"

// Gazelle's socket file names (gazelle_opt.h), each preceded by the
// config's unix_prefix.
const (
	LtranClientSock = "ltran_client.sock" // ltran's registration socket
	LtranCmdSock    = "ltran_cmd.sock"    // ltran's gazellectl socket
	LstackCmdSock   = "lstack_cmd.sock"   // lstack's gazellectl socket (without ltran)
	GazellePrimary  = "gazelle_primary"   // flag file of a primary lstack

	// The names before Gazelle 1.0.3 (renamed by db89062, 2024-01): 1.0.2,
	// still what openEuler 22.03 LTS ships, has one name for ltran's
	// registration socket and for the gazellectl socket of an lstack without
	// ltran, so an ltran that exits unlinks that lstack's socket.
	LegacyClientSock = "gazelle_client.sock"
	LegacyCmdSock    = "gazelle_cmd.sock" // ltran's gazellectl socket (≤1.0.2)
)

// GazelleSocket is the path of one of Gazelle's sockets for unixPrefix.
func GazelleSocket(unixPrefix, name string) string {
	return path.Join(GazelleRunDir, unixPrefix+name)
}

// The socket names of each role, the current release's first: which one a
// process binds depends on its Gazelle release, which nothing else on the
// machine tells.
var (
	LstackCmdSocks   = []string{LstackCmdSock, LegacyClientSock}
	LtranCmdSocks    = []string{LtranCmdSock, LegacyCmdSock}
	LtranClientSocks = []string{LtranClientSock, LegacyClientSock}
)

// GazelleSockets is GazelleSocket for each of names.
func GazelleSockets(unixPrefix string, names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = GazelleSocket(unixPrefix, n)
	}
	return out
}

// ParseCPUList reads a CPU list as Gazelle's num_cpus and the kernel's
// cpulist files write it: "0,2,4", "2-5", "0-3,8". Duplicates are kept
// once, in order of first appearance.
func ParseCPUList(s string) ([]int, error) {
	var out []int
	seen := map[int]bool{}
	for _, part := range strings.Split(strings.TrimSpace(s), ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil || a < 0 {
			return nil, fmt.Errorf("%q is not a CPU number or range", part)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return nil, fmt.Errorf("%q is not a CPU range", part)
			}
		}
		for c := a; c <= b; c++ {
			if !seen[c] {
				seen[c] = true
				out = append(out, c)
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%q names no CPU", s)
	}
	return out, nil
}

// CPUNodes maps each CPU to its NUMA node from
// /sys/devices/system/node/node*/cpulist. Empty when sysfs does not say
// (a machine without NUMA information).
func (h *Host) CPUNodes() map[int]int {
	out := map[int]int{}
	nodes, _ := fs.Glob(os.DirFS(h.Path("/")), "sys/devices/system/node/node*")
	for _, n := range nodes {
		id, err := strconv.Atoi(strings.TrimPrefix(path.Base(n), "node"))
		if err != nil {
			continue
		}
		b, err := h.ReadFile("/" + n + "/cpulist")
		if err != nil {
			continue
		}
		cpus, err := ParseCPUList(string(b))
		if err != nil {
			continue
		}
		for _, c := range cpus {
			out[c] = id
		}
	}
	return out
}

// OnlineCPUs reads /sys/devices/system/cpu/online; nil when unreadable.
func (h *Host) OnlineCPUs() []int {
	b, err := h.ReadFile("/sys/devices/system/cpu/online")
	if err != nil {
		return nil
	}
	cpus, err := ParseCPUList(string(b))
	if err != nil {
		return nil
	}
	return cpus
}

// NetQueues counts a kernel interface's rx queues
// (/sys/class/net/<if>/queues/rx-N): the channels the driver has set up
// now, not the most it could (ethtool -l tells that). 0 when unknown.
func (h *Host) NetQueues(iface string) int {
	ents, err := os.ReadDir(h.Path(path.Join("/sys/class/net", iface, "queues")))
	if err != nil {
		return 0
	}
	n := 0
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "rx-") {
			n++
		}
	}
	return n
}

// THPMode is the bracketed choice of
// /sys/kernel/mm/transparent_hugepage/enabled ("always", "madvise",
// "never"); empty when the kernel has no THP or the file is unreadable.
func (h *Host) THPMode() string {
	b, err := h.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	if err != nil {
		return ""
	}
	s := string(b)
	i, j := strings.IndexByte(s, '['), strings.IndexByte(s, ']')
	if i < 0 || j < i {
		return ""
	}
	return s[i+1 : j]
}

// CPUFlags are the flags of the first processor in /proc/cpuinfo (x86:
// "flags"; arm64 says "Features"), sorted; nil when unreadable.
func (h *Host) CPUFlags() (arch string, flags []string) {
	b, err := h.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "", nil
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		switch strings.TrimSpace(k) {
		case "flags":
			arch = "x86"
		case "Features":
			arch = "arm64"
		default:
			continue
		}
		flags = strings.Fields(v)
		sort.Strings(flags)
		return arch, flags
	}
	return "", nil
}

// Sysctl reads /proc/sys/<key with dots as slashes>, trimmed.
func (h *Host) Sysctl(key string) (string, error) {
	// As sysctl(8): dots separate the path's parts, and a "/" in the key
	// stands for a dot in a name (net.ipv4.conf.eth0/100.rp_filter).
	b, err := h.ReadFile("/proc/sys/" + strings.Map(func(r rune) rune {
		switch r {
		case '.':
			return '/'
		case '/':
			return '.'
		}
		return r
	}, key))
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}
