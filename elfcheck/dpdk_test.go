package elfcheck

import (
	"path"
	"regexp"
	"testing"
)

// TestParseLibrte checks the hand-written matcher against the pattern it
// replaced, on real names and near misses.
func TestParseLibrte(t *testing.T) {
	oracle := regexp.MustCompile(`^librte_([a-z0-9_]+)\.so(?:\.([0-9.]+))?$`)
	names := []string{
		"librte_eal.so.23", "librte_eal.so.23.0", "librte_net_pcap.so", "librte_pmd_pcap.so.20.0",
		"/usr/lib64/librte_mempool_ring.so.24", "librte_eal.so.", "librte_eal.so.x", "librte_eal.sox",
		"librte_.so", "librte_Eal.so", "librte_eal.so.23a", "librte_eal.a", "libnuma.so.1", "librte_eal",
		"librte_net-pcap.so", "librte_eal.so.23.so.1", "librte_bus_pci.so.22.0.1",
	}
	for _, n := range names {
		m := oracle.FindStringSubmatch(path.Base(n))
		d, ok := parseLibrte(n)
		if ok != (m != nil) {
			t.Errorf("%s: parsed %v, oracle %v", n, ok, m != nil)
			continue
		}
		if ok && d.Component != m[1] {
			t.Errorf("%s: component %q, oracle %q", n, d.Component, m[1])
		}
	}
	if d, _ := parseLibrte("librte_pmd_pcap.so.20.0"); d.Class != "net" || d.Release != "19.11" {
		t.Errorf("19.11 pcap PMD: %+v", d)
	}
	if d, _ := parseLibrte("librte_net_pcap.so.23"); d.Class != "net" || d.ABI != "23" || d.Release != "22.11" {
		t.Errorf("22.11 pcap PMD: %+v", d)
	}
}
