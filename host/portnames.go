package host

import (
	"sort"
	"strings"

	"github.com/gzdoctor/gzdoctor/host/telemetry"
)

// PortNameFromEAL marks a telemetry.EthPort whose name telemetry did not give and
// gzdoctor took from the primary's EAL arguments.
const PortNameFromEAL = "eal-args"

// NamePortsFromEAL names the ports telemetry listed without a name (DPDK
// 20.11 answers /ethdev/list but has no /ethdev/info) from the primary's
// EAL arguments, where they leave no doubt, and reports whether it did.
//
// EAL probes the PCI bus first (in address order) and the vdev bus last (in
// --vdev order), and gives each new port the lowest free id, so the ports
// EAL made at start have ids 0..n-1 in that order; ports hotplugged later
// (a pdump's net_pcap_rx_N) come after. The names are certain when the
// arguments name every device that was probed: -a/-w lists, or --no-pci, and
// each named device made one port. That is assumed only when the arguments
// name exactly as many devices as there are ports, or name only vdevs (each
// vdev makes one port) and there are more ports (the rest are hotplugged).
// Anything else (PCI probing every bound device, fewer ports than devices)
// leaves the names empty: a capture then uses port=N.
func NamePortsFromEAL(ports []telemetry.EthPort, a *EALArgs) bool {
	if a == nil {
		return false
	}
	var nameless int
	for _, p := range ports {
		if p.Name == "" {
			nameless++
		}
	}
	if nameless == 0 || nameless != len(ports) {
		return false
	}
	if !a.NoPCI && len(a.Allow) == 0 {
		return false // every PCI device bound to a DPDK driver was probed: unknown from the arguments
	}
	var pci []string
	if !a.NoPCI {
		for _, p := range a.AllowedPCI() {
			pci = append(pci, p.String())
		}
		if len(pci) != len(a.Allow) {
			return false // an -a value that is not a PCI address: unsure what it probed
		}
		sort.Strings(pci)
	}
	names := pci
	for _, v := range a.VDevs {
		n, _, _ := strings.Cut(v, ",")
		names = append(names, n)
	}
	if len(names) == 0 || len(names) > len(ports) || (len(names) < len(ports) && len(pci) > 0) {
		return false
	}
	byID := make([]int, len(ports))
	for i := range byID {
		byID[i] = i
	}
	sort.SliceStable(byID, func(i, j int) bool { return ports[byID[i]].ID < ports[byID[j]].ID })
	for k, n := range names {
		p := &ports[byID[k]]
		if p.ID != k {
			return false // a port EAL made at start is gone: ids no longer follow the order
		}
		p.Name, p.NameFrom = n, PortNameFromEAL
	}
	return true
}
