package host

import (
	"strings"
	"testing"

	"github.com/gzdoctor/gzdoctor/host/telemetry"
)

func TestNamePortsFromEAL(t *testing.T) {
	ids := func(n int) []telemetry.EthPort {
		out := make([]telemetry.EthPort, n)
		for i := range out {
			out[i] = telemetry.EthPort{ID: i, Error: "/ethdev/info: command unknown"}
		}
		return out
	}
	for _, tc := range []struct {
		name  string
		ports []telemetry.EthPort
		args  string
		want  string // names by port, "" when none are given
	}{
		{"one vdev", ids(1), "--file-prefix p --no-pci --vdev net_null0", "net_null0"},
		{"vdev args are cut", ids(1), "--no-pci --vdev net_ring0,nodeaction=r1:0:CREATE", "net_ring0"},
		{"vdevs in --vdev order", ids(2), "--no-pci --vdev net_af_packet0,iface=v --vdev net_bonding0,mode=0,slave=net_af_packet0", "net_af_packet0,net_bonding0"},
		{"a pdump's hotplugged vdevs come after", ids(3), "--no-pci --vdev net_null0", "net_null0,,"},
		{"allowed PCI first, in address order, then vdevs", ids(3), "-a 0000:03:00.0 -a 0000:01:00.0 --vdev net_null0", "0000:01:00.0,0000:03:00.0,net_null0"},
		{"one allowed PCI device", ids(1), "-a 01:00.0", "0000:01:00.0"},
		{"every bound PCI device probed: unknown", ids(1), "--vdev net_null0", ""},
		{"an allowed PCI device made no port", ids(1), "-a 0000:01:00.0 --vdev net_null0", ""},
		{"more ports than allowed PCI devices", ids(2), "-a 0000:01:00.0", ""},
		{"fewer ports than devices", ids(1), "--no-pci --vdev net_null0 --vdev net_null1", ""},
		{"a port EAL made is gone", []telemetry.EthPort{{ID: 1}}, "--no-pci --vdev net_null0", ""},
		{"telemetry named them", []telemetry.EthPort{{ID: 0, Name: "net_ring0"}}, "--no-pci --vdev net_null0", "net_ring0"},
		{"no ports", nil, "--no-pci --vdev net_null0", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ports := append([]telemetry.EthPort(nil), tc.ports...)
			changed := NamePortsFromEAL(ports, ParseEALArgs(strings.Fields(tc.args)))
			var names []string
			for _, p := range ports {
				names = append(names, p.Name)
				if p.Name != "" && p.NameFrom != PortNameFromEAL && changed {
					t.Errorf("port %d named %q without NameFrom", p.ID, p.Name)
				}
			}
			got := strings.Join(names, ",")
			if strings.Trim(got, ",") == "" {
				got = ""
			}
			if got != tc.want {
				t.Errorf("names %q, want %q", got, tc.want)
			}
			if tc.want != "" && tc.ports != nil && tc.ports[0].Name == "" && !changed {
				t.Errorf("reported no change")
			}
		})
	}
	if NamePortsFromEAL(ids(1), nil) {
		t.Error("named ports without arguments")
	}
}
