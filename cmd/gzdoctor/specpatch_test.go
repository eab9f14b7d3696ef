package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
)

const refSpecs = "../../testdata/specs/reference"

func copySpec(t *testing.T, name string, mode os.FileMode) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(refSpecs, name))
	if err != nil {
		t.Fatalf("reference spec missing from the repository: %v", err)
	}
	p := filepath.Join(t.TempDir(), "dpdk.spec")
	if err := os.WriteFile(p, data, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSpecpatchCLI(t *testing.T) {
	t.Setenv("RPM_PACKAGER", "Jane Doe <jane@example.com>")
	tests := []struct {
		name     string
		spec     string
		args     []string
		wantCode int
		wantOut  string
		changed  bool
	}{
		{"diff only", "openeuler-19.11-abfe846.spec", nil, exitOK, "+sed -ri 's,(LIBRTE_PMD_PCAP=).*,\\1y,'", false},
		{"check needs change", "openeuler-19.11-abfe846.spec", []string{"--check"}, exitProblem, "needs 1 change", false},
		{"check good", "fedora-22.11.1-d484aba.spec", []string{"--check"}, exitOK, "already builds", false},
		{"blocked", "daos-21.11.2-5f4a8cf.spec", nil, exitProblem, "pdump-dropped-by-patch", false},
		{"write", "rhel9-22.11-e5a5f71.spec", []string{"--in-place", "--backup", "--bump", "Build pdump"}, exitOK, "written to", true},
		{"write, -i (hidden alias)", "rhel9-22.11-e5a5f71.spec", []string{"-i", "--backup", "--bump", "Build pdump"}, exitOK, "written to", true},
		{"write good spec", "fedora-22.11.1-d484aba.spec", []string{"--write"}, exitOK, "already builds", false},
		{"backup without write", "fedora-22.11.1-d484aba.spec", []string{"--backup"}, exitUsage, "", false},
		{"check and write", "fedora-22.11.1-d484aba.spec", []string{"--check", "-i"}, exitUsage, "", false},
		{"check and in-place", "fedora-22.11.1-d484aba.spec", []string{"--check", "--in-place"}, exitUsage, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := copySpec(t, tt.spec, 0o640)
			before, _ := os.ReadFile(spec)
			code, out, stderr := run(t, append(append([]string{"specpatch"}, tt.args...), spec)...)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d\n%s%s", code, tt.wantCode, out, stderr)
			}
			if !strings.Contains(out, tt.wantOut) {
				t.Errorf("output lacks %q:\n%s", tt.wantOut, out)
			}
			after, _ := os.ReadFile(spec)
			if (string(after) != string(before)) != tt.changed {
				t.Errorf("spec changed: %v, want %v", string(after) != string(before), tt.changed)
			}
			if tt.changed {
				fi, _ := os.Stat(spec)
				if fi.Mode().Perm() != 0o640 {
					t.Errorf("mode %v, want 0640", fi.Mode().Perm())
				}
				orig, err := os.ReadFile(spec + ".orig")
				if err != nil || string(orig) != string(before) {
					t.Errorf("backup missing or different: %v", err)
				}
				if !strings.Contains(string(after), "Jane Doe <jane@example.com> - 2:22.11-5") {
					t.Errorf("no changelog entry by RPM_PACKAGER")
				}
				// Now the spec is good.
				if code, _, _ := run(t, "specpatch", "--check", spec); code != exitOK {
					t.Errorf("--check after --write: exit %d", code)
				}
			}
		})
	}
}

