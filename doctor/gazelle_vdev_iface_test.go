package doctor

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gzdoctor/gzdoctor/host"
)

// TestDevicesMACOfAVirtualInterface: a real Gazelle 1.0.2 lstack on
// net_af_packet over a veth names the veth's MAC in devices; the interface
// stays the kernel's and has no PCI device. device and gazelle-devices said
// "no kernel interface has this MAC (bound to a DPDK driver, or absent)".
func TestDevicesMACOfAVirtualInterface(t *testing.T) {
	for _, c := range []struct {
		name  string
		iface string // a non-PCI interface with lstack.conf's devices MAC; "" none
		says  string
	}{
		{"veth with the MAC", "gzf0", "the kernel interface gzf0, which has no PCI device"},
		{"no interface with the MAC", "", "no kernel interface has this MAC"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "chk-healthy-2211")
			if out, err := exec.Command("cp", "-a", filepath.Join(fixtures, "chk-healthy-2211"), dir).CombinedOutput(); err != nil {
				t.Fatalf("cp: %v\n%s", err, out)
			}
			// A virtual interface: its own dir under /sys/class/net (a real
			// one is a link into /sys/devices/virtual/net), no device link.
			other := filepath.Join(dir, "sys/class/net/lo")
			if err := os.MkdirAll(other, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(other, "address"), []byte("00:00:00:00:00:00\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			if c.iface != "" {
				d := filepath.Join(dir, "sys/class/net", c.iface)
				if err := os.MkdirAll(d, 0o755); err != nil {
					t.Fatal(err)
				}
				// lstack.conf's devices, in the kernel's lower case.
				if err := os.WriteFile(filepath.Join(d, "address"), []byte("aa:bb:cc:dd:ee:01\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			cfg := Config{User: root, Host: host.New(dir), Env: []string{"PATH=/usr/bin:/bin"}}
			rep, err := Run(context.Background(), NewEnv(cfg), Options{Only: []string{"gazelle-devices"}})
			if err != nil {
				t.Fatal(err)
			}
			r := mustResult(t, rep, "gazelle-devices")
			text := r.Finding + "\n" + strings.Join(r.Details, "\n")
			if !strings.Contains(text, c.says) {
				t.Errorf("gazelle-devices does not say %q:\n%s", c.says, text)
			}
			if c.iface != "" && strings.Contains(text, "no kernel interface has this MAC") {
				t.Errorf("gazelle-devices denies the interface:\n%s", text)
			}
		})
	}
}
