package elfcheck

import (
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"

	"github.com/gzdoctor/gzdoctor/internal/shquote"
	"github.com/gzdoctor/gzdoctor/ui"
)

// LinkItem is one library or object on a link line.
type LinkItem struct {
	Arg          string `json:"arg"`                 // as written
	Name         string `json:"name"`                // "rte_net_pcap" for -lrte_net_pcap, the file name for paths
	Kind         string `json:"kind"`                // lib (-l), shared (.so path), archive (.a path), object
	Component    string `json:"component,omitempty"` // librte component: net_pcap, eal…
	Static       bool   `json:"static"`              // an archive, or -l under -Bstatic / -l:libX.a
	WholeArchive bool   `json:"whole_archive"`
	AsNeeded     bool   `json:"as_needed"`
}

// LinkLine is a parsed gcc/ld command line.
type LinkLine struct {
	Output  string     `json:"output,omitempty"`
	LibDirs []string   `json:"lib_dirs,omitempty"`
	Items   []LinkItem `json:"items"`
}

// LinkFinding is one verdict on a link line.
type LinkFinding struct {
	Severity string `json:"severity"` // ok, warn, fail, info
	Message  string `json:"message"`
}

// LinkCheck is the result of --link-line.
type LinkCheck struct {
	Line     *LinkLine     `json:"line"`
	Against  string        `json:"against,omitempty"`
	Findings []LinkFinding `json:"findings"`
	OK       bool          `json:"ok"`
}

// splitShell splits a link line into words as a POSIX shell would.
func splitShell(s string) ([]string, error) {
	w, err := shquote.Split(s)
	if err != nil {
		return nil, fmt.Errorf("%w in link line", err)
	}
	return w, nil
}

// ParseLinkLine parses a gcc or ld command line: -l/-L/-o, library and
// object paths, and the linker's position-dependent state
// (--whole-archive, -Bstatic, --as-needed), also inside -Wl, and -Xlinker.
func ParseLinkLine(s string) (*LinkLine, error) {
	words, err := splitShell(s)
	if err != nil {
		return nil, err
	}
	ll := &LinkLine{}
	whole, static, asNeeded := false, false, false
	addLib := func(arg, name string) {
		it := LinkItem{Arg: arg, Kind: "lib", Name: name, Static: static, WholeArchive: whole, AsNeeded: asNeeded}
		if f, ok := strings.CutPrefix(name, ":"); ok {
			it.Name = f
			it.Static = strings.HasSuffix(f, ".a")
		}
		base := it.Name
		if !strings.HasPrefix(base, "lib") {
			base = "lib" + base + ".so"
		}
		if d, ok := parseLibrte(strings.TrimSuffix(base, ".a") + map[bool]string{true: ".so", false: ""}[strings.HasSuffix(base, ".a")]); ok {
			it.Component = d.Component
		}
		ll.Items = append(ll.Items, it)
	}
	linker := func(opts []string, i *int) {
		o := opts[*i]
		switch o {
		case "--whole-archive", "-whole-archive":
			whole = true
		case "--no-whole-archive", "-no-whole-archive":
			whole = false
		case "-Bstatic", "-static", "-dn", "-non_shared":
			static = true
		case "-Bdynamic", "-dy", "-call_shared":
			static = false
		case "--as-needed":
			asNeeded = true
		case "--no-as-needed":
			asNeeded = false
		case "-l":
			if *i+1 < len(opts) {
				*i++
				addLib("-l"+opts[*i], opts[*i])
			}
		default:
			if strings.HasPrefix(o, "-l") && len(o) > 2 {
				addLib(o, o[2:])
			}
		}
	}
	for i := 0; i < len(words); i++ {
		w := words[i]
		switch {
		case i == 0 && !strings.HasPrefix(w, "-") && !isInput(w):
			continue // the compiler or linker name
		case w == "-o" && i+1 < len(words):
			i++
			ll.Output = words[i]
		case strings.HasPrefix(w, "-o") && len(w) > 2:
			ll.Output = w[2:]
		case w == "-L" && i+1 < len(words):
			i++
			ll.LibDirs = append(ll.LibDirs, words[i])
		case strings.HasPrefix(w, "-L"):
			ll.LibDirs = append(ll.LibDirs, w[2:])
		case w == "-l" && i+1 < len(words):
			i++
			addLib("-l"+words[i], words[i])
		case strings.HasPrefix(w, "-l"):
			addLib(w, w[2:])
		case strings.HasPrefix(w, "-Wl,"):
			opts := strings.Split(w[4:], ",")
			for j := 0; j < len(opts); j++ {
				linker(opts, &j)
			}
		case w == "-Xlinker" && i+1 < len(words):
			i++
			j := 0
			linker([]string{words[i]}, &j)
		case w == "-static":
			static = true
		case strings.HasPrefix(w, "-"):
			j := 0
			linker([]string{w}, &j) // ld invoked directly
		case isInput(w):
			it := LinkItem{Arg: w, Name: path.Base(w), WholeArchive: whole, AsNeeded: asNeeded}
			switch {
			case strings.HasSuffix(w, ".a"):
				it.Kind, it.Static = "archive", true
				if d, ok := parseLibrte(strings.TrimSuffix(path.Base(w), ".a") + ".so"); ok {
					it.Component = d.Component
				}
			case strings.HasSuffix(w, ".o"):
				it.Kind = "object"
			default:
				it.Kind = "shared"
				if d, ok := parseLibrte(path.Base(w)); ok {
					it.Component = d.Component
				}
			}
			ll.Items = append(ll.Items, it)
		}
	}
	if len(ll.Items) == 0 {
		return nil, errors.New("no libraries or objects on the link line")
	}
	return ll, nil
}

