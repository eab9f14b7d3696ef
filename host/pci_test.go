package host

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func sysFixture(t *testing.T, name string) *Host {
	t.Helper()
	return New(filepath.Join("..", "testdata", "hosts", name))
}

func TestParsePCIAddr(t *testing.T) {
	tests := []struct {
		in, want, err string
	}{
		{"0000:01:00.0", "0000:01:00.0", ""},
		{"01:00.1", "0000:01:00.1", ""},
		{"0000:3B:00.7", "0000:3b:00.7", ""},
		{"1:2.3", "0000:01:02.3", ""},
		{"10000:00:01.0", "10000:00:01.0", ""},
		{"0000:01:00", "", "no '.function'"},
		{"0000:01:00.8", "", "bad function"},
		{"0000:01:20.0", "", "bad device"},
		{"0000:100:00.0", "", "bad bus"},
		{"zz:00.0", "", "bad bus"},
		{"a:b:c:d.0", "", "wrong number"},
		{"aa:bb:cc:dd:ee:ff", "", "no '.function'"},
		{"", "", "no '.function'"},
	}
	for _, tt := range tests {
		a, err := ParsePCIAddr(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParsePCIAddr(%q) err = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || a.String() != tt.want {
			t.Errorf("ParsePCIAddr(%q) = %v, %v; want %s", tt.in, a, err, tt.want)
		}
	}
}

func TestNormalizeMAC(t *testing.T) {
	for in, want := range map[string]string{
		"AA:BB:CC:DD:EE:FF": "aa:bb:cc:dd:ee:ff", "a-b-c-d-e-f": "0a:0b:0c:0d:0e:0f",
		"aa:bb:cc:dd:ee": "", "gg:hh:ii:jj:kk:ll": "", "0000:01:00.0": "", "aaa:bb:cc:dd:ee:ff": "",
	} {
		got, err := NormalizeMAC(in)
		if (want == "") != (err != nil) || got != want {
			t.Errorf("NormalizeMAC(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestClassifyDriver(t *testing.T) {
	for drv, want := range map[string]DriverKind{
		"vfio-pci": DriverDPDK, "igb_uio": DriverDPDK, "uio_pci_generic": DriverDPDK,
		"mlx5_core": DriverBifurcated, "mlx4_core": DriverBifurcated,
		"i40e": DriverKernel, "virtio-pci": DriverKernel, "": DriverNone,
	} {
		if got := ClassifyDriver(drv); got != want {
			t.Errorf("ClassifyDriver(%q) = %s, want %s", drv, got, want)
		}
	}
}

func TestPCIDevicesFixtures(t *testing.T) {
	type dev struct {
		addr, driver string
		kind         DriverKind
		network      bool
		numa         int
		iommu        string
		ifaces       string // name=mac,...
	}
	tests := map[string][]dev{
		"sys-vfio-kernel": {
			{"0000:00:1f.2", "ahci", DriverKernel, false, 0, "", ""},
			{"0000:01:00.0", "vfio-pci", DriverDPDK, true, 0, "12", ""},
			{"0000:01:00.1", "i40e", DriverKernel, true, 0, "13", "ens1f1=3c:fd:fe:a0:00:02"},
			{"0000:02:00.0", "", DriverNone, true, 1, "14", ""},
		},
		"sys-mlx5": {
			{"0000:3b:00.0", "mlx5_core", DriverBifurcated, true, 0, "40", "ens2f0np0=b8:59:9f:00:00:10"},
			{"0000:3b:00.1", "mlx5_core", DriverBifurcated, true, 0, "41", "ens2f1np1=b8:59:9f:00:00:11"},
		},
		"sys-nohuge": nil,
	}
	for name, want := range tests {
		t.Run(name, func(t *testing.T) {
			devs, err := sysFixture(t, name).PCIDevices()
			if err != nil {
				t.Fatal(err)
			}
			if len(devs) != len(want) {
				t.Fatalf("%d devices, want %d: %+v", len(devs), len(want), devs)
			}
			for i, w := range want {
				d := devs[i]
				var ifs []string
				for _, ni := range d.Interfaces {
					ifs = append(ifs, ni.Name+"="+ni.MAC)
				}
				if d.Addr.String() != w.addr || d.Driver != w.driver || d.DriverKind != w.kind || d.Network != w.network ||
					d.NUMANode != w.numa || d.IOMMUGroup != w.iommu || strings.Join(ifs, ",") != w.ifaces {
					t.Errorf("device %d = %+v, want %+v", i, d, w)
				}
			}
		})
	}
}

func TestPCIByMAC(t *testing.T) {
	h := sysFixture(t, "sys-vfio-kernel")
	devs, err := h.PCIDevices()
	if err != nil {
		t.Fatal(err)
	}
	if d := PCIByMAC(devs, "3C:FD:FE:A0:00:02"); d == nil || d.Addr.String() != "0000:01:00.1" {
		t.Errorf("PCIByMAC = %+v", d)
	}
	if d := PCIByMAC(devs, "aa:bb:cc:dd:ee:ff"); d != nil {
		t.Errorf("unknown MAC matched %+v", d)
	}
	a, _ := ParsePCIAddr("01:00.0")
	if d := PCIByAddr(devs, a); d == nil || d.Driver != "vfio-pci" {
		t.Errorf("PCIByAddr = %+v", d)
	}
	if _, err := h.PCIDevice(PCIAddr{Bus: 9}); err == nil {
		t.Errorf("missing device: no error")
	}
}

// TestPCIDevicesMatchDevbind compares the live machine's network devices
// with what dpdk-devbind.py --status-dev net says (here: virtio NICs).
func TestPCIDevicesMatchDevbind(t *testing.T) {
	if _, err := exec.LookPath("dpdk-devbind.py"); err != nil {
		t.Fatalf("dpdk-devbind.py not found (package dpdk; run make setup): %v", err)
	}
	out, err := exec.Command("dpdk-devbind.py", "--status-dev", "net").Output()
	if err != nil {
		t.Fatalf("dpdk-devbind.py: %v", err)
	}
	// 0000:00:03.0 'Virtio 1.0 network device 1041' if=eth0 drv=virtio-pci unused= *Active*
	line := regexp.MustCompile(`^(\S+:\S+\.\S) '.*?'(?: if=(\S+))?(?: drv=(\S+))?`)
	want := map[string]string{}
	for _, l := range strings.Split(string(out), "\n") {
		if m := line.FindStringSubmatch(l); m != nil {
			want[m[1]] = "if=" + m[2] + " drv=" + m[3]
		}
	}
	if len(want) == 0 {
		t.Fatalf("dpdk-devbind lists no network device:\n%s", out)
	}
	devs, err := New("/").PCIDevices()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, d := range devs {
		if !d.Network {
			continue
		}
		var ifs []string
		for _, ni := range d.Interfaces {
			ifs = append(ifs, ni.Name)
		}
		got[d.Addr.String()] = "if=" + strings.Join(ifs, ",") + " drv=" + d.Driver
	}
	for addr, w := range want {
		if got[addr] != w {
			t.Errorf("%s: we say %q, dpdk-devbind says %q", addr, got[addr], w)
		}
	}
	for addr, g := range got {
		if _, ok := want[addr]; !ok {
			t.Errorf("%s (%s) is not in dpdk-devbind's list", addr, g)
		}
	}
}
