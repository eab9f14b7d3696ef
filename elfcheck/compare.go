package elfcheck

import (
	"debug/elf"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"

	"github.com/gzdoctor/gzdoctor/ui"
)

// Difference is one way a primary and its capture tool differ.
type Difference struct {
	ID       string `json:"id"`       // dpdk-version, linkage, mempool-ops, tailqs, pcap-pmd, pdump-init, plugin-dir, librte-set, drivers
	Severity string `json:"severity"` // fail (capture will not work), warn, info
	Message  string `json:"message"`
	Why      string `json:"why"`
	// Compared says what was compared, when the message alone does not.
	Compared string `json:"compared,omitempty"`
}

// Match is the verdict of comparing a primary with its capture tool.
type Match struct {
	Primary string `json:"primary"`
	// PrimaryPID and PrimaryPreload describe a running primary (--pid).
	PrimaryPID     int          `json:"primary_pid,omitempty"`
	PrimaryPreload []string     `json:"primary_preload,omitempty"`
	Capture        string       `json:"capture"`
	Compatible     bool         `json:"compatible"`
	Differences    []Difference `json:"differences"`
}

// staticTailqOwner maps DPDK 22.11's EAL_REGISTER_TAILQ variables to the
// library that registers them, so a static build can be compared with a
// shared one.
var staticTailqOwner = map[string]string{
	"rte_uio_tailq": "bus_pci", "rte_vfio_tailq": "bus_pci",
	"rte_ring_tailq": "ring", "rte_mempool_tailq": "mempool",
	"mbuf_dynfield_tailq": "mbuf", "mbuf_dynflag_tailq": "mbuf",
	"rte_hash_tailq": "hash", "rte_fbk_hash_tailq": "hash", "rte_thash_tailq": "hash",
	"rte_lpm_tailq": "lpm", "rte_lpm6_tailq": "lpm", "rte_reorder_tailq": "reorder",
	"rte_efd_tailq": "efd", "rte_member_tailq": "member", "rte_acl_tailq": "acl",
	"rte_distributor_tailq": "distributor", "rte_stack_tailq": "stack",
	"rte_dpaa_tailq": "bus_dpaa", "rte_fslmc_tailq": "bus_fslmc",
}

