package main

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gzdoctor/gzdoctor/internal/testenv"
)

const pdumpBin = "/usr/bin/dpdk-pdump"

func needPdump(t *testing.T) {
	t.Helper()
	testenv.File(t, pdumpBin, "Debian package dpdk")
}

func TestElfcheckExitCodes(t *testing.T) {
	needPdump(t)
	text := filepath.Join(t.TempDir(), "notelf")
	os.WriteFile(text, []byte("#!/bin/sh\n"), 0o644)
	linkFile := filepath.Join(t.TempDir(), "link.txt")
	os.WriteFile(linkFile, []byte("cc -o app main.o -lrte_eal -lrte_pdump\n"), 0o644)
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
		wantErr  string
	}{
		{"tree", []string{"elfcheck", pdumpBin}, exitOK, "librte_pdump.so.23 => ", ""},
		{"flat", []string{"elfcheck", "--flat", pdumpBin}, exitOK, "/lib/x86_64-linux-gnu/librte_eal.so.23\n", ""},
		{"requirements met", []string{"elfcheck", "--require", "pcap-pmd,dpdk=22.11,deps", pdumpBin}, exitOK, "pcap PMD reachable", ""},
		{"requirement unmet", []string{"elfcheck", "--require", "pcap-pmd,pdump,dpdk=21.11", pdumpBin}, exitProblem, "✗ dpdk=21.11: DPDK 22.11", ""},
		{"not ELF", []string{"elfcheck", "--require", "pcap-pmd", text}, exitFailure, "", "not an ELF file"},
		{"missing file", []string{"elfcheck", "/nonexistent/x"}, exitFailure, "", "no such file"},
		{"bad requirement", []string{"elfcheck", "--require", "frob", pdumpBin}, exitUsage, "", `unknown requirement "frob"`},
		{"no file", []string{"elfcheck"}, exitUsage, "", "give at least one FILE"},
		{"two modes", []string{"elfcheck", "--symbols", "--pid", "1", pdumpBin}, exitUsage, "", "--pid and --symbols cannot be used together"},
		// A mode's own output drops the report's flags: a CI gate with
		// --require would pass having checked nothing (exit 0 before).
		{"--require with --symbols", []string{"elfcheck", "--symbols", "--require", "dpdk=99.0", pdumpBin}, exitUsage, "", "--require and --symbols cannot be used together"},
		{"--match with --suggest-pdump-link", []string{"elfcheck", "--suggest-pdump-link", pdumpBin, "--match", pdumpBin}, exitUsage, "", "--match and --suggest-pdump-link cannot be used together"},
		{"--link-line with --symbols", []string{"elfcheck", "--link-line", "/dev/null", "--symbols", pdumpBin}, exitUsage, "", "--link-line and --symbols cannot be used together"},
		{"--flat with --suggest-pdump-link", []string{"elfcheck", "--flat", "--suggest-pdump-link", pdumpBin}, exitUsage, "", "--flat and --suggest-pdump-link cannot be used together"},
		{"regexp without symbols", []string{"elfcheck", "--regexp", "x", pdumpBin}, exitUsage, "", "--regexp needs --symbols"},
		{"symbols --regexp", []string{"elfcheck", "--symbols", "--regexp", "^rte_pdump_enable$", pdumpBin}, exitOK, "U rte_pdump_enable@DPDK_23", ""},
		{"symbols --filter (hidden alias)", []string{"elfcheck", "--symbols", "--filter", "^rte_pdump_enable$", pdumpBin}, exitOK, "U rte_pdump_enable@DPDK_23", ""},
		{"match", []string{"elfcheck", "--match", pdumpBin, "/usr/bin/dpdk-testpmd"}, exitProblem, "[mempool-ops]", ""},
		{"link line missing pcap", []string{"elfcheck", "--link-line", linkFile}, exitProblem, "no pcap PMD", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := run(t, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d\nstdout %s\nstderr %s", code, tt.wantCode, out, errOut)
			}
			if !strings.Contains(out, tt.wantOut) {
				t.Errorf("stdout does not contain %q:\n%s", tt.wantOut, out)
			}
			if !strings.Contains(errOut, tt.wantErr) {
				t.Errorf("stderr does not contain %q:\n%s", tt.wantErr, errOut)
			}
		})
	}
}

func TestElfcheckJUnitAndJSON(t *testing.T) {
	needPdump(t)
	junit := filepath.Join(t.TempDir(), "elf.xml")
	code, out, errOut := run(t, "-o", "json", "elfcheck", "--require", "pcap-pmd,pdump", "--junit", junit, pdumpBin)
	if code != exitProblem {
		t.Fatalf("exit %d (%s)", code, errOut)
	}
	var env struct {
		Command string `json:"command"`
		Data    struct {
			Reports []struct {
				Path string `json:"path"`
				DPDK struct {
					Version   string `json:"version"`
					PluginDir string `json:"plugin_dir"`
				} `json:"dpdk"`
				Libraries []struct {
					Name string `json:"name"`
					Path string `json:"path"`
				} `json:"libraries"`
			} `json:"reports"`
			Requirements []struct {
				Requirement string `json:"requirement"`
				Met         bool   `json:"met"`
			} `json:"requirements"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(out), &env); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	r := env.Data.Reports[0]
	if env.Command != "elfcheck" || r.Path != pdumpBin || !strings.HasPrefix(r.DPDK.Version, "22.11.") || len(r.Libraries) < 12 {
		t.Errorf("json %+v", env)
	}
	if len(env.Data.Requirements) != 2 || !env.Data.Requirements[0].Met || env.Data.Requirements[1].Met {
		t.Errorf("requirements %+v (dpdk-pdump does not call rte_pdump_init)", env.Data.Requirements)
	}
	b, err := os.ReadFile(junit)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Suites []struct {
			Tests    int `xml:"tests,attr"`
			Failures int `xml:"failures,attr"`
			Cases    []struct {
				Name    string    `xml:"name,attr"`
				Failure *struct{} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("junit: %v\n%s", err, b)
	}
	s := doc.Suites[0]
	if s.Tests != 2 || s.Failures != 1 || s.Cases[0].Name != "pcap-pmd" || s.Cases[1].Failure == nil {
		t.Errorf("junit %s", b)
	}
	// The fix is the failure's body; the host leads the classname.
	host, _ := os.Hostname()
	for _, want := range []string{"must call rte_pdump_init() after rte_eal_init()", `classname="` + host + "/elfcheck/" + pdumpBin + `"`, `hostname="` + host + `"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("junit lacks %q:\n%s", want, b)
		}
	}
	xmllintJUnit(t, junit)
}

// elfcheck prints paths and sonames from the files it reads: a file named
// to drive the terminal is shown escaped.
func TestElfcheckEscapesPaths(t *testing.T) {
	exe, err := os.ReadFile("/usr/bin/true")
	if err != nil {
		t.Skipf("no /usr/bin/true to copy: %v", err)
	}
	root := t.TempDir()
	name := "/bin/t\x1b]0;owned\x07\x1b[2K\r✓ ok"
	os.MkdirAll(filepath.Join(root, "bin"), 0o755)
	if err := os.WriteFile(filepath.Join(root, name), exe, 0o755); err != nil {
		t.Fatal(err)
	}
	_, stdout, stderr := run(t, "elfcheck", "--root", root, name)
	if rawControls(stdout) || rawControls(stderr) || !strings.Contains(stdout, `/bin/t\x1b]0;owned\x07\x1b[2K\r✓ ok`) {
		t.Errorf("the path reaches the terminal raw, or not at all:\nstdout %q\nstderr %q", stdout, stderr)
	}
}
