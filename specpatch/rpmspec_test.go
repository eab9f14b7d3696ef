package specpatch

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// rpmspec (Debian's rpm 4.18) is the oracle: it expands the spec the way
// rpmbuild will, picks %if/%ifarch arms for a --target, and drops what is
// off. Debian's rpm lacks the meson and python macro packages, so the test
// defines the few macros the specs use.
var rpmspecDefines = []string{
	"python_module() python3-%**",
	"_vpath_srcdir .",
	"meson meson setup --prefix=%{_prefix} --libdir=%{_libdir} --bindir=%{_bindir} %{_vpath_srcdir} %{_vpath_builddir}",
	"meson_build ninja -C %{_vpath_builddir}",
	"meson_install DESTDIR=%{buildroot} ninja -C %{_vpath_builddir} install",
}

var targets = []string{"x86_64", "aarch64"}

// buildMarker is a shell no-op put right after %build in the copy given
// to rpmspec: rpm 4.18's -P output can lose the %build header after an
// %autosetup with many patches, and the test must find where %build starts.
const buildMarker = ": gzdoctor-build-start"

func rpmspecParse(t *testing.T, specPath, target string) (string, error) {
	t.Helper()
	data, err := os.ReadFile(specPath)
	if err != nil {
		t.Fatal(err)
	}
	lines := SplitLines(data)
	for i, l := range lines {
		if n, _ := sectionHeader(l.Text); n == "build" {
			lines = append(lines[:i+1], append([]Line{{Text: buildMarker, EOL: "\n"}}, lines[i+1:]...)...)
			break
		}
	}
	specPath = filepath.Join(t.TempDir(), filepath.Base(specPath))
	if err := os.WriteFile(specPath, JoinLines(lines), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"-P", "--target", target}
	for _, d := range rpmspecDefines {
		args = append(args, "--define", d)
	}
	cmd := exec.Command("rpmspec", append(args, specPath)...)
	cmd.Dir = t.TempDir()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%v: %s", err, stderr.String())
	}
	return string(out), nil
}

// section returns the lines of one expanded section.
func section(expanded, name string) []string {
	var out []string
	in := false
	for _, l := range strings.Split(expanded, "\n") {
		if n, _ := sectionHeader(l); n != "" {
			in = n == name
			continue
		}
		if l == buildMarker {
			in = name == "build"
			continue
		}
		if in {
			out = append(out, l)
		}
	}
	return out
}

// checkExpanded verifies, on rpmspec's expansion for one target, that the
// pcap PMD and pdump are built and packaged. It returns what is wrong.
//
// With pmdFiles it also checks that %files packages the pcap PMD where
// meson installs it; that reading does not follow the files that %install
// moves afterwards (openEuler 21.11 moves /usr/local/lib64/* to %{_libdir}),
// so it is asked for only on specs that move nothing.
func checkExpanded(t *testing.T, expanded string, commonBase []byte, pmdFiles bool) []string {
	t.Helper()
	var problems []string
	build := section(expanded, "build")
	makeCfg := regexp.MustCompile(`^\s*make\b.*\bO=(\S+).*\bconfig\b`)
	isMake := false
	for _, l := range build {
		if mt := makeCfg.FindStringSubmatch(l); mt != nil {
			isMake = true
			problems = append(problems, runMakeConfig(t, build, mt[1], commonBase)...)
			break
		}
	}
	var pmdPaths []string
	if !isMake {
		mp, paths := runMesonSetup(t, build)
		problems = append(problems, mp...)
		pmdPaths = paths
		br := false
		for _, l := range strings.Split(expanded, "\n") {
			if strings.HasPrefix(l, "BuildRequires:") && (strings.Contains(l, "libpcap-devel") || strings.Contains(l, "pkgconfig(libpcap)")) {
				br = true
			}
		}
		if !br {
			problems = append(problems, "no BuildRequires on libpcap")
		}
	}
	for _, l := range section(expanded, "install") {
		f := strings.Fields(l)
		if len(f) > 0 && f[0] == "rm" && strings.HasSuffix(l, "/dpdk-pdump") {
			problems = append(problems, "%install removes dpdk-pdump: "+l)
		}
	}
	packaged := false
	for _, l := range strings.Split(strings.Join(section(expanded, "files"), "\n"), "\n") {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "%exclude") {
			continue
		}
		for _, p := range []string{"/usr/bin/dpdk-pdump", "/usr/local/bin/dpdk-pdump"} {
			if ok, _ := path.Match(l, p); ok {
				packaged = true
			}
		}
	}
	if !packaged {
		problems = append(problems, "no %files line packages dpdk-pdump")
	}
	if pmdFiles && len(pmdPaths) > 0 && !filesPackage(section(expanded, "files"), pmdPaths) {
		problems = append(problems, "no %files line packages the pcap PMD ("+strings.Join(pmdPaths, ", ")+")")
	}
	return problems
}