func isInput(w string) bool {
	return strings.HasSuffix(w, ".o") || strings.HasSuffix(w, ".a") || strings.HasSuffix(w, ".so") || strings.Contains(w, ".so.")
}

// CheckLinkLine checks a link line for a primary or a gazelle-pdump: the
// pcap PMD and pdump present, static PMDs inside --whole-archive, PMD
// shared objects not dropped by --as-needed, duplicates, and (when against
// is non-nil) the same librte set as that binary.
func CheckLinkLine(ll *LinkLine, against *Report) *LinkCheck {
	lc := &LinkCheck{Line: ll, Findings: []LinkFinding{}}
	add := func(sev, format string, args ...any) {
		lc.Findings = append(lc.Findings, LinkFinding{Severity: sev, Message: fmt.Sprintf(format, args...)})
	}
	comps := map[string][]LinkItem{}
	seen := map[string]int{}
	for _, it := range ll.Items {
		key := it.Name
		if it.Component != "" {
			key = "rte:" + it.Component
		}
		seen[key]++
		if it.Component != "" {
			comps[it.Component] = append(comps[it.Component], it)
		}
	}
	has := func(names ...string) (LinkItem, bool) {
		for _, n := range names {
			if its, ok := comps[n]; ok {
				return its[0], true
			}
		}
		return LinkItem{}, false
	}
	if it, ok := has("net_pcap", "pmd_pcap"); ok {
		add("ok", "pcap PMD on the link line (%s)", it.Arg)
	} else {
		add("fail", "no pcap PMD (librte_net_pcap / librte_pmd_pcap): pdump's vdev cannot be created in the primary")
	}
	if it, ok := has("pdump"); ok {
		add("ok", "librte_pdump on the link line (%s)", it.Arg)
	} else {
		add("fail", "no librte_pdump: rte_pdump_init cannot be linked")
	}
	for _, it := range ll.Items {
		d, isRte := parseLibrte("librte_" + it.Component + ".so")
		driver := isRte && it.Component != "" && d.Class != ""
		switch {
		case driver && it.Static && !it.WholeArchive:
			add("fail", "%s is a static driver outside --whole-archive: its constructor is not linked, the driver never registers", it.Arg)
		case driver && !it.Static && it.AsNeeded:
			add("warn", "%s is a driver linked under --as-needed: nothing references its symbols, so ld drops its DT_NEEDED; use -Wl,--no-as-needed around it", it.Arg)
		case !it.Static && it.WholeArchive && it.Kind != "object":
			add("info", "%s: --whole-archive has no effect on a shared library", it.Arg)
		}
	}
	var dups []string
	for k, n := range seen {
		if n > 1 {
			dups = append(dups, strings.TrimPrefix(k, "rte:"))
		}
	}
	sort.Strings(dups)
	if len(dups) > 0 {
		add("warn", "listed more than once: %s", strings.Join(dups, ", "))
	}
	if against != nil {
		lc.Against = against.Path
		mine := map[string]bool{}
		for c := range comps {
			mine[c] = true
		}
		theirs := componentSet(against.Needed) // a link line names direct dependencies
		for _, d := range against.DPDK.Drivers {
			if d.Via == DriverStatic {
				theirs[d.Name] = true
			}
		}
		onlyLine, onlyBin := diffSets(mine, theirs)
		if len(onlyLine)+len(onlyBin) == 0 {
			add("ok", "same librte set as %s", against.Path)
		} else {
			add("fail", "librte set differs from %s: only on the link line [%s], only in the binary [%s]", against.Path, strings.Join(onlyLine, " "), strings.Join(onlyBin, " "))
		}
	}
	lc.OK = true
	for _, f := range lc.Findings {
		if f.Severity == "fail" {
			lc.OK = false
		}
	}
	return lc
}

// RenderText prints one line per finding.
func (lc *LinkCheck) RenderText(w io.Writer, st ui.Style, verbose bool) error {
	fmt.Fprintf(w, "%s %d items", st.Bold("link line:"), len(lc.Line.Items))
	if lc.Line.Output != "" {
		fmt.Fprintf(w, " → %s", lc.Line.Output)
	}
	fmt.Fprintln(w)
	for _, f := range lc.Findings {
		if f.Severity == "info" && !verbose {
			continue
		}
		sym := st.Symbol(f.Severity)
		if f.Severity == "info" {
			sym = st.Dim("i")
		}
		fmt.Fprintf(w, "%s %s\n", sym, f.Message)
	}
	return nil
}
