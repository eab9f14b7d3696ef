package specpatch

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"
)

// Options tune Patch.
type Options struct {
	File     string    // name shown in the diff and the result
	Branch   string    // edit only conditional arms whose directive contains this text
	Bump     string    // when non-empty and something changes: bump Release, add this %changelog entry
	Packager string    // "Name <email>" for the %changelog entry
	Now      time.Time // date of the %changelog entry
}

// Build styles.
const (
	StyleMakeSed     = "make-sed"           // make config, then sed on <dir>/.config
	StyleMakeSetconf = "make-setconf"       // make config, then a setconf shell function
	StyleMakeSource  = "make-config-source" // make config, then a config file copied from a Source
	StyleMeson       = "meson"              // plain meson/ninja commands
	StyleMesonMacro  = "meson-macro"        // the %meson macro
	StyleMesonArrays = "meson-macro-arrays" // %meson fed by shell-array allowlists
)

// plan collects what an analysis found and the edits that fix it.
type plan struct {
	s        *Spec
	opts     Options
	style    string
	dpdk     string
	findings []Finding
	edits    []edit
	spans    map[int][]span
	// pdumpBuilt is false when something the spec cannot change keeps
	// pdump from being built (packaging checks are then moot).
	pdumpBuilt bool
	pmdPaths   []string // where the pcap PMD lands after install (candidates)
	pdumpPaths []string // where dpdk-pdump lands after install (candidates)
	pmdLine    string   // %files line to add for the PMD
}

func (p *plan) find(id, sev string, line int, format string, args ...any) *Finding {
	p.findings = append(p.findings, Finding{ID: id, Severity: sev, Line: line + 1, Message: fmt.Sprintf(format, args...)})
	return &p.findings[len(p.findings)-1]
}

// branchOf describes the innermost conditional arm of a line, or "".
func (p *plan) branchOf(line int) string {
	c := p.s.Cond(line)
	if len(c) == 0 {
		return ""
	}
	return c[len(c)-1].Describe()
}

// allowed applies --branch: edits outside any conditional always apply.
func (p *plan) allowed(line int) bool {
	if p.opts.Branch == "" {
		return true
	}
	c := p.s.Cond(line)
	if len(c) == 0 {
		return true
	}
	for _, b := range c {
		if strings.Contains(b.Directive, p.opts.Branch) {
			return true
		}
	}
	return false
}

const outsideBranch = " (in %s, outside --branch: not changed)"

func (p *plan) add(f *Finding, e edit) {
	if !p.allowed(e.line) {
		f.Message += fmt.Sprintf(outsideBranch, p.branchOf(e.line))
		return
	}
	e.id = f.ID
	e.branch = p.branchOf(e.line)
	p.edits = append(p.edits, e)
	f.Fixed = true
}

func (p *plan) addSpan(f *Finding, line int, sp span) {
	if !p.allowed(line) {
		f.Message += fmt.Sprintf(outsideBranch, p.branchOf(line))
		return
	}
	sp.id = f.ID
	if p.spans == nil {
		p.spans = map[int][]span{}
	}
	p.spans[line] = append(p.spans[line], sp)
	f.Fixed = true
}

// analyze finds the build style, what keeps the pcap PMD or pdump out, and
// plans the edits.
func analyze(s *Spec, opts Options) (*plan, error) {
	p := &plan{s: s, opts: opts, pdumpBuilt: true}
	build := s.Build()
	if build < 0 {
		return nil, &ParseError{Msg: "no %build section: specpatch edits the build commands in %build"}
	}
	m := s.MacrosOf()
	if v := s.Tag("version"); v != nil {
		if ver, ok := m.Expand(v.Value); ok {
			p.dpdk = ver
		}
	}
	switch {
	case p.analyzeMake(build):
	case p.analyzeMeson(build):
	default:
		return nil, &ParseError{Msg: "unknown build style: %build has no `make … config` step and no meson/%meson command (looked for make O=<dir> T=<template> config, meson <builddir>, meson setup, %meson)"}
	}
	p.checkPatches()
	p.checkLibpcap()
	if p.pdumpBuilt {
		p.checkInstallRm()
		p.checkFiles()
	}
	p.edits = append(p.edits, mergeSpans(s.Lines, p.spans, p.branchOf)...)
	p.spans = nil
	return p, nil
}

