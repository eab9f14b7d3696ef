package host

import (
	"os"
	"path/filepath"
	"testing"
)

func TestFindDPDK(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  *DPDKInstall
	}{
		{"none", nil, nil},
		{
			"openEuler 19.11 lib64, version from pkg-config",
			map[string]string{
				"usr/lib64/librte_eal.so.20.0":        "",
				"usr/lib64/pkgconfig/libdpdk.pc":      "Name: DPDK\nVersion: 19.11.0\n",
				"usr/lib64/librte_net_pcap.so.20.0.3": "",
			},
			&DPDKInstall{Version: "19.11.0", ABI: "20.0", Release: "19.11", EALPath: "/usr/lib64/librte_eal.so.20.0", Source: "/usr/lib64/pkgconfig/libdpdk.pc"},
		},
		{
			"Debian, version from dpkg status",
			map[string]string{
				"usr/lib/x86_64-linux-gnu/librte_eal.so.23":   "",
				"usr/lib/x86_64-linux-gnu/librte_eal.so.23.0": "",
				"var/lib/dpkg/status": "Package: dpdk-doc\nStatus: install ok installed\nVersion: 1:9.9-1\n\n" +
					"Package: dpdk\nStatus: install ok installed\nVersion: 22.11.11-0+deb12u1\n",
			},
			&DPDKInstall{Version: "22.11.11", ABI: "23", Release: "22.11", EALPath: "/usr/lib/x86_64-linux-gnu/librte_eal.so.23", Source: "/var/lib/dpkg/status"},
		},
		{
			"21.11 minor ABI",
			map[string]string{"usr/lib64/librte_eal.so.22.1": ""},
			&DPDKInstall{ABI: "22.1", Release: "21.11", EALPath: "/usr/lib64/librte_eal.so.22.1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			for name, body := range tt.files {
				p := filepath.Join(root, name)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, err := New(root).FindDPDK()
			if err != nil {
				t.Fatal(err)
			}
			if (got == nil) != (tt.want == nil) || got != nil && *got != *tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestABIRelease(t *testing.T) {
	for abi, want := range map[string]string{
		"20.0": "19.11", "20": "19.11", "21": "20.11", "21.1": "20.11", "23": "22.11", "23.0": "22.11",
		"25": "24.11", "19": "", "": "", "x.y": "",
	} {
		if got := ABIRelease(abi); got != want {
			t.Errorf("ABIRelease(%q) = %q, want %q", abi, got, want)
		}
	}
}
