package specpatch

import (
	"path"
	"strings"
)

// buildrootPrefixes are the spellings of the build root in %install.
var buildrootPrefixes = []string{"%{buildroot}", "$RPM_BUILD_ROOT", "${RPM_BUILD_ROOT}", "%buildroot", "%{?buildroot}"}

func stripBuildroot(s string) (string, bool) {
	for _, p := range buildrootPrefixes {
		if strings.HasPrefix(s, p) {
			r := strings.TrimPrefix(s, p)
			if !strings.HasPrefix(r, "/") {
				r = "/" + r
			}
			return path.Clean(r), true
		}
	}
	return s, false
}

// braceExpand expands one level of shell braces: a{,b,c} → a ab ac.
func braceExpand(s string) []string {
	i := strings.IndexByte(s, '{')
	if i < 0 || (i > 0 && (s[i-1] == '%' || s[i-1] == '$')) {
		return []string{s}
	}
	j := strings.IndexByte(s[i:], '}')
	if j < 0 {
		return []string{s}
	}
	var out []string
	for _, alt := range strings.Split(s[i+1:i+j], ",") {
		out = append(out, braceExpand(s[:i]+alt+s[i+j+1:])...)
	}
	return out
}

// checkInstallRm finds rm commands in %install that delete dpdk-pdump.
func (p *plan) checkInstallRm() {
	m := p.s.MacrosOf()
	for _, sec := range p.s.SectionsNamed("install") {
		for _, ll := range p.s.Logical(sec) {
			if ll.Comment {
				continue
			}
			for _, cmd := range commands(p.s.words(ll)) {
				w := commandWord(cmd)
				if w < 0 || cmd[w].Value != "rm" {
					continue
				}
				var paths []Token
				for _, t := range cmd[w+1:] {
					if !strings.HasPrefix(t.Value, "-") {
						paths = append(paths, t)
					}
				}
				for _, t := range paths {
					lit, glob := false, false
					for _, alt := range braceExpand(t.Value) {
						alt, _ = m.Expand(alt)
						if !p.inBinDir(alt) {
							continue
						}
						base := path.Base(alt)
						if base == "dpdk-pdump" {
							lit = true
						} else if ok, _ := path.Match(base, "dpdk-pdump"); ok {
							glob = true
						}
					}
					if !lit && !glob {
						continue
					}
					f := p.find(IDPdumpRemoved, SevProblem, t.Line, "%%install deletes dpdk-pdump: %s", strings.TrimSpace(ll.Text))
					switch {
					case glob || len(braceExpand(t.Value)) > 1:
						f.Severity = SevBlocked
						f.Message += " (through a pattern that removes other files too; narrow it by hand)"
					case len(paths) == 1 && len(ll.Lines) == 1 && len(commands(p.s.words(ll))) == 1:
						p.add(f, edit{line: t.Line, op: opDelete, why: "stop deleting dpdk-pdump in %install"})
					default:
						line := p.s.Lines[t.Line].Text
						start := t.Start
						for start > 0 && (line[start-1] == ' ' || line[start-1] == '\t') {
							start--
						}
						p.addSpan(f, t.Line, span{start: start, end: t.End, text: "", why: "stop deleting dpdk-pdump in %install"})
					}
				}
			}
		}
	}
}

// inBinDir reports whether an %install path (under the build root) is in a
// directory where dpdk-pdump is installed.
func (p *plan) inBinDir(pth string) bool {
	r, ok := stripBuildroot(pth)
	if !ok {
		return false
	}
	for _, c := range append([]string{"/usr/bin/dpdk-pdump", "/usr/local/bin/dpdk-pdump"}, p.pdumpPaths...) {
		if ok, _ := path.Match(path.Dir(r), path.Dir(c)); ok {
			return true
		}
	}
	return false
}

// filesEntry is one path of a %files section.
type filesEntry struct {
	pattern string
	exclude bool
	dirOnly bool
	line    int
	state   tri // whether the entry is in the package with the spec's defaults
}

type filesSection struct {
	sec     int
	pkg     string
	entries []filesEntry
	fileArg bool // %files -f list: contents unknown
}

