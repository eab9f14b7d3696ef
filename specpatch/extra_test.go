package specpatch

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gzdoctor/gzdoctor/internal/testenv"
)

func readExtra(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "testdata", "specs", "extra", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestExtraSpecs(t *testing.T) {
	tests := []struct {
		file    string
		branch  string
		verdict string
		want    []string // lines the patched spec must contain
		wantNot []string // lines it must not contain
	}{
		{file: "meson-disable-list.spec", verdict: VerdictPatch,
			want:    []string{"    -Ddisable_drivers=net/mlx5,raw/ioat \\", "    -Ddisable_apps=test-pmd \\"},
			wantNot: []string{"net/pcap"}},
		{file: "meson-glob.spec", verdict: VerdictBlocked,
			want: []string{"meson build -Ddisable_drivers=net/* -Denable_apps=test-pmd,pdump"}},
		{file: "make-setconf-off.spec", verdict: VerdictPatch,
			want: []string{"setconf CONFIG_RTE_LIBRTE_PMD_PCAP n", "setconf CONFIG_RTE_BUILD_SHARED_LIB y\nsetconf CONFIG_RTE_LIBRTE_PMD_PCAP y\nsetconf CONFIG_RTE_LIBRTE_PDUMP y\nmake V=1", "BuildRequires: gcc\nBuildRequires: libpcap-devel\n"}},
		{file: "make-crlf.spec", verdict: VerdictPatch,
			want: []string{"build/.config\r\nsed -ri 's,(LIBRTE_PMD_PCAP=).*,\\1y,' build/.config\r\nmake O=build\r\n"}},
		{file: "arch-branches.spec", verdict: VerdictPatch,
			want:    []string{"meson build -Ddisable_drivers=net/mlx5\n", "rm -f %{buildroot}/usr/local/bin/dpdk-test\n", "  %else\nmeson build\n"},
			wantNot: []string{"net/pcap"}},
		// Plain meson with --libdir=%{_libdir} and %files globs: the PMD's
		// path was joined before expansion (/usr//usr/lib64/...).
		{file: "meson-libdir-globs.spec", verdict: VerdictGood},
		{file: "meson-libdir-globs-off.spec", verdict: VerdictPatch,
			want:    []string{"BuildRequires: libpcap-devel\n", "       -Ddisable_drivers=net/mlx5 \\\n", "%{_bindir}/dpdk-devbind.py\n%{_bindir}/dpdk-pdump\n"},
			wantNot: []string{"disable_drivers=net/pcap", "librte_net_pcap"}},
		{file: "arch-branches.spec", branch: "%ifarch aarch64", verdict: VerdictBlocked,
			want: []string{"meson build -Ddisable_drivers=net/mlx5\n", "meson build -Ddisable_drivers=net/pcap\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.file+tt.branch, func(t *testing.T) {
			data := readExtra(t, tt.file)
			res, out, err := Patch(data, Options{File: tt.file, Branch: tt.branch})
			if err != nil {
				t.Fatal(err)
			}
			if res.Verdict != tt.verdict {
				t.Errorf("verdict %s, want %s: %+v", res.Verdict, tt.verdict, res.Findings)
			}
			for _, w := range tt.want {
				if !bytes.Contains(out, []byte(w)) {
					t.Errorf("patched spec lacks %q:\n%s", w, res.Diff)
				}
			}
			for _, w := range tt.wantNot {
				if bytes.Contains(out, []byte(w)) {
					t.Errorf("patched spec still has %q:\n%s", w, res.Diff)
				}
			}
			_, out2, err := Patch(out, Options{File: tt.file, Branch: tt.branch})
			if err != nil || !bytes.Equal(out, out2) {
				t.Errorf("second run changed the spec (err %v)", err)
			}
		})
	}
}

func TestBadInput(t *testing.T) {
	tests := []struct{ file, want string }{
		{"not-a-spec.txt", "not an RPM spec"},
		{"no-build.spec", "no %build section"},
		{"unknown-style.spec", "unknown build style"},
		{"unclosed-if.spec", "unclosed %if"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			_, _, err := Patch(readExtra(t, tt.file), Options{})
			var pe *ParseError
			if !errors.As(err, &pe) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want a ParseError with %q", err, tt.want)
			}
		})
	}
}

