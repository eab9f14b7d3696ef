package specpatch

import (
	"path"
	"regexp"
	"sort"
	"strings"
	"sync"
)

// mesonOpt is one -Dname=value on a meson command line.
type mesonOpt struct {
	name  string
	tok   Token // the token that holds name=value
	value string
	depth int
}

// shellArray is a bash array built in %build (NAME=( … ) and NAME+=( … )).
type shellArray struct {
	name  string
	parts []arrayPart
}

type arrayPart struct {
	open   int // line of NAME=( or NAME+=(
	close  int // line of the closing )
	append bool
	depth  int
	elems  []Token
}

var mesonSubcommands = map[string]bool{"install": true, "compile": true, "test": true, "configure": true,
	"introspect": true, "dist": true, "subprojects": true, "wrap": true, "rewrite": true, "init": true,
	"devenv": true, "env2mfile": true}

// analyzeMeson handles meson builds (DPDK ≥ 20.11). It returns false when
// %build runs no meson setup.
func (p *plan) analyzeMeson(build int) bool {
	lls := p.s.Logical(build)
	found := false
	m := p.s.MacrosOf()
	for _, ll := range lls {
		if ll.Comment {
			continue
		}
		for _, cmd := range commands(p.s.words(ll)) {
			w := commandWord(cmd)
			if w < 0 {
				continue
			}
			name := cmd[w].Raw
			macro := name == "%meson" || name == "%{meson}"
			raw := cmd[w].Value == "meson" || strings.HasSuffix(cmd[w].Value, "/meson")
			if !macro && !raw {
				continue
			}
			if raw && w+1 < len(cmd) && mesonSubcommands[cmd[w+1].Value] {
				continue
			}
			found = true
			if p.style == "" || p.style == StyleMeson {
				p.style = StyleMeson
				if macro {
					p.style = StyleMesonMacro
				}
			}
			p.checkMesonInvocation(lls, ll, cmd[w+1:], macro, m)
		}
	}
	return found
}

