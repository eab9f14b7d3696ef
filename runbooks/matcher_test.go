package runbooks

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gzdoctor/gzdoctor/internal/testenv"
)

// TestPatternsAgreeWithGrep uses GNU grep as an oracle for the exported
// patterns: over every normalised line of the corpus, `grep -E -c -f`
// counts the same lines as the catalogue's own regexes.
func TestPatternsAgreeWithGrep(t *testing.T) {
	grep := testenv.Tool(t, "grep", "Debian package grep")
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, s := range loadCorpus(t) {
		for _, l := range strings.Split(string(s.Body), "\n") {
			for _, lg := range normalize(l) {
				msgs = append(msgs, lg.Msg)
			}
		}
	}
	want := 0
	for _, m := range msgs {
		for _, p := range c.patterns {
			if p.re.MatchString(m) {
				want++
				break
			}
		}
	}
	dir := t.TempDir()
	pf, lf := filepath.Join(dir, "patterns"), filepath.Join(dir, "lines")
	if err := os.WriteFile(pf, []byte(strings.Join(c.PatternsERE(), "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(lf, []byte(strings.Join(msgs, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(grep, "-E", "-c", "-f", pf, lf)
	cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("grep: %v", err)
	}
	got, _ := strconv.Atoi(strings.TrimSpace(string(out)))
	if got != want || want < 100 {
		t.Errorf("grep counts %d matching lines, the catalogue %d (of %d)", got, want, len(msgs))
	}
}

// TestFeedEqualsDiagnose: the live path (Feed per line) and the file path
// (ReadFrom) give the same report.
func TestFeedEqualsDiagnose(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range loadCorpus(t) {
		r1, err := c.Diagnose(context.Background(), bytes.NewReader(s.Body))
		if err != nil {
			t.Fatal(err)
		}
		m := c.NewMatcher()
		m.SetSource("")
		for _, l := range strings.SplitAfter(string(s.Body), "\n") {
			if l != "" {
				m.Feed(l)
			}
		}
		if r2 := m.Report(); !reflect.DeepEqual(r1, r2) {
			t.Errorf("%s: Feed and Diagnose differ:\n%+v\n%+v", s.Path, r1.Findings, r2.Findings)
		}
	}
}

// TestBoundedOnRepeats: a failure repeated a million times keeps a
// bounded amount of evidence and counts the rest.
func TestBoundedOnRepeats(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	const n = 200000
	for i := range n {
		fmt.Fprintf(&b, "EAL: Cannot find action: mp_pdump\nlab-primary: tick %d\n", i)
	}
	r, err := c.Diagnose(context.Background(), &b)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Findings) != 1 || r.Findings[0].ID != "pdump-not-initialized-in-primary" {
		t.Fatalf("findings %+v", r.Findings)
	}
	f := r.Findings[0]
	if len(f.Evidence) != maxEvidenceLines || int64(len(f.Evidence))+f.MoreEvidence != n {
		t.Errorf("evidence %d + %d more, want %d in all", len(f.Evidence), f.MoreEvidence, n)
	}
	if r.Lines != 2*n {
		t.Errorf("lines %d", r.Lines)
	}
}

// TestLongLineIsCut: a line longer than the reader's buffer costs no more
// than its head, and the lines after it keep their numbers.
func TestLongLineIsCut(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	in := "x" + strings.Repeat("y", 3<<20) + "\nEAL: Primary and secondary process DPDK version mismatch\n"
	r, err := c.Diagnose(context.Background(), strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if r.CutLines != 1 || len(r.Findings) != 1 || r.Findings[0].Evidence[0].Number != 2 {
		t.Errorf("cut %d, findings %+v", r.CutLines, r.Findings)
	}
}

func TestConditions(t *testing.T) {
	entries := []Entry{{
		ID: "root-cause", Title: "t", Severity: "fatal", Side: "any", Phase: "config", Cause: "c", Fix: []Step{{Text: "f"}},
		Patterns: []Pattern{{Regex: `tool uses prefix (?P<prefix>\w+)`, Requires: []Condition{{Any: []string{"primary-line"}, Differs: "prefix"}}}},
		Extract:  map[string]Extraction{"prefix": {}},
		Explains: []string{"later-symptom"},
	}, {
		ID: "later-symptom", Title: "t", Severity: "fatal", Side: "any", Phase: "service", Cause: "c", Fix: []Step{{Text: "f"}},
		Patterns: []Pattern{{Regex: `symptom happened`, Requires: []Condition{{Any: []string{"trigger-line"}, Where: "before", Within: 2}}}},
		Unless:   []Condition{{Any: []string{"veto-line"}, Where: "after"}},
	}}
	signals := []Signal{
		{ID: "primary-line", Title: "p", Patterns: []Pattern{{Regex: `primary uses prefix (?P<prefix>\w+)`}}},
		{ID: "trigger-line", Title: "t", Patterns: []Pattern{{Regex: `trigger fired`}}},
		{ID: "veto-line", Title: "v", Patterns: []Pattern{{Regex: `veto applied`}}},
	}
	c, err := Compile(entries, signals)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		log  string
		want []string
	}{
		{"differs holds", "primary uses prefix gazelle\ntool uses prefix rte\n", []string{"root-cause"}},
		{"same prefix is no mismatch", "primary uses prefix rte\ntool uses prefix rte\n", nil},
		{"no primary line", "tool uses prefix rte\n", nil},
		{"before within 2", "trigger fired\nx\nsymptom happened\n", []string{"later-symptom"}},
		{"before but too far", "trigger fired\nx\ny\nsymptom happened\n", nil},
		{"after is not before", "symptom happened\ntrigger fired\n", nil},
		{"unless after", "trigger fired\nsymptom happened\nveto applied\n", nil},
		{"unless before does not veto", "veto applied\ntrigger fired\nsymptom happened\n", []string{"later-symptom"}},
		{"root before its symptom", "trigger fired\nsymptom happened\nprimary uses prefix a\ntool uses prefix b\n", []string{"root-cause", "later-symptom"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := c.Diagnose(context.Background(), strings.NewReader(tt.log))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range r.Findings {
				got = append(got, f.ID)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSchemaErrors(t *testing.T) {
	good := Entry{ID: "good-one", Title: "t", Severity: "fatal", Side: "any", Phase: "config", Cause: "c",
		Fix: []Step{{Text: "f"}}, Patterns: []Pattern{{Regex: "something failed badly"}}}
	tests := []struct {
		name   string
		mutate func(e *Entry)
		want   string
	}{
		{"id", func(e *Entry) { e.ID = "Not_Kebab" }, "kebab-case"},
		{"severity", func(e *Entry) { e.Severity = "bad" }, "severity"},
		{"phase", func(e *Entry) { e.Phase = "later" }, "phase"},
		{"regex", func(e *Entry) { e.Patterns[0].Regex = "(open" }, "missing closing"},
		{"no anchor", func(e *Entry) { e.Patterns[0].Regex = `\d+ \w+` }, "no literal"},
		{"no ERE form", func(e *Entry) { e.Patterns[0].Regex = "(?i)something failed" }, "flag groups"},
		{"undeclared group", func(e *Entry) { e.Patterns[0].Regex = "something (?P<dev>\\S+) failed" }, "not declared"},
		{"template", func(e *Entry) { e.Fix[0].Text = "use {{.prefix}}" }, "prefix"},
		{"check id", func(e *Entry) { e.Checks = []string{"CHK-1"} }, "CHK-nn"},
		{"unknown condition id", func(e *Entry) { e.Requires = []Condition{{Any: []string{"nope"}}} }, "unknown id"},
		{"alternative without tell", func(e *Entry) { e.Alternatives = []Alternative{{ID: "good-one"}} }, "tells the two apart"},
		{"bad normalizer", func(e *Entry) { e.Extract = map[string]Extraction{"x": {Normalize: "upper"}} }, "normalize"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := good
			e.Patterns = []Pattern{good.Patterns[0]}
			e.Fix = []Step{good.Fix[0]}
			tt.mutate(&e)
			_, err := Compile([]Entry{e}, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
	if _, err := Compile([]Entry{good}, nil); err != nil {
		t.Errorf("good entry: %v", err)
	}
}

// TestEmbeddedSchema: every embedded entry has what the schema asks for,
// the 60 reference IDs are all present, and references to checks exist.
func TestEmbeddedSchema(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	refs := map[string]bool{}
	for _, e := range c.Entries {
		if e.Ref != "" {
			if refs[e.Ref] {
				t.Errorf("ref %s used twice", e.Ref)
			}
			refs[e.Ref] = true
		}
		if !e.Benign && len(e.Checks) == 0 {
			t.Errorf("%s: no checks", e.ID)
		}
		if len(e.References) == 0 {
			t.Errorf("%s: no references", e.ID)
		}
	}
	for g, n := range map[string]int{"A": 14, "B": 6, "C": 10, "D": 3, "E": 12, "F": 7, "G": 2, "H": 5, "I": 1} {
		for i := 1; i <= n; i++ {
			if !refs[fmt.Sprintf("%s%d", g, i)] {
				t.Errorf("reference entry %s%d missing", g, i)
			}
		}
	}
}

func FuzzNormalizeMatch(f *testing.F) {
	for _, s := range []string{
		"EAL: Cannot open '/var/run/dpdk/rte/config' for rte_mem_config",
		"{\"msg\":\"EAL: failed to send to (/x/mp_socket) due to Connection refused\"}",
		"Apr  7 07:13:35 h p[1]: EAL: Cannot initialize tailq: X\r\n",
		"\x1b[31mEAL: a\x1b[0mEAL: b\rPDUMP: c",
		"EAL: secondary process attach failed, ethdev doesn't existEAL: Requested device 0000:5e:00.1 cannot be used",
		"\xff\xfe\x00 {\"MESSAGE\":\"a\\nb\"}",
	} {
		f.Add(s)
	}
	c, err := Load()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, in string) {
		for _, lg := range normalize(in) {
			if !utf8.ValidString(lg.Text) || !utf8.ValidString(lg.Msg) {
				t.Fatalf("invalid UTF-8 from %q", in)
			}
			if len(lg.Text) > maxMatchBytes*2 {
				t.Fatalf("text of %d bytes", len(lg.Text))
			}
		}
		m := c.NewMatcher()
		m.SetSource("fuzz")
		lines := strings.Split(in, "\n")
		for _, l := range lines {
			m.Feed(l)
		}
		r := m.Report()
		if r.Lines != int64(len(lines)) {
			t.Fatalf("%d lines fed, %d counted", len(lines), r.Lines)
		}
		for _, fd := range r.Findings {
			for _, e := range fd.Evidence {
				if e.Number < 1 || e.Number > int64(len(lines)) {
					t.Fatalf("evidence line %d of %d", e.Number, len(lines))
				}
			}
		}
	})
}

// Progress output (dumpcap's backspaced packet count, `\r` bars) makes one
// physical line of any length whose end is what stayed on the screen: a
// message there is found however long the line, in Diagnose and in Feed.
func TestProgressLineEndIsRead(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	counts := func(size int) string {
		var bs strings.Builder
		bs.WriteString("Packets captured: 0 ")
		prev := "0"
		for i := 1; bs.Len() < size; i++ {
			n := strconv.Itoa(i * 6)
			fmt.Fprintf(&bs, "%s%s ", strings.Repeat("\b", len(prev)+1), n)
			prev = n
		}
		return bs.String() + "Primary process is no longer active, exiting...\n"
	}
	cr := strings.Repeat("progress 42%\r", 400) + "EAL: Primary and secondary process DPDK version mismatch\r\n"
	for _, tt := range []struct {
		name, log, want string
		cut             int64
	}{
		{"backspaces, 3 MiB", counts(3 << 20), "primary-exited-during-capture", 1},
		{"backspaces, 9 MiB (over a chunk)", counts(9 << 20), "primary-exited-during-capture", 1},
		{"carriage returns, 5 kB", cr, "dpdk-version-mismatch", 0},
		{"backspaces then a line", counts(9<<20) + "EAL: Primary and secondary process DPDK version mismatch\n", "dpdk-version-mismatch", 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r, err := c.Diagnose(context.Background(), strings.NewReader(tt.log))
			if err != nil {
				t.Fatal(err)
			}
			if !hasFinding(r.Findings, tt.want) || r.CutLines != tt.cut {
				t.Errorf("Diagnose: %d lines (%d cut), findings %v, want %s", r.Lines, r.CutLines, ids(r.Findings), tt.want)
			}
			m := c.NewMatcher()
			m.SetSource("feed")
			for _, l := range strings.SplitAfter(tt.log, "\n") {
				if l != "" {
					m.Feed(l)
				}
			}
			if got := m.Findings(); !hasFinding(got, tt.want) {
				t.Errorf("Feed: findings %v, want %s", ids(got), tt.want)
			}
		})
	}
}

func hasFinding(fs []Finding, id string) bool {
	for _, f := range fs {
		if f.ID == id {
			return true
		}
	}
	return false
}

func ids(fs []Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.ID)
	}
	return out
}