func (p *plan) filesSections() []filesSection {
	m := p.s.MacrosOf()
	var out []filesSection
	for _, si := range p.s.SectionsNamed("files") {
		sec := p.s.Sections[si]
		fs := filesSection{sec: si, pkg: sec.Package, fileArg: strings.Contains(" "+sec.Args, " -f")}
		for i := sec.Start; i < sec.End; i++ {
			if p.s.IsDirective(i) || p.s.IsMacroBody(i) {
				continue
			}
			t := strings.TrimSpace(p.s.Lines[i].Text)
			if t == "" || strings.HasPrefix(t, "#") {
				continue
			}
			e := filesEntry{line: i, state: p.s.lineState(m, i)}
			for {
				switch {
				case strings.HasPrefix(t, "%exclude"):
					e.exclude, t = true, t[len("%exclude"):]
				case strings.HasPrefix(t, "%dir"):
					e.dirOnly, t = true, t[len("%dir"):]
				case strings.HasPrefix(t, "%attr(") || strings.HasPrefix(t, "%config(") || strings.HasPrefix(t, "%verify(") || strings.HasPrefix(t, "%caps("):
					t = t[matchClose(t, strings.IndexByte(t, '(')):]
				case strings.HasPrefix(t, "%config") || strings.HasPrefix(t, "%ghost") || strings.HasPrefix(t, "%doc") || strings.HasPrefix(t, "%license") || strings.HasPrefix(t, "%artifact") || strings.HasPrefix(t, "%missingok"):
					t = t[strings.IndexAny(t+" ", " \t"):]
				case strings.HasPrefix(t, "%defattr"):
					t = ""
				default:
					goto done
				}
				t = strings.TrimSpace(t)
			}
		done:
			for _, f := range strings.Fields(t) {
				if x, ok := m.Expand(f); ok && strings.HasPrefix(x, "/") {
					e.pattern = path.Clean(x)
					fs.entries = append(fs.entries, e)
				}
			}
		}
		out = append(out, fs)
	}
	return out
}

// covers reports whether a %files pattern packages path p: an exact or
// glob match, or a directory above it (directories include their
// contents unless %dir).
func covers(pattern, p string, dirOnly bool) bool {
	if ok, _ := path.Match(pattern, p); ok {
		return true
	}
	if dirOnly {
		return false
	}
	for d := path.Dir(p); d != "/" && d != "."; d = path.Dir(d) {
		if ok, _ := path.Match(pattern, d); ok {
			return true
		}
	}
	return false
}

// packagesOf returns the packages whose %files list cand; unknown is true
// when a %files -f list might.
func packagesOf(secs []filesSection, cand []string) (pkgs []string, unknown bool) {
	for _, fs := range secs {
		if fs.fileArg {
			unknown = true
		}
		for _, c := range cand {
			in, out := false, false
			for _, e := range fs.entries {
				if !covers(e.pattern, c, e.dirOnly) {
					continue
				}
				// An entry counts when it is there with the spec's
				// defaults; an %exclude counts when it might be.
				if e.exclude && e.state != triFalse {
					out = true
				} else if !e.exclude && e.state == triTrue {
					in = true
				}
			}
			if in && !out {
				pkgs = appendUniq(pkgs, fs.pkg)
			}
		}
	}
	return pkgs, unknown
}

// installMoves follows cp/mv/install lines in %install that move the
// files: a candidate path under a moved source also lands at the target.
func (p *plan) installMoves(cands []string, base string) []string {
	out := append([]string(nil), cands...)
	for _, sec := range p.s.SectionsNamed("install") {
		for _, ll := range p.s.Logical(sec) {
			for _, cmd := range commands(p.s.words(ll)) {
				w := commandWord(cmd)
				if w < 0 || (cmd[w].Value != "mv" && cmd[w].Value != "cp" && cmd[w].Value != "install") {
					continue
				}
				var args []string
				for _, t := range cmd[w+1:] {
					if !strings.HasPrefix(t.Value, "-") && !t.Op {
						args = append(args, t.Value)
					}
				}
				if len(args) < 2 {
					continue
				}
				dst, ok := stripBuildroot(args[len(args)-1])
				if !ok {
					continue
				}
				dst = expandOr(p.s.MacrosOf(), dst)
				for _, src := range args[:len(args)-1] {
					if path.Base(src) == base {
						out = appendUniq(out, dst+"/"+base, dst)
						continue
					}
					s, ok := stripBuildroot(src)
					if !ok || !strings.HasSuffix(s, "/*") {
						continue
					}
					s = expandOr(p.s.MacrosOf(), strings.TrimSuffix(s, "/*"))
					for _, c := range out {
						if strings.HasPrefix(c, s+"/") {
							out = appendUniq(out, dst+"/"+strings.TrimPrefix(c, s+"/"))
						}
					}
				}
			}
		}
	}
	return out
}

