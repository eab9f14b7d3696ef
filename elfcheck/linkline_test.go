package elfcheck

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The seed guide's gazelle-pdump link line (DPDK 19.11 names).
const seedLine = `cc -lm -lpthread -lrt -lnuma -lconfig -lboundscheck -Wl,--whole-archive /usr/lib64/librte_pci.so /usr/lib64/librte_bus_pci.so /usr/lib64/librte_cmdline.so /usr/lib64/librte_hash.so /usr/lib64/librte_mempool.so /usr/lib64/librte_mempool_ring.so /usr/lib64/librte_timer.so /usr/lib64/librte_eal.so /usr/lib64/librte_ring.so /usr/lib64/librte_mbuf.so /usr/lib64/librte_kni.so /usr/lib64/librte_gro.so /usr/lib64/librte_pmd_ixgbe.so /usr/lib64/librte_kvargs.so /usr/lib64/librte_pmd_hinic.so /usr/lib64/librte_pmd_i40e.so /usr/lib64/librte_pmd_virtio.so /usr/lib64/librte_bus_vdev.so /usr/lib64/librte_net.so /usr/lib64/librte_ethdev.so /usr/lib64/librte_pdump.so /usr/lib64//librte_pmd_pcap.so main.o -Wl,--no-whole-archive -Wl,--whole-archive -Wl,--no-whole-archive -o gazelle-pdump`

func findings(lc *LinkCheck, sev string) []string {
	var out []string
	for _, f := range lc.Findings {
		if f.Severity == sev {
			out = append(out, f.Message)
		}
	}
	return out
}

func TestLinkLine(t *testing.T) {
	tests := []struct {
		name     string
		line     string
		wantOK   bool
		wantFail []string // substrings of fail findings
		wantWarn []string
	}{
		{name: "seed guide", line: seedLine, wantOK: true},
		{name: "no pcap, no pdump", line: "gcc -o app main.o -L/usr/lib64 -lrte_eal -lrte_ethdev", wantFail: []string{"no pcap PMD", "no librte_pdump"}},
		{name: "static PMD outside whole-archive", line: "gcc -o app main.o -Wl,-Bstatic -lrte_net_pcap -lrte_pdump -Wl,-Bdynamic -lpcap",
			wantFail: []string{"-lrte_net_pcap is a static driver outside --whole-archive"}},
		{name: "static PMD inside whole-archive", line: "gcc -o app main.o -Wl,--whole-archive -l:librte_net_pcap.a -Wl,--no-whole-archive -l:librte_pdump.a", wantOK: true},
		{name: "shared PMD under as-needed", line: "gcc -o app main.o -Wl,--as-needed -lrte_net_pcap -lrte_pdump",
			wantOK: true, wantWarn: []string{"-lrte_net_pcap is a driver linked under --as-needed"}},
		{name: "duplicates and quoting", line: "gcc -o 'my app' main.o \\\n -lrte_pdump /usr/lib64/librte_pdump.so \"-lrte_net_pcap\"",
			wantOK: true, wantWarn: []string{"listed more than once: pdump"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ll, err := ParseLinkLine(tt.line)
			if err != nil {
				t.Fatal(err)
			}
			lc := CheckLinkLine(ll, nil)
			if lc.OK != tt.wantOK {
				t.Errorf("ok %v, findings %+v", lc.OK, lc.Findings)
			}
			fails, warns := strings.Join(findings(lc, "fail"), "\n"), strings.Join(findings(lc, "warn"), "\n")
			for _, w := range tt.wantFail {
				if !strings.Contains(fails, w) {
					t.Errorf("fail %q not in:\n%s", w, fails)
				}
			}
			for _, w := range tt.wantWarn {
				if !strings.Contains(warns, w) {
					t.Errorf("warn %q not in:\n%s", w, warns)
				}
			}
		})
	}
	ll, _ := ParseLinkLine(seedLine)
	if ll.Output != "gazelle-pdump" || len(ll.Items) != 29 {
		t.Errorf("output %q items %d", ll.Output, len(ll.Items))
	}
	for _, it := range ll.Items {
		if it.Component == "pmd_pcap" && (!it.WholeArchive || it.Static) {
			t.Errorf("pcap item %+v", it)
		}
	}
	if _, err := ParseLinkLine("gcc 'unterminated"); err == nil {
		t.Error("unterminated quote accepted")
	}
}

// TestSuggestPdumpLink derives gazelle-pdump's link line from a fake
// liblstack.so, then checks that line against the library it came from.
func TestSuggestPdumpLink(t *testing.T) {
	needFile(t, "/usr/lib/x86_64-linux-gnu/librte_eal.so.23")
	lib := buildLstack(t, t.TempDir(), true)
	r := analyze(t, lib, Options{})
	pl, err := SuggestPdumpLink(r)
	if err != nil {
		t.Fatal(err)
	}
	want := "cc -o gazelle-pdump pdump_main.o -Wl,--no-as-needed /lib/x86_64-linux-gnu/librte_eal.so.23 /lib/x86_64-linux-gnu/librte_pdump.so.23 /lib/x86_64-linux-gnu/librte_ethdev.so.23 /lib/x86_64-linux-gnu/librte_mempool_ring.so.23"
	if !strings.HasPrefix(pl.Command, want) || !strings.Contains(pl.Command, "librte_net_pcap.so.23 -Wl,--as-needed") {
		t.Errorf("command\n%s\nwant prefix\n%s", pl.Command, want)
	}
	if len(pl.Warnings) != 0 {
		t.Errorf("warnings %v", pl.Warnings)
	}
	ll, err := ParseLinkLine(pl.Command)
	if err != nil {
		t.Fatal(err)
	}
	if lc := CheckLinkLine(ll, r); !lc.OK || len(findings(lc, "warn")) != 0 {
		t.Errorf("suggested line does not pass its own check: %+v", lc.Findings)
	}

	noPcap := analyze(t, buildLstack(t, t.TempDir(), false), Options{})
	pl, _ = SuggestPdumpLink(noPcap)
	if strings.Contains(pl.Command, "net_pcap") || len(pl.Notes) < 2 || !strings.Contains(pl.Notes[0], "plugin-dir") {
		t.Errorf("without pcap: %s %v", pl.Command, pl.Notes)
	}
}

func TestDynamicSymbolsDemangled(t *testing.T) {
	needTool(t, "g++")
	so := filepath.Join(t.TempDir(), "libcxx.so")
	run(t, "g++", "-shared", "-fPIC", "-o", so, filepath.Join(srcDir(t), "cxx.cc"))
	list, err := DynamicSymbols(context.Background(), "/", so, regexp.MustCompile(`Socket::bind`))
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Symbols) != 1 || list.Symbols[0].Name != "_ZN7gazelle6Socket4bindEPKct" ||
		list.Symbols[0].Demangled != "gazelle::Socket::bind(char const*, unsigned short)" || !list.Symbols[0].Defined {
		t.Errorf("symbols %+v", list.Symbols)
	}
	// The same symbols without section headers, through DT_GNU_HASH.
	all, _ := DynamicSymbols(context.Background(), "/", so, nil)
	b := mustRead(t, so)
	stripped := filepath.Join(t.TempDir(), "libcxx-nosections.so")
	writeFile(t, stripped, putU16(putU64(b, 0x28, 0), 0x3C, 0))
	noSec, err := DynamicSymbols(context.Background(), "/", stripped, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(noSec.Symbols) != len(all.Symbols) {
		t.Errorf("without sections %d symbols, with %d", len(noSec.Symbols), len(all.Symbols))
	}
}
