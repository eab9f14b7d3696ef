package doctor

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/gzdoctor/gzdoctor/host"
)

// checkIOMMU (CHK-08): PCI devices on vfio-pci need an IOMMU group (or
// vfio's unsafe no-IOMMU mode) and /dev/vfio; uio drivers need their
// module. Only the devices the capture is about are judged.
func checkIOMMU(ctx context.Context, env *Env) Result {
	devs, err := env.pciDevices(ctx)
	if err != nil {
		return errored(err.Error())
	}
	var details []string
	for _, m := range []string{"vfio", "vfio_pci", "vfio_iommu_type1", "igb_uio", "uio_pci_generic", "rte_kni"} {
		if _, err := os.Stat(env.h.Path("/sys/module/" + m)); err == nil {
			details = append(details, "module loaded: "+m)
		}
	}
	groups, _ := os.ReadDir(env.h.Path("/sys/kernel/iommu_groups"))
	details = append(details, fmt.Sprintf("%d IOMMU groups", len(groups)))
	noIOMMU := false
	if b, err := env.h.ReadFile("/sys/module/vfio/parameters/enable_unsafe_noiommu_mode"); err == nil {
		noIOMMU = strings.TrimSpace(string(b)) == "Y"
		details = append(details, "vfio enable_unsafe_noiommu_mode="+strings.TrimSpace(string(b)))
	}

	relevant := map[string]bool{}
	if pciAddr().MatchString(env.cfg.Device) {
		relevant[normPCI(env.cfg.Device)] = true
	}
	if p, _ := env.Primary(ctx); p != nil {
		driven, _ := env.drivenDevices(ctx, p)
		for _, d := range driven {
			if pciAddr().MatchString(d) {
				relevant[normPCI(d)] = true
			}
		}
	}
	var judged []host.PCIDevice
	var kernelOwned []string
	for _, d := range devs {
		if !relevant[d.Addr.String()] && len(relevant) > 0 {
			continue
		}
		// Only a device on vfio-pci or a uio driver uses VFIO/UIO; one on
		// its kernel driver is the device check's finding, not this one's.
		if d.DriverKind == host.DriverDPDK {
			judged = append(judged, d)
		} else if relevant[d.Addr.String()] {
			kernelOwned = append(kernelOwned, fmt.Sprintf("%s (%s)", d.Addr, orUnknown(d.Driver)))
		}
	}
	if len(judged) == 0 {
		if len(kernelOwned) > 0 {
			return skip("not on a VFIO/UIO driver: "+strings.Join(kernelOwned, ", ")+" (see the device check)", details...)
		}
		return skip("no PCI device is involved (the primary drives only vdevs, or none is bound to a DPDK driver)", details...)
	}
	var problems []string
	var cmds []string
	for _, d := range judged {
		details = append(details, fmt.Sprintf("%s: driver %s, IOMMU group %s", d.Addr, orUnknown(d.Driver), orUnknown(d.IOMMUGroup)))
		switch d.Driver {
		case "vfio-pci":
			if d.IOMMUGroup == "" && !noIOMMU {
				problems = append(problems, fmt.Sprintf("%s is on vfio-pci but has no IOMMU group", d.Addr))
				cmds = append(cmds, "# enable the IOMMU (intel_iommu=on / amd_iommu=on on the kernel command line), or for a VM without one:",
					"echo Y > /sys/module/vfio/parameters/enable_unsafe_noiommu_mode")
			}
			if _, err := os.Stat(env.h.Path("/dev/vfio/vfio")); err != nil {
				problems = append(problems, fmt.Sprintf("%s is on vfio-pci but /dev/vfio/vfio is missing", d.Addr))
				cmds = append(cmds, "modprobe vfio-pci")
			}
		}
	}
	if len(problems) > 0 {
		return fail(strings.Join(problems, "; "), fix("make VFIO usable, then rebind and restart the primary", cmds...), details...)
	}
	var names []string
	for _, d := range judged {
		names = append(names, fmt.Sprintf("%s (%s)", d.Addr, orUnknown(d.Driver)))
	}
	return ok("VFIO/UIO usable for "+strings.Join(names, ", "), details...)
}
