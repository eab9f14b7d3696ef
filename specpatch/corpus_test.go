package specpatch

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	gold "github.com/gzdoctor/gzdoctor/internal/golden"

	"github.com/gzdoctor/gzdoctor/ui"
)

// corpusDir holds the fifteen real specs described in
// dpdk-spec-styles.md; testdata/specs holds extra, hand-made ones.
const corpusDir = "../testdata/specs/reference"

// corpus lists every spec with what a careful reading of it says.
var corpus = []struct {
	file    string
	style   string
	verdict string
	fixes   []string // finding IDs the patch must fix
}{
	{"daos-19.11.6-0bf016e.spec", StyleMakeSource, VerdictPatch, []string{IDPcapPMDOff, IDPdumpOff, IDLibpcapMissing, IDPdumpNotPackaged}},
	{"daos-21.11.2-5f4a8cf.spec", StyleMesonMacro, VerdictBlocked, nil},
	{"dpdk-upstream-18.11-0da7f445df.spec", StyleMakeSed, VerdictGood, nil},
	{"fedora-19.11.3-aab36d2.spec", StyleMakeSetconf, VerdictGood, nil},
	{"fedora-22.11.1-d484aba.spec", StyleMesonMacro, VerdictGood, nil},
	{"openeuler-19.11-33cc19f.spec", StyleMakeSed, VerdictPatch, []string{IDPcapPMDOff}},
	{"openeuler-19.11-a678aa2.spec", StyleMakeSed, VerdictGood, nil},
	{"openeuler-19.11-abfe846.spec", StyleMakeSed, VerdictPatch, []string{IDPcapPMDOff}},
	{"openeuler-20.11-8e70332.spec", StyleMeson, VerdictGood, nil},
	{"openeuler-21.11-0183d0c.spec", StyleMeson, VerdictGood, nil},
	{"openeuler-21.11-944fcd0.spec", StyleMeson, VerdictGood, nil},
	{"openeuler-23.11-1f34bd7.spec", StyleMesonMacro, VerdictGood, nil},
	{"opensuse-24.11.3-090cf36.spec", StyleMesonMacro, VerdictGood, nil},
	{"rhel8-21.11-2671cc7.spec", StyleMesonArrays, VerdictPatch, []string{IDPcapDriverExcluded, IDLibpcapMissing, IDPdumpRemoved, IDPdumpNotPackaged}},
	{"rhel9-22.11-e5a5f71.spec", StyleMesonArrays, VerdictPatch, []string{IDPcapDriverExcluded, IDPdumpAppExcluded, IDLibpcapMissing, IDPdumpNotPackaged}},
}

func readCorpus(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(corpusDir, name))
	if err != nil {
		t.Fatalf("reference spec missing from the repository: %v", err)
	}
	return data
}

func TestCorpus(t *testing.T) {
	entries, err := os.ReadDir(corpusDir)
	if err != nil {
		t.Fatalf("reference specs missing from the repository: %v", err)
	}
	if len(entries) != len(corpus) {
		t.Errorf("%s has %d files, the table %d: every real spec needs a row", corpusDir, len(entries), len(corpus))
	}
	for _, tt := range corpus {
		t.Run(tt.file, func(t *testing.T) {
			data := readCorpus(t, tt.file)
			res, out, err := Patch(data, Options{File: tt.file})
			if err != nil {
				t.Fatal(err)
			}
			if res.Style != tt.style || res.Verdict != tt.verdict {
				t.Errorf("style %s verdict %s, want %s %s", res.Style, res.Verdict, tt.style, tt.verdict)
			}
			var fixed []string
			for _, f := range res.Findings {
				if f.Fixed {
					fixed = append(fixed, f.ID)
				}
			}
			if strings.Join(fixed, ",") != strings.Join(tt.fixes, ",") {
				t.Errorf("fixed %v, want %v", fixed, tt.fixes)
			}
			if tt.verdict != VerdictPatch {
				// Good and blocked specs are left exactly as they are.
				if !bytes.Equal(out, data) || res.Diff != "" || len(res.Changes) != 0 {
					t.Errorf("spec changed:\n%s", res.Diff)
				}
			}
			// A second run on the output changes nothing.
			res2, out2, err := Patch(out, Options{File: tt.file})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out2, out) || res2.Diff != "" {
				t.Errorf("second run not a no-op:\n%s", res2.Diff)
			}
			if tt.verdict == VerdictPatch && res2.Verdict != VerdictGood {
				t.Errorf("patched spec verdict %s: %+v", res2.Verdict, res2.Findings)
			}
			checkMinimal(t, data, out, res)
			golden(t, tt.file, res)
		})
	}
}

// checkMinimal: every line not named by a change is byte-for-byte the same,
// in the same order.
func checkMinimal(t *testing.T, before, after []byte, res *Result) {
	t.Helper()
	touched := map[int]bool{}
	for _, c := range res.Changes {
		if c.Kind != "insert" {
			touched[c.Line-1] = true
		}
	}
	var kept []Line
	for i, l := range SplitLines(before) {
		if !touched[i] {
			kept = append(kept, l)
		}
	}
	al := SplitLines(after)
	j := 0
	for _, l := range al {
		if j < len(kept) && l == kept[j] {
			j++
		}
	}
	if j != len(kept) {
		t.Errorf("an untouched line changed: only %d of %d kept lines found in order", j, len(kept))
	}
	inserts := 0
	for _, c := range res.Changes {
		switch c.Kind {
		case "insert":
			inserts++
		case "delete":
			inserts--
		}
	}
	if len(al) != len(SplitLines(before))+inserts {
		t.Errorf("line count %d, want %d", len(al), len(SplitLines(before))+inserts)
	}
}

func golden(t *testing.T, name string, res *Result) {
	t.Helper()
	var b bytes.Buffer
	if err := res.RenderText(&b, ui.Style{}, true); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("..", "testdata", "specs", "golden", strings.TrimSuffix(name, ".spec")+".txt")
	gold.Check(t, path, b.Bytes())
}
