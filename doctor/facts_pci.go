package doctor

import (
	"context"
	"errors"
	"fmt"
	"io/fs"

	"github.com/gzdoctor/gzdoctor/host"
	"github.com/gzdoctor/gzdoctor/internal/shquote"
)

// pciDevices lists the machine's PCI devices once per run.
func (e *Env) pciDevices(ctx context.Context) ([]host.PCIDevice, error) {
	return e.pci.await(ctx, "the PCI devices in sysfs", e.h.PCIDevices)
}

// configDevice maps lstack.conf's devices (a MAC) to the PCI address whose
// kernel interface has that MAC. sysfs only knows the MAC while a kernel
// (or bifurcated mlx) driver owns the device; when it cannot, dev is empty
// and why says so.
func (e *Env) configDevice(ctx context.Context) (dev, why string) {
	cf, err := e.GazelleConfig(ctx)
	if err != nil || cf.Capture == nil || cf.Capture.Role != host.RoleLstack || cf.Capture.Devices == "" {
		return "", ""
	}
	devs, err := e.pciDevices(ctx)
	if err != nil {
		return "", ""
	}
	where := posWords(cf.Capture.DevicesPos, cf.Capture.File)
	if d := host.PCIByMAC(devs, cf.Capture.Devices); d != nil {
		return d.Addr.String(), fmt.Sprintf("devices=%s (%s), the MAC of %s", cf.Capture.Devices, where, d.Addr)
	}
	if iface := e.h.InterfaceByMAC(cf.Capture.Devices); iface != "" {
		return "", fmt.Sprintf("devices=%s (%s) is the MAC of the kernel interface %s, which has no PCI device (a veth, tap or bridge: DPDK reaches it through a vdev such as net_af_packet or net_af_xdp, iface=%s)", cf.Capture.Devices, where, iface, iface)
	}
	return "", fmt.Sprintf("devices=%s (%s) is the MAC of no kernel interface: its NIC is bound to a DPDK driver (sysfs no longer shows the MAC) or absent", cf.Capture.Devices, where)
}

// describePCI reads a PCI device from sysfs. The Result is non-nil when the
// device cannot be captured on at all (absent, or owned by the kernel).
func (e *Env) describePCI(_ context.Context, addr string) (string, *Result) {
	a, err := host.ParsePCIAddr(addr)
	if err != nil {
		return err.Error(), nil
	}
	d, err := e.h.PCIDevice(a)
	if errors.Is(err, fs.ErrNotExist) {
		r := fail("does not exist on this machine (no /sys/bus/pci/devices/"+a.String()+")",
			fix("list the devices and their drivers", "dpdk-devbind.py --status"))
		return "no such PCI device", &r
	}
	if err != nil {
		return err.Error(), nil
	}
	info := fmt.Sprintf("%s: vendor %s device %s, driver %s (%s), NUMA node %d", a, d.Vendor, d.Device, orUnknown(d.Driver), d.DriverKind, d.NUMANode)
	if d.IOMMUGroup != "" {
		info += ", IOMMU group " + d.IOMMUGroup
	}
	switch d.DriverKind {
	case host.DriverKernel:
		r := fail(fmt.Sprintf("is bound to the kernel driver %s: DPDK cannot drive it", d.Driver),
			fix("bind it to vfio-pci (its kernel interface goes away) and restart the primary", shquote.Join([]string{"dpdk-devbind.py", "-b", "vfio-pci", a.String()})))
		return info, &r
	case host.DriverNone:
		r := fail("is bound to no driver: DPDK cannot drive it",
			fix("bind it to vfio-pci and restart the primary", "modprobe vfio-pci", shquote.Join([]string{"dpdk-devbind.py", "-b", "vfio-pci", a.String()})))
		return info, &r
	}
	return info, nil
}