// Patch analyzes a spec and returns the result and the patched bytes (the
// input itself when nothing changes). The input is never modified.
func Patch(data []byte, opts Options) (*Result, []byte, error) {
	s, err := Parse(data)
	if err != nil {
		return nil, nil, err
	}
	p, err := analyze(s, opts)
	if err != nil {
		return nil, nil, err
	}
	res := &Result{File: opts.File, Style: p.style, DPDK: p.dpdk, Findings: p.findings, Changes: []Change{}}
	if res.Findings == nil {
		res.Findings = []Finding{}
	}
	sort.SliceStable(p.edits, func(i, j int) bool { return p.edits[i].line < p.edits[j].line })
	for _, e := range p.edits {
		c := Change{Line: e.line + 1, Why: e.why, Fixes: e.id, Branch: e.branch}
		switch e.op {
		case opReplace:
			c.Kind, c.Old, c.New = "replace", s.Lines[e.line].Text, e.text
		case opDelete:
			c.Kind, c.Old = "delete", s.Lines[e.line].Text
		case opInsertAfter:
			c.Kind, c.New = "insert", e.text
		}
		res.Changes = append(res.Changes, c)
	}
	edits := p.edits
	if opts.Bump != "" && len(edits) > 0 {
		be, bump, err := bumpEdits(s, opts)
		if err != nil {
			return nil, nil, err
		}
		edits = append(edits, be...)
		res.Bump = bump
	}
	newLines, ops := applyEdits(s.Lines, edits)
	out := JoinLines(newLines)
	res.Diff = unifiedDiff(opts.File, ops)

	res.Verdict = VerdictGood
	for _, f := range res.Findings {
		switch {
		case f.Severity == SevBlocked || (f.Severity == SevProblem && !f.Fixed):
			res.Verdict = VerdictBlocked
		case f.Severity == SevProblem && res.Verdict == VerdictGood:
			res.Verdict = VerdictPatch
		}
	}
	if len(p.edits) > 0 {
		// The patched spec must read as fixed: this is what keeps the
		// patch honest and a second run a no-op.
		s2, err := Parse(out)
		if err != nil {
			return nil, nil, fmt.Errorf("internal error: the patched spec does not parse: %w", err)
		}
		p2, err := analyze(s2, Options{Branch: opts.Branch})
		if err != nil {
			return nil, nil, fmt.Errorf("internal error: the patched spec does not analyze: %w", err)
		}
		for _, f := range p2.findings {
			if f.Severity == SevProblem && f.Fixed {
				return nil, nil, fmt.Errorf("internal error: after patching, line %d still needs a change: %s", f.Line, f.Message)
			}
		}
	}
	return res, out, nil
}

var disableAppsPatch = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?i)(disable|remove|drop|no|skip)[-_]?(the[-_])?apps?\b|apps?[-_](disabled|removed)`)
})

// checkPatches reports source patches whose names say they remove DPDK's
// applications: the spec cannot show that pdump is then never built.
func (p *plan) checkPatches() {
	for _, t := range p.s.Tags {
		if !strings.HasPrefix(t.Name, "patch") || !disableAppsPatch().MatchString(t.Value) {
			continue
		}
		p.find(IDPdumpDroppedByPatch, SevBlocked, t.Line,
			"%s applies %s, which by its name removes DPDK's app/ directory: dpdk-pdump is never built, and nothing in the spec shows it; drop the patch or keep app/pdump in it",
			strings.TrimSpace(p.s.Lines[t.Line].Text[:strings.IndexByte(p.s.Lines[t.Line].Text, ':')]), t.Value)
		p.pdumpBuilt = false
	}
}

var libpcapDep = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(^|[\s,])(libpcap-devel|libpcap-dev|pkgconfig\(libpcap\)|libpcap\.so|pcap-devel)([\s,]|$)`)
})

// checkLibpcap makes sure libpcap's headers are a build dependency. Make
// builds need it only for the pcap PMD; meson builds need it to build the
// PMD at all.
func (p *plan) checkLibpcap() {
	var last *Tag
	pkgconfig := false
	found, conditional := false, false
	for i := range p.s.Tags {
		t := &p.s.Tags[i]
		if t.Name != "buildrequires" {
			continue
		}
		if strings.Contains(t.Value, "pkgconfig(") {
			pkgconfig = true
		}
		if libpcapDep().MatchString(t.Value) {
			if p.s.Depth(t.Line) == 0 {
				found = true
			} else {
				conditional = true
			}
		}
		if t.Section == 0 && p.s.Depth(t.Line) == 0 {
			last = t
		}
	}
	if found {
		return
	}
	f := p.find(IDLibpcapMissing, SevProblem, -1, "no BuildRequires on libpcap's headers: DPDK skips the pcap PMD without them")
	if conditional {
		f.Message += " (the one there is inside an %if)"
	}
	if last == nil {
		f.Severity = SevBlocked
		f.Message += "; found no unconditional BuildRequires line in the preamble to add one after"
		return
	}
	dep := "libpcap-devel"
	if pkgconfig {
		dep = "pkgconfig(libpcap)"
	}
	f.Line = last.Line + 1
	text := p.s.Lines[last.Line].Text
	colon := strings.IndexByte(text, ':')
	pad := text[colon+1 : colon+1+len(text[colon+1:])-len(strings.TrimLeft(text[colon+1:], " \t"))]
	p.add(f, edit{line: last.Line, op: opInsertAfter, text: text[:colon+1] + pad + dep,
		why: "add BuildRequires " + dep + " so the pcap PMD can be built"})
}