func (p *plan) checkMesonInvocation(lls []LogicalLine, ll LogicalLine, args []Token, macro bool, m Macros) {
	invDepth := p.s.Depth(ll.Lines[0])
	var opts []mesonOpt
	prefix, libdir, subdir := "/usr/local", "lib64", ""
	if macro {
		prefix, libdir = expandOr(m, "%{_prefix}"), strings.TrimPrefix(expandOr(m, "%{_libdir}"), expandOr(m, "%{_prefix}")+"/")
	}
	for i := 0; i < len(args); i++ {
		t := args[i]
		v := t.Value
		if v == "-D" && i+1 < len(args) {
			i++
			t, v = args[i], args[i].Value
		} else if strings.HasPrefix(v, "-D") {
			v = v[2:]
		} else if strings.HasPrefix(v, "--") {
			v = v[2:]
		} else {
			continue
		}
		name, val, ok := strings.Cut(v, "=")
		if !ok {
			continue
		}
		switch name {
		case "prefix":
			prefix = val
		case "libdir":
			libdir = val
		case "drivers_install_subdir":
			subdir = val
		}
		opts = append(opts, mesonOpt{name: name, tok: t, value: val, depth: p.s.Depth(t.Line)})
	}
	// Expand before joining: --libdir=%{_libdir} is absolute only once
	// expanded, and joined unexpanded it gave /usr//usr/lib64.
	if ex, ok := m.Expand(prefix); ok {
		prefix = ex
	}
	if ex, ok := m.Expand(libdir); ok {
		libdir = ex
	}
	lib := libdir
	if !strings.HasPrefix(lib, "/") {
		lib = prefix + "/" + libdir
	}
	lib = path.Clean(lib)
	if subdir == "" {
		subdir = "dpdk/pmds-99.0"
	}
	if ex, ok := m.Expand(subdir); ok {
		subdir = ex
	}
	pmdDir := lib + "/" + subdir
	if strings.HasPrefix(subdir, "/") {
		pmdDir = subdir
	}
	p.pmdPaths = appendUniq(p.pmdPaths, lib+"/librte_net_pcap.so.99", pmdDir+"/librte_net_pcap.so.99")
	if !macro {
		p.pmdPaths = appendUniq(p.pmdPaths, prefix+"/lib/librte_net_pcap.so.99")
	}
	p.pdumpPaths = appendUniq(p.pdumpPaths, prefix+"/bin/dpdk-pdump")
	if macro {
		p.pdumpPaths = appendUniq(p.pdumpPaths, expandOr(m, "%{_bindir}")+"/dpdk-pdump")
	}
	p.pmdLine = "%{_libdir}/librte_net_pcap.so.*"

	// effective returns the occurrences of an option that can be the one
	// meson uses: the last wins, but an occurrence inside an %if arm may
	// be absent, so earlier ones count until an unconditional one.
	effective := func(name string) []mesonOpt {
		var out []mesonOpt
		for i := len(opts) - 1; i >= 0; i-- {
			if opts[i].name != name {
				continue
			}
			out = append(out, opts[i])
			if opts[i].depth <= invDepth {
				break
			}
		}
		return out
	}
	pcapOK := func(item string) bool { ok, _ := path.Match(item, "net/pcap"); return ok }
	pdumpOK := func(item string) bool { ok, _ := path.Match(item, "pdump"); return ok }
	libsNeeded := []string{"pdump"}
	if versionAtLeast(p.dpdk, 23, 11) {
		libsNeeded = append(libsNeeded, "bpf", "pcapng")
	}
	libOK := func(item string) bool {
		for _, l := range libsNeeded {
			if ok, _ := path.Match(item, l); ok {
				return true
			}
		}
		return false
	}

	for _, o := range effective("disable_drivers") {
		p.denyList(lls, o, invDepth, IDPcapDriverExcluded, "net/pcap", pcapOK, true)
	}
	for _, o := range effective("enable_drivers") {
		p.allowList(lls, o, invDepth, IDPcapDriverExcluded, "net/pcap", pcapOK)
	}
	for _, o := range effective("disable_libs") {
		p.denyList(lls, o, invDepth, IDPdumpLibDisabled, "pdump", libOK, false)
	}
	for _, o := range effective("enable_libs") {
		for _, l := range libsNeeded {
			l := l
			p.allowList(lls, o, invDepth, IDPdumpLibDisabled, l, func(item string) bool { ok, _ := path.Match(item, l); return ok })
		}
	}
	for _, o := range effective("disable_apps") {
		p.denyList(lls, o, invDepth, IDPdumpAppExcluded, "pdump", pdumpOK, false)
	}
	for _, o := range effective("enable_apps") {
		p.allowList(lls, o, invDepth, IDPdumpAppExcluded, "pdump", pdumpOK)
	}
}

func appendUniq(list []string, items ...string) []string {
	for _, it := range items {
		dup := false
		for _, l := range list {
			if l == it {
				dup = true
			}
		}
		if !dup {
			list = append(list, it)
		}
	}
	return list
}

var verRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(\d+)\.(\d+)`) })

func versionAtLeast(v string, major, minor int) bool {
	mt := verRE().FindStringSubmatch(v)
	if mt == nil {
		return false
	}
	a, b := atoi(mt[1]), atoi(mt[2])
	return a > major || a == major && b >= minor
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' || n > 1<<24 {
			return n
		}
		n = n*10 + int(c-'0')
	}
	return n
}

var varRef = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?$`) })

// listItems returns an option's items: a literal comma list, or the
// elements of the shell array joined into the variable it names.
func (p *plan) listItems(lls []LogicalLine, o mesonOpt) (items []string, arr *shellArray, ok bool) {
	if mt := varRef().FindStringSubmatch(o.value); mt != nil {
		arr = p.arrayFor(lls, mt[1])
		if arr == nil {
			return nil, nil, false
		}
		p.style = StyleMesonArrays
		return nil, arr, true
	}
	if strings.ContainsAny(o.value, "$%`") {
		return nil, nil, false
	}
	for _, it := range strings.Split(o.value, ",") {
		if it = strings.TrimSpace(it); it != "" {
			items = append(items, it)
		}
	}
	return items, nil, true
}

