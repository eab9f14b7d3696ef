package elfcheck

import (
	"bytes"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/gzdoctor/gzdoctor/host"
)

// LibDPDK describes one librte library.
type LibDPDK struct {
	Component string   `json:"component"`         // "eal", "net_pcap", "mempool_ring"
	Class     string   `json:"class,omitempty"`   // driver class: net, bus, mempool, common, crypto…; empty for core libraries
	ABI       string   `json:"abi,omitempty"`     // SONAME version, "23"
	Release   string   `json:"release,omitempty"` // DPDK release of that ABI, "22.11"
	Drivers   []string `json:"drivers,omitempty"` // names from its PMD info strings
}

// Driver is a DPDK driver the program will have at start-up.
type Driver struct {
	Name  string    `json:"name"`  // "net_pcap", "mempool_ring", or a PMD name
	Class string    `json:"class"` // net, bus, mempool, …
	Via   DriverVia `json:"via"`
	File  string    `json:"file,omitempty"` // the object carrying it
}

// DriverVia is how a driver reaches the process.
type DriverVia string

const (
	DriverNeeded    DriverVia = "needed"     // a librte_*.so the loader loads (DT_NEEDED)
	DriverStatic    DriverVia = "static"     // linked into the executable
	DriverPluginDir DriverVia = "plugin-dir" // EAL loads it from the plugin directory (Reachability only)
	DriverEALArg    DriverVia = "eal-arg"    // -d on the command line
	DriverMapped    DriverVia = "mapped"     // --pid: in /proc/N/maps, by whichever way
)

// Reachability says whether and how a driver can be probed by the process.
type Reachability struct {
	Reachable bool        `json:"reachable"`
	Via       []DriverVia `json:"via,omitempty"`
	Where     []string    `json:"where,omitempty"` // the file(s) providing it
	Detail    string      `json:"detail,omitempty"`
}

// PdumpUse says whether rte_pdump_init is referenced and defined.
type PdumpUse struct {
	Referenced   bool     `json:"referenced"`
	ReferencedBy []string `json:"referenced_by,omitempty"`
	Defined      bool     `json:"defined"`
	DefinedIn    []string `json:"defined_in,omitempty"`
}

// DPDKFacts is the DPDK a file carries or loads.
type DPDKFacts struct {
	Linkage       Linkage      `json:"linkage"`
	Version       string       `json:"version,omitempty"`
	Release       string       `json:"release,omitempty"` // "22.11"
	ABI           string       `json:"abi,omitempty"`
	VersionSource string       `json:"version_source,omitempty"`
	Libraries     []string     `json:"libraries,omitempty"` // librte SONAMEs/names in the tree, load order
	StaticIn      []string     `json:"static_in,omitempty"` // objects with DPDK linked in statically
	Drivers       []Driver     `json:"drivers,omitempty"`   // linked (needed/static) or named by -d
	PluginDir     string       `json:"plugin_dir,omitempty"`
	PluginDirFrom string       `json:"plugin_dir_from,omitempty"` // the librte_eal carrying the path
	PluginDirUsed bool         `json:"plugin_dir_used"`           // only a shared EAL loads it
	PluginFiles   int          `json:"plugin_files,omitempty"`    // driver files in it
	EALDrivers    []string     `json:"eal_drivers,omitempty"`     // -d arguments
	PcapPMD       Reachability `json:"pcap_pmd"`
	Pdump         PdumpUse     `json:"pdump"`
	// MempoolOps and Tailqs are the registrants in constructor order: the
	// libraries importing rte_mempool_register_ops / rte_eal_tailq_register
	// (shared), or the mp_hdlr_init_* / tailqinitfn_* constructors (static,
	// while .symtab exists). Plugin-dir drivers register after these.
	MempoolOps []string `json:"mempool_ops,omitempty"`
	Tailqs     []string `json:"tailqs,omitempty"`
	// OpsTable is the process's mempool ops table, index by index: read
	// from a live process's memory (OpsTableFrom "memory"), or predicted
	// from constructor order and the plugin directory's directory order
	// ("predicted"). An entry "?<lib>" is a registrant whose ops elfcheck
	// does not know; the indexes after it are uncertain.
	// TailqsFromNames: a stripped static build's tailqs, known from the
	// names in its data (only the names elfcheck knows).
	TailqsFromNames bool     `json:"tailqs_from_names,omitempty"`
	OpsTable        []string `json:"ops_table,omitempty"`
	OpsTableFrom    string   `json:"ops_table_from,omitempty"`
	OpsTableNote    string   `json:"ops_table_note,omitempty"`
	// pluginTailqs are the components loading the plugin directory adds
	// that register tailqs (nil when it was not walked).
	pluginTailqs map[string]bool
	// predict fills OpsTable from the load order (AnalyzePID calls it when
	// the process's memory cannot be read).
	predict  func(*DPDKFacts)
	Warnings []string `json:"warnings,omitempty"`
}

