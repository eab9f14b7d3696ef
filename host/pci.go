package host

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
)

// DriverKind says who owns a PCI device, as far as DPDK is concerned.
type DriverKind string

const (
	// DriverDPDK: a userspace I/O driver DPDK can use (vfio-pci, igb_uio,
	// uio_pci_generic).
	DriverDPDK DriverKind = "dpdk"
	// DriverBifurcated: Mellanox NICs stay on their kernel driver and DPDK
	// drives them through it (mlx4/mlx5 PMDs).
	DriverBifurcated DriverKind = "bifurcated"
	// DriverKernel: a kernel driver owns the device; DPDK cannot use it.
	DriverKernel DriverKind = "kernel"
	// DriverNone: no driver is bound.
	DriverNone DriverKind = "none"
)

// ClassifyDriver maps a bound driver name (the basename of the device's
// driver link) to its kind.
func ClassifyDriver(driver string) DriverKind {
	switch driver {
	case "":
		return DriverNone
	case "vfio-pci", "igb_uio", "uio_pci_generic":
		return DriverDPDK
	case "mlx4_core", "mlx5_core":
		return DriverBifurcated
	}
	return DriverKernel
}

// PCIDevice is a device from /sys/bus/pci/devices/<addr>.
type PCIDevice struct {
	Addr   PCIAddr `json:"addr"`
	Vendor string  `json:"vendor"` // "0x8086"
	Device string  `json:"device"` // "0x1572"
	Class  string  `json:"class"`  // "0x020000"
	// Network is true for PCI class 0x02 (network controller).
	Network    bool       `json:"network"`
	Driver     string     `json:"driver,omitempty"`
	DriverKind DriverKind `json:"driver_kind"`
	// NUMANode is -1 when the platform does not say (single-node VMs).
	NUMANode   int            `json:"numa_node"`
	IOMMUGroup string         `json:"iommu_group,omitempty"`
	Interfaces []NetInterface `json:"interfaces,omitempty"`
}

// NetInterface is a kernel network interface of a device. It exists only
// while a kernel (or bifurcated) driver owns the device: binding to
// vfio-pci makes it disappear, and with it the MAC-to-PCI mapping.
type NetInterface struct {
	Name string `json:"name"`
	MAC  string `json:"mac,omitempty"`
}

const sysPCIDevices = "/sys/bus/pci/devices"

// PCIDevices lists the PCI devices, sorted by address. A machine without
// /sys/bus/pci (some containers) has none and no error.
func (h *Host) PCIDevices() ([]PCIDevice, error) {
	ents, err := os.ReadDir(h.Path(sysPCIDevices))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing PCI devices: %w", err)
	}
	var out []PCIDevice
	for _, e := range ents {
		a, err := ParsePCIAddr(e.Name())
		if err != nil {
			continue
		}
		d, err := h.readPCIDevice(a)
		if err != nil {
			return nil, err
		}
		out = append(out, *d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Addr.String() < out[j].Addr.String() })
	return out, nil
}

// PCIDevice reads one device; the error wraps fs.ErrNotExist when there is
// no such device.
func (h *Host) PCIDevice(a PCIAddr) (*PCIDevice, error) {
	if _, err := os.Stat(h.Path(path.Join(sysPCIDevices, a.String()))); err != nil {
		return nil, fmt.Errorf("PCI device %s: %w", a, err)
	}
	return h.readPCIDevice(a)
}

func (h *Host) readPCIDevice(a PCIAddr) (*PCIDevice, error) {
	dir := path.Join(sysPCIDevices, a.String())
	attr := func(name string) string {
		b, err := h.ReadFile(path.Join(dir, name))
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(b))
	}
	d := &PCIDevice{Addr: a, Vendor: attr("vendor"), Device: attr("device"), Class: attr("class"), NUMANode: -1}
	if d.Vendor == "" && d.Class == "" {
		return nil, fmt.Errorf("PCI device %s: no vendor or class in %s", a, h.Path(dir))
	}
	d.Network = strings.HasPrefix(strings.ToLower(d.Class), "0x02")
	if n, err := strconv.Atoi(attr("numa_node")); err == nil {
		d.NUMANode = n
	}
	if l, err := os.Readlink(h.Path(path.Join(dir, "driver"))); err == nil {
		d.Driver = path.Base(l)
	}
	d.DriverKind = ClassifyDriver(d.Driver)
	if l, err := os.Readlink(h.Path(path.Join(dir, "iommu_group"))); err == nil {
		d.IOMMUGroup = path.Base(l)
	}
	ifs, err := h.netInterfaces(dir)
	if err != nil {
		return nil, err
	}
	d.Interfaces = ifs
	return d, nil
}

// netInterfaces finds <dev>/net/* and, for virtio, <dev>/virtioN/net/*:
// dpdk-devbind.py walks the device dir for the same reason.
func (h *Host) netInterfaces(dir string) ([]NetInterface, error) {
	netDirs := []string{path.Join(dir, "net")}
	if ents, err := os.ReadDir(h.Path(dir)); err == nil {
		for _, e := range ents {
			if e.IsDir() && e.Type()&fs.ModeSymlink == 0 && strings.HasPrefix(e.Name(), "virtio") {
				netDirs = append(netDirs, path.Join(dir, e.Name(), "net"))
			}
		}
	}
	var out []NetInterface
	for _, nd := range netDirs {
		ents, err := os.ReadDir(h.Path(nd))
		if err != nil {
			continue
		}
		for _, e := range ents {
			ni := NetInterface{Name: e.Name()}
			b, err := h.ReadFile(path.Join("/sys/class/net", e.Name(), "address"))
			if err != nil {
				b, err = h.ReadFile(path.Join(nd, e.Name(), "address"))
			}
			if err == nil {
				if mac, err := NormalizeMAC(strings.TrimSpace(string(b))); err == nil {
					ni.MAC = mac
				}
			}
			out = append(out, ni)
		}
	}
	return out, nil
}

// PCIByMAC returns the device with a kernel interface whose MAC is mac, or
// nil. It only finds devices a kernel driver still owns.
func PCIByMAC(devs []PCIDevice, mac string) *PCIDevice {
	m, err := NormalizeMAC(mac)
	if err != nil {
		return nil
	}
	for i := range devs {
		for _, ni := range devs[i].Interfaces {
			if ni.MAC == m {
				return &devs[i]
			}
		}
	}
	return nil
}

// PCIByAddr returns the device at a, or nil.
func PCIByAddr(devs []PCIDevice, a PCIAddr) *PCIDevice {
	for i := range devs {
		if devs[i].Addr == a {
			return &devs[i]
		}
	}
	return nil
}

// InterfaceByMAC is the kernel network interface whose MAC is mac, among
// all of /sys/class/net (veths, taps, bridges as well as NICs), or "".
// Gazelle on af_packet or af_xdp names such an interface's MAC in devices:
// the interface stays the kernel's, with no PCI device behind it.
func (h *Host) InterfaceByMAC(mac string) string {
	m, err := NormalizeMAC(mac)
	if err != nil {
		return ""
	}
	ents, err := os.ReadDir(h.Path("/sys/class/net"))
	if err != nil {
		return ""
	}
	for _, e := range ents {
		b, err := h.ReadFile(path.Join("/sys/class/net", e.Name(), "address"))
		if err != nil {
			continue
		}
		if got, err := NormalizeMAC(strings.TrimSpace(string(b))); err == nil && got == m {
			return e.Name()
		}
	}
	return ""
}
