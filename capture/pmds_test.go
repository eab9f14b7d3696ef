package capture

import (
	"reflect"
	"testing"

	"github.com/gzdoctor/gzdoctor/host/telemetry"
)

func TestPMDComponent(t *testing.T) {
	for in, want := range map[string]string{
		"/usr/lib/x86_64-linux-gnu/librte_net_bond.so.23.0":             "net_bond",
		"/usr/lib64/librte_net_mlx5.so.24":                              "net_mlx5",
		"/usr/lib64/librte_pmd_bond.so.20.0":                            "pmd_bond", // 19.11
		"/usr/lib/x86_64-linux-gnu/dpdk/pmds-23.0/librte_net_af_xdp.so": "net_af_xdp",
		"/usr/lib/x86_64-linux-gnu/librte_eal.so.23.0":                  "",
		"/usr/lib/x86_64-linux-gnu/librte_mempool_ring.so.23.0":         "",
		"/usr/lib/x86_64-linux-gnu/librte_common_mlx5.so.23.0":          "",
		"/usr/lib/libnet_foo.so":                                        "",
		"/usr/lib/librte_net_x":                                         "",
	} {
		if got := pmdComponent(in); got != want {
			t.Errorf("pmdComponent(%q) = %q, want %q", in, got, want)
		}
	}
}

// The -d list is the primary's PMDs the tool does not load by itself
// (linked or from its plugin dir), once each, in the primary's order;
// one this machine does not have is left out and said.
func TestDerivePMDs(t *testing.T) {
	mapped := []string{
		"/usr/bin/ltran",
		"/usr/lib64/librte_eal.so.24",
		"/usr/lib64/librte_net_bond.so.24",
		"/usr/lib64/librte_net_mlx5.so.24",
		"/usr/lib64/librte_net_mlx5.so.24", // mapped more than once
		"/usr/lib64/librte_net_ixgbe.so.24",
		"/usr/lib64/librte_net_af_xdp.so.24 (deleted)",
		"/opt/gone/librte_net_hns3.so.24",
	}
	pmds := primaryPMDs(mapped)
	if want := []string{"/usr/lib64/librte_net_bond.so.24", "/usr/lib64/librte_net_mlx5.so.24", "/usr/lib64/librte_net_ixgbe.so.24", "/opt/gone/librte_net_hns3.so.24"}; !reflect.DeepEqual(pmds, want) {
		t.Fatalf("primaryPMDs = %q, want %q", pmds, want)
	}
	exists := func(f string) bool { return f != "/opt/gone/librte_net_hns3.so.24" }
	for _, tt := range []struct {
		name     string
		has      map[string]bool
		want     []string
		wantNote bool
	}{
		{"gazelle-pdump linked with bond and ixgbe", map[string]bool{"net_bond": true, "net_ixgbe": true, "net_pcap": true},
			[]string{"/usr/lib64/librte_net_mlx5.so.24"}, true},
		{"a tool with every driver in its plugin dir", map[string]bool{"net_bond": true, "net_ixgbe": true, "net_mlx5": true, "net_hns3": true}, nil, false},
		{"a tool with none", map[string]bool{}, []string{"/usr/lib64/librte_net_bond.so.24", "/usr/lib64/librte_net_mlx5.so.24", "/usr/lib64/librte_net_ixgbe.so.24"}, true},
	} {
		libs, note := derivePMDs(pmds, tt.has, exists)
		if !reflect.DeepEqual(libs, tt.want) || (note != "") != tt.wantNote {
			t.Errorf("%s: -d %q, note %q; want %q", tt.name, libs, note, tt.want)
		}
	}
}

func TestPortPMDs(t *testing.T) {
	pmds := []string{"/l/librte_net_bond.so.23", "/l/librte_net_af_packet.so.23", "/l/librte_net_mlx5.so.23", "/l/librte_net_ring.so.23", "/l/librte_pmd_null.so.20.0"}
	for _, tt := range []struct {
		name  string
		ports []telemetry.EthPort
		want  []string
	}{
		{"ltran: af_packet and its bond", []telemetry.EthPort{{Name: "net_af_packet0"}, {ID: 1, Name: "net_bonding0"}, {ID: 2, Name: "net_pcap_rx_0"}},
			[]string{"/l/librte_net_bond.so.23", "/l/librte_net_af_packet.so.23"}},
		{"19.11 names", []telemetry.EthPort{{Name: "eth_null0"}}, []string{"/l/librte_pmd_null.so.20.0"}},
		{"a PCI port says nothing: all", []telemetry.EthPort{{Name: "0000:01:00.0"}, {ID: 1, Name: "net_bonding0"}}, pmds},
		{"ports unknown: all", nil, pmds},
	} {
		if got := portPMDs(pmds, tt.ports); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}
