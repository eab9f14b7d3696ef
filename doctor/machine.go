package doctor

import (
	"context"
	"sort"

	"github.com/gzdoctor/gzdoctor/host"
)

// Machine is what a fleet watches on a Gazelle host besides the checks of
// one primary: what dead primaries and failed capture tools left behind,
// and the hugepages a new primary or capture can still get. It is the same
// for every prefix, so a run over all prefixes carries it once.
type Machine struct {
	// StalePrefixes are the runtime dirs no process uses (a dead
	// primary's, or a failed capture tool's empty dir), as <base>/<name>;
	// null when the runtime dirs could not be read (Errors says why).
	StalePrefixes []string `json:"stale_prefixes"`
	// StaleHugepageFiles and StaleHugepageBytes are the hugepage files of
	// prefixes no running primary holds: memory nothing gives back until
	// they are removed. Null when the runtime dirs or the hugetlbfs mounts
	// could not be read.
	StaleHugepageFiles *int   `json:"stale_hugepage_files"`
	StaleHugepageBytes *int64 `json:"stale_hugepage_bytes"`
	// Hugepages are the pools per page size and NUMA node; null when they
	// could not be read.
	Hugepages []HugepagePool `json:"hugepages"`
	// Errors say what could not be read.
	Errors []string `json:"errors,omitempty"`
}

// HugepagePool is one page size on one NUMA node (Node nil: the whole
// machine, on a kernel that shows no nodes).
type HugepagePool struct {
	SizeKB uint64 `json:"size_kb"`
	Node   *int   `json:"node"`
	Total  uint64 `json:"total"`
	Free   uint64 `json:"free"`
}

// machine gathers the Machine facts through env's shared facts, so a run
// whose checks read them already reads nothing twice.
func (e *Env) machine(ctx context.Context) *Machine {
	m := &Machine{}
	inUse := map[string]bool{}
	rt, rtErr := e.Runtime(ctx)
	if rtErr != nil {
		m.Errors = append(m.Errors, rtErr.Error())
	} else {
		m.StalePrefixes = []string{}
		for _, p := range rt.Prefixes {
			switch kind, _ := e.prefixKind(ctx, p); kind {
			case kindDead, kindDebris:
				m.StalePrefixes = append(m.StalePrefixes, p.Dir)
			default:
				// Running, a --in-memory process, or unreadable: not
				// counted as stale, and neither are its hugepage files.
				inUse[p.Name] = true
			}
		}
		sort.Strings(m.StalePrefixes)
	}
	if files, err := e.hugepageFiles(ctx); err != nil {
		m.Errors = append(m.Errors, err.Error())
	} else if rt != nil {
		n, b := 0, int64(0)
		for _, g := range files {
			if !inUse[g.Prefix] {
				n += g.Count
				b += g.Bytes
			}
		}
		m.StaleHugepageFiles, m.StaleHugepageBytes = &n, &b
	}
	if hp, err := e.Hugepages(ctx); err != nil {
		m.Errors = append(m.Errors, err.Error())
	} else {
		m.Hugepages = hugepagePools(hp)
	}
	return m
}

func hugepagePools(hp *host.Hugepages) []HugepagePool {
	out := []HugepagePool{}
	if len(hp.Nodes) == 0 {
		for _, s := range hp.Sizes {
			out = append(out, HugepagePool{SizeKB: s.SizeKB, Total: s.Nr, Free: s.Free})
		}
		return out
	}
	for _, n := range hp.Nodes {
		for _, s := range n.Sizes {
			node := n.Node
			out = append(out, HugepagePool{SizeKB: s.SizeKB, Node: &node, Total: s.Nr, Free: s.Free})
		}
	}
	return out
}

// Roles of a primary, as the metrics label them.
const (
	RoleLtran  = "ltran"  // Gazelle's ltran
	RoleLstack = "lstack" // an application with liblstack.so
	RoleDPDK   = "dpdk"   // any other DPDK primary
)

// primaryRole says what kind of primary p is.
func primaryRole(p *host.Process) string {
	switch {
	case p == nil:
		return ""
	case p.Name == "ltran":
		return RoleLtran
	case p.DPDK.Lstack != "":
		return RoleLstack
	}
	return RoleDPDK
}
