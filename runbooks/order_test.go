package runbooks

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestOrderTimeWithinSource: in one log the failure printed first is the
// root, whatever the start-up phases say, unless the catalogue says one
// explains the other; two sources have no common clock and are merged by
// phase.
func TestOrderTimeWithinSource(t *testing.T) {
	entry := func(id, phase, re string, explains ...string) Entry {
		return Entry{ID: id, Title: id, Severity: "fatal", Side: "any", Phase: phase, Cause: "c",
			Fix: []Step{{Text: "f"}}, Patterns: []Pattern{{Regex: re}}, Explains: explains}
	}
	c, err := Compile([]Entry{
		entry("late-phase", "runtime", `stopped answering now`),
		entry("early-phase", "mp", `went away entirely`),
		entry("explainer", "runtime", `explains the mp failure`, "early-phase"),
		entry("other-source", "config", `config failure here`),
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		sources []string // one log per source, fed in this order
		want    []string
	}{
		{"earlier line first, although its phase is later",
			[]string{"stopped answering now\nx\nwent away entirely\n"}, []string{"late-phase", "early-phase"}},
		{"reversed in the log, reversed in the report",
			[]string{"went away entirely\nstopped answering now\n"}, []string{"early-phase", "late-phase"}},
		{"explains wins over time",
			[]string{"went away entirely\nexplains the mp failure\n"}, []string{"explainer", "early-phase"}},
		{"two sources merge by phase, each keeps its own order",
			[]string{"stopped answering now\nwent away entirely\n", "config failure here\n"},
			[]string{"other-source", "late-phase", "early-phase"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := c.NewMatcher()
			for i, s := range tt.sources {
				m.SetSource(string(rune('a' + i)))
				for _, l := range strings.SplitAfter(s, "\n") {
					if l != "" {
						m.Feed(l)
					}
				}
			}
			if got := ids(m.Findings()); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// TestOrderRecordedStopThenKill: a real dpdk-pdump log (lab, 22.11) of a
// primary that was stopped (SIGSTOP: pdump's requests time out) and then
// killed (the next send is refused). The stop happened first and is the
// root; the later "no primary answers" (phase mp, earlier in start-up
// order) used to be reported first, with its rm -r of the runtime dir.
func TestOrderRecordedStopThenKill(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		file string
		want []string
	}{
		{"local-2211/22.11-pdump-primary-stopped-then-killed.log",
			[]string{"primary-not-answering", "pdump-not-initialized-in-primary", "mp-primary-unreachable"}},
		// Stopped before pdump attached: nothing refused, nothing to remove.
		{"local-2211/22.11-pdump-primary-stopped-before-attach.log",
			[]string{"primary-not-answering", "secondary-sees-no-ports"}},
	} {
		data, err := os.ReadFile(filepath.Join(corpusDir, tt.file))
		if err != nil {
			t.Fatal(err)
		}
		r, err := c.Diagnose(context.Background(), bytesReader(blankHeaders(data)))
		if err != nil {
			t.Fatal(err)
		}
		if got := ids(r.Findings); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.file, got, tt.want)
		}
		for _, f := range r.Findings {
			if f.ID != "mp-primary-unreachable" {
				for _, st := range f.Fix {
					if strings.Contains(st.Command, "rm ") {
						t.Errorf("%s: %s removes something of a stopped primary: %q", tt.file, f.ID, st.Command)
					}
				}
			}
		}
	}
}
