package doctor

import (
	"context"
	"fmt"
	"path"
	"strings"

	"github.com/gzdoctor/gzdoctor/host"
	"github.com/gzdoctor/gzdoctor/internal/shquote"
)

// checkPcapPMD (CHK-11): pdump asks the primary to create net_pcap vdevs,
// so the primary itself must carry the pcap PMD: mapped from a shared
// library (librte_pmd_pcap.so on 19.11, librte_net_pcap.so from 20.11),
// linked statically, or loadable from the EAL plugin dir. /proc/<pid>/maps
// is the truth for a running primary, even one in its own mount namespace.
func checkPcapPMD(ctx context.Context, env *Env) Result {
	p, err := env.Primary(ctx)
	if err != nil {
		return errored(err.Error())
	}
	if p == nil {
		return skip("no running primary")
	}
	lib := pcapLibName(p.DPDK.Release)
	if p.DPDK.PcapPMD != "" {
		return ok(fmt.Sprintf("pid %d has %s mapped (%s)", p.PID, path.Base(p.DPDK.PcapPMD), p.DPDK.PcapPMD))
	}
	var details []string
	why, mapsUnreadable := unreadableMaps(p)
	if !mapsUnreadable {
		details = append(details, fmt.Sprintf("/proc/%d/maps has no librte_net_pcap.so / librte_pmd_pcap.so", p.PID))
	}
	ev, err := env.PcapEvidence(ctx, p)
	if err != nil {
		details = append(details, "ELF inspection: "+err.Error())
	}
	if ev.Static {
		return ok(fmt.Sprintf("pid %d has the pcap PMD linked statically into %s", p.PID, ev.StaticIn), details...)
	}
	if mapsUnreadable && !ev.Inspected {
		// Nothing was read, so nothing is missing: another user's
		// process (a root primary seen by a non-root gzdoctor).
		return skip(fmt.Sprintf("cannot read /proc/%d/maps (%s) as %s; the primary runs as %s: run gzdoctor as the primary's user",
			p.PID, why, userWords(env.cfg.User.UID), userWords(p.UID)), details...)
	}
	if p.DPDK.EAL == "" && !ev.Inspected {
		return warn(fmt.Sprintf("pid %d maps no librte_eal: DPDK is linked statically and gzdoctor could not tell whether the pcap PMD is in", p.PID),
			pcapFix(lib, p.Exe, ev), details...)
	}
	details = append(details, ev.Notes...)
	return fail(fmt.Sprintf("the primary (pid %d, %s) has no pcap PMD: pdump's vdev creation will fail (\"vdev creation failed:create_mp_ring_vdev\")", p.PID, path.Base(orUnknown(p.Exe))),
		pcapFix(lib, p.Exe, ev), details...)
}

// PcapEvidence is what the primary's binaries say about the pcap PMD when
// its maps do not show it.
type PcapEvidence struct {
	Inspected bool     // the ELF files could be read
	Static    bool     // the PMD is linked into StaticIn
	StaticIn  string   //
	PluginDir string   // EAL plugin dir (RTE_EAL_PMD_PATH), when known
	InPlugin  string   // the PMD file found in PluginDir as gzdoctor sees it
	Notes     []string // details for -v
}

// unreadableMaps tells why /proc/<pid>/maps of p could not be read.
func unreadableMaps(p *host.Process) (string, bool) {
	for _, u := range p.Unreadable {
		if why, ok := strings.CutPrefix(u, "maps: "); ok {
			return why, true
		}
	}
	return "", false
}

func pcapLibName(release string) string {
	if release == "19.11" {
		return "librte_pmd_pcap.so"
	}
	return "librte_net_pcap.so"
}

func pcapFix(lib, exe string, ev PcapEvidence) *Fix {
	var b strings.Builder
	fmt.Fprintf(&b, "make the primary load %s: either relink it (liblstack.so / ltran) with -lrte_%s inside -Wl,--no-as-needed, or add \"-d\", \"%s\" to dpdk_args (ltran: forward_kit_args) and restart it",
		lib, strings.TrimSuffix(strings.TrimPrefix(lib, "librte_"), ".so"), lib)
	if ev.InPlugin != "" {
		fmt.Fprintf(&b, ".\n%s is in the plugin dir here (%s) but the primary did not load it: it runs with another view of the filesystem (mount namespace) or an EAL without that plugin dir", path.Base(ev.InPlugin), ev.PluginDir)
	}
	if lib == "librte_pmd_pcap.so" {
		b.WriteString(".\nOn openEuler 19.11 the PMD is not built by default: set CONFIG_RTE_LIBRTE_PMD_PCAP=y in dpdk.spec (see gzdoctor specpatch)")
	}
	cmds := []string{}
	if exe != "" {
		cmds = append(cmds, shquote.Join([]string{"gzdoctor", "elfcheck", exe}))
	}
	return fix(b.String(), cmds...)
}