// Compare checks that capture (gazelle-pdump, dpdk-pdump, dpdk-dumpcap) can
// attach to primary (ltran, an application linked with liblstack.so): the
// facts DPDK's multi-process model needs to be equal, and what the primary
// must carry for pdump. Failures are the ones seen on the lab.
func Compare(primary, capture *Report) *Match {
	m := &Match{Primary: primary.Path, Capture: capture.Path, Differences: []Difference{}}
	m.PrimaryPID, m.PrimaryPreload = primary.PID, primary.Preload
	add := func(id, sev, msg, why string) {
		m.Differences = append(m.Differences, Difference{ID: id, Severity: sev, Message: msg, Why: why})
	}
	p, c := &primary.DPDK, &capture.DPDK
	if p.Linkage == LinkageNone || c.Linkage == LinkageNone {
		who := primary.Path
		if c.Linkage == LinkageNone {
			who = capture.Path
		}
		add("linkage", "fail", who+" carries no DPDK", "a DPDK secondary can only attach to a DPDK primary of the same build")
		return m.finish()
	}
	switch {
	case p.Version != "" && c.Version != "" && p.Version != c.Version && strings.Count(p.Version, ".") == 2 && strings.Count(c.Version, ".") == 2:
		add("dpdk-version", "fail", fmt.Sprintf("DPDK %s in the primary, %s in the capture tool", p.Version, c.Version),
			"EAL compares the full version in the shared memory config: \"EAL: Primary and secondary process DPDK version mismatch\" and the secondary exits")
	case p.Release != "" && c.Release != "" && p.Release != c.Release:
		add("dpdk-version", "fail", fmt.Sprintf("DPDK %s in the primary, %s in the capture tool", p.Release, c.Release),
			"different releases lay out shared memory differently; EAL refuses the secondary (version mismatch)")
	}
	if p.Linkage != c.Linkage {
		add("linkage", "warn", fmt.Sprintf("DPDK linked %s in the primary, %s in the capture tool", p.Linkage, c.Linkage),
			"a static build registers only the drivers, mempool ops and tailqs linked into it; a shared build also loads the plugin directory, so the two sets rarely agree")
	}
	if !p.PcapPMD.Reachable {
		add("pcap-pmd", "fail", "the primary cannot probe the pcap PMD: "+p.PcapPMD.Detail,
			"pdump hot-plugs a net_pcap vdev in the primary: \"EAL: Failed to hotplug add device\", \"vdev creation failed:create_mp_ring_vdev\" (the seed guide's error 3)")
	}
	if !p.Pdump.Referenced && !p.Pdump.Defined {
		add("pdump-init", "fail", "the primary does not reference rte_pdump_init",
			"without rte_pdump_init() the primary has no mp_pdump action: \"Fail to recv reply for request ...:mp_pdump\"")
	}
	fs := newRootFS(primary.Root)
	fs.rec = primary.rec
	compareOps(p, c, func(id, sev, msg, why, compared string) {
		m.Differences = append(m.Differences, Difference{ID: id, Severity: sev, Message: msg, Why: why, Compared: compared})
	})
	pTq, pOK := tailqOwners(fs, p)
	cfs := newRootFS(capture.Root)
	cfs.rec = capture.rec
	cTq, cOK := tailqOwners(cfs, c)
	if pOK && cOK {
		var extra []string
		for t := range cTq {
			if !pTq[t] {
				extra = append(extra, t)
			}
		}
		sort.Strings(extra)
		var unproven []string
		if p.TailqsFromNames {
			// Only the names elfcheck knows were looked for in the
			// stripped primary; another owner's tailq may be there.
			known := map[string]bool{}
			for _, tq := range tailqNameOwners {
				known[tq.owner] = true
			}
			var proven []string
			for _, e := range extra {
				if known[e] {
					proven = append(proven, e)
				} else {
					unproven = append(unproven, e)
				}
			}
			extra = proven
		}
		if len(extra) > 0 {
			add("tailqs", "fail", "the capture tool registers tailqs the primary does not: "+strings.Join(extra, ", "),
				"a secondary looks up each of its tailqs in the primary's shared memory: \"EAL: Cannot initialize tailq: UIO_RESOURCE_LIST\", \"Cannot init tail queues for objects\"")
		}
		if len(unproven) > 0 {
			add("tailqs", "warn", "the capture tool registers tailqs of "+strings.Join(unproven, ", ")+"; the stripped primary's names for them are not known to elfcheck",
				"a secondary dies (\"Cannot initialize tailq\") when the primary lacks one of its tailqs; the primary was searched for the tailq names elfcheck knows only")
		}
	} else if p.Linkage != c.Linkage {
		add("tailqs", "warn", "tailq registrations unknown (a static build stripped of .symtab)",
			"a secondary needs every tailq it registers to exist in the primary")
	}
	if p.PluginDirUsed && c.PluginDirUsed && p.PluginDir != c.PluginDir {
		add("plugin-dir", "warn", fmt.Sprintf("plugin directories differ: %s vs %s", p.PluginDir, c.PluginDir),
			"each process loads every driver in its plugin directory; different directories register different drivers and mempool ops")
	}
	onlyP, onlyC := diffSets(componentSet(p.Libraries), componentSet(c.Libraries))
	if len(onlyP)+len(onlyC) > 0 {
		add("librte-set", "info", fmt.Sprintf("librte only in the primary: [%s]; only in the capture tool: [%s]", strings.Join(onlyP, " "), strings.Join(onlyC, " ")),
			"libraries that only register APIs are harmless; drivers, mempool ops and tailqs are checked above")
	}
	return m.finish()
}