// filesPackage reports whether an expanded %files line (not %exclude'd)
// names one of paths, exactly, by a glob or by a directory above it.
func filesPackage(files, paths []string) bool {
	var in, out bool
	for _, l := range files {
		f := strings.Fields(l)
		exclude := false
		for len(f) > 0 && strings.HasPrefix(f[0], "%") {
			exclude = exclude || f[0] == "%exclude"
			f = f[1:]
		}
		if len(f) == 0 {
			continue
		}
		for _, p := range paths {
			for d := p; d != "/" && d != "."; d = path.Dir(d) {
				if ok, _ := path.Match(f[0], d); ok {
					if exclude {
						out = true
					} else {
						in = true
					}
				}
			}
		}
	}
	return in && !out
}

// runMakeConfig runs the expanded .config edits of %build (the setconf
// function, sed/setconf/echo lines between `make … config` and the
// compile) on DPDK 19.11's real config/common_base, then reads the keys.
func runMakeConfig(t *testing.T, build []string, dir string, commonBase []byte) []string {
	t.Helper()
	tmp := t.TempDir()
	if err := os.MkdirAll(filepath.Join(tmp, dir), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tmp, dir, ".config"), commonBase, 0o644); err != nil {
		t.Fatal(err)
	}
	var script []string
	inFunc, started := false, false
	for _, l := range build {
		t := strings.TrimSpace(l)
		switch {
		case regexp.MustCompile(`^(function\s+)?\w+\s*\(\)\s*\{?$`).MatchString(t):
			inFunc = true
			script = append(script, l)
			continue
		case inFunc:
			script = append(script, l)
			if t == "}" {
				inFunc = false
			}
			continue
		}
		if strings.HasPrefix(t, "make") && strings.Contains(t, "O="+dir) {
			if started && !strings.Contains(t, " config") {
				break
			}
			started = true
			continue
		}
		if !started {
			continue
		}
		switch {
		case strings.Contains(t, "/SOURCES/") && strings.Contains(t, ".config"):
			// A packaged config copied over .config: DAOS's
			// x86_64-native-linuxapp-gcc-config has both keys off.
			script = append(script, fmt.Sprintf(`sed -i -e 's/^CONFIG_RTE_LIBRTE_PMD_PCAP=.*/CONFIG_RTE_LIBRTE_PMD_PCAP=n/' -e 's/^CONFIG_RTE_LIBRTE_PDUMP=.*/CONFIG_RTE_LIBRTE_PDUMP=n/' %q`, dir+"/.config"))
		case strings.HasPrefix(t, "sed ") && strings.Contains(t, ".config"),
			strings.HasPrefix(t, "setconf "),
			strings.HasPrefix(t, "echo ") && strings.Contains(t, ".config"):
			script = append(script, l)
		}
	}
	cmd := exec.Command("bash", "-c", strings.Join(script, "\n"))
	cmd.Dir = tmp
	if out, err := cmd.CombinedOutput(); err != nil {
		return []string{fmt.Sprintf("config edits failed: %v: %s", err, out)}
	}
	cfg, err := os.ReadFile(filepath.Join(tmp, dir, ".config"))
	if err != nil {
		t.Fatal(err)
	}
	var problems []string
	for _, key := range []string{"CONFIG_RTE_LIBRTE_PMD_PCAP", "CONFIG_RTE_LIBRTE_PDUMP"} {
		val := ""
		for _, l := range strings.Split(string(cfg), "\n") {
			if v, ok := strings.CutPrefix(l, key+"="); ok {
				val = v // make's include: the last assignment wins
			}
		}
		if val != "y" {
			problems = append(problems, fmt.Sprintf("%s=%s after the %%build config edits", key, val))
		}
	}
	return problems
}

