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

// maxFuzzSeed bounds each seed of the fuzz corpus. The fuzzer minimises
// every new input it finds interesting, and inputs grown from a 1 MB seed
// took minutes to minimise: the CI runs showed "execs: N (0/sec)" for most
// of their time. Huge inputs are tested once, in TestPatchHugeAndDeep.
const maxFuzzSeed = 64 << 10

// fuzzSeeds is FuzzSpecPatch's seed corpus: the reference and extra specs
// (20-60 kB each), deep %if nesting and a long line, kept small.
func fuzzSeeds(tb testing.TB) [][]byte {
	var seeds [][]byte
	for _, dir := range []string{corpusDir, filepath.Join("..", "testdata", "specs", "extra")} {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if data, err := os.ReadFile(filepath.Join(dir, e.Name())); err == nil {
				seeds = append(seeds, data)
			}
		}
	}
	return append(seeds,
		[]byte(strings.Repeat("%if 1\n", 300)+"%build\nmeson build\n"+strings.Repeat("%endif\n", 300)),
		[]byte("Name: x\n%build\n"+strings.Repeat("a", 8<<10)+"\nmeson build -Ddisable_drivers="+strings.Repeat("net/pcap,", 300)+"\n"),
		[]byte("Name: x\n%define a %{a}%{a}\nVersion: %{a}\n%build\nmake O=d T=t config\nsed -ri 's,(((((,\\1y,' d/.config\nmake O=d\n"),
	)
}

func TestFuzzSeedsAreSmall(t *testing.T) {
	seeds := fuzzSeeds(t)
	if len(seeds) < 10 {
		t.Fatalf("only %d seeds: the corpus directories moved?", len(seeds))
	}
	for i, s := range seeds {
		if len(s) > maxFuzzSeed {
			t.Errorf("seed %d is %d bytes, more than %d: too large to minimise", i, len(s), maxFuzzSeed)
		}
	}
}

// The inputs too large for the fuzz corpus: 5000 nested %if and a 1 MB line.
func TestPatchHugeAndDeep(t *testing.T) {
	for _, data := range [][]byte{
		[]byte(strings.Repeat("%if 1\n", 5000) + "%build\nmeson build\n" + strings.Repeat("%endif\n", 5000)),
		[]byte("Name: x\n%build\n" + strings.Repeat("a", 1<<20) + "\nmeson build -Ddisable_drivers=" + strings.Repeat("net/pcap,", 1000) + "\n"),
	} {
		s, err := Parse(data)
		if err != nil {
			continue
		}
		if got := JoinLines(s.Lines); string(got) != string(data) {
			t.Fatalf("round trip changed the input")
		}
		if res, out, err := Patch(data, Options{File: "f.spec"}); err == nil && res.Diff == "" && string(out) != string(data) {
			t.Fatalf("output changed without a diff")
		}
	}
}

// FuzzSpecPatch: no panic, no hang, and round trips on any input.
func FuzzSpecPatch(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
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