var driverClasses = map[string]bool{
	"net": true, "bus": true, "mempool": true, "common": true, "crypto": true, "compress": true, "event": true,
	"baseband": true, "raw": true, "dma": true, "regex": true, "vdpa": true, "gpu": true, "ml": true, "pmd": true,
}

// parseLibrte splits "librte_net_pcap.so.23" into its DPDK facts.
func parseLibrte(name string) (*LibDPDK, bool) {
	// librte_<component>.so[.<version>], matched by hand: it runs for
	// every file of the plugin directory (hundreds).
	comp, ok := strings.CutPrefix(path.Base(name), "librte_")
	if !ok {
		return nil, false
	}
	comp, ver, ok := strings.Cut(comp, ".so")
	if !ok || comp == "" || strings.Trim(comp, "abcdefghijklmnopqrstuvwxyz0123456789_") != "" {
		return nil, false
	}
	if ver != "" {
		if ver[0] != '.' || len(ver) == 1 || strings.Trim(ver[1:], "0123456789.") != "" {
			return nil, false
		}
		ver = ver[1:]
	}
	d := &LibDPDK{Component: comp}
	if i := strings.IndexByte(comp, '_'); i > 0 && driverClasses[comp[:i]] {
		d.Class = comp[:i]
		if d.Class == "pmd" { // 19.11: librte_pmd_pcap is a net driver
			d.Class = "net"
		}
	}
	if ver != "" {
		d.ABI = ver
		d.Release = host.ABIRelease(d.ABI)
		if d.Release == "" {
			major, _, _ := strings.Cut(d.ABI, ".")
			if d.Release = host.ABIRelease(major); d.Release != "" {
				d.ABI = major
			}
		}
		if d.Release == "" && strings.HasPrefix(d.ABI, "20.0") {
			d.ABI, d.Release = "20.0", "19.11"
		}
	}
	return d, true
}

func isPcapPMD(component string) bool { return component == "net_pcap" || component == "pmd_pcap" }

// scanWorthy says whether l may carry DPDK: a librte library, the analysed
// file, or anything whose dynamic symbols mention rte_ (liblstack.so).
func scanWorthy(l *Library, main *Library) bool {
	if l == main || strings.HasPrefix(l.Name, "librte_") || strings.HasPrefix(path.Base(l.Path), "librte_") {
		return true
	}
	if l.obj == nil {
		return false
	}
	// Any rte_ name in the dynamic string table: cheap, and it is what the
	// dynamic symbols would show.
	return l.obj.dyn != nil && bytes.Contains(l.obj.dyn.strtab, []byte("\x00rte_"))
}

