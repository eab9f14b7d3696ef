package doctor

import (
	"fmt"
	"io"
	"strings"

	"github.com/gzdoctor/gzdoctor/ui"
)

// CheckInfo describes a check without running it (`gzdoctor check --list`).
type CheckInfo struct {
	ID              string   `json:"id"`
	Title           string   `json:"title"`
	Covers          []string `json:"covers"`
	DependsOn       []string `json:"depends_on,omitempty"`
	CaptureRelevant bool     `json:"capture_relevant"`
}

// CheckList is every check, in run order.
type CheckList struct {
	Checks []CheckInfo `json:"checks"`
}

// List describes every check.
func List() CheckList {
	var l CheckList
	for _, c := range Checks() {
		covers := c.Covers
		if covers == nil {
			covers = []string{}
		}
		l.Checks = append(l.Checks, CheckInfo{ID: c.ID, Title: c.Title, Covers: covers, DependsOn: c.DependsOn, CaptureRelevant: c.CaptureRelevant})
	}
	return l
}

// RenderText prints one line per check: ID, the CHK-nn it covers, title.
func (l CheckList) RenderText(w io.Writer, st ui.Style, verbose bool) error {
	width, cw := 0, 0
	for _, c := range l.Checks {
		width = max(width, len(c.ID))
		cw = max(cw, len(strings.Join(c.Covers, ",")))
	}
	var b strings.Builder
	for _, c := range l.Checks {
		fmt.Fprintf(&b, "%-*s  %-*s  %s", width, c.ID, cw, strings.Join(c.Covers, ","), c.Title)
		if verbose && len(c.DependsOn) > 0 {
			fmt.Fprintf(&b, " %s", st.Dim("(after "+strings.Join(c.DependsOn, ", ")+")"))
		}
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}
