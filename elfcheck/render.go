package elfcheck

import (
	"fmt"
	"io"
	"strings"

	"github.com/gzdoctor/gzdoctor/ui"
)

// RenderText prints the dependency tree like lddtree, then the DPDK facts.
func (r *Report) RenderText(w io.Writer, st ui.Style, verbose bool) error {
	head := r.Path
	if r.PID != 0 {
		head = fmt.Sprintf("%s (pid %d, libraries mapped)", r.Path, r.PID)
		if len(r.Preload) > 0 {
			head = fmt.Sprintf("%s (pid %d, libraries mapped, LD_PRELOAD %s)", r.Path, r.PID, strings.Join(r.Preload, " "))
		}
	}
	if r.Interpreter != "" {
		head += " (interpreter => " + r.Interpreter + ")"
	}
	fmt.Fprintln(w, st.Bold(head))
	if r.Type == "static-executable" {
		fmt.Fprintln(w, "    statically linked")
	}
	if r.Tree != nil {
		for _, c := range r.Tree.Children {
			renderNode(w, st, c, 1)
		}
	}
	if verbose {
		for _, m := range r.Missing {
			fmt.Fprintf(w, "  %s looked for in:\n", m.Name)
			for _, s := range m.Searched {
				fmt.Fprintf(w, "    %s %s\n", s.Dir, st.Dim("("+string(s.Via)+")"))
			}
			for _, s := range m.Skipped {
				fmt.Fprintf(w, "    skipped %s\n", s)
			}
		}
	}
	r.DPDK.render(w, st, verbose)
	for _, p := range r.Problems {
		fmt.Fprintf(w, "%s %s\n", st.Symbol("fail"), p.Message)
	}
	if verbose {
		for _, wn := range append(r.Warnings, r.DPDK.Warnings...) {
			fmt.Fprintf(w, "%s %s\n", st.Symbol("warn"), wn)
		}
	}
	return nil
}

func renderNode(w io.Writer, st ui.Style, n *Node, depth int) {
	indent := strings.Repeat("    ", depth)
	switch {
	case n.Loop:
		fmt.Fprintf(w, "%s%s => !!! circular loop !!!\n", indent, n.Name)
		return
	case n.Missing:
		fmt.Fprintf(w, "%s%s => %s\n", indent, n.Name, st.Red("not found"))
	default:
		fmt.Fprintf(w, "%s%s => %s\n", indent, n.Name, n.Path)
	}
	for _, c := range n.Children {
		renderNode(w, st, c, depth+1)
	}
}

func (f *DPDKFacts) render(w io.Writer, st ui.Style, verbose bool) {
	if f.Linkage == LinkageNone {
		fmt.Fprintln(w, st.Dim("DPDK: none (no librte library, no DPDK linked in)"))
		return
	}
	ver := f.Version
	if ver == "" {
		ver = "version unknown"
	}
	fmt.Fprintf(w, "%s %s (%s", st.Bold("DPDK"), ver, f.Linkage)
	if f.ABI != "" {
		fmt.Fprintf(w, ", ABI %s", f.ABI)
	}
	fmt.Fprintln(w, ")")
	if verbose && f.VersionSource != "" {
		fmt.Fprintf(w, "  version from %s\n", f.VersionSource)
	}
	if len(f.Libraries) > 0 {
		fmt.Fprintf(w, "  librte libraries: %d\n", len(f.Libraries))
		if verbose {
			fmt.Fprintf(w, "    %s\n", strings.Join(f.Libraries, " "))
		}
	}
	for _, s := range f.StaticIn {
		fmt.Fprintf(w, "  DPDK linked statically into %s\n", s)
	}
	var linked []string
	for _, d := range f.Drivers {
		linked = append(linked, d.Name+st.Dim("["+string(d.Via)+"]"))
	}
	if len(linked) > 0 {
		fmt.Fprintf(w, "  drivers: %s\n", strings.Join(linked, " "))
	}
	switch {
	case f.PluginDir != "" && f.PluginDirUsed:
		fmt.Fprintf(w, "  plugin dir: %s (%d driver files)\n", f.PluginDir, f.PluginFiles)
	case f.PluginDir != "":
		fmt.Fprintf(w, "  plugin dir: %s (not loaded: static EAL)\n", f.PluginDir)
	}
	if len(f.MempoolOps) > 0 {
		fmt.Fprintf(w, "  mempool ops registered at start-up: %s\n", strings.Join(f.MempoolOps, ", "))
	}
	if verbose && len(f.Tailqs) > 0 {
		fmt.Fprintf(w, "  tailqs registered at start-up: %s\n", strings.Join(f.Tailqs, ", "))
	}
	if f.PcapPMD.Reachable {
		fmt.Fprintf(w, "%s pcap PMD reachable: %s (%s)\n", st.Symbol("ok"), joinVia(f.PcapPMD.Via), strings.Join(f.PcapPMD.Where, ", "))
	} else {
		fmt.Fprintf(w, "%s pcap PMD not reachable: %s\n", st.Symbol("fail"), f.PcapPMD.Detail)
	}
	switch {
	case f.Pdump.Referenced && f.Pdump.Defined:
		fmt.Fprintf(w, "%s rte_pdump_init referenced (%s), defined in %s\n", st.Symbol("ok"), strings.Join(f.Pdump.ReferencedBy, ", "), strings.Join(f.Pdump.DefinedIn, ", "))
	case f.Pdump.Defined:
		fmt.Fprintf(w, "%s rte_pdump_init defined in %s\n", st.Symbol("ok"), strings.Join(f.Pdump.DefinedIn, ", "))
	case f.Pdump.Referenced:
		fmt.Fprintf(w, "%s rte_pdump_init referenced by %s but defined nowhere in the tree\n", st.Symbol("fail"), strings.Join(f.Pdump.ReferencedBy, ", "))
	default:
		fmt.Fprintf(w, "%s rte_pdump_init neither referenced nor defined\n", st.Symbol("fail"))
	}
}

// FlatList renders a report as one resolved path per line in load order,
// like lddtree -l (and the order ldd prints).
type FlatList struct{ *Report }

// RenderText prints the flat list.
func (fl FlatList) RenderText(w io.Writer, st ui.Style, verbose bool) error {
	fmt.Fprintln(w, fl.Path)
	for _, l := range fl.Libraries {
		if l.Missing {
			continue
		}
		fmt.Fprintln(w, l.Path)
	}
	for _, m := range fl.Missing {
		fmt.Fprintf(w, "%s => %s\n", m.Name, st.Red("not found"))
	}
	return nil
}
