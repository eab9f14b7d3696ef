package capture

import (
	"context"
	"fmt"
	"os"
	"path"
	"strconv"
	"strings"

	"github.com/gzdoctor/gzdoctor/elfcheck"
	"github.com/gzdoctor/gzdoctor/host"
	"github.com/gzdoctor/gzdoctor/host/telemetry"
)

// A capture tool sees a port only if it has the port's driver: the
// secondary attaches to the device's shared data through its own PMD.
// Debian's and upstream's tools load every driver of their plugin
// directory; gazelle-pdump is linked by hand with a fixed list, and
// Gazelle's pdump guide says to add "-d /usr/lib64/librte_net_af_xdp.so"
// (or mlx5, …) for the PMDs it lacks. Without it pdump fails with
// "vdev_probe(): failed to initialize net_af_xdp device" or finds no port.
// gzdoctor reads which PMDs the primary has loaded (its /proc/<pid>/maps)
// and passes -d for each one the tool does not load by itself.

// pmdComponent is the DPDK component of a driver file: "net_bond" for
// librte_net_bond.so.23.0, "pmd_bond" for 19.11's librte_pmd_bond.so.20.0;
// "" for any other file.
func pmdComponent(file string) string {
	base := path.Base(strings.TrimSuffix(file, " (deleted)"))
	name, ok := strings.CutPrefix(base, "librte_")
	if !ok {
		return ""
	}
	name, _, ok = strings.Cut(name, ".so")
	if !ok || !(strings.HasPrefix(name, "net_") || strings.HasPrefix(name, "pmd_")) {
		return ""
	}
	return name
}

// primaryPMDs are the ethdev driver files the primary has mapped, one per
// component, in the order it mapped them.
func primaryPMDs(mapped []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, f := range mapped {
		c := pmdComponent(f)
		if c == "" || seen[c] || strings.HasSuffix(f, " (deleted)") {
			continue
		}
		seen[c] = true
		out = append(out, f)
	}
	return out
}

// vdevAliases are vdev driver names whose library is named otherwise.
var vdevAliases = map[string]string{"net_bonding": "net_bond", "eth_bond": "net_bond", "eth_pcap": "net_pcap",
	"eth_ring": "net_ring", "eth_null": "net_null", "eth_af_packet": "net_af_packet", "eth_vhost": "net_vhost"}

// portPMDs narrows the primary's PMDs to its ports' drivers when every
// port is a vdev, whose name says its driver (net_bonding0 is net_bond's):
// a primary of a shared DPDK maps every driver of its plugin dir (54 on
// the lab), and only the ports' matter. A PCI port's name does not say
// its PMD, so with one (or with the ports unknown) all of them stay.
func portPMDs(pmds []string, ports []telemetry.EthPort) []string {
	if len(ports) == 0 {
		return pmds
	}
	want := map[string]bool{}
	for _, pt := range ports {
		if pt.Name == "" || host.IsPdumpVdev(pt.Name) {
			continue
		}
		drv := strings.TrimRight(pt.Name, "0123456789")
		if !strings.HasPrefix(drv, "net_") && !strings.HasPrefix(drv, "eth_") {
			return pmds // a PCI address, or a name that says nothing
		}
		if a, ok := vdevAliases[drv]; ok {
			drv = a
		}
		want[drv] = true
		want["pmd_"+strings.TrimPrefix(drv, "net_")] = true // 19.11's names
	}
	var out []string
	for _, f := range pmds {
		if want[pmdComponent(f)] {
			out = append(out, f)
		}
	}
	return out
}

// toolDrivers is what the capture tool loads by itself: the drivers it is
// linked with and, for a shared EAL, every driver of its plugin directory.
func toolDrivers(h *host.Host, f elfcheck.DPDKFacts) map[string]bool {
	has := map[string]bool{}
	for _, d := range f.Drivers {
		has[d.Name] = true
	}
	if f.PluginDirUsed && f.PluginDir != "" {
		if ents, err := os.ReadDir(h.Path(f.PluginDir)); err == nil {
			for _, e := range ents {
				if c := pmdComponent(e.Name()); c != "" {
					has[c] = true
				}
			}
		}
	}
	return has
}

// derivePMDs returns the -d libraries the tool needs: the primary's PMDs
// it does not load by itself, each a file that exists here. The note says
// what was left out and why ("" when nothing was).
func derivePMDs(primary []string, has map[string]bool, exists func(string) bool) (libs []string, note string) {
	var missing []string
	for _, f := range primary {
		c := pmdComponent(f)
		switch {
		case has[c]:
		case !exists(f):
			missing = append(missing, f)
		default:
			libs = append(libs, f)
		}
	}
	if len(missing) > 0 {
		note = "the primary loads " + strings.Join(missing, ", ") + ", which this machine does not have at that path; give the capture tool's own copy with --eal-args '-d FILE' if it lacks that driver"
	}
	return libs, note
}

// planPMDs fills p.Drivers from the primary's mappings and the tool's
// drivers. It says nothing (and passes nothing) when either is unknown:
// a wrong -d is worse than none.
func planPMDs(ctx context.Context, h *host.Host, p *Plan) {
	if p.Backend != BackendPdump || p.primaryPID <= 0 {
		return
	}
	proc, err := h.ReadProcess(p.primaryPID)
	if err != nil || len(proc.Mapped) == 0 {
		return
	}
	// The primary's paths are in its own root: a primary in a chroot (or
	// a container) maps another machine's DPDK.
	if root, err := os.Readlink(h.Path("/proc/" + strconv.Itoa(p.primaryPID) + "/root")); err != nil || root != "/" {
		p.DriversNote = "the primary runs in another root (" + orDash(root) + "): its drivers are not this machine's; none passed with -d"
		return
	}
	var ports []telemetry.EthPort
	if p.target != nil && p.target.portsErr == nil {
		ports = p.target.ports
	}
	pmds := portPMDs(primaryPMDs(proc.Mapped), ports)
	if len(pmds) == 0 {
		return
	}
	rep, err := elfcheck.Analyze(ctx, p.Binary, elfcheck.Options{Root: h.Root})
	if err != nil {
		p.DriversNote = fmt.Sprintf("could not read which drivers %s loads (%v): none passed with -d", path.Base(p.Binary), err)
		return
	}
	libs, note := derivePMDs(pmds, toolDrivers(h, rep.DPDK), func(f string) bool {
		fi, err := os.Stat(h.Path(f))
		return err == nil && fi.Mode().IsRegular()
	})
	p.Drivers, p.DriversNote = libs, note
}
