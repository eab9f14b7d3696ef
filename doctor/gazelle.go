package doctor

import (
	"context"
	"errors"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/gzdoctor/gzdoctor/host"
	"github.com/gzdoctor/gzdoctor/host/libconfig"
)

// The Gazelle group of checks (gazelle-*) looks at Gazelle's own
// constraints: the pools its configs ask for, the settings it refuses
// together, the NICs and CPUs it names, ltran and the control sockets
// gazellectl uses. They run when a Gazelle config or an lstack/ltran
// process is found and are skipped otherwise. Gazelle's rules are read
// from its public source (openeuler-mirror/gazelle: tags 1.0.2, 1.0.3,
// master 26a326aa); docs/checks.md cites the functions.

// gazelleFacts is what the Gazelle checks share: the two configs (either
// may be nil) and the live lstack and ltran processes.
type gazelleFacts struct {
	Lstack, Ltran *host.GazelleConfig
	// LstackProcs are live processes running liblstack (linked or
	// LD_PRELOADed); LtranProcs live ltran daemons.
	LstackProcs, LtranProcs []host.Process
	ConfigErr               error
}

func (g *gazelleFacts) found() bool {
	return g.Lstack != nil || g.Ltran != nil || len(g.LstackProcs) > 0 || len(g.LtranProcs) > 0
}

func (g *gazelleFacts) configs() []*host.GazelleConfig {
	var out []*host.GazelleConfig
	for _, c := range []*host.GazelleConfig{g.Lstack, g.Ltran} {
		if c != nil {
			out = append(out, c)
		}
	}
	return out
}

// isLtran: the daemon's process name or executable is ltran.
func isLtran(p host.Process) bool {
	return p.Name == "ltran" || path.Base(p.Exe) == "ltran"
}

func isLstack(p host.Process) bool {
	return p.DPDK.Lstack != "" || strings.Contains(p.Env["LD_PRELOAD"], "liblstack")
}

// ltranConfOf is the config file a live ltran read: -c/--config-file, else
// the default.
func ltranConfOf(p host.Process) string {
	for i, a := range p.Cmdline {
		if (a == "-c" || a == "--config-file") && i+1 < len(p.Cmdline) {
			return p.Cmdline[i+1]
		}
		if v, ok := strings.CutPrefix(a, "--config-file="); ok {
			return v
		}
	}
	return host.DefaultLtranConf
}

// lstackConfOf is the config a live lstack read: its LSTACK_CONF_PATH,
// else the default.
func lstackConfOf(p host.Process) string {
	if v := p.Env[host.LstackConfEnv]; v != "" {
		return v
	}
	return host.DefaultLstackConf
}

// errNoGazelle: neither a config nor a process: the Gazelle checks skip.
var errNoGazelle = errors.New("no Gazelle here: no lstack.conf / ltran.conf and no lstack or ltran process")

// gazelle gathers the Gazelle facts (from the shared config and process
// facts, so nothing is read twice).
func (e *Env) gazelle(ctx context.Context) (*gazelleFacts, error) {
	g := &gazelleFacts{}
	cf, err := e.GazelleConfig(ctx)
	switch {
	case errors.Is(err, errNoConfig):
	case err != nil:
		g.ConfigErr = err
	default:
		for _, f := range cf.Files {
			switch {
			case f.Role == host.RoleLstack && g.Lstack == nil:
				g.Lstack = f
			case f.Role == host.RoleLtran && g.Ltran == nil:
				g.Ltran = f
			}
		}
	}
	procs, err := e.dpdkProcesses(ctx)
	if err != nil && len(procs) == 0 && ctx.Err() != nil {
		return nil, err
	}
	for _, p := range procs {
		switch {
		case isLtran(p):
			g.LtranProcs = append(g.LtranProcs, p)
		case isLstack(p):
			g.LstackProcs = append(g.LstackProcs, p)
		}
	}
	if g.ConfigErr != nil && !g.found() {
		return nil, fmt.Errorf("the Gazelle config does not parse (see the config check): %w", g.ConfigErr)
	}
	if !g.found() {
		return nil, errNoGazelle
	}
	return g, nil
}

