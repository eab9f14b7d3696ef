package specpatch

import (
	"regexp"
	"strings"
	"sync"
)

// The two make-build options gzdoctor needs, with DPDK's defaults in
// config/common_base (v16.07 … v20.08): the pcap PMD off, pdump on.
var makeKeys = []struct {
	key, def, id, short string
}{
	{"CONFIG_RTE_LIBRTE_PMD_PCAP", "n", IDPcapPMDOff, "PMD_PCAP"},
	{"CONFIG_RTE_LIBRTE_PDUMP", "y", IDPdumpOff, "PDUMP"},
}

// configEdit is one command between `make config` and the compile that
// changes <dir>/.config.
type configEdit struct {
	ll     LogicalLine
	last   int // last physical line
	depth  int
	effect func(key, v string) string // "" = key absent, "?" = unknown
	kind   string                     // sed, setconf, echo, source
	toks   []Token                    // the command
}

var funcDef = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^\s*(function\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*\(\s*\)\s*\{?\s*$`)
})

// analyzeMake handles the make styles (DPDK ≤ 20.08). It returns false
// when %build has no `make … config` step.
func (p *plan) analyzeMake(build int) bool {
	lls := p.s.Logical(build)
	cfg, dir := p.makeConfigStep(lls)
	if cfg < 0 {
		return false
	}
	compile := p.makeCompileStep(lls, cfg, dir)
	cfgFile := dir + "/.config"
	funcs := p.configFuncs(lls, cfgFile)
	p.style = StyleMakeSed
	if len(funcs) > 0 {
		p.style = StyleMakeSetconf
	}
	if compile < 0 {
		p.find(IDPcapPMDOff, SevBlocked, lls[cfg].Lines[0], "found `make O=%s … config` but no compile step `make O=%s` after it", dir, dir)
		return true
	}
	compileLine := lls[compile].Lines[0]
	compileDepth := p.s.Depth(compileLine)

	edits, commented := p.configEdits(lls, cfg, compile, cfgFile, funcs)

	p.makePaths()

	for _, k := range makeKeys {
		vals := map[string]bool{k.def: true}
		for _, e := range edits {
			next := map[string]bool{}
			for v := range vals {
				next[e.effect(k.key, v)] = true
			}
			if e.depth > compileDepth {
				for v := range vals {
					next[v] = true
				}
			}
			vals = next
		}
		if len(vals) == 1 && vals["y"] {
			continue
		}
		what := "the pcap PMD (" + k.key + ")"
		if k.key == "CONFIG_RTE_LIBRTE_PDUMP" {
			what = "pdump (" + k.key + ")"
		}
		f := p.find(k.id, SevProblem, compileLine, "%s is not set to y on every path before the compile at line %d", what, compileLine+1)
		// 1. A commented-out line that would do it: uncomment it.
		fixed := false
		for _, ll := range commented {
			line := ll.Lines[0]
			if p.s.Depth(line) != compileDepth {
				continue
			}
			body := strings.TrimLeft(strings.TrimLeft(p.s.Lines[line].Text, " \t")[1:], " \t")
			indent := p.s.Lines[line].Text[:len(p.s.Lines[line].Text)-len(strings.TrimLeft(p.s.Lines[line].Text, " \t"))]
			cmds := commands(tokenize(body, line))
			if len(cmds) != 1 {
				continue
			}
			if e, ok := classifyConfigEdit(cmds[0], cfgFile, funcs); ok && e.kind != "source" && e.effect(k.key, k.def) == "y" {
				p.add(f, edit{line: line, op: opReplace, text: indent + body, why: "uncomment the line that sets " + k.key + "=y"})
				fixed = true
				break
			}
		}
		if fixed {
			continue
		}
		// 2. Insert a line after the last edit at the compile's level (and
		// after any config copied from a Source, which would overwrite it).
		anchor := lls[cfg].Lines[len(lls[cfg].Lines)-1]
		var anchorEdit *configEdit
		if p.s.Depth(anchor) != compileDepth {
			anchor = -1
		}
		for i := range edits {
			if edits[i].depth == compileDepth {
				anchor, anchorEdit = edits[i].last, &edits[i]
			}
		}
		if anchor < 0 {
			if k.id == IDPdumpOff {
				p.pdumpBuilt = false
			}
			f.Severity = SevBlocked
			f.Message += "; found no place at the compile's %if level to set it"
			continue
		}
		p.add(f, edit{line: anchor, op: opInsertAfter, text: p.makeSetLine(k.key, k.short, cfgFile, anchorEdit, funcs),
			why: "set " + k.key + "=y after the config step and before the compile"})
	}
	return true
}

// configFuncs finds shell functions in %build that edit the .config
// (Fedora's and SUSE's setconf).
func (p *plan) configFuncs(lls []LogicalLine, cfgFile string) map[string]bool {
	funcs := map[string]bool{}
	for i := 0; i < len(lls); i++ {
		mt := funcDef().FindStringSubmatch(lls[i].Text)
		if mt == nil {
			continue
		}
		for j := i + 1; j < len(lls) && j < i+64; j++ {
			t := strings.TrimSpace(lls[j].Text)
			if strings.Contains(t, ".config") {
				funcs[mt[2]] = true
			}
			if t == "}" {
				break
			}
		}
	}
	return funcs
}

// classifyConfigEdit recognises a command that changes cfgFile: sed on
// it, a setconf-like function, echo/printf >> it, or a config copied over
// it from a Source.
func classifyConfigEdit(cmd []Token, cfgFile string, funcs map[string]bool) (configEdit, bool) {
	w := commandWord(cmd)
	if w < 0 {
		return configEdit{}, false
	}
	name := cmd[w].Value
	args := cmd[w+1:]
	mentions := false
	for _, t := range args {
		if t.Value == cfgFile || strings.HasSuffix(t.Value, "/"+cfgFile) {
			mentions = true
		}
	}
	isSource := false
	for _, t := range cmd {
		if strings.Contains(t.Raw, "%{SOURCE") || strings.Contains(t.Raw, "%SOURCE") || strings.Contains(t.Raw, "%{S:") || strings.Contains(t.Raw, "RPM_SOURCE_DIR") {
			isSource = true
		}
	}
	switch {
	case isSource && mentions:
		return configEdit{kind: "source", toks: cmd, effect: func(key, v string) string { return "?" }}, true
	case name == "sed" && mentions:
		ere := false
		var scripts []string
		for i := 0; i < len(args); i++ {
			a := args[i]
			switch {
			case a.Value == "-e" && i+1 < len(args):
				scripts = append(scripts, args[i+1].Value)
				i++
			case strings.HasPrefix(a.Value, "--expression="):
				scripts = append(scripts, strings.TrimPrefix(a.Value, "--expression="))
			case a.Value == "--regexp-extended":
				ere = true
			case strings.HasPrefix(a.Value, "-") && !strings.HasPrefix(a.Value, "--") && len(a.Value) > 1:
				if strings.ContainsAny(a.Value, "rE") {
					ere = true
				}
				if strings.HasSuffix(a.Value, "e") && i+1 < len(args) {
					scripts = append(scripts, args[i+1].Value)
					i++
				}
			case a.Op:
			default:
				if len(scripts) == 0 && a.Value != cfgFile && !strings.HasSuffix(a.Value, "/"+cfgFile) {
					scripts = append(scripts, a.Value)
				}
			}
		}
		script := strings.Join(scripts, "\n")
		cmds, ok := parseSed(script, ere)
		return configEdit{kind: "sed", toks: cmd, effect: func(key, v string) string {
			if !ok {
				// Unknown commands: unknown effect, unless the script
				// cannot name the key at all.
				if !strings.Contains(script, strings.TrimPrefix(key, "CONFIG_RTE_")) && !strings.ContainsAny(script, "[*.\\") {
					return v
				}
				return "?"
			}
			if v == "?" {
				// Unknown before: known after only if the script sets the
				// key whatever it was (delete, then append).
				a, b, c := sedValue(cmds, key, "y"), sedValue(cmds, key, "n"), sedValue(cmds, key, "")
				if a == b && b == c {
					return a
				}
				return "?"
			}
			return sedValue(cmds, key, v)
		}}, true
	case funcs[name] && len(args) >= 2:
		k, val := args[0].Value, args[1].Value
		return configEdit{kind: "setconf", toks: cmd, effect: func(key, v string) string {
			if k == key {
				return val
			}
			return v
		}}, true
	case (name == "echo" || name == "printf") && mentions:
		var kv string
		for i, t := range args {
			if (t.Raw == ">>" || t.Raw == ">") && i > 0 {
				kv = args[i-1].Value
			}
		}
		k, val, _ := strings.Cut(kv, "=")
		return configEdit{kind: "echo", toks: cmd, effect: func(key, v string) string {
			if k == key {
				return val
			}
			return v
		}}, true
	}
	return configEdit{}, false
}

// makeSetLine writes the line that sets key=y, in the idiom of its
// neighbours.
func (p *plan) makeSetLine(key, short, cfgFile string, anchor *configEdit, funcs map[string]bool) string {
	indent := ""
	fileArg := cfgFile
	if anchor != nil {
		t := p.s.Lines[anchor.ll.Lines[0]].Text
		indent = t[:len(t)-len(strings.TrimLeft(t, " \t"))]
		for _, tok := range anchor.toks {
			if tok.Value == cfgFile || strings.HasSuffix(tok.Value, "/"+cfgFile) {
				fileArg = tok.Raw
			}
		}
	}
	switch {
	case p.style == StyleMakeSetconf:
		name, extra := "setconf", ""
		for f := range funcs {
			name = f
		}
		if anchor != nil && anchor.kind == "setconf" {
			w := commandWord(anchor.toks)
			name = anchor.toks[w].Raw
			if rest := anchor.toks[w+1:]; len(rest) > 2 {
				for _, r := range rest[2:] {
					extra += " " + r.Raw
				}
			}
		}
		return indent + name + " " + key + " y" + extra
	case p.style == StyleMakeSource:
		// The copied config may lack the key: delete it and append it, so
		// the result does not depend on the file's content.
		return indent + "sed -i -e '/^" + key + "=/d' -e '$a " + key + "=y' " + fileArg
	}
	script := "'s,(LIBRTE_" + short + "=).*,\\1y,'"
	gap := " "
	if anchor != nil && anchor.kind == "sed" {
		// Keep the 6WIND block's column alignment of the file argument.
		line := p.s.Lines[anchor.ll.Lines[0]].Text
		var scriptTok, fileTok *Token
		for i := range anchor.toks {
			tk := &anchor.toks[i]
			if tk.Line != anchor.ll.Lines[0] {
				continue
			}
			if tk.Value == cfgFile || strings.HasSuffix(tk.Value, "/"+cfgFile) {
				fileTok = tk
			} else if strings.HasPrefix(tk.Raw, "'s") || strings.HasPrefix(tk.Raw, "\"s") {
				scriptTok = tk
			}
		}
		if scriptTok != nil && fileTok != nil && fileTok.Start-scriptTok.End > 1 {
			col := fileTok.Start
			prefix := line[:scriptTok.Start]
			if n := col - len(prefix) - len(script); n > 1 {
				return prefix + script + strings.Repeat(" ", n) + fileArg
			}
		}
		if scriptTok != nil {
			return line[:scriptTok.Start] + script + gap + fileArg
		}
	}
	return indent + "sed -ri " + script + gap + fileArg
}

func expandOr(m Macros, s string) string {
	v, _ := m.Expand(s)
	return v
}

// makeConfigStep finds the `make O=DIR … config` step: its logical line and
// DIR; -1 when there is none.
func (p *plan) makeConfigStep(lls []LogicalLine) (int, string) {
	cfg, dir := -1, ""
	for i, ll := range lls {
		if ll.Comment {
			continue
		}
		for _, cmd := range commands(p.s.words(ll)) {
			w := commandWord(cmd)
			if w < 0 || cmd[w].Value != "make" {
				continue
			}
			hasConfig, o := false, ""
			for _, t := range cmd[w+1:] {
				if t.Value == "config" {
					hasConfig = true
				}
				if strings.HasPrefix(t.Value, "O=") {
					o = t.Value[2:]
				}
			}
			if hasConfig && o != "" && cfg < 0 {
				cfg, dir = i, o
			}
		}
	}
	return cfg, dir
}

// makeCompileStep finds the compile after the config step: the first
// `make O=DIR` that is not config, install or doc; -1 when there is none.
func (p *plan) makeCompileStep(lls []LogicalLine, cfg int, dir string) int {
	compile := -1
	for i := cfg + 1; i < len(lls) && compile < 0; i++ {
		if lls[i].Comment {
			continue
		}
		for _, cmd := range commands(p.s.words(lls[i])) {
			w := commandWord(cmd)
			if w < 0 || cmd[w].Value != "make" {
				continue
			}
			o, other := "", false
			for _, t := range cmd[w+1:] {
				switch {
				case strings.HasPrefix(t.Value, "O="):
					o = t.Value[2:]
				case t.Value == "config" || t.Value == "install" || strings.HasPrefix(t.Value, "doc"):
					other = true
				}
			}
			if o == dir && !other {
				compile = i
			}
		}
	}
	return compile
}

// configEdits lists the edits of DIR/.config between the config step and
// the compile, and the one-line commented-out commands there (a fix may
// uncomment one). A config copied from a Source makes the style make-source.
func (p *plan) configEdits(lls []LogicalLine, cfg, compile int, cfgFile string, funcs map[string]bool) ([]configEdit, []LogicalLine) {
	var edits []configEdit
	var commented []LogicalLine
	for i := cfg + 1; i < compile; i++ {
		ll := lls[i]
		if ll.Comment {
			if len(ll.Lines) == 1 {
				commented = append(commented, ll)
			}
			continue
		}
		for _, cmd := range commands(p.s.words(ll)) {
			if e, ok := classifyConfigEdit(cmd, cfgFile, funcs); ok {
				e.ll, e.last, e.depth = ll, ll.Lines[len(ll.Lines)-1], p.s.Depth(ll.Lines[0])
				edits = append(edits, e)
				if e.kind == "source" {
					p.style = StyleMakeSource
				}
			}
		}
	}
	return edits, commented
}

// makePaths are where a make build installs the pcap PMD and dpdk-pdump.
func (p *plan) makePaths() {
	m := p.s.MacrosOf()
	if strings.HasPrefix(p.dpdk, "18.") || strings.HasPrefix(p.dpdk, "17.") || strings.HasPrefix(p.dpdk, "16.") {
		p.pmdPaths = []string{expandOr(m, "%{_libdir}") + "/librte_pmd_pcap.so.1"}
	} else {
		p.pmdPaths = []string{expandOr(m, "%{_libdir}") + "/librte_pmd_pcap.so.20.0"}
	}
	p.pmdLine = "%{_libdir}/librte_pmd_pcap.so.*"
	p.pdumpPaths = []string{expandOr(m, "%{_bindir}") + "/dpdk-pdump"}
}
