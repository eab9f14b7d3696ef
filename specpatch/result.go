package specpatch

import (
	"fmt"
	"io"
	"strings"

	"github.com/gzdoctor/gzdoctor/ui"
)

// Finding IDs. They are an interface (docs/specpatch.md): never reuse one
// for a different meaning.
const (
	IDPcapPMDOff          = "pcap-pmd-off"             // make: CONFIG_RTE_LIBRTE_PMD_PCAP not y on every path
	IDPdumpOff            = "pdump-off"                // make: CONFIG_RTE_LIBRTE_PDUMP not y on every path
	IDLibpcapMissing      = "libpcap-buildrequires"    // no BuildRequires on libpcap-devel / pkgconfig(libpcap)
	IDPcapDriverExcluded  = "pcap-driver-excluded"     // meson: net/pcap in disable_drivers or missing from enable_drivers
	IDPdumpAppExcluded    = "pdump-app-excluded"       // meson: pdump in disable_apps or missing from enable_apps
	IDPdumpLibDisabled    = "pdump-lib-disabled"       // meson: pdump (or a lib it needs) in disable_libs / missing from enable_libs
	IDPdumpRemoved        = "pdump-removed-in-install" // an rm of dpdk-pdump in %install
	IDPdumpNotPackaged    = "pdump-not-packaged"       // no %files line covers dpdk-pdump
	IDPcapPMDNotPackaged  = "pcap-pmd-not-packaged"    // no %files line covers the pcap PMD library
	IDPdumpDroppedByPatch = "pdump-dropped-by-patch"   // a source patch removes app/ (the spec cannot show it)
	IDPcapPMDInDevel      = "pcap-pmd-in-devel"        // info: the PMD is packaged only in -devel
	IDGazellePdump        = "gazelle-pdump-relink"     // info: the spec relinks gazelle-pdump by hand
	IDUnknownValue        = "unresolved-option"        // info: an option value specpatch cannot resolve
)

// Severity of a finding.
const (
	SevProblem = "problem" // needs a change; specpatch makes it
	SevBlocked = "blocked" // needs a change specpatch cannot make
	SevInfo    = "info"    // worth knowing, no change needed
)

// Verdicts.
const (
	VerdictGood    = "good"    // builds and packages the pcap PMD and pdump already
	VerdictPatch   = "patch"   // a patch is needed (shown, or written)
	VerdictBlocked = "blocked" // something specpatch cannot change stops it
)

// Finding is one thing specpatch noticed.
type Finding struct {
	ID       string `json:"id"`
	Severity string `json:"severity"`
	Line     int    `json:"line,omitempty"` // 1-based line in the original spec
	Message  string `json:"message"`
	Fixed    bool   `json:"fixed"` // a change below addresses it
}

// Change is one edited line.
type Change struct {
	Line   int    `json:"line"` // 1-based line in the original spec
	Kind   string `json:"kind"` // insert (after Line), replace, delete
	Old    string `json:"old,omitempty"`
	New    string `json:"new,omitempty"`
	Why    string `json:"why"`
	Fixes  string `json:"fixes"`
	Branch string `json:"branch,omitempty"` // the %if arm the line is in
}

// Bump describes a --bump.
type Bump struct {
	OldRelease string `json:"old_release"`
	NewRelease string `json:"new_release"`
	Changelog  string `json:"changelog,omitempty"` // the entry added, empty with %autochangelog
}

// Result is what specpatch found and would change in one spec.
type Result struct {
	File     string    `json:"file"`
	Style    string    `json:"style"`
	DPDK     string    `json:"dpdk_version,omitempty"`
	Verdict  string    `json:"verdict"`
	Findings []Finding `json:"findings"`
	Changes  []Change  `json:"changes"`
	Bump     *Bump     `json:"bump,omitempty"`
	Diff     string    `json:"diff"`
	Written  string    `json:"written,omitempty"` // file the patched spec was written to
	Backup   string    `json:"backup,omitempty"`
	Check    bool      `json:"-"`
}

// RenderText prints the diff, then one line per change, then the findings
// that are not fixed. With --check (Check) it prints only the verdict and
// findings.
func (r *Result) RenderText(w io.Writer, st ui.Style, verbose bool) error {
	if !r.Check && r.Diff != "" {
		for _, l := range strings.Split(strings.TrimSuffix(r.Diff, "\n"), "\n") {
			switch {
			case strings.HasPrefix(l, "+++"), strings.HasPrefix(l, "---"):
				l = st.Bold(l)
			case strings.HasPrefix(l, "@@"):
				l = st.Cyan(l)
			case strings.HasPrefix(l, "+"):
				l = st.Green(l)
			case strings.HasPrefix(l, "-"):
				l = st.Red(l)
			}
			fmt.Fprintln(w, l)
		}
		fmt.Fprintln(w)
	}
	head := fmt.Sprintf("%s: style %s", r.File, r.Style)
	if r.DPDK != "" {
		head += ", DPDK " + r.DPDK
	}
	switch r.Verdict {
	case VerdictGood:
		fmt.Fprintf(w, "%s %s — already builds and packages the pcap PMD and dpdk-pdump\n", st.Symbol("ok"), head)
	case VerdictBlocked:
		fmt.Fprintf(w, "%s %s — specpatch cannot make this spec build pdump on its own\n", st.Symbol("fail"), head)
	default:
		if r.Written != "" {
			fmt.Fprintf(w, "%s %s — patched, written to %s\n", st.Symbol("ok"), head, r.Written)
		} else {
			fmt.Fprintf(w, "%s %s — needs %d change(s)\n", st.Symbol("warn"), head, len(r.Changes))
		}
	}
	for _, c := range r.Changes {
		where := ""
		if c.Branch != "" {
			where = " [" + c.Branch + "]"
		}
		fmt.Fprintf(w, "  line %d: %s%s\n", c.Line, c.Why, where)
	}
	for _, f := range r.Findings {
		if f.Fixed || (f.Severity == SevInfo && !verbose) {
			continue
		}
		sym := st.Symbol("fail")
		if f.Severity == SevInfo {
			sym = st.Symbol("skip")
		}
		loc := ""
		if f.Line > 0 {
			loc = fmt.Sprintf("line %d: ", f.Line)
		}
		fmt.Fprintf(w, "  %s %s%s (%s)\n", sym, loc, f.Message, f.ID)
	}
	if r.Bump != nil {
		fmt.Fprintf(w, "  Release %s → %s\n", r.Bump.OldRelease, r.Bump.NewRelease)
	}
	if r.Backup != "" {
		fmt.Fprintf(w, "  original kept as %s\n", r.Backup)
	}
	return nil
}