// gazelleOrSkip returns the facts, or the Result that ends the check.
func (e *Env) gazelleOrSkip(ctx context.Context) (*gazelleFacts, *Result) {
	g, err := e.gazelle(ctx)
	if err == nil {
		return g, nil
	}
	r := skip(err.Error())
	if !errors.Is(err, errNoGazelle) && ctx.Err() != nil {
		r = errored(err.Error())
	}
	return nil, &r
}

// liveFor returns the live process that runs with config c.
func (g *gazelleFacts) liveFor(c *host.GazelleConfig) *host.Process {
	if c == nil {
		return nil
	}
	if c.Role == host.RoleLtran {
		for i, p := range g.LtranProcs {
			if path.Clean(ltranConfOf(p)) == path.Clean(c.File) {
				return &g.LtranProcs[i]
			}
		}
		return nil
	}
	for i, p := range g.LstackProcs {
		if path.Clean(lstackConfOf(p)) == path.Clean(c.File) {
			return &g.LstackProcs[i]
		}
	}
	return nil
}

// gzSetting is one key of a Gazelle config: its value (or Gazelle's
// default when absent) and where it is set.
type gzSetting struct {
	Key string
	Int int64
	Str string
	// IsStr: a string key (its default may be "").
	IsStr bool
	Set   bool
	Pos   libconfig.Pos
}

// where names the setting's place for a finding: file:line, or that the
// key is absent and the default applies.
func (s gzSetting) where(c *host.GazelleConfig) string {
	if !s.Set {
		return fmt.Sprintf("%s: %s not set, default %s", c.File, s.Key, s.value())
	}
	return posWords(s.Pos, c.File)
}

func (s gzSetting) value() string {
	if s.IsStr {
		return strconv.Quote(s.Str)
	}
	return strconv.FormatInt(s.Int, 10)
}

// intKey reads an integer key with Gazelle's default. A key of the wrong
// type is the config check's finding; here it counts as the default.
func intKey(c *host.GazelleConfig, key string, def int64) gzSetting {
	s := gzSetting{Key: key, Int: def}
	if c == nil || c.Raw == nil {
		return s
	}
	if st := c.Raw.Lookup(key); st != nil {
		if v, ok := st.Value.AsInt(); ok {
			s.Int, s.Set, s.Pos = v, true, st.Pos
		}
	}
	return s
}

func strKey(c *host.GazelleConfig, key, def string) gzSetting {
	s := gzSetting{Key: key, Str: def, IsStr: true}
	if c == nil || c.Raw == nil {
		return s
	}
	if st := c.Raw.Lookup(key); st != nil {
		if v, ok := st.Value.AsString(); ok {
			s.Str, s.Set, s.Pos = v, true, st.Pos
		}
	}
	return s
}

// Gazelle's pool arithmetic. lstack (master 26a326aa,
// src/lstack/core/lstack_dpdk.c dpdk_pktmbuf_mempool_num() and
// dpdk_total_socket_memory()): each stack thread (one per CPU of num_cpus)
// gets one mbuf pool of MBUFPOOL_RESERVE_NUM (8704) + MBUFPOOL_CACHE_NUM
// (512) + nic_rxqueue_size + nic_txqueue_size +
// tcp_conn_count*mbuf_count_per_conn/threads mbufs, and 100 MB are
// reserved on top ("the actual fixed memory is about 50M"). Tag 1.0.2
// (create_pktmbuf_mempool() via stack_group_init) gives each thread only
// tcp_conn_count*mbuf_count_per_conn/threads. ltran
// (src/ltran/ltran_ethdev.c ltran_mbuf_pool_init()): per bond port one rx
// pool of rx_mbuf_pool_size (default 307200) and one tx pool of
// tx_mbuf_pool_size (default 30720) mbufs.
const (
	gazelleMbufReserve = 8704 + 512
	gazelleFixedMiB    = 100
	// gazelleMbufBytes is one mbuf's hugepage footprint in these pools:
	// struct rte_mbuf (128) + the private area (≤128, cache-line aligned)
	// + the data room (2048 + RTE_PKTMBUF_HEADROOM 128) + the mempool
	// object header (64). gazelle_opt.h's comment says "size of mbuf is
	// 2536 Byte"; the user guide's rule of thumb is 2048.
	gazelleMbufBytes = 128 + 128 + 2176 + 64
	// The user guide's minimum per lstack stack thread, and for ltran.
	guideStackMB   = 800
	guideLtranMB   = 1064
	ltranRxDefault = 307200
	ltranTxDefault = 30720
)

