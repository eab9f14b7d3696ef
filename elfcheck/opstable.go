package elfcheck

import (
	"debug/elf"
	"encoding/binary"
	"fmt"
	"os"
	"path"
	"strconv"
	"strings"
)

// The mempool ops table (rte_mempool_ops_table) is per process and filled
// by constructors in the order they run. A mempool in shared memory keeps
// only an index into it, so a pool the capture tool creates (its mbufs are
// the ones the primary copies packets into) means ops[index] of the
// PRIMARY's table when the primary allocates from it. What matters is that
// one entry, not the whole order: on the lab an LD_PRELOADed liblstack.so
// registers the ring ops first (index 0) while dpdk-pdump registers them
// third, and pdump still captures, because index 2 is ring_mp_sc in the
// primary, the same ring dequeued single-consumer.

// symOpsTable is the table's symbol (librte_mempool, or a static program).
const symOpsTable = "rte_mempool_ops_table"

// CapturePoolOps is the ops a capture tool's mbuf pool gets: pdump and
// dumpcap call rte_pktmbuf_pool_create, which takes
// rte_mbuf_best_mempool_ops(), RTE_MBUF_DEFAULT_MEMPOOL_OPS unless a
// platform (DPAA buses) or --mbuf-pool-ops-name says otherwise.
const CapturePoolOps = "ring_mp_mc"

// knownOps are the ops each DPDK library registers, in constructor order
// (DPDK 20.11 to 24.11; checked on 22.11 against the table read from live
// processes).
var knownOps = map[string][]string{
	"mempool_ring":      {"ring_mp_mc", "ring_sp_sc", "ring_mp_sc", "ring_sp_mc", "ring_mt_rts", "ring_mt_hts"},
	"mempool_stack":     {"stack", "lf_stack"},
	"mempool_bucket":    {"bucket"},
	"mempool_dpaa":      {"dpaa"},
	"mempool_dpaa2":     {"dpaa2"},
	"mempool_octeontx":  {"octeontx_fpavf"},
	"mempool_octeontx2": {"octeontx2_npa"},
	"mempool_cnxk":      {"cn9k_mempool_ops", "cn10k_mempool_ops"},
}

// staticOps names the ops behind a static build's mp_hdlr_init_<var>
// constructors (MEMPOOL_REGISTER_OPS(var)).
var staticOps = map[string]string{
	"ops_mp_mc": "ring_mp_mc", "ops_sp_sc": "ring_sp_sc", "ops_mp_sc": "ring_mp_sc", "ops_sp_mc": "ring_sp_mc",
	"ops_mt_rts": "ring_mt_rts", "ops_mt_hts": "ring_mt_hts",
	"ops_stack": "stack", "ops_lf_stack": "lf_stack", "ops_bucket": "bucket",
	"dpaa_mpool_ops": "dpaa", "dpaa2_mpool_ops": "dpaa2", "octeontx_fpavf_ops": "octeontx_fpavf",
	"cn9k_mempool_ops": "cn9k_mempool_ops", "cn10k_mempool_ops": "cn10k_mempool_ops",
}

// ringVariants use the same rte_ring as ring_mp_mc and differ only in
// whether several threads may enqueue/dequeue at once; ring_mt_rts and
// ring_mt_hts lay out the ring's head and tail differently.
var ringVariants = map[string]string{
	"ring_sp_sc": "single-producer and single-consumer",
	"ring_mp_sc": "single-consumer",
	"ring_sp_mc": "single-producer",
}

// unknownOps marks the entries a library registers whose names elfcheck
// does not know: the indexes after it are not known either.
func unknownOps(who string) string { return "?" + who }

// opsOf returns the entries a registrant adds: a librte library name or a
// static constructor's variable name.
func opsOf(reg, release string) []string {
	if d, ok := parseLibrte(reg); ok {
		ops, known := knownOps[d.Component]
		if !known {
			return []string{unknownOps(d.Component)}
		}
		if d.Component == "mempool_ring" && release != "" && release < "20.11" {
			return ops[:4] // RTS/HTS rings came in 20.11
		}
		return ops
	}
	if n, ok := staticOps[reg]; ok {
		return []string{n}
	}
	return []string{unknownOps(reg)}
}