// runMesonSetup runs the expanded %build with meson replaced by a function
// that records its arguments and stops the script, then checks them. It
// also returns where meson installs the pcap PMD (its ABI stands as 23):
// the library dir and the drivers' subdir, which holds links to it.
func runMesonSetup(t *testing.T, build []string) ([]string, []string) {
	t.Helper()
	tmp := t.TempDir()
	argsFile := filepath.Join(tmp, "meson.args")
	script := "meson() { printf '%s\\n' \"$@\" > " + argsFile + "; exit 0; }\n" + strings.Join(build, "\n")
	cmd := exec.Command("bash", "-c", script)
	cmd.Dir = tmp
	out, _ := cmd.CombinedOutput()
	data, err := os.ReadFile(argsFile)
	if err != nil {
		return []string{"meson was not run by %build: " + string(out)}, nil
	}
	args := strings.Split(strings.TrimSpace(string(data)), "\n")
	opts := map[string]string{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "-D" && i+1 < len(args) {
			i++
			a = "-D" + args[i]
		}
		if k, v, ok := strings.Cut(strings.TrimPrefix(a, "-D"), "="); ok && strings.HasPrefix(a, "-D") {
			opts[k] = v // the last one wins, as in meson
		}
		if k, v, ok := strings.Cut(strings.TrimPrefix(a, "--"), "="); ok && strings.HasPrefix(a, "--") {
			opts[k] = v
		}
	}
	prefix, libdir, subdir := cmpOr(opts["prefix"], "/usr/local"), cmpOr(opts["libdir"], "lib64"), cmpOr(opts["drivers_install_subdir"], "dpdk/pmds-23.0")
	if !strings.HasPrefix(libdir, "/") {
		libdir = prefix + "/" + libdir
	}
	if !strings.HasPrefix(subdir, "/") {
		subdir = libdir + "/" + subdir
	}
	pmd := []string{path.Clean(libdir + "/librte_net_pcap.so.23"), path.Clean(subdir + "/librte_net_pcap.so.23")}
	var problems []string
	has := func(list, target string) bool {
		for _, it := range strings.Split(list, ",") {
			if ok, _ := path.Match(strings.TrimSpace(it), target); ok {
				return true
			}
		}
		return false
	}
	if has(opts["disable_drivers"], "net/pcap") {
		problems = append(problems, "disable_drivers="+opts["disable_drivers"])
	}
	if v := opts["enable_drivers"]; v != "" && !has(v, "net/pcap") {
		problems = append(problems, "enable_drivers="+v)
	}
	if has(opts["disable_libs"], "pdump") {
		problems = append(problems, "disable_libs="+opts["disable_libs"])
	}
	if v := opts["enable_apps"]; v != "" && !has(v, "pdump") {
		problems = append(problems, "enable_apps="+v)
	}
	if has(opts["disable_apps"], "pdump") {
		problems = append(problems, "disable_apps="+opts["disable_apps"])
	}
	return problems, pmd
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func TestRpmspecOracle(t *testing.T) {
	if _, err := exec.LookPath("rpmspec"); err != nil {
		t.Skip("rpmspec not installed (Debian package rpm; lab/packages.txt)")
	}
	commonBase, err := os.ReadFile("../testdata/specs/dpdk-19.11-common_base")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range corpus {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			data := readCorpus(t, tt.file)
			_, out, err := Patch(data, Options{File: tt.file})
			if err != nil {
				t.Fatal(err)
			}
			patched := filepath.Join(t.TempDir(), tt.file)
			if err := os.WriteFile(patched, out, 0o644); err != nil {
				t.Fatal(err)
			}
			for _, target := range targets {
				orig, errOrig := rpmspecParse(t, filepath.Join(corpusDir, tt.file), target)
				after, errAfter := rpmspecParse(t, patched, target)
				if errOrig != nil {
					t.Logf("%s: rpmspec cannot parse the original: %v", target, errOrig)
					continue
				}
				if errAfter != nil {
					t.Fatalf("%s: the original parses, the patched spec does not: %v", target, errAfter)
				}
				if tt.verdict == VerdictBlocked {
					continue // what stops pdump is not in the spec
				}
				before := checkExpanded(t, orig, commonBase, false)
				got := checkExpanded(t, after, commonBase, false)
				if len(got) > 0 {
					t.Errorf("%s: patched spec: %s", target, strings.Join(got, "; "))
				}
				// The oracle must see the difference: a spec specpatch
				// patches is one the oracle finds wanting.
				if tt.verdict == VerdictPatch && len(before) == 0 {
					t.Errorf("%s: the oracle finds nothing wrong with the original, but specpatch patches it", target)
				}
				if tt.verdict == VerdictGood && len(before) > 0 {
					t.Errorf("%s: specpatch calls it good, the oracle says: %s", target, strings.Join(before, "; "))
				}
				t.Logf("%s: original: %v", target, before)
			}
		})
	}
}

