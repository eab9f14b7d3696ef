package specpatch

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func runDiff(t *testing.T, bin, a, b string) string {
	t.Helper()
	out, _ := exec.Command(bin, "-u", a, b).Output() // exit 1 means "differ"
	s := string(out)
	return s[strings.Index(s, "@@"):]
}

// FuzzSpecPatch: no panic, no hang, and round trips on any input,
// including deep %if nesting and huge lines.
func FuzzSpecPatch(f *testing.F) {
	for _, dir := range []string{corpusDir, filepath.Join("..", "testdata", "specs", "extra")} {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if data, err := os.ReadFile(filepath.Join(dir, e.Name())); err == nil {
				f.Add(data)
			}
		}
	}
	f.Add([]byte(strings.Repeat("%if 1\n", 5000) + "%build\nmeson build\n" + strings.Repeat("%endif\n", 5000)))
	f.Add([]byte("Name: x\n%build\n" + strings.Repeat("a", 1<<20) + "\nmeson build -Ddisable_drivers=" + strings.Repeat("net/pcap,", 1000) + "\n"))
	f.Add([]byte("Name: x\n%define a %{a}%{a}\nVersion: %{a}\n%build\nmake O=d T=t config\nsed -ri 's,(((((,\\1y,' d/.config\nmake O=d\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(data)
		if err != nil {
			return
		}
		if got := JoinLines(s.Lines); string(got) != string(data) {
			t.Fatalf("round trip changed the input")
		}
		res, out, err := Patch(data, Options{File: "f.spec", Bump: "x", Packager: "p"})
		if err != nil {
			return
		}
		if res.Diff == "" && string(out) != string(data) {
			t.Fatalf("output changed without a diff")
		}
	})
}