// gazelleBudget is what one config's pools need.
type gazelleBudget struct {
	Config *host.GazelleConfig
	// Threads are lstack's stack threads (num_cpus) and their CPUs.
	Threads int
	CPUs    []int
	// NeedByNode is the hugepage memory the pools need, by NUMA node, in
	// bytes: a lower bound (rings and the RPC pool are not counted).
	NeedByNode map[int]int64
	// Formula says how Need was computed, with the numbers.
	Formula string
	// Keys are the settings the formula used, for the fix.
	Keys []gzSetting
}

func (b gazelleBudget) need() int64 {
	var n int64
	for _, v := range b.NeedByNode {
		n += v
	}
	return n
}

const mib = 1 << 20

func mibOf(b int64) int64 { return (b + mib - 1) / mib }

// lstackBudget computes lstack.conf's pools (master's formula).
func lstackBudget(c *host.GazelleConfig, cpuNode map[int]int) gazelleBudget {
	tcp := intKey(c, "tcp_conn_count", 1500)
	mpc := intKey(c, "mbuf_count_per_conn", 170)
	rxq := intKey(c, "nic_rxqueue_size", 4096)
	txq := intKey(c, "nic_txqueue_size", 2048)
	b := gazelleBudget{Config: c, Threads: 1, NeedByNode: map[int]int64{}, Keys: []gzSetting{tcp, mpc, rxq, txq}}
	if cpus, err := host.ParseCPUList(c.NumCPUs); err == nil {
		b.CPUs, b.Threads = cpus, len(cpus)
	}
	perThread := gazelleMbufReserve + rxq.Int + txq.Int + tcp.Int*mpc.Int/int64(b.Threads)
	bytes := perThread * gazelleMbufBytes
	nodeOf := func(cpu int) int { return cpuNode[cpu] } // 0 when sysfs does not say
	first := 0
	if len(b.CPUs) > 0 {
		first = nodeOf(b.CPUs[0])
		for _, cpu := range b.CPUs {
			b.NeedByNode[nodeOf(cpu)] += bytes
		}
	} else {
		b.NeedByNode[0] += bytes
	}
	b.NeedByNode[first] += gazelleFixedMiB * mib
	b.Formula = fmt.Sprintf("%d stack thread(s) × (%d + nic_rxqueue_size %d + nic_txqueue_size %d + tcp_conn_count %d × mbuf_count_per_conn %d / %d) = %d mbufs × %d B = %d MiB each, + %d MiB fixed",
		b.Threads, gazelleMbufReserve, rxq.Int, txq.Int, tcp.Int, mpc.Int, b.Threads, perThread, gazelleMbufBytes, mibOf(bytes), gazelleFixedMiB)
	return b
}

// ltranBudget computes ltran.conf's pools.
func ltranBudget(c *host.GazelleConfig, cpuNode map[int]int) gazelleBudget {
	rx := intKey(c, "rx_mbuf_pool_size", ltranRxDefault)
	tx := intKey(c, "tx_mbuf_pool_size", ltranTxDefault)
	bonds := len(c.BondPorts)
	if bonds == 0 {
		bonds = 1
	}
	b := gazelleBudget{Config: c, NeedByNode: map[int]int64{}, Keys: []gzSetting{rx, tx}}
	node := 0
	if l := c.EAL.Find("-l"); l != nil {
		if cpus, err := host.ParseCPUList(l.Value); err == nil {
			node = cpuNode[cpus[0]]
		}
	}
	bytes := int64(bonds) * (rx.Int + tx.Int) * gazelleMbufBytes
	b.NeedByNode[node] = bytes
	b.Formula = fmt.Sprintf("%d bond port(s) × (rx_mbuf_pool_size %d + tx_mbuf_pool_size %d) mbufs × %d B = %d MiB",
		bonds, rx.Int, tx.Int, gazelleMbufBytes, mibOf(bytes))
	return b
}