// initOrderRoots is the order constructors run in: dependencies before the
// objects that need them (a depth-first post-order from the roots, the
// topological order ld.so's _dl_sort_maps produces for a DAG). For a
// process, LD_PRELOAD libraries and then the executable share one walk.
func initOrderRoots(roots []*Library) []*Library {
	var out []*Library
	seen := map[*Library]bool{}
	var visit func(l *Library)
	visit = func(l *Library) {
		if seen[l] {
			return
		}
		seen[l] = true
		for _, d := range l.deps {
			visit(d)
		}
		out = append(out, l)
	}
	for _, r := range roots {
		visit(r)
	}
	return out
}

// Linkage is how a file has DPDK: none, shared (librte_*.so), static
// (linked in) or mixed.
type Linkage string

const (
	LinkageNone   Linkage = "none"
	LinkageShared Linkage = "shared"
	LinkageStatic Linkage = "static"
	LinkageMixed  Linkage = "mixed"
)

func dpdkFacts(fs rootFS, main *Library, order []*Library, ealArgs []string, preload []*Library, process bool) DPDKFacts {
	var f DPDKFacts
	all := append([]*Library{main}, order...)
	eal, shared, static := f.scanLibraries(main, all)
	f.Linkage = linkage(shared, static)
	f.versionFrom(eal)
	loaded, later := f.registrants(main, order, preload, process)
	// A running process's table is read from its memory when it can be;
	// walking the plugin directory again would be wasted then.
	f.predict = func(t *DPDKFacts) { t.predictOps(fs, loaded, later) }
	if !process {
		f.predict(&f)
	}
	f.pdumpInit(all)
	pluginPcap, ealPcap := f.driverArgs(fs, ealArgs)
	f.pcapPMD(pluginPcap, ealPcap)
	sort.SliceStable(f.Drivers, func(i, j int) bool { return f.Drivers[i].Class < f.Drivers[j].Class })
	return f
}

// scanLibraries scans the main object and its libraries: which are DPDK's
// (shared), which hold DPDK linked in (static), their drivers, version
// and plugin directory, and the pdump that a stripped static link keeps.
func (f *DPDKFacts) scanLibraries(main *Library, all []*Library) (eal *Library, shared, static bool) {
	for _, l := range all {
		d, ok := parseLibrte(l.Name)
		if !ok && l.Soname != "" {
			d, ok = parseLibrte(l.Soname)
		}
		if ok && l != main {
			l.DPDK = d
			shared = true
			f.Libraries = append(f.Libraries, l.Name)
			if d.Component == "eal" {
				eal = l
			}
		}
		if l.obj == nil || !scanWorthy(l, main) {
			continue
		}
		sc := l.obj.dpdk(l.DPDK == nil || l.DPDK.Class != "" || l.DPDK.Component == "eal")
		for _, w := range sc.warnings {
			f.Warnings = append(f.Warnings, l.Path+": "+w)
		}
		if l.DPDK != nil {
			l.DPDK.Drivers = sc.pmdInfo
		}
		// A static program stripped of .symtab (rpm builds of ltran and
		// lstack) keeps no symbol of DPDK, but its PMD info strings, the
		// plugin path and EAL's messages stay.
		strippedStatic := l.DPDK == nil && !sc.symtab && !sc.defines[symEALInit] &&
			(len(sc.pmdInfo) > 0 || sc.pluginPath != "" || sc.ealText)
		if strippedStatic {
			f.Warnings = append(f.Warnings, l.Path+": DPDK linked in statically and stripped: found by "+strippedEvidence(sc)+"; drivers from PMD info, no version or constructor order")
			if sc.pdumpText && !sc.imports[symPdumpInit] {
				// librte_pdump is in; a static link only pulls it in when
				// something calls it.
				f.Pdump.Defined = true
				f.Pdump.DefinedIn = append(f.Pdump.DefinedIn, l.Path+" (librte_pdump's mp_pdump action name; symbols stripped)")
			}
		}
		if (sc.defines[symEALInit] && (l.DPDK == nil || l.DPDK.Component != "eal")) || strippedStatic {
			static = true
			f.StaticIn = append(f.StaticIn, l.Path)
			for _, n := range sc.pmdInfo {
				f.Drivers = append(f.Drivers, Driver{Name: n, Class: pmdClass(n), Via: DriverStatic, File: l.Path})
			}
			for _, reg := range sc.regs {
				// PMD info strings name drivers as users know them; the
				// constructor names are C variables, kept for buses (which
				// have no PMD info) and for builds without PMD info.
				if reg.kind == "bus" || (reg.kind == "driver" && len(sc.pmdInfo) == 0) {
					if !hasDriver(f.Drivers, reg.name) {
						f.Drivers = append(f.Drivers, Driver{Name: reg.name, Class: reg.kind, Via: DriverStatic, File: l.Path})
					}
				}
			}
			if f.Version == "" {
				switch {
				case sc.versionCode != "":
					f.Version, f.VersionSource = sc.versionCode, l.Path+": rte_version_year/month/minor"
				case sc.versionLit != "":
					f.Version, f.VersionSource = sc.versionLit, l.Path+": version string"
				}
			}
			if sc.pluginPath != "" && f.PluginDir == "" {
				f.PluginDir, f.PluginDirFrom = sc.pluginPath, l.Path
			}
		}
		if l.DPDK != nil && l.DPDK.Class != "" {
			via := DriverNeeded
			if l.FoundVia == ViaMapped {
				via = DriverMapped // --pid: loaded, by DT_NEEDED, the plugin dir or -d
			}
			f.Drivers = append(f.Drivers, Driver{Name: l.DPDK.Component, Class: l.DPDK.Class, Via: via, File: l.Path})
		}
	}
	return eal, shared, static
}

