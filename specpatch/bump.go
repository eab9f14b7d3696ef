package specpatch

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
)

var (
	leadingPre = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^0\.(\d+)`) })        // 0.N pre-release
	leadingInt = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(\d+)`) })           // N…
	lastInt    = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(\d+)(\D*)$`) })      // rightmost integer
	relMacro   = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^%\{?\??(\w+)\}?`) }) // Release: %{rel}…
)

// bumpRelease increases a Release value as rpmdev-bumpspec does: 0.N → 0.N+1,
// a leading integer +1, else the rightmost integer +1, else append ".1".
// Macros such as %{?dist} after the number are kept.
func bumpRelease(v string) string {
	if m := leadingPre().FindStringSubmatchIndex(v); m != nil {
		return v[:m[2]] + fmt.Sprint(atoi(v[m[2]:m[3]])+1) + v[m[3]:]
	}
	if m := leadingInt().FindStringSubmatchIndex(v); m != nil {
		return fmt.Sprint(atoi(v[m[2]:m[3]])+1) + v[m[3]:]
	}
	head, tail := v, ""
	if i := strings.IndexByte(v, '%'); i >= 0 {
		head, tail = v[:i], v[i:]
	}
	if m := lastInt().FindStringSubmatchIndex(head); m != nil {
		return head[:m[2]] + fmt.Sprint(atoi(head[m[2]:m[3]])+1) + head[m[3]:] + tail
	}
	return head + ".1" + tail
}

// bumpEdits returns the edits of --bump: a new Release (or the macro it is
// built from) and a %changelog entry. %autorelease and %autochangelog are
// left to rpmautospec.
func bumpEdits(s *Spec, opts Options) ([]edit, *Bump, error) {
	rel := s.Tag("release")
	if rel == nil {
		return nil, nil, &ParseError{Msg: "--bump: the spec has no Release: tag"}
	}
	bump := &Bump{OldRelease: rel.Value}
	var edits []edit
	line, newVal := rel.Line, ""
	switch {
	case strings.Contains(rel.Value, "autorelease"):
		bump.NewRelease = rel.Value // computed from git history at build time
	case strings.HasPrefix(rel.Value, "%"):
		// Release: %{rel}%{?dist}: bump the macro's definition.
		mt := relMacro().FindStringSubmatch(rel.Value)
		var def *MacroDef
		for i := range s.Macros {
			if mt != nil && s.Macros[i].Name == mt[1] {
				def = &s.Macros[i]
				break
			}
		}
		if def == nil {
			return nil, nil, &ParseError{Line: rel.Line + 1, Msg: "--bump: cannot find the definition of the macro in Release: " + rel.Value}
		}
		text := s.Lines[def.Line].Text
		i := strings.LastIndex(text, def.Body)
		if i < 0 {
			return nil, nil, &ParseError{Line: def.Line + 1, Msg: "--bump: cannot bump " + text}
		}
		nb := bumpRelease(def.Body)
		line, newVal = def.Line, text[:i]+nb+text[i+len(def.Body):]
		bump.NewRelease = strings.Replace(rel.Value, mt[0], nb, 1)
	default:
		text := s.Lines[rel.Line].Text
		i := strings.LastIndex(text, rel.Value)
		nb := bumpRelease(rel.Value)
		newVal = text[:i] + nb + text[i+len(rel.Value):]
		bump.NewRelease = nb
	}
	if newVal != "" {
		edits = append(edits, edit{line: line, op: opReplace, text: newVal, why: "bump Release", id: "bump"})
	}
	cl := s.SectionsNamed("changelog")
	if len(cl) == 0 {
		return nil, nil, &ParseError{Msg: "--bump: the spec has no %changelog section"}
	}
	sec := s.Sections[cl[0]]
	for i := sec.Start; i < sec.End; i++ {
		if strings.Contains(s.Lines[i].Text, "%autochangelog") {
			return edits, bump, nil
		}
	}
	if opts.Packager == "" {
		return nil, nil, &ParseError{Msg: "--bump: no packager: give --packager \"Name <email>\", set RPM_PACKAGER, or set git's user.name and user.email"}
	}
	m := s.MacrosOf()
	evr := ""
	if v := s.Tag("version"); v != nil {
		ver, _ := m.Expand(v.Value)
		r := bump.NewRelease
		m2 := Macros{}
		for k, val := range m {
			m2[k] = val
		}
		delete(m2, "dist")
		delete(m2, "autorelease")
		if strings.HasPrefix(rel.Value, "%") && newVal != "" {
			r = strings.Replace(rel.Value, relMacro().FindString(rel.Value), bumpRelease(findBody(s, relMacro().FindStringSubmatch(rel.Value)[1])), 1)
		}
		r, _ = m2.Expand(r)
		evr = ver + "-" + r
		if e := s.Tag("epoch"); e != nil {
			evr = e.Value + ":" + evr
		}
		if strings.Contains(evr, "%") {
			evr = "" // something we cannot expand without rpm: leave it out
		}
	}
	head := "* " + opts.Now.Format("Mon Jan 02 2006") + " " + opts.Packager
	if evr != "" {
		head += " - " + evr
	}
	entry := []string{head}
	entry = append(entry, wrapEntry(opts.Bump)...)
	entry = append(entry, "")
	bump.Changelog = strings.Join(entry, "\n")
	// Newest first: right after the %changelog line.
	for _, l := range entry {
		edits = append(edits, edit{line: sec.Header, op: opInsertAfter, text: l, why: "add a %changelog entry", id: "bump"})
	}
	return edits, bump, nil
}

func findBody(s *Spec, name string) string {
	for _, d := range s.Macros {
		if d.Name == name {
			return d.Body
		}
	}
	return ""
}

// wrapEntry formats a changelog message as "- text" wrapped at 80 columns
// with continuation lines indented by two spaces, as rpmdev-bumpspec does.
// A literal % is escaped as %% so RPM does not expand it.
func wrapEntry(msg string) []string {
	msg = strings.ReplaceAll(strings.Join(strings.Fields(msg), " "), "%", "%%")
	var out []string
	line := "-"
	for _, w := range strings.Fields(msg) {
		if len(line)+1+len(w) > 80 && line != "-" && line != " " {
			out = append(out, line)
			line = " "
		}
		line += " " + w
	}
	return append(out, line)
}