// checkFiles makes sure some %files section packages the pcap PMD and
// dpdk-pdump.
func (p *plan) checkFiles() {
	secs := p.filesSections()
	if len(secs) == 0 {
		return
	}
	pdump := p.installMoves(p.pdumpPaths, "dpdk-pdump")
	pmd := p.installMoves(p.pmdPaths, "librte_net_pcap.so.99")
	pmd = p.installMoves(pmd, "librte_pmd_pcap.so.20.0")

	pkgs, unknown := packagesOf(secs, pmd)
	switch {
	case len(pmd) == 0:
		// The build shows no install path for the PMD: nothing to look
		// for, so nothing can be said to be missing.
	case len(pkgs) == 0 && !unknown:
		f := p.find(IDPcapPMDNotPackaged, SevProblem, -1, "no %%files line packages the pcap PMD library (looked for %s)", strings.Join(pmd, ", "))
		p.addFilesLine(f, secs, "", p.pmdLine, "package the pcap PMD library")
	case len(pkgs) == 1 && pkgs[0] == "devel":
		p.find(IDPcapPMDInDevel, SevInfo, -1, "the pcap PMD library is packaged only in the -devel package (by a glob), so machines without it have no pcap PMD")
	}
	pkgs, unknown = packagesOf(secs, pdump)
	if len(pdump) > 0 && len(pkgs) == 0 && !unknown {
		f := p.find(IDPdumpNotPackaged, SevProblem, -1, "no %%files line packages dpdk-pdump (looked for %s)", strings.Join(pdump, ", "))
		line := "%{_bindir}/dpdk-pdump"
		if !strings.HasPrefix(pdump[0], expandOr(p.s.MacrosOf(), "%{_bindir}")+"/") {
			line = pdump[0]
		}
		p.addFilesLine(f, secs, "tools", line, "package dpdk-pdump")
	}
	for _, sec := range p.s.SectionsNamed("build") {
		for _, ll := range p.s.Logical(sec) {
			if strings.Contains(ll.Text, "gazelle-pdump") && strings.Contains(ll.Text, "-o") {
				p.find(IDGazellePdump, SevInfo, ll.Lines[0], "the spec relinks gazelle-pdump by hand; it links the pcap PMD only if its library list names it")
				return
			}
		}
	}
}

// addFilesLine adds a path to the %files section of pkg (the main package
// when there is no such section), after its last entry at the section's
// own %if level.
func (p *plan) addFilesLine(f *Finding, secs []filesSection, pkg, line, why string) {
	target := -1
	for _, fs := range secs {
		if fs.pkg == pkg && target < 0 {
			target = fs.sec
		}
	}
	if target < 0 {
		for _, fs := range secs {
			if fs.pkg == "" && target < 0 {
				target = fs.sec
			}
		}
	}
	if target < 0 {
		f.Severity = SevBlocked
		f.Message += "; found no %files section to add it to"
		return
	}
	sec := p.s.Sections[target]
	depth := p.s.Depth(sec.Header)
	anchor := sec.Header
	for i := sec.Start; i < sec.End; i++ {
		if p.s.IsDirective(i) || strings.TrimSpace(p.s.Lines[i].Text) == "" || p.s.Depth(i) != depth {
			continue
		}
		anchor = i
	}
	f.Line = anchor + 1
	p.add(f, edit{line: anchor, op: opInsertAfter, text: line, why: why + " in %files " + sec.Args})
}