// linkage names how DPDK is linked.
func linkage(shared, static bool) Linkage {
	switch {
	case shared && static:
		return LinkageMixed
	case shared:
		return LinkageShared
	case static:
		return LinkageStatic
	default:
		return LinkageNone
	}
}

// versionFrom settles the version, ABI and release: EAL's own (its
// version code or string, its SONAME), else the plugin directory's ABI,
// else what the static scan found.
func (f *DPDKFacts) versionFrom(eal *Library) {
	if eal != nil {
		f.ABI, f.Release = eal.DPDK.ABI, eal.DPDK.Release
		if eal.obj != nil {
			sc := eal.obj.dpdk(true)
			if sc.versionCode != "" {
				f.Version, f.VersionSource = sc.versionCode, eal.Path+": rte_version_year/month/minor"
			} else if sc.versionLit != "" {
				f.Version, f.VersionSource = sc.versionLit, eal.Path+": version string"
			}
			if sc.pluginPath != "" {
				f.PluginDir, f.PluginDirFrom = sc.pluginPath, eal.Path
			}
		}
		f.PluginDirUsed = f.PluginDir != ""
		if f.Version == "" && f.Release != "" {
			f.Version, f.VersionSource = f.Release, eal.Name+": SONAME"
		}
	}
	if f.ABI == "" && f.PluginDir != "" {
		// .../dpdk/pmds-23.0: the ABI EAL was built with, even when stripped.
		if _, abi, ok := strings.Cut(path.Base(f.PluginDir), "pmds-"); ok {
			major, _, _ := strings.Cut(abi, ".")
			if rel := host.ABIRelease(major); rel != "" {
				f.ABI, f.Release = major, rel
			} else if rel := host.ABIRelease(abi); rel != "" {
				f.ABI, f.Release = abi, rel
			}
		}
	}
	if f.Release == "" && f.Version != "" {
		parts := strings.SplitN(f.Version, ".", 3)
		if len(parts) >= 2 {
			f.Release = parts[0] + "." + parts[1]
		}
	}
	if f.Version == "" && f.Release != "" {
		f.Version, f.VersionSource = f.Release, f.PluginDirFrom+": plugin directory ABI"
	}

}