// denyList takes the target out of a disable_* option.
func (p *plan) denyList(lls []LogicalLine, o mesonOpt, invDepth int, id, target string, match func(string) bool, globsOK bool) {
	items, arr, ok := p.listItems(lls, o)
	if !ok {
		p.find(IDUnknownValue, SevInfo, o.tok.Line, "cannot resolve -D%s=%s; not checked for %s", o.name, o.value, target)
		return
	}
	if arr != nil {
		for _, part := range arr.parts {
			for _, e := range part.elems {
				if !match(e.Value) {
					continue
				}
				f := p.find(id, SevProblem, e.Line, "%s is in %s, which feeds -D%s", e.Value, arr.name, o.name)
				p.removeArrayElem(f, part, e, "take "+e.Value+" out of "+arr.name+" (-D"+o.name+")")
			}
		}
		return
	}
	var keep, removed []string
	for _, it := range items {
		if !match(it) {
			keep = append(keep, it)
			continue
		}
		removed = append(removed, it)
	}
	if len(removed) == 0 {
		return
	}
	f := p.find(id, SevProblem, o.tok.Line, "-D%s=%s excludes %s", o.name, o.value, target)
	for _, it := range removed {
		if strings.ContainsAny(path.Base(it), "*?[") || (globsOK && strings.ContainsAny(path.Dir(it), "*?[") && path.Base(it) != "pcap") {
			f.Severity = SevBlocked
			f.Message += "; the glob " + it + " matches other drivers too — replace it by the list of what it should exclude"
			return
		}
	}
	p.rewriteOpt(f, o, strings.Join(keep, ","), "take "+strings.Join(removed, ",")+" out of -D"+o.name)
}

// allowList adds the target to an enable_* option that lacks it.
func (p *plan) allowList(lls []LogicalLine, o mesonOpt, invDepth int, id, target string, match func(string) bool) {
	if strings.TrimSpace(o.value) == "" {
		return // empty allowlist: everything is enabled
	}
	items, arr, ok := p.listItems(lls, o)
	if !ok {
		p.find(IDUnknownValue, SevInfo, o.tok.Line, "cannot resolve -D%s=%s; not checked for %s", o.name, o.value, target)
		return
	}
	if arr != nil {
		var base *arrayPart
		for i := range arr.parts {
			part := &arr.parts[i]
			if part.depth > invDepth {
				continue // an %if arm: not there on every path
			}
			if !part.append && base == nil {
				base = part
			}
			for _, e := range part.elems {
				if match(e.Value) {
					return
				}
			}
		}
		f := p.find(id, SevProblem, o.tok.Line, "%s is not in %s (-D%s) on every path", target, arr.name, o.name)
		if base == nil {
			f.Severity = SevBlocked
			f.Message += "; found no unconditional " + arr.name + "=( … ) to add it to"
			return
		}
		p.addArrayElem(f, *base, target, "add "+target+" to "+arr.name+" (-D"+o.name+")")
		return
	}
	for _, it := range items {
		if match(it) {
			return
		}
	}
	f := p.find(id, SevProblem, o.tok.Line, "-D%s=%s does not include %s", o.name, o.value, target)
	p.rewriteOpt(f, o, strings.Join(append(items, target), ","), "add "+target+" to -D"+o.name)
}

// rewriteOpt replaces an option's value in place, keeping its quoting.
func (p *plan) rewriteOpt(f *Finding, o mesonOpt, value, why string) {
	raw := o.tok.Raw
	eq := strings.IndexByte(raw, '=')
	if eq < 0 {
		return
	}
	rest := raw[eq+1:]
	q := ""
	if len(rest) > 0 && (rest[0] == '"' || rest[0] == '\'') {
		q = rest[:1]
	}
	if value == "" && q == "" {
		// Nothing left to exclude: drop the option (and its line, when it
		// held nothing else).
		line := p.s.Lines[o.tok.Line].Text
		before := strings.TrimRight(line[:o.tok.Start], " \t")
		after := line[o.tok.End:]
		if strings.TrimSpace(before) == "" && (strings.TrimSpace(after) == "\\" || strings.TrimSpace(after) == "") {
			p.add(f, edit{line: o.tok.Line, op: opDelete, why: why})
			return
		}
		p.addSpan(f, o.tok.Line, span{start: len(before), end: o.tok.End, text: "", why: why})
		return
	}
	p.addSpan(f, o.tok.Line, span{start: o.tok.Start, end: o.tok.End, text: raw[:eq+1] + q + value + q, why: why})
}