// TestRpmspecOracleExtra runs the oracle, with the PMD's %files check, on
// the hand-made specs whose %install moves nothing: rpmspec expands them,
// meson's arguments say where the PMD lands, %files must package it.
func TestRpmspecOracleExtra(t *testing.T) {
	if _, err := exec.LookPath("rpmspec"); err != nil {
		t.Skip("rpmspec not installed (Debian package rpm; lab/packages.txt)")
	}
	for _, tt := range []struct {
		file    string
		verdict string
	}{
		{"meson-libdir-globs.spec", VerdictGood},
		{"meson-libdir-globs-off.spec", VerdictPatch},
	} {
		t.Run(tt.file, func(t *testing.T) {
			orig := filepath.Join("..", "testdata", "specs", "extra", tt.file)
			res, out, err := Patch(readExtra(t, tt.file), Options{File: tt.file})
			if err != nil {
				t.Fatal(err)
			}
			if res.Verdict != tt.verdict {
				t.Fatalf("verdict %s, want %s", res.Verdict, tt.verdict)
			}
			patched := filepath.Join(t.TempDir(), tt.file)
			if err := os.WriteFile(patched, out, 0o644); err != nil {
				t.Fatal(err)
			}
			for _, target := range targets {
				before, err := rpmspecParse(t, orig, target)
				if err != nil {
					t.Fatalf("%s: rpmspec: %v", target, err)
				}
				after, err := rpmspecParse(t, patched, target)
				if err != nil {
					t.Fatalf("%s: rpmspec on the patched spec: %v", target, err)
				}
				was, is := checkExpanded(t, before, nil, true), checkExpanded(t, after, nil, true)
				if len(is) > 0 {
					t.Errorf("%s: patched spec: %s", target, strings.Join(is, "; "))
				}
				if (len(was) == 0) != (tt.verdict == VerdictGood) {
					t.Errorf("%s: verdict %s, the oracle on the original says %v", target, tt.verdict, was)
				}
				t.Logf("%s: original: %v", target, was)
			}
		})
	}
}