// socketMem parses --socket-mem "2048,0" into MB per node.
func socketMem(s string) (map[int]int64, error) {
	out := map[int]int64{}
	for i, f := range strings.Split(s, ",") {
		v, err := strconv.ParseInt(strings.TrimSpace(f), 10, 64)
		if err != nil || v < 0 {
			return nil, fmt.Errorf("--socket-mem %q is not a list of MB per node", s)
		}
		out[i] = v
	}
	return out, nil
}

// pageKB is the page size a config's process maps: its --huge-dir
// mount's, else the default hugepage size.
func pageKB(c *host.GazelleConfig, hp *host.Hugepages) (uint64, string) {
	if d := c.EAL.HugeDir; d != "" {
		for _, m := range hp.Mounts {
			if path.Clean(m.Path) == path.Clean(d) {
				return m.PageSizeKB, fmt.Sprintf("%s (%s)", d, argWhere(c, "--huge-dir"))
			}
		}
	}
	if hp.Meminfo != nil && hp.Meminfo.HugepagesizeKB > 0 {
		return hp.Meminfo.HugepagesizeKB, "the default hugepage size"
	}
	return 2048, "the default hugepage size"
}

// freeOnNode is the free memory, in bytes, of kb-sized pages on node.
func freeOnNode(hp *host.Hugepages, kb uint64, node int) (int64, bool) {
	if len(hp.Nodes) > 0 {
		f, ok := hp.NodeFree(kb)[node]
		return int64(f * kb * 1024), ok
	}
	if s := hp.Size(kb); s != nil && node == 0 {
		return int64(s.Free * kb * 1024), true
	}
	return 0, false
}

func nrOnNode(hp *host.Hugepages, kb uint64, node int) uint64 {
	for _, n := range hp.Nodes {
		if n.Node != node {
			continue
		}
		for _, s := range n.Sizes {
			if s.SizeKB == kb {
				return s.Nr
			}
		}
	}
	if s := hp.Size(kb); s != nil {
		return s.Nr
	}
	return 0
}

func sortedNodes(m map[int]int64) []int {
	var ns []int
	for n := range m {
		ns = append(ns, n)
	}
	sort.Ints(ns)
	return ns
}

// gzFinding is one problem a Gazelle check found.
type gzFinding struct {
	Status Status
	// Where is the setting's place (file:line), which the fix line
	// repeats when the check found several things.
	Where    string
	Msg      string
	FixText  string
	Commands []string
}

// gzResult folds findings into one Result: the worst status leads, every
// finding's fix is listed.
func gzResult(fs []gzFinding, okMsg string, details []string) Result {
	worst := OK
	for _, f := range fs {
		if f.Status == Fail {
			worst = Fail
		} else if f.Status == Warn && worst == OK {
			worst = Warn
		}
	}
	if worst == OK {
		return ok(okMsg, details...)
	}
	var lead string
	var texts, cmds []string
	for _, f := range fs {
		if f.Status == worst && lead == "" {
			lead = f.Msg
		}
		if len(fs) > 1 && f.Where != "" {
			texts = append(texts, f.Where+": "+f.FixText)
		} else if len(fs) > 1 {
			texts = append(texts, f.Msg+": "+f.FixText)
		} else {
			texts = append(texts, f.FixText)
		}
		cmds = append(cmds, f.Commands...)
	}
	for _, f := range fs {
		if f.Msg != lead {
			details = append(details, string(f.Status)+": "+f.Msg)
		}
	}
	r := Result{Status: worst, Finding: lead, Details: details, Fix: fix(strings.Join(texts, "\n"), cmds...)}
	return r
}

// pageWords prints a page size as hugetlbfs's pagesize= option does.
func pageWords(kb uint64) string {
	switch {
	case kb >= 1<<20 && kb%(1<<20) == 0:
		return fmt.Sprintf("%dG", kb>>20)
	case kb >= 1<<10 && kb%(1<<10) == 0:
		return fmt.Sprintf("%dM", kb>>10)
	}
	return fmt.Sprintf("%dK", kb)
}