// compareOps judges the one mempool ops entry the two processes share: the
// capture tool creates its mbuf pool with CapturePoolOps at index i of its
// own table, and the primary, copying packets into that pool, calls
// ops[i] of ITS table. Other differences in the two tables are harmless.
func compareOps(p, c *DPDKFacts, add func(id, sev, msg, why, compared string)) {
	const id = "mempool-ops"
	pool := CapturePoolOps
	src := func(f *DPDKFacts) string {
		if f.OpsTableFrom == "memory" {
			if strings.HasPrefix(f.OpsTableNote, "measured: ") {
				return "measured: read from the tool started under ptrace"
			}
			return "read from the running process"
		}
		return "predicted from constructor order and the plugin directory"
	}
	const stores = "a mempool stores the index of its ops, and each process resolves it in its own table: the primary copies every captured packet into the capture tool's pool through that index"
	if len(c.OpsTable) == 0 || len(p.OpsTable) == 0 {
		add(id, "warn", "the mempool ops tables could not be worked out (no registrant found)", stores, "")
		return
	}
	compared := fmt.Sprintf("mempool ops tables: capture tool [%s] (%s); primary [%s] (%s)",
		strings.Join(c.OpsTable, ", "), src(c), strings.Join(p.OpsTable, ", "), src(p))
	ci := -1
	for i, n := range c.OpsTable {
		if strings.HasPrefix(n, "?") {
			add(id, "warn", fmt.Sprintf("the index of %s in the capture tool's mempool ops table is unknown: %s registers ops elfcheck does not know before it", pool, n[1:]),
				stores+"; if the primary has other ops at that index, pdump captures nothing or corrupts memory", compared)
			return
		}
		if n == pool {
			ci = i
			break
		}
	}
	if ci < 0 {
		add(id, "fail", fmt.Sprintf("the capture tool registers no %s mempool ops", pool),
			"pdump and dumpcap create their mbuf pool with "+pool+" and cannot start without it", compared)
		return
	}
	at := fmt.Sprintf("the capture tool's mbuf pool stores mempool ops index %d (%s)", ci, pool)
	if ci >= len(p.OpsTable) {
		add(id, "fail", fmt.Sprintf("%s but the primary has only %d mempool ops", at, len(p.OpsTable)), stores+"; an index past the primary's table is no driver at all", compared)
		return
	}
	switch pe := p.OpsTable[ci]; {
	case pe == pool:
		if strings.Join(p.OpsTable, ",") != strings.Join(c.OpsTable, ",") {
			add(id, "info", fmt.Sprintf("the mempool ops tables differ, but index %d, the capture's pool, is %s in both", ci, pool),
				stores+"; the other indexes are not used by a capture", compared)
		}
	case strings.HasPrefix(pe, "?"):
		add(id, "warn", fmt.Sprintf("%s; the primary's entry at index %d is unknown (%s registers ops elfcheck does not know)", at, ci, pe[1:]),
			stores+"; other ops at that index make pdump capture nothing or corrupt memory", compared)
	case ringVariants[pe] != "":
		add(id, "warn", fmt.Sprintf("%s; in the primary index %d is %s, the same ring used %s", at, ci, pe, ringVariants[pe]),
			stores+"; this works while one primary thread at a time captures (as on the lab), but primary threads capturing several queues at once can corrupt the pool's ring", compared)
	default:
		add(id, "fail", fmt.Sprintf("%s; in the primary index %d is %s", at, ci, pe),
			stores+"; the primary allocates the capture's mbufs through another driver (lab, dpdk-testpmd as the primary: pdump captures nothing and the primary floods \"mempool/dpaa2: Failed to allocate IO portal\"; Gazelle 1.0.2's ltran, which links the dpaa mempool drivers: ltran exits at the capture's first packet with \"process_portal_map(): Unknown error -19\")", compared)
	}
}

