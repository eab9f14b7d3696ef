package specpatch

import (
	"fmt"
	"sort"
	"strings"
)

type editOp int

const (
	opReplace editOp = iota
	opInsertAfter
	opDelete
)

// edit is one planned change to a physical line of the original spec.
type edit struct {
	line   int
	op     editOp
	text   string // new text (replace, insert)
	why    string
	id     string // finding it fixes
	branch string // conditional arm it lands in, if any
}

// span replaces bytes [start,end) of a line; several spans on one line are
// merged into one replace edit.
type span struct {
	start, end int
	text       string
	why, id    string
}

// applyEdits returns the new lines and a line-level script of the change
// (for the diff). Inserted lines take the line ending of their anchor.
func applyEdits(lines []Line, edits []edit) ([]Line, []diffOp) {
	byLine := map[int][]edit{}
	for _, e := range edits {
		byLine[e.line] = append(byLine[e.line], e)
	}
	var out []Line
	var ops []diffOp
	for i, l := range lines {
		es := byLine[i]
		cur, deleted := l, false
		var inserts []Line
		for _, e := range es {
			switch e.op {
			case opReplace:
				cur.Text = e.text
			case opDelete:
				deleted = true
			case opInsertAfter:
				inserts = append(inserts, Line{Text: e.text, EOL: l.EOL})
			}
		}
		if len(inserts) > 0 && l.EOL == "" {
			// The anchor was the last line without a newline: it gets one,
			// the last inserted line inherits the missing ending.
			eol := dominantEOL(lines)
			cur.EOL = eol
			for k := range inserts {
				inserts[k].EOL = eol
			}
			inserts[len(inserts)-1].EOL = ""
		}
		switch {
		case deleted:
			ops = append(ops, diffOp{kind: '-', old: l})
		case cur != l:
			ops = append(ops, diffOp{kind: '-', old: l}, diffOp{kind: '+', new: cur})
			out = append(out, cur)
		default:
			ops = append(ops, diffOp{kind: ' ', old: l, new: l})
			out = append(out, cur)
		}
		for _, in := range inserts {
			ops = append(ops, diffOp{kind: '+', new: in})
			out = append(out, in)
		}
	}
	return out, ops
}

func dominantEOL(lines []Line) string {
	crlf := 0
	for _, l := range lines {
		if l.EOL == "\r\n" {
			crlf++
		}
	}
	if crlf*2 > len(lines) {
		return "\r\n"
	}
	return "\n"
}

// mergeSpans turns per-line spans into replace edits.
func mergeSpans(lines []Line, spans map[int][]span, branchOf func(int) string) []edit {
	var keys []int
	for k := range spans {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	var out []edit
	for _, ln := range keys {
		ss := spans[ln]
		sort.Slice(ss, func(i, j int) bool { return ss[i].start > ss[j].start })
		text := lines[ln].Text
		var whys []string
		for _, s := range ss {
			if s.start < 0 || s.end > len(text) || s.start > s.end {
				continue
			}
			text = text[:s.start] + s.text + text[s.end:]
			whys = append(whys, s.why)
		}
		out = append(out, edit{line: ln, op: opReplace, text: text, why: strings.Join(whys, "; "), id: ss[0].id, branch: branchOf(ln)})
	}
	return out
}

type diffOp struct {
	kind     byte // ' ', '-', '+'
	old, new Line
}

// unifiedDiff renders ops as a unified diff with 3 lines of context, the
// format of diff -u and git diff.
func unifiedDiff(name string, ops []diffOp) string {
	const ctx = 3
	var b strings.Builder
	changed := false
	for _, o := range ops {
		if o.kind != ' ' {
			changed = true
			break
		}
	}
	if !changed {
		return ""
	}
	fmt.Fprintf(&b, "--- %s\n+++ %s\n", name, name)
	// Line numbers before each op.
	oldNo := make([]int, len(ops)+1)
	newNo := make([]int, len(ops)+1)
	for i, o := range ops {
		oldNo[i+1], newNo[i+1] = oldNo[i], newNo[i]
		if o.kind != '+' {
			oldNo[i+1]++
		}
		if o.kind != '-' {
			newNo[i+1]++
		}
	}
	i := 0
	for i < len(ops) {
		if ops[i].kind == ' ' {
			i++
			continue
		}
		start := max(0, i-ctx)
		end := i
		// Extend the hunk while changes are within 2*ctx of each other.
		for end < len(ops) {
			if ops[end].kind != ' ' {
				end++
				continue
			}
			j := end
			for j < len(ops) && ops[j].kind == ' ' {
				j++
			}
			if j < len(ops) && j-end <= 2*ctx {
				end = j
				continue
			}
			end = min(len(ops), end+ctx)
			break
		}
		oldCount, newCount := oldNo[end]-oldNo[start], newNo[end]-newNo[start]
		oldStart, newStart := oldNo[start]+1, newNo[start]+1
		if oldCount == 0 {
			oldStart--
		}
		if newCount == 0 {
			newStart--
		}
		fmt.Fprintf(&b, "@@ -%s +%s @@\n", hunkRange(oldStart, oldCount), hunkRange(newStart, newCount))
		for _, o := range ops[start:end] {
			l := o.old
			if o.kind == '+' {
				l = o.new
			}
			b.WriteByte(o.kind)
			b.WriteString(l.Text)
			b.WriteString("\n")
			if l.EOL == "" {
				b.WriteString("\\ No newline at end of file\n")
			}
		}
		i = end
	}
	return b.String()
}

func hunkRange(start, count int) string {
	if count == 1 {
		return fmt.Sprint(start)
	}
	return fmt.Sprintf("%d,%d", start, count)
}