// registrants lists the mempool ops and tailqs in constructor order, and
// returns which DPDK components were loaded at start and the libraries a
// process mapped later.
func (f *DPDKFacts) registrants(main *Library, order, preload []*Library, process bool) (map[string]bool, []*Library) {
	// Registrants in constructor order. A process's LD_PRELOAD libraries
	// (liblstack.so) come with the executable; what it mapped otherwise
	// (the plugin directory, dlopen) registered later.
	inits := initOrderRoots(append(append([]*Library{}, preload...), main))
	loaded := map[string]bool{}
	inInit := map[*Library]bool{}
	for _, l := range inits {
		inInit[l] = true
		if l.DPDK != nil {
			loaded[l.DPDK.Component] = true
		}
	}
	var later []*Library
	if process {
		for _, l := range order {
			if !inInit[l] {
				later = append(later, l)
			}
		}
	}
	for _, l := range append(inits, later...) {
		if l.obj == nil || l.obj.scan == nil {
			continue
		}
		sc := l.obj.scan
		if l.DPDK != nil {
			if sc.imports[symMempoolOps] && inInit[l] {
				f.MempoolOps = append(f.MempoolOps, l.Name)
			}
			if sc.imports[symTailq] {
				f.Tailqs = append(f.Tailqs, l.Name)
			}
			continue
		}
		for _, reg := range sc.regs {
			switch reg.kind {
			case "mempool-ops":
				f.MempoolOps = append(f.MempoolOps, reg.name)
			case "tailq":
				f.Tailqs = append(f.Tailqs, reg.name)
			}
		}
		if !sc.symtab && !sc.defines[symEALInit] && len(sc.tailqNames) > 0 && slices.Contains(f.StaticIn, l.Path) {
			// Stripped: the tailqs' names tell their owners, not the order.
			f.Tailqs = append(f.Tailqs, sc.tailqNames...)
			f.TailqsFromNames = true
		}
	}

	return loaded, later
}

// pdumpInit finds who references and who defines rte_pdump_init.
func (f *DPDKFacts) pdumpInit(all []*Library) {
	for _, l := range all {
		if l.obj == nil || l.obj.scan == nil {
			continue
		}
		if l.obj.scan.imports[symPdumpInit] {
			f.Pdump.Referenced = true
			f.Pdump.ReferencedBy = append(f.Pdump.ReferencedBy, l.Path)
		}
		if l.obj.scan.defines[symPdumpInit] {
			f.Pdump.Defined = true
			f.Pdump.DefinedIn = append(f.Pdump.DefinedIn, l.Path)
		}
	}

}

// driverArgs reads -d arguments and the plugin directory: the drivers they
// load, and the pcap PMD among them.
func (f *DPDKFacts) driverArgs(fs rootFS, ealArgs []string) (pluginPcap, ealPcap []string) {
	f.EALDrivers = ealDriverArgs(ealArgs)
	if f.PluginDir != "" && f.PluginDirUsed {
		ents, err := fs.readDir(f.PluginDir)
		if err != nil {
			f.Warnings = append(f.Warnings, "plugin directory "+f.PluginDir+": "+err.Error())
		}
		for _, e := range ents {
			if !pluginName(e.Name(), f.ABI) {
				continue
			}
			f.PluginFiles++
			if d, ok := parseLibrte(e.Name()); ok && isPcapPMD(d.Component) && len(pluginPcap) == 0 && fs.isFile(path.Join(f.PluginDir, e.Name())) {
				pluginPcap = append(pluginPcap, path.Join(f.PluginDir, e.Name()))
			}
		}
	}
	for _, a := range f.EALDrivers {
		if dirExists(fs, a) {
			ents, _ := fs.readDir(a)
			for _, e := range ents {
				if d, ok := parseLibrte(e.Name()); ok && isPcapPMD(d.Component) {
					ealPcap = append(ealPcap, path.Join(a, e.Name()))
				}
			}
			continue
		}
		if d, ok := parseLibrte(path.Base(a)); ok {
			f.Drivers = append(f.Drivers, Driver{Name: d.Component, Class: d.Class, Via: DriverEALArg, File: a})
			if isPcapPMD(d.Component) {
				ealPcap = append(ealPcap, a)
			}
		}
	}

	return pluginPcap, ealPcap
}