func (m *Match) finish() *Match {
	m.Compatible = true
	for _, d := range m.Differences {
		if d.Severity == "fail" {
			m.Compatible = false
		}
	}
	return m
}

func componentSet(libs []string) map[string]bool {
	s := map[string]bool{}
	for _, l := range libs {
		if d, ok := parseLibrte(l); ok {
			s[d.Component] = true
		}
	}
	return s
}

func diffSets(a, b map[string]bool) (onlyA, onlyB []string) {
	for k := range a {
		if !b[k] {
			onlyA = append(onlyA, k)
		}
	}
	for k := range b {
		if !a[k] {
			onlyB = append(onlyB, k)
		}
	}
	sort.Strings(onlyA)
	sort.Strings(onlyB)
	return onlyA, onlyB
}

// tailqOwners is the set of libraries (components) that register tailqs at
// start-up: linked ones, plus, for a shared EAL, the plugin directory's.
func tailqOwners(fs rootFS, f *DPDKFacts) (map[string]bool, bool) {
	set := map[string]bool{}
	for _, t := range f.Tailqs {
		if d, ok := parseLibrte(t); ok {
			set[d.Component] = true
		} else if owner, ok := staticTailqOwner[t]; ok {
			set[owner] = true
		} else {
			set[t] = true
		}
	}
	if f.Linkage == LinkageStatic && len(set) == 0 {
		return nil, false
	}
	if f.pluginTailqs != nil {
		// Walked while predicting the ops table, following dlopen().
		for c := range f.pluginTailqs {
			set[c] = true
		}
	} else if f.PluginDirUsed && f.PluginDir != "" {
		ents, _ := fs.readDir(f.PluginDir)
		for _, e := range ents {
			d, ok := parseLibrte(e.Name())
			if !ok || set[d.Component] || !strings.HasSuffix(e.Name(), ".so") {
				continue
			}
			p := path.Join(f.PluginDir, e.Name())
			hp, err := fs.hostPath(p)
			if err != nil {
				continue
			}
			if registersTailq(p, hp) {
				set[d.Component] = true
			}
		}
	}
	return set, true
}

// registersTailq reports whether the driver file imports
// rte_eal_tailq_register; an unreadable file does not count.
func registersTailq(p, hp string) (yes bool) {
	var err error
	defer faultGuard()(&err)
	o, err := openObject(p, hp)
	if err != nil {
		return false
	}
	defer o.close()
	syms, _ := o.dynSymbols()
	for _, s := range syms {
		if s.Name == symTailq && s.Section == elf.SHN_UNDEF {
			return true
		}
	}
	return false
}

// RenderText prints the verdict and each difference with its reason.
func (m *Match) RenderText(w io.Writer, st ui.Style, verbose bool) error {
	who := m.Primary
	if m.PrimaryPID != 0 {
		who = fmt.Sprintf("%s (pid %d", who, m.PrimaryPID)
		if len(m.PrimaryPreload) > 0 {
			who += ", LD_PRELOAD " + strings.Join(m.PrimaryPreload, " ")
		}
		who += ")"
	}
	fmt.Fprintf(w, "%s primary %s\n  vs capture tool %s\n", st.Bold("match:"), who, m.Capture)
	for _, d := range m.Differences {
		if d.Severity == "info" && !verbose {
			continue
		}
		fmt.Fprintf(w, "%s %s %s\n", st.Symbol(d.Severity), d.Message, st.Dim("["+d.ID+"]"))
		fmt.Fprintf(w, "    why: %s\n", d.Why)
		if d.Compared != "" && (verbose || d.Severity != "info") {
			fmt.Fprintf(w, "    compared: %s\n", d.Compared)
		}
	}
	if m.Compatible {
		fmt.Fprintf(w, "%s compatible: the capture tool can attach to this primary\n", st.Symbol("ok"))
	} else {
		fmt.Fprintf(w, "%s not compatible: fix the differences marked %s\n", st.Symbol("fail"), ui.SymbolFail)
	}
	return nil
}
