package elfcheck

import (
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/gzdoctor/gzdoctor/internal/shquote"
	"github.com/gzdoctor/gzdoctor/ui"
)

// PdumpLink is the gazelle-pdump link command derived from a liblstack.so
// (or ltran): the same librte libraries in the same order, so that both
// processes register the same drivers, mempool ops and tailqs.
type PdumpLink struct {
	From     string   `json:"from"`
	Command  string   `json:"command"`
	Args     []string `json:"args"`
	Notes    []string `json:"notes,omitempty"`
	Librte   []string `json:"librte"`
	Warnings []string `json:"warnings,omitempty"`
}

// SuggestPdumpLink derives the link command for gazelle-pdump from the
// analysed primary library: its librte DT_NEEDED entries (resolved paths,
// in the primary's order) inside --no-as-needed so none is dropped, then
// its other libraries. The object is DPDK's app/pdump/main.c compiled with
// the primary's CFLAGS.
func SuggestPdumpLink(primary *Report) (*PdumpLink, error) {
	if primary.DPDK.Linkage == LinkageNone {
		return nil, fmt.Errorf("%s carries no DPDK: nothing to match", primary.Path)
	}
	pl := &PdumpLink{From: primary.Path}
	args := []string{"cc", "-o", "gazelle-pdump", "pdump_main.o"}
	byName := map[string]*Library{}
	for _, l := range primary.Libraries {
		if _, ok := byName[l.Name]; !ok {
			byName[l.Name] = l
		}
	}
	var rte, other []string
	haveComp := map[string]bool{}
	for _, n := range primary.Needed {
		l := byName[n]
		d, isRte := parseLibrte(n)
		switch {
		case isRte:
			p := n
			if l != nil && l.Path != "" {
				p = l.Path
			} else {
				pl.Warnings = append(pl.Warnings, n+" is not found under the root; the path is left as its name")
			}
			rte = append(rte, p)
			pl.Librte = append(pl.Librte, n)
			haveComp[d.Component] = true
		case strings.HasPrefix(n, "libc.so") || strings.HasPrefix(n, "ld-linux") || strings.HasPrefix(n, "ld64"):
		default:
			other = append(other, libFlag(n))
		}
	}
	if primary.DPDK.Linkage == LinkageStatic {
		pl.Warnings = append(pl.Warnings, "the primary has DPDK linked in statically: link gazelle-pdump with the same archives inside -Wl,--whole-archive (pkg-config --static --libs libdpdk, same driver list)")
	}
	if !haveComp["pdump"] {
		pl.Warnings = append(pl.Warnings, "the primary does not link librte_pdump: it cannot call rte_pdump_init, capture will fail whatever pdump is linked with")
	}
	if !haveComp["net_pcap"] && !haveComp["pmd_pcap"] {
		if primary.DPDK.PcapPMD.Reachable {
			pl.Notes = append(pl.Notes, "the primary gets the pcap PMD via "+joinVia(primary.DPDK.PcapPMD.Via)+"; gazelle-pdump gets it the same way")
		} else {
			pl.Warnings = append(pl.Warnings, "the primary cannot reach the pcap PMD: add librte_net_pcap.so to the primary's link line too, else pdump fails with \"vdev creation failed\"")
		}
	}
	if len(rte) > 0 {
		args = append(args, "-Wl,--no-as-needed")
		args = append(args, rte...)
		args = append(args, "-Wl,--as-needed")
	}
	args = append(args, other...)
	pl.Args = args
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = shquote.Quote(a)
	}
	pl.Command = strings.Join(quoted, " ")
	pl.Notes = append(pl.Notes,
		"pdump_main.o: DPDK's app/pdump/main.c compiled with the primary's CFLAGS (pkg-config --cflags libdpdk)",
		"--whole-archive is only needed for static .a drivers; around shared libraries it has no effect")
	return pl, nil
}

// libFlag turns "libnuma.so.1" into "-lnuma".
func libFlag(needed string) string {
	base := path.Base(needed)
	if n, ok := strings.CutPrefix(base, "lib"); ok {
		if i := strings.Index(n, ".so"); i > 0 {
			if strings.HasSuffix(base, ".so") {
				return "-l" + n[:i]
			}
			return "-l:" + base
		}
	}
	return needed
}

// RenderText prints the command, then the notes.
func (pl *PdumpLink) RenderText(w io.Writer, st ui.Style, verbose bool) error {
	fmt.Fprintf(w, "# gazelle-pdump linked like %s\n", pl.From)
	fmt.Fprintln(w, pl.Command)
	for _, n := range pl.Warnings {
		fmt.Fprintf(w, "%s %s\n", st.Symbol("warn"), n)
	}
	for _, n := range pl.Notes {
		fmt.Fprintf(w, "# %s\n", n)
	}
	return nil
}