// predictOps fills f.OpsTable from the registrants that run before the
// EAL (f.MempoolOps, constructor order) and, for a shared EAL, the plugin
// directory in directory order: eal_plugindir_init() dlopen()s files in
// readdir order, and each dlopen runs the constructors of the libraries it
// pulls in first. loaded are the components already in the process.
func (f *DPDKFacts) predictOps(fs rootFS, loaded map[string]bool, extra []*Library) {
	var table []string
	for _, r := range f.MempoolOps {
		table = append(table, opsOf(r, f.Release)...)
	}
	if f.PluginDirUsed && f.PluginDir != "" {
		p := &pluginLoader{fs: fs, dir: f.PluginDir, loaded: loaded, release: f.Release, tailqs: map[string]bool{}}
		if f.PluginDirFrom != "" {
			p.libDir = path.Dir(f.PluginDirFrom)
		}
		names, err := fs.readDirOrder(f.PluginDir)
		if err != nil {
			f.OpsTableNote = "plugin directory " + f.PluginDir + ": " + err.Error()
		}
		for _, n := range names {
			d, ok := parseLibrte(n)
			if !ok || !pluginName(n, f.ABI) || loaded[d.Component] {
				continue
			}
			p.load(d.Component, path.Join(f.PluginDir, n))
		}
		table = append(table, p.ops...)
		f.pluginTailqs = p.tailqs
	}
	// Libraries a running process mapped by other means (dlopen by the
	// application) registered after the EAL started.
	for _, l := range extra {
		if l.DPDK == nil || loaded[l.DPDK.Component] || l.obj == nil || l.obj.scan == nil || !l.obj.scan.imports[symMempoolOps] {
			continue
		}
		loaded[l.DPDK.Component] = true
		table = append(table, opsOf(l.Name, f.Release)...)
	}
	f.OpsTable = table
	f.OpsTableFrom = "predicted"
}

// pluginLoader follows dlopen() through a plugin directory.
type pluginLoader struct {
	fs      rootFS
	dir     string // the plugin directory
	libDir  string // where librte_eal lives: DT_NEEDED of plugins resolve there
	release string
	loaded  map[string]bool
	ops     []string
	tailqs  map[string]bool // components that register a tailq
}

func (p *pluginLoader) load(comp, file string) {
	if p.loaded[comp] {
		return
	}
	p.loaded[comp] = true // before the dependencies: a cycle ends here
	hp, err := p.fs.hostPath(file)
	if err != nil {
		p.ops = append(p.ops, unknownOps(comp))
		return
	}
	o, err := openObject(file, hp)
	if err != nil {
		p.ops = append(p.ops, unknownOps(comp))
		return
	}
	needed := o.needed
	sc := o.dpdk(false)
	registers := sc.imports[symMempoolOps]
	if sc.imports[symTailq] {
		if p.tailqs == nil {
			p.tailqs = map[string]bool{}
		}
		p.tailqs[comp] = true
	}
	o.close()
	for _, n := range needed {
		d, ok := parseLibrte(n)
		if !ok || p.loaded[d.Component] {
			continue
		}
		dep := ""
		for _, dir := range []string{p.libDir, p.dir} {
			if dir != "" && p.fs.isFile(path.Join(dir, n)) {
				dep = path.Join(dir, n)
				break
			}
		}
		if dep == "" {
			p.loaded[d.Component] = true
			continue // the dlopen fails; EAL skips the plugin (and says so)
		}
		p.load(d.Component, dep)
	}
	if registers {
		p.ops = append(p.ops, opsOf(path.Base(file), p.release)...)
	}
}

// opsTableLayout is rte_mempool_ops_table: a spinlock, num_ops, then
// RTE_MEMPOOL_MAX_OPS_IDX (16) cache-aligned struct rte_mempool_ops whose
// first member is name[32]; each struct is 104 bytes rounded up to the
// cache line (DPDK 19.11 to 24.11).
func opsTableLayout(m elf.Machine) (opsOff, opsSize int) {
	switch m {
	case elf.EM_AARCH64, elf.EM_PPC64:
		return 128, 128
	}
	return 64, 128
}

const maxOpsIdx = 16

// readOpsTable reads a live process's rte_mempool_ops_table through
// /proc/<pid>/mem: the object o defines it at value, mapped at bias.
func readOpsTable(fs rootFS, pid int, o *object, value, bias uint64) ([]string, error) {
	if !fs.live() {
		return nil, fmt.Errorf("not the live machine")
	}
	opsOff, opsSize := opsTableLayout(o.machine)
	buf := make([]byte, opsOff+maxOpsIdx*opsSize)
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/mem")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if _, err := f.ReadAt(buf, int64(bias+value)); err != nil {
		return nil, err
	}
	var bo binary.ByteOrder = binary.LittleEndian
	if o.data == elf.ELFDATA2MSB {
		bo = binary.BigEndian
	}
	n := int(bo.Uint32(buf[4:8]))
	if n > maxOpsIdx {
		return nil, fmt.Errorf("num_ops %d is more than %d: not a table of this layout", n, maxOpsIdx)
	}
	table := make([]string, 0, n)
	for i := range n {
		raw := buf[opsOff+i*opsSize : opsOff+i*opsSize+32]
		name, _, ok := strings.Cut(string(raw), "\x00")
		if !ok || name == "" || strings.Trim(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") != "" {
			return nil, fmt.Errorf("entry %d is not an ops name: not a table of this layout", i)
		}
		table = append(table, name)
	}
	return table, nil
}

// loadBias is where a mapped object's first PT_LOAD landed, from the
// process's maps: the start of its mapping at file offset 0 minus that
// segment's page-aligned address.
func loadBias(o *object, start uint64) uint64 {
	var low uint64
	first := true
	for _, p := range o.f.Progs {
		if p.Type == elf.PT_LOAD && (first || p.Vaddr < low) {
			low, first = p.Vaddr, false
		}
	}
	return start - low&^0xfff
}
