package doctor

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/gzdoctor/gzdoctor/elfcheck"
	"github.com/gzdoctor/gzdoctor/internal/shquote"
)

// checkBuildMatch (CHK-10): the capture tool and the primary run the same
// DPDK (EAL refuses a secondary of another version) and register the same
// mempool drivers and tailqs (a different set makes pdump capture nothing
// or die with "Cannot initialize tailq").
func checkBuildMatch(ctx context.Context, env *Env) Result {
	p, err := env.Primary(ctx)
	if err != nil {
		return errored(err.Error())
	}
	if p == nil {
		return skip("no live primary")
	}
	f, err := env.elf(ctx)
	if err != nil {
		return errored(err.Error())
	}
	if f.toolErr != nil && (errors.Is(f.toolErr, errNoCaptureTool) || env.h.Live() && errors.Is(f.toolErr, fs.ErrNotExist)) {
		// Not there at all: the capture cannot start (it refuses the same
		// --pdump-bin, or finds no tool), so check must not pass. A tool
		// that is there but unreadable as ELF (a collected bundle leaves
		// the binaries out) is only a check that cannot be made.
		return fail("no capture tool to run: "+f.toolErr.Error(),
			fix("install the DPDK tools of the primary's DPDK (openEuler: dpdk-tools; Debian: dpdk), or give --pdump-bin the path of the capture tool"))
	}
	if f.toolErr != nil {
		return warn("cannot check the capture tool: "+f.toolErr.Error(),
			fix("install the DPDK tools of the primary's DPDK (openEuler: dpdk-tools; Debian: dpdk) or give --pdump-bin"))
	}
	tool := f.tool
	details := []string{fmt.Sprintf("capture tool %s: DPDK %s (%s), linkage %s", tool.Path, orUnknown(tool.DPDK.Version), orUnknown(tool.DPDK.VersionSource), tool.DPDK.Linkage)}

	if f.primaryErr == nil {
		pr := f.primary
		who := pr.Path
		if len(pr.Preload) > 0 {
			who += " with LD_PRELOAD " + strings.Join(pr.Preload, " ")
		}
		details = append(details, fmt.Sprintf("primary %s: DPDK %s (%s), linkage %s", who, orUnknown(pr.DPDK.Version), orUnknown(pr.DPDK.VersionSource), pr.DPDK.Linkage))
		m := elfcheck.Compare(pr, tool)
		predicted := pr.DPDK.OpsTableFrom != "memory" || tool.DPDK.OpsTableFrom != "memory"
		opsFrom := "measured in both"
		if predicted {
			opsFrom = "predicted, not measured"
		}
		if n := tool.DPDK.OpsTableNote; n != "" {
			details = append(details, "capture tool's mempool ops table "+n)
		}
		if n := pr.DPDK.OpsTableNote; n != "" {
			details = append(details, "primary's mempool ops table "+n)
		}
		var fails, warns []string
		for _, d := range m.Differences {
			switch d.ID {
			case "pcap-pmd", "pdump-init":
				continue // the pcap-pmd and pdump checks judge these from the live process
			}
			line := d.Message + " (" + d.Why + ")"
			sev := d.Severity
			if d.ID == "mempool-ops" && predicted {
				// A prediction refused pairs that capture (24.11): only a
				// measured table may fail the check.
				line = "predicted, not measured: " + line
				if sev == "fail" {
					sev = "warn"
				}
			}
			switch sev {
			case "fail":
				fails = append(fails, line)
			case "warn":
				warns = append(warns, line)
			default:
				details = append(details, line)
			}
			if d.Compared != "" {
				details = append(details, d.Compared)
			}
		}
		name := path.Base(tool.Path)
		switch {
		case len(fails) > 0:
			return fail(fmt.Sprintf("%s and the primary are built differently: %s", name, fails[0]),
				buildFix(name, p.PID, tool.Path), append(append(fails[1:], warns...), details...)...)
		case len(warns) > 0:
			return warn(fmt.Sprintf("%s and the primary may differ: %s", name, warns[0]), buildFix(name, p.PID, tool.Path), append(warns[1:], details...)...)
		}
		return ok(fmt.Sprintf("%s matches the primary: DPDK %s, its mbuf pool's mempool ops (%s) mean the same in the primary (%s), every tailq it registers exists there", name, orUnknown(tool.DPDK.Version), elfcheck.CapturePoolOps, opsFrom), details...)
	}

	// The primary's binaries could not be read (another mount namespace, a
	// fixture tree): compare what its maps show.
	details = append(details, "primary binaries: "+f.primaryErr.Error())
	name := path.Base(tool.Path)
	if p.DPDK.Release != "" && tool.DPDK.Release != "" && p.DPDK.Release != tool.DPDK.Release {
		return fail(fmt.Sprintf("%s is DPDK %s but the primary maps DPDK %s (%s): EAL refuses the secondary (version mismatch)", name, tool.DPDK.Release, p.DPDK.Release, path.Base(p.DPDK.EAL)),
			buildFix(name, p.PID, tool.Path), details...)
	}
	onlyP, onlyT := mappedDrivers(p.Mapped, tool.DPDK.Libraries)
	if len(onlyP)+len(onlyT) > 0 {
		return warn(fmt.Sprintf("%s and the primary load different mempool drivers: primary only [%s], tool only [%s]", name, strings.Join(onlyP, " "), strings.Join(onlyT, " ")),
			buildFix(name, p.PID, tool.Path), details...)
	}
	if p.DPDK.Release == "" || tool.DPDK.Release == "" {
		return skip("the DPDK version of the primary or of the tool is unknown", details...)
	}
	return ok(fmt.Sprintf("%s and the primary both run DPDK %s (from the primary's maps; its binaries were not readable)", name, p.DPDK.Release), details...)
}

func buildFix(tool string, pid int, toolPath string) *Fix {
	return fix(fmt.Sprintf("use a %s built from the same DPDK as the primary and linked like it, so that it registers the same drivers, mempool ops (in the same order) and tailqs: on openEuler the dpdk-tools package of the installed dpdk, or relink it as the Gazelle pdump guide shows; to see what differs:", tool),
		shquote.Join([]string{"gzdoctor", "elfcheck", "--pid", strconv.Itoa(pid), "--match", toolPath}))
}

// mappedDrivers compares the mempool drivers the primary mapped with the
// capture tool's librte libraries.
func mappedDrivers(mapped, toolLibs []string) (onlyP, onlyT []string) {
	comp := func(name string) (string, bool) {
		b := path.Base(name)
		if !strings.HasPrefix(b, "librte_mempool_") {
			return "", false
		}
		c, _, _ := strings.Cut(strings.TrimPrefix(b, "librte_"), ".so")
		return c, true
	}
	ps, ts := map[string]bool{}, map[string]bool{}
	for _, m := range mapped {
		if c, ok := comp(m); ok {
			ps[c] = true
		}
	}
	for _, l := range toolLibs {
		if c, ok := comp(l); ok {
			ts[c] = true
		}
	}
	for c := range ps {
		if !ts[c] {
			onlyP = append(onlyP, c)
		}
	}
	for c := range ts {
		if !ps[c] {
			onlyT = append(onlyT, c)
		}
	}
	sort.Strings(onlyP)
	sort.Strings(onlyT)
	return onlyP, onlyT
}