// pcapPMD says whether and how the pcap PMD is reachable.
func (f *DPDKFacts) pcapPMD(pluginPcap, ealPcap []string) {
	p := &f.PcapPMD
	for _, d := range f.Drivers {
		if (d.Via == DriverNeeded || d.Via == DriverMapped) && isPcapPMD(d.Name) {
			p.Via, p.Where = appendOnce(p.Via, d.Via), append(p.Where, d.File)
		}
		if d.Via == DriverStatic && (d.Name == "net_pcap" || d.Name == "pmd_pcap_drv" || d.Name == "eth_pcap") {
			p.Via, p.Where = appendOnce(p.Via, DriverStatic), appendOnce(p.Where, d.File)
		}
	}
	if len(pluginPcap) > 0 {
		p.Via, p.Where = append(p.Via, DriverPluginDir), append(p.Where, pluginPcap...)
	}
	if len(ealPcap) > 0 {
		p.Via, p.Where = append(p.Via, DriverEALArg), append(p.Where, ealPcap...)
	}
	p.Reachable = len(p.Via) > 0
	switch {
	case f.Linkage == LinkageNone:
		p.Detail = "no DPDK in this file or its dependencies"
	case p.Reachable:
	case f.PluginDir != "" && f.PluginDirUsed:
		p.Detail = "not linked, not in the plugin directory " + f.PluginDir + ", not named by -d"
	case f.Linkage == LinkageStatic && f.PluginDir != "":
		p.Detail = "not linked in; a static EAL does not load its plugin directory " + f.PluginDir + "; not named by -d"
	default:
		p.Detail = "not linked and not named by -d"
	}
}

// strippedEvidence says which surviving strings showed DPDK.
func strippedEvidence(sc *dpdkScan) string {
	var ev []string
	if n := len(sc.pmdInfo); n > 0 {
		ev = append(ev, strconv.Itoa(n)+" PMD_INFO_STRING")
	}
	if sc.pluginPath != "" {
		ev = append(ev, "DPDK_PLUGIN_PATH="+sc.pluginPath)
	}
	if sc.ealText {
		ev = append(ev, "EAL's messages")
	}
	return strings.Join(ev, ", ")
}

// pluginName is EAL's test for files it loads from the plugin directory:
// names ending in ".so" or ".so.<ABI>" (eal_plugindir_init).
func pluginName(name, abi string) bool {
	if strings.HasSuffix(name, ".so") {
		return true
	}
	return abi != "" && (strings.HasSuffix(name, ".so."+abi) || strings.HasSuffix(name, ".so."+abi+".0"))
}

// ealDriverArgs returns the values of -d in EAL arguments ("-d X", "-dX").
func ealDriverArgs(args []string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break
		}
		switch {
		case a == "-d" && i+1 < len(args):
			out = append(out, args[i+1])
			i++
		case strings.HasPrefix(a, "-d") && len(a) > 2 && !strings.HasPrefix(a, "--"):
			out = append(out, a[2:])
		}
	}
	return out
}

func pmdClass(name string) string {
	if i := strings.IndexByte(name, '_'); i > 0 {
		return name[:i]
	}
	return "net"
}

func hasDriver(ds []Driver, name string) bool {
	for _, d := range ds {
		if d.Name == name {
			return true
		}
	}
	return false
}

func appendOnce[T comparable](list []T, s T) []T {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// joinVia lists the ways in words, as the text report and reasons say them.
func joinVia(via []DriverVia) string {
	s := make([]string, len(via))
	for i, v := range via {
		s[i] = string(v)
	}
	return strings.Join(s, ", ")
}