func TestSpecpatchOutAndJSON(t *testing.T) {
	spec := copySpec(t, "rhel8-21.11-2671cc7.spec", 0o644)
	before, _ := os.ReadFile(spec)
	outFile := filepath.Join(t.TempDir(), "patched.spec")
	code, out, stderr := run(t, "-o", "json", "specpatch", "-O", outFile, spec)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var env struct {
		Command string `json:"command"`
		Data    struct {
			Style    string `json:"style"`
			Verdict  string `json:"verdict"`
			Written  string `json:"written"`
			Findings []struct {
				ID    string `json:"id"`
				Fixed bool   `json:"fixed"`
			} `json:"findings"`
			Changes []struct {
				Line int    `json:"line"`
				Kind string `json:"kind"`
			} `json:"changes"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(out), &env); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if env.Command != "specpatch" || env.Data.Style != "meson-macro-arrays" || env.Data.Verdict != "patch" || env.Data.Written != outFile || len(env.Data.Changes) != 4 {
		t.Errorf("unexpected: %+v", env)
	}
	after, _ := os.ReadFile(spec)
	if string(after) != string(before) {
		t.Error("--out modified the input")
	}
	patched, err := os.ReadFile(outFile)
	if err != nil || !strings.Contains(string(patched), "    net/pcap\n") {
		t.Errorf("--out file: %v", err)
	}
}

func TestSpecpatchBadInput(t *testing.T) {
	dir := t.TempDir()
	notSpec := filepath.Join(dir, "README")
	os.WriteFile(notSpec, []byte("hello\nworld\n"), 0o644)
	code, _, stderr := run(t, "specpatch", "-i", notSpec)
	if code != exitFailure || !strings.Contains(stderr, "not an RPM spec") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	if b, _ := os.ReadFile(notSpec); string(b) != "hello\nworld\n" {
		t.Error("bad input was modified")
	}
	code, _, stderr = run(t, "specpatch", filepath.Join(dir, "missing.spec"))
	if code != exitFailure || !strings.Contains(stderr, "reading") {
		t.Errorf("missing file: exit %d, stderr %q", code, stderr)
	}
	spec := copySpec(t, "rhel8-21.11-2671cc7.spec", 0o644)
	code, _, stderr = run(t, "specpatch", "-O", dir, spec)
	if code != exitFailure || !strings.Contains(stderr, dir+": is a directory") {
		t.Errorf("--out a directory: exit %d, stderr %q", code, stderr)
	}
	// An older backup is the only copy of an earlier original.
	os.WriteFile(spec+".orig", []byte("earlier original\n"), 0o644)
	before, _ := os.ReadFile(spec)
	code, _, stderr = run(t, "specpatch", "-i", "--backup", spec)
	if code != exitFailure || !strings.Contains(stderr, ".orig exists and differs") {
		t.Errorf("existing backup: exit %d, stderr %q", code, stderr)
	}
	if b, _ := os.ReadFile(spec + ".orig"); string(b) != "earlier original\n" {
		t.Error("existing backup was replaced")
	}
	if b, _ := os.ReadFile(spec); string(b) != string(before) {
		t.Error("spec was written although its backup could not be")
	}
}

// specpatch -i run by root keeps the spec's owner, group and mode, and
// patches a symlinked spec's target (the link stays a link); --backup goes
// beside the target. It used to leave the spec root's and replace the link
// with a file.
func TestSpecpatchWriteKeepsOwnerAndFollowsSymlink(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give the spec another owner")
	}
	t.Setenv("RPM_PACKAGER", "Jane Doe <jane@example.com>")
	spec := copySpec(t, "rhel9-22.11-e5a5f71.spec", 0o640)
	const uid, gid = 4321, 5432
	if err := os.Chown(spec, uid, gid); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(spec, 0o664|os.ModeSetgid); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(spec)
	link := filepath.Join(t.TempDir(), "dpdk.spec")
	if err := os.Symlink(spec, link); err != nil {
		t.Fatal(err)
	}
	code, out, stderr := run(t, "specpatch", "-i", "--backup", link)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(out, "written to "+spec) {
		t.Errorf("output does not name the file written (the link's target):\n%s", out)
	}
	if got, err := os.Readlink(link); err != nil || got != spec {
		t.Fatalf("the link is now %q, %v; want it still pointing at %s", got, err, spec)
	}
	check := func(p string) {
		t.Helper()
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		st := fi.Sys().(*syscall.Stat_t)
		if st.Uid != uid || st.Gid != gid {
			t.Errorf("%s: owner %d:%d, want %d:%d", p, st.Uid, st.Gid, uid, gid)
		}
		if fi.Mode()&(os.ModePerm|os.ModeSetgid) != 0o664|os.ModeSetgid {
			t.Errorf("%s: mode %v, want g+s,0664", p, fi.Mode())
		}
	}
	check(spec)
	check(spec + ".orig")
	if b, _ := os.ReadFile(spec); string(b) == string(before) {
		t.Error("the target was not patched")
	}
	if b, _ := os.ReadFile(spec + ".orig"); string(b) != string(before) {
		t.Error("the backup is not the original")
	}
}

// --out follows the never-clobber rule: an existing file, or a symlink
// (even dangling), is refused without --force, and nothing is written.
func TestSpecpatchOutNeverClobbers(t *testing.T) {
	spec := copySpec(t, "rhel8-21.11-2671cc7.spec", 0o644)
	dir := t.TempDir()
	existing := filepath.Join(dir, "existing.spec")
	os.WriteFile(existing, []byte("keep me\n"), 0o600)
	decoy := filepath.Join(dir, "decoy")
	dangling := filepath.Join(dir, "dangling.spec")
	os.Symlink(decoy, dangling)
	for _, out := range []string{existing, dangling} {
		code, _, stderr := run(t, "specpatch", "--out", out, spec)
		if code != exitUsage || !strings.Contains(stderr, out+" exists; specpatch never replaces a file (use --force") {
			t.Errorf("--out %s: exit %d, stderr %q", out, code, stderr)
		}
	}
	if b, _ := os.ReadFile(existing); string(b) != "keep me\n" {
		t.Error("existing file replaced without --force")
	}
	if _, err := os.Lstat(decoy); err == nil {
		t.Error("a symlink's target was created")
	}
	// --force replaces the file, and the symlink itself (never its target).
	for _, out := range []string{existing, dangling} {
		if code, _, stderr := run(t, "specpatch", "--force", "--out", out, spec); code != exitOK {
			t.Fatalf("--force --out %s: exit %d: %s", out, code, stderr)
		}
		fi, err := os.Lstat(out)
		if err != nil || !fi.Mode().IsRegular() {
			t.Errorf("%s after --force: %v, %v", out, fi, err)
		}
	}
	if _, err := os.Lstat(decoy); err == nil {
		t.Error("--force wrote through a symlink")
	}
	if code, _, _ := run(t, "specpatch", "--force", spec); code != exitUsage {
		t.Errorf("--force without --out: exit %d, want %d", code, exitUsage)
	}
}

// allocated runs f and returns the bytes it allocated: an upper bound of
// its peak heap, which is what a hostile input amplifies.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// A spec is bounded before it is read: a 50 MB one-line spec used to cost
// 918 MB and a 104 MB diff. Past 4 MiB it is refused; at the limit the cost
// stays a small multiple of the input.
func TestSpecpatchHugeSpecBounded(t *testing.T) {
	dir := t.TempDir()
	base, err := os.ReadFile(filepath.Join(refSpecs, "rhel8-21.11-2671cc7.spec"))
	if err != nil {
		t.Fatal(err)
	}
	oneLine := func(name string, size int) string {
		p := filepath.Join(dir, name)
		line := "BuildRequires: " + strings.Repeat("y", size-len(base)-16) + "\n"
		if err := os.WriteFile(p, append([]byte(line), base...), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	huge := oneLine("huge.spec", 50<<20)
	var code int
	var stdout, stderr string
	a := allocated(func() { code, stdout, stderr = run(t, "specpatch", huge) })
	t.Logf("50 MB spec: %d MB allocated", a>>20)
	if code != exitFailure || !strings.Contains(stderr, "huge.spec is larger than the 4194304-byte (4 MiB) limit") {
		t.Errorf("50 MB spec: exit %d, stderr %q", code, stderr)
	}
	if a > 16<<20 {
		t.Errorf("refusing a 50 MB spec allocated %d MB; want less than 16 MB", a>>20)
	}
	atLimit := oneLine("limit.spec", 4<<20)
	a = allocated(func() { code, stdout, stderr = run(t, "specpatch", atLimit) })
	t.Logf("4 MiB spec: %d MB allocated, diff %d bytes", a>>20, len(stdout))
	if code != exitOK {
		t.Fatalf("4 MiB spec: exit %d: %s", code, stderr)
	}
	if a > 100<<20 || len(stdout) > 64<<10 {
		t.Errorf("a 4 MiB spec allocated %d MB and printed %d bytes; want under 100 MB and 64 kB", a>>20, len(stdout))
	}
}

// A spec line shown in the diff cannot drive the terminal either.
func TestSpecpatchEscapesSpecText(t *testing.T) {
	spec := copySpec(t, "rhel8-21.11-2671cc7.spec", 0o644)
	b, _ := os.ReadFile(spec)
	b = []byte(strings.Replace(string(b), "BuildRequires: doxygen, python3-sphinx\n", "BuildRequires: doxygen, python3-sphinx\n# "+hostileName+"\n", 1))
	os.WriteFile(spec, b, 0o644)
	code, stdout, stderr := run(t, "specpatch", spec)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if rawControls(stdout) || !strings.Contains(stdout, `# eth0\x1b]0;owned`) {
		t.Errorf("spec text reaches the terminal raw, or the test's line is not in the diff:\n%q", stdout)
	}
}