func TestRoundTrip(t *testing.T) {
	for _, in := range []string{"", "a", "a\n", "a\r\nb\n", "a\nb", "\n\n", "x\r\n"} {
		if got := string(JoinLines(SplitLines([]byte(in)))); got != in {
			t.Errorf("round trip %q → %q", in, got)
		}
	}
}

func TestBumpRelease(t *testing.T) {
	tests := []struct{ in, want string }{
		{"1%{?dist}", "2%{?dist}"},
		{"22", "23"},
		{"0", "1"},
		{"0.3.rc1%{?dist}", "0.4.rc1%{?dist}"},
		{"rc9%{?dist}", "rc10%{?dist}"},
		{"git%{?dist}", "git.1%{?dist}"},
	}
	for _, tt := range tests {
		if got := bumpRelease(tt.in); got != tt.want {
			t.Errorf("bumpRelease(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestBump(t *testing.T) {
	now := time.Date(2024, 3, 5, 10, 0, 0, 0, time.UTC)
	opts := Options{Bump: "Build the pcap PMD and pdump for gazelle; 100% needed", Packager: "Jane Doe <jane@example.com>", Now: now}
	tests := []struct {
		file, spec string
		wantRel    string
		wantHead   string
	}{
		{file: "openeuler-19.11-abfe846.spec", wantRel: "Release: 23", wantHead: "* Tue Mar 05 2024 Jane Doe <jane@example.com> - 19.11-23"},
		{file: "rhel8-21.11-2671cc7.spec", wantRel: "%define rel 4", wantHead: "* Tue Mar 05 2024 Jane Doe <jane@example.com> - 21.11-4"},
		{file: "daos-19.11.6-0bf016e.spec", wantRel: "%define rel 2", wantHead: "* Tue Mar 05 2024 Jane Doe <jane@example.com> - 19.11.6-2"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data := readCorpus(t, tt.file)
			res, out, err := Patch(data, Options{File: tt.file, Bump: opts.Bump, Packager: opts.Packager, Now: now})
			if err != nil {
				t.Fatal(err)
			}
			s := string(out)
			if !strings.Contains(s, "\n"+tt.wantRel+"\n") {
				t.Errorf("no %q", tt.wantRel)
			}
			if !strings.Contains(s, "%changelog\n"+tt.wantHead+"\n- Build the pcap PMD and pdump for gazelle; 100%% needed\n\n") {
				t.Errorf("changelog entry missing:\n%s", res.Diff)
			}
			if res.Bump == nil {
				t.Error("no bump in result")
			}
		})
	}
	// %autorelease is left alone; a good spec is never bumped.
	auto := strings.Replace(string(readExtra(t, "meson-disable-list.spec")), "Release: 1%{?dist}", "Release: %autorelease", 1)
	auto = strings.Replace(auto, "* Mon Jan 01 2024 A <a@example.com> - 21.11-1\n- first\n", "%autochangelog\n", 1)
	res, out, err := Patch([]byte(auto), opts)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "Release: %autorelease\n") || strings.Count(string(out), "* Tue") != 0 || res.Bump == nil {
		t.Errorf("autorelease spec changed wrongly:\n%s", res.Diff)
	}
	good := readCorpus(t, "fedora-22.11.1-d484aba.spec")
	_, out, err = Patch(good, opts)
	if err != nil || !bytes.Equal(out, good) {
		t.Errorf("good spec bumped (err %v)", err)
	}
	if _, _, err := Patch(readCorpus(t, "openeuler-19.11-abfe846.spec"), Options{Bump: "x", Now: now}); err == nil || !strings.Contains(err.Error(), "no packager") {
		t.Errorf("no packager: err %v", err)
	}
}

// TestDiffMatchesDiffU checks the diff against diff(1)'s unified format.
func TestDiffMatchesDiffU(t *testing.T) {
	diffBin := "/usr/bin/diff"
	testenv.File(t, diffBin, "Debian package diffutils")
	for _, name := range []string{"rhel9-22.11-e5a5f71.spec", "daos-19.11.6-0bf016e.spec"} {
		data := readCorpus(t, name)
		res, out, err := Patch(data, Options{File: "x.spec"})
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
		os.WriteFile(a, data, 0o644)
		os.WriteFile(b, out, 0o644)
		want := runDiff(t, diffBin, a, b)
		got := res.Diff[strings.Index(res.Diff, "@@"):]
		if got != want {
			t.Errorf("%s: diff differs from diff -u:\n%s\nwant:\n%s", name, got, want)
		}
	}
}
