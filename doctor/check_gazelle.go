package doctor

import (
	"context"
	"fmt"
	"path"
	"strings"

	"github.com/gzdoctor/gzdoctor/host"
)

// checkGazelleHugepages (CHK-05, CHK-06): lstack.conf's and ltran.conf's
// mbuf pools, by Gazelle's own formula, against the memory they will get
// (--socket-mem with --legacy-mem, else the free hugepages of the node),
// and ltran's and lstack's --huge-dir on the same page size.
func checkGazelleHugepages(ctx context.Context, env *Env) Result {
	g, stop := env.gazelleOrSkip(ctx)
	if stop != nil {
		return *stop
	}
	if len(g.configs()) == 0 {
		return skip("no lstack.conf / ltran.conf to read the pools from (give one with --config)")
	}
	hp, err := env.Hugepages(ctx)
	if err != nil {
		return errored(err.Error())
	}
	cpuNode := env.h.CPUNodes()
	var fs []gzFinding
	var details, oks []string
	for _, c := range g.configs() {
		var b gazelleBudget
		if c.Role == host.RoleLtran {
			b = ltranBudget(c, cpuNode)
		} else {
			b = lstackBudget(c, cpuNode)
		}
		details = append(details, fmt.Sprintf("%s: %s", c.File, b.Formula))
		f, line := budgetFindings(env, g, b, hp)
		fs = append(fs, f...)
		if line != "" {
			oks = append(oks, line)
		}
	}
	// ltran maps lstack's memory into itself (rte_eal_sec_attach): their
	// hugetlbfs mounts must have one page size (user guide).
	if g.Lstack != nil && g.Ltran != nil && g.Lstack.UseLtran {
		lk, lwhere := pageKB(g.Lstack, hp)
		tk, twhere := pageKB(g.Ltran, hp)
		details = append(details, fmt.Sprintf("page size: lstack %d kB from %s, ltran %d kB from %s", lk, lwhere, tk, twhere))
		if lk != tk {
			fs = append(fs, gzFinding{Status: Fail,
				Msg:     fmt.Sprintf("lstack maps %s pages (%s) and ltran %s pages (%s): in ltran mode both must use hugepages of one size", pageWords(lk), lwhere, pageWords(tk), twhere),
				FixText: fmt.Sprintf("give --huge-dir in %s and in %s hugetlbfs mounts of the same pagesize (for example both pagesize=%s)", g.Lstack.File, g.Ltran.File, pageWords(tk))})
		}
	}
	return gzResult(fs, strings.Join(oks, "; "), details)
}

// budgetFindings compares one config's pools with the memory it gets.
// The second value is the ok line when nothing is wrong.
func budgetFindings(env *Env, g *gazelleFacts, b gazelleBudget, hp *host.Hugepages) ([]gzFinding, string) {
	c := b.Config
	name := path.Base(c.File)
	need := mibOf(b.need())
	if p := g.liveFor(c); p != nil {
		// Its pools were created: whatever the arithmetic says, they fit.
		return nil, fmt.Sprintf("%s: pools of about %d MiB; %s (pid %d) runs with it, so they fit", name, need, p.Name, p.PID)
	}
	var fs []gzFinding
	kb, _ := pageKB(c, hp)
	var sm map[int]int64
	smWhere := ""
	if c.EAL.SocketMem != "" {
		var err error
		if sm, err = socketMem(c.EAL.SocketMem); err != nil {
			return []gzFinding{{Status: Fail, Msg: fmt.Sprintf("%s: %v", argWhere(c, "--socket-mem"), err), FixText: "write --socket-mem as MB per NUMA node, e.g. \"2048,0\""}}, ""
		}
		smWhere = argWhere(c, "--socket-mem")
	}
	for _, node := range sortedNodes(b.NeedByNode) {
		needB := b.NeedByNode[node]
		needM := mibOf(needB)
		// With --legacy-mem, --socket-mem is all the process gets; without
		// it DPDK grows the heap from the free hugepages.
		if sm != nil && c.EAL.LegacyMem {
			if have := sm[node]; have*mib < needB {
				fs = append(fs, gzFinding{Status: Fail, Where: smWhere,
					Msg:     fmt.Sprintf("%s's pools need at least %d MiB on node %d but --socket-mem gives %d MB with --legacy-mem (%s)", name, needM, node, have, smWhere),
					FixText: fmt.Sprintf("raise node %d's share of --socket-mem to at least %d (%s), or %s (%s)", node, needM, smWhere, shrinkWords(b), b.Formula)})
				continue
			}
		}
		free, known := freeOnNode(hp, kb, node)
		if !known {
			continue
		}
		want := needB
		if sm != nil && sm[node]*mib > want {
			want = sm[node] * mib // EAL reserves all of --socket-mem at start
		}
		if free < want {
			pages := uint64((want-free+int64(kb)*1024-1)/(int64(kb)*1024)) + nrOnNode(hp, kb, node)
			what := fmt.Sprintf("its pools need at least %d MiB", needM)
			if want > needB {
				what = fmt.Sprintf("--socket-mem asks for %d MB (%s)", want/mib, smWhere)
			}
			fs = append(fs, gzFinding{Status: Fail,
				Msg: fmt.Sprintf("%s will not start: %s on node %d, and node %d has %d MiB of free %d kB hugepages", name, what, node, node, free/mib, kb),
				FixText: fmt.Sprintf("reserve more %d kB hugepages on node %d (the command below sets the total to %d), or %s (%s)",
					kb, node, pages, shrinkWords(b), b.Formula),
				Commands: []string{fmt.Sprintf("echo %d > /sys/devices/system/node/node%d/hugepages/hugepages-%dkB/nr_hugepages", pages, node, kb)}})
		}
	}
	if len(fs) > 0 {
		return fs, ""
	}
	// The user guide's floors, below which Gazelle's own rings and RPC
	// pool (not counted above) may not fit.
	floor, what := int64(guideStackMB*max(b.Threads, 1)), fmt.Sprintf("%d MB per stack thread", guideStackMB)
	if c.Role == host.RoleLtran {
		floor, what = guideLtranMB, fmt.Sprintf("%d MB for ltran", guideLtranMB)
	}
	if sm != nil && c.EAL.LegacyMem {
		var total int64
		for _, v := range sm {
			total += v
		}
		if total < floor {
			return []gzFinding{{Status: Warn, Where: smWhere,
				Msg:     fmt.Sprintf("%s's pools fit (%d MiB of %d MB) but the user guide asks for at least %s (%s)", name, need, total, what, smWhere),
				FixText: fmt.Sprintf("give it at least %d MB in --socket-mem (%s) if it fails at start", floor, smWhere)}}, ""
		}
	}
	return nil, fmt.Sprintf("%s: pools of about %d MiB fit", name, need)
}

// shrinkWords names the settings that shrink a config's pools, with where
// they are set.
func shrinkWords(b gazelleBudget) string {
	var parts []string
	for _, k := range b.Keys {
		switch k.Key {
		case "tcp_conn_count", "mbuf_count_per_conn", "rx_mbuf_pool_size", "tx_mbuf_pool_size":
			parts = append(parts, fmt.Sprintf("%s=%d (%s)", k.Key, k.Int, k.where(b.Config)))
		}
	}
	return "lower " + strings.Join(parts, " or ")
}
