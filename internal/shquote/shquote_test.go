package shquote

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Every quoted word reads back as itself in a real sh.
func TestQuoteRoundTrip(t *testing.T) {
	words := []string{"", "plain", "/var/run/dpdk/(null)", "it's", "a b", "device_id=net_ring0,queue=*", "$HOME", "x\ny", "user@host:%1+2"}
	for _, w := range words {
		out, err := exec.Command("sh", "-c", "printf %s "+Quote(w)).Output()
		if err != nil {
			t.Fatalf("%q: %v", w, err)
		}
		if string(out) != w {
			t.Errorf("Quote(%q) = %s reads back as %q", w, Quote(w), out)
		}
	}
	if got := Join([]string{"rm", "-r", "/var/run/dpdk/(null)"}); got != "rm -r '/var/run/dpdk/(null)'" {
		t.Errorf("Join = %s", got)
	}
	if got := Quote("--file-prefix=gazelle"); got != "--file-prefix=gazelle" {
		t.Errorf("a safe word is quoted: %s", got)
	}
}

func TestSplit(t *testing.T) {
	for in, want := range map[string][]string{
		`-d /usr/lib64/librte_net_mlx5.so --log-level 'pmd.net.*:debug'`: {"-d", "/usr/lib64/librte_net_mlx5.so", "--log-level", "pmd.net.*:debug"},
		`a\ b "c \"d\"" ''`: {"a b", `c "d"`, ""},
		"":                  nil,
	} {
		got, err := Split(in)
		if err != nil || strings.Join(got, "|") != strings.Join(want, "|") || len(got) != len(want) {
			t.Errorf("Split(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := Split(`-d 'x`); err == nil {
		t.Error("an unterminated quote was accepted")
	}
	// Split reverses Join.
	args := []string{"--file-prefix", "it's", "a b", "*", ""}
	if got, err := Split(Join(args)); err != nil || strings.Join(got, "|") != strings.Join(args, "|") {
		t.Errorf("Split(Join(%q)) = %q, %v", args, got, err)
	}
}

// Glob's literal part matches only itself; its pattern expands. Join's
// first word is never an assignment.
func TestGlobAndFirstWord(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"x *map_0", "x *map_1", "xymap_0", "x map_0", "other"} {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, err := exec.Command("bash", "-c", "printf '%s|' "+Glob(dir+"/x *map_", "*")).Output()
	if err != nil {
		t.Fatal(err)
	}
	if want := dir + "/x *map_0|" + dir + "/x *map_1|"; string(out) != want {
		t.Errorf("Glob matched %q, want %q", out, want)
	}
	if got := Join([]string{"X=1", "touch", "a=b"}); got != "'X=1' touch a=b" {
		t.Errorf("Join = %s", got)
	}
}