// arrayFor finds the bash array whose elements a for loop joins into the
// variable name: for d in "${ARR[@]}"; do name="${name:+$name,}"$d; done.
func (p *plan) arrayFor(lls []LogicalLine, name string) *shellArray {
	loopRE := regexp.MustCompile(`^\s*for\s+\w+\s+in\s+"?\$\{([A-Za-z_][A-Za-z0-9_]*)\[@\]\}"?\s*;?\s*(do)?`)
	for i, ll := range lls {
		mt := loopRE.FindStringSubmatch(ll.Text)
		if mt == nil {
			continue
		}
		for j := i; j < len(lls) && j < i+16; j++ {
			t := strings.TrimSpace(lls[j].Text)
			if j > i && strings.HasPrefix(t, name+"=") || strings.Contains(t, "; "+name+"=") || strings.Contains(t, "do "+name+"=") {
				return p.array(mt[1])
			}
			if t == "done" || strings.HasSuffix(t, "; done") {
				break
			}
		}
	}
	return nil
}

// array collects NAME=( … ) and NAME+=( … ) in %build.
func (p *plan) array(name string) *shellArray {
	build := p.s.Sections[p.s.Build()]
	arr := &shellArray{name: name}
	for i := build.Start; i < build.End; i++ {
		t := strings.TrimLeft(p.s.Lines[i].Text, " \t")
		app := strings.HasPrefix(t, name+"+=(")
		if !app && !strings.HasPrefix(t, name+"=(") {
			continue
		}
		part := arrayPart{open: i, append: app, depth: p.s.Depth(i)}
		for j := i; j < build.End; j++ {
			if p.s.IsDirective(j) {
				continue
			}
			text, off := p.s.Lines[j].Text, 0
			if j == i {
				off = strings.IndexByte(text, '(') + 1
			}
			for _, tk := range tokenize(text[off:], j) {
				tk.Start, tk.End = tk.Start+off, tk.End+off
				switch {
				case tk.Raw == ")":
					part.close = j
				case tk.Op:
				default:
					if part.close == 0 {
						part.elems = append(part.elems, tk)
					}
				}
				if part.close != 0 {
					break
				}
			}
			if part.close != 0 {
				i = j
				break
			}
		}
		if part.close == 0 {
			return nil
		}
		arr.parts = append(arr.parts, part)
	}
	if len(arr.parts) == 0 {
		return nil
	}
	return arr
}

func (p *plan) addArrayElem(f *Finding, part arrayPart, value, why string) {
	if part.open == part.close {
		line := p.s.Lines[part.open].Text
		k := strings.LastIndexByte(line, ')')
		sep := " "
		if k > 0 && line[k-1] == '(' {
			sep = ""
		}
		p.addSpan(f, part.open, span{start: k, end: k, text: sep + value, why: why})
		return
	}
	// One element per line: keep the order if it is sorted, else append.
	var vals []string
	for _, e := range part.elems {
		vals = append(vals, e.Value)
	}
	after := part.open
	indent := "    "
	if len(part.elems) > 0 {
		t := p.s.Lines[part.elems[0].Line].Text
		indent = t[:len(t)-len(strings.TrimLeft(t, " \t"))]
		after = part.elems[len(part.elems)-1].Line
		if sort.StringsAreSorted(vals) {
			for k, v := range vals {
				if v > value {
					after = part.open
					if k > 0 {
						after = part.elems[k-1].Line
					}
					break
				}
			}
		}
	}
	p.add(f, edit{line: after, op: opInsertAfter, text: indent + value, why: why})
}

func (p *plan) removeArrayElem(f *Finding, part arrayPart, e Token, why string) {
	line := p.s.Lines[e.Line].Text
	if strings.TrimSpace(line) == e.Raw {
		p.add(f, edit{line: e.Line, op: opDelete, why: why})
		return
	}
	start := e.Start
	for start > 0 && (line[start-1] == ' ' || line[start-1] == '\t') {
		start--
	}
	p.addSpan(f, e.Line, span{start: start, end: e.End, text: "", why: why})
}
