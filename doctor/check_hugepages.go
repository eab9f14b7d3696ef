package doctor

import (
	"context"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/gzdoctor/gzdoctor/host"
	"github.com/gzdoctor/gzdoctor/internal/shquote"
)

// pdumpNeedBytes is the hugepage memory a dpdk-pdump with its default
// mempool (65535 mbufs of 2176 bytes) takes: 75 × 2 MiB pages measured on
// the lab (DPDK 22.11), rounded up.
const pdumpNeedBytes = 160 << 20

// A capture's pool in hugepages: 8191 mbufs of 2176 bytes and a 4096-slot
// ring took 10 × 2 MiB pages beyond the primary's, measured on the lab (DPDK
// 22.11) in a hugetlbfs mount of the primary's own: about mbufBytes per
// mbuf, plus poolOverhead for the ring and the pool's headers.
const (
	defaultCaptureMbufs = 8191
	mbufBytes           = 2560
	poolOverhead        = 1 << 20
)

// captureNeed is the hugepage memory a capture pool of mbufs takes.
func captureNeed(mbufs int) uint64 {
	if mbufs <= 0 {
		mbufs = defaultCaptureMbufs
	}
	return uint64(mbufs)*mbufBytes + poolOverhead
}

// poolThatFits is the largest pool of 2^k-1 mbufs (the sizes a mempool
// likes) that pdump takes and whose need is within room, or 0: below
// pdump's smallest pool (1025 mbufs) no capture fits.
func poolThatFits(room uint64) int {
	n := 0
	for k := 1; k <= 20; k++ {
		m := 1<<k - 1
		if m >= host.PdumpMinTotalMbufs && m <= host.PdumpMaxTotalMbufs && captureNeed(m) <= room {
			n = m
		}
	}
	return n
}

// checkHugepages (CHK-05, CHK-06): free hugepages per size and NUMA node,
// hugetlbfs mounts, the --huge-dir in use, and files dead primaries left.
func checkHugepages(ctx context.Context, env *Env) Result {
	hp, err := env.Hugepages(ctx)
	if err != nil {
		return errored(err.Error())
	}
	var details []string
	var free uint64
	for _, s := range hp.Sizes {
		free += s.Free * s.SizeKB * 1024
		details = append(details, fmt.Sprintf("%d kB pages: %d reserved, %d free, %d reserved-not-yet-used", s.SizeKB, s.Nr, s.Free, s.Resv))
	}
	for _, n := range hp.Nodes {
		var parts []string
		for _, s := range n.Sizes {
			parts = append(parts, fmt.Sprintf("%d kB: %d free of %d", s.SizeKB, s.Free, s.Nr))
		}
		details = append(details, fmt.Sprintf("node %d: %s", n.Node, strings.Join(parts, ", ")))
	}
	for _, m := range hp.Mounts {
		details = append(details, fmt.Sprintf("hugetlbfs %s (pagesize %d kB, mode %s, uid %d)", m.Path, m.PageSizeKB, m.Mode, m.UID))
	}
	if len(hp.Mounts) == 0 {
		return fail("no hugetlbfs is mounted: DPDK has nowhere to map hugepages",
			fix("mount one (and make it permanent in /etc/fstab)", "mkdir -p /mnt/huge", "mount -t hugetlbfs nodev /mnt/huge"),
			details...)
	}

	// --huge-dir of the primary (its command line), else of the config.
	hugeDir, from := "", ""
	if p, _ := env.Primary(ctx); p != nil {
		if a, src, c := env.primaryEAL(ctx, p); a != nil && a.HugeDir != "" {
			hugeDir, from = a.HugeDir, fmt.Sprintf("the primary's --huge-dir (%s)", src)
			if c != nil {
				from = argWhere(c, "--huge-dir")
			}
		}
	}
	if hugeDir == "" {
		if cf, err := env.GazelleConfig(ctx); err == nil && cf.Capture != nil && cf.Capture.EAL.HugeDir != "" {
			hugeDir, from = cf.Capture.EAL.HugeDir, argWhere(cf.Capture, "--huge-dir")
		}
	}
	if hugeDir != "" {
		m, _ := host.HugeDirMount(hp.Mounts, hugeDir)
		if m == nil {
			return fail(fmt.Sprintf("%s %s is not on a hugetlbfs mount: EAL will find no hugepages there", from, hugeDir),
				mountFix(hugeDir),
				details...)
		}
		details = append(details, fmt.Sprintf("%s %s is on hugetlbfs", from, hugeDir))
		// A mount limited by size= (as containers have) runs out before the
		// pool does: the capture tool maps where the primary's
		// hugepage_info says, so its pool must fit under that limit.
		limit, room, limited, err := env.h.HugetlbfsRoom(*m)
		switch {
		case err != nil:
			details = append(details, fmt.Sprintf("cannot tell what %s has left under its size= limit: %v", m.Path, err))
		case limited:
			details = append(details, fmt.Sprintf("%s is limited to %d MiB (size=), %d MiB of it free", m.Path, limit>>20, room>>20))
			mbufs := env.cfg.CaptureMbufs
			if mbufs <= 0 {
				mbufs = defaultCaptureMbufs
			}
			if need := captureNeed(mbufs); room < need {
				finding := fmt.Sprintf("%s %s is a hugetlbfs mount limited to %d MiB (size=) with %d MiB free; a capture pool of %d mbufs needs about %d MiB there: the capture tool will fail with \"Mempool creation failed: Cannot allocate memory\"",
					from, hugeDir, limit>>20, room>>20, mbufs, (need+1<<20-1)>>20)
				// hugetlbfs ignores size= on a remount (seen on the lab):
				// only a smaller pool fits without restarting the primary.
				f := fix(fmt.Sprintf("make room under the limit: a remount cannot grow it (hugetlbfs ignores size= on remount), so free what else holds %s or mount it larger before the primary starts", m.Path))
				if t, err := env.Target(ctx); err == nil && t.Prefix != "" && poolThatFits(room) > 0 {
					n := poolThatFits(room)
					f = fix(fmt.Sprintf("capture with a pool that fits the %d MiB left (a remount cannot grow the mount: hugetlbfs ignores size= on remount)", room>>20),
						shquote.Join([]string{"gzdoctor", "capture", "--prefix", t.Prefix, "--total-num-mbufs", fmt.Sprint(n)}))
				}
				return fail(finding, f, details...)
			}
			free = min(free, room)
		}
	}

	stale, staleBytes := env.deadHugepageFiles(ctx)
	seeAlso := env.hugepageOwners(ctx, stale)
	freeMiB := free >> 20
	switch {
	case free == 0:
		return fail("no free hugepages: the capture tool cannot create its mempool (\"Cannot allocate memory\")",
			env.hugepageFix(stale, seeAlso, "reserve hugepages (the command adds what a capture needs to the pool)", reserveCommand(hp, pdumpNeedBytes, free)), details...)
	case free < pdumpNeedBytes:
		return warn(fmt.Sprintf("%d MiB of hugepages free; dpdk-pdump's default mempool needs about %d MiB", freeMiB, pdumpNeedBytes>>20),
			env.hugepageFix(stale, seeAlso, "reserve more hugepages (the command adds what dpdk-pdump's default pool lacks to the pool), or capture with a smaller pool (total-num-mbufs=8191 in dpdk-pdump's --pdump argument)", reserveCommand(hp, pdumpNeedBytes, free)), details...)
	case len(stale) > 0:
		held := fmt.Sprintf("%d MiB are held by files of primaries that are gone", staleBytes>>20)
		if staleBytes == 0 {
			n := 0
			for _, g := range stale {
				n += g.Count
			}
			held = fmt.Sprintf("%d hugepage files of primaries that are gone remain", n)
		}
		return warn(fmt.Sprintf("%d MiB of hugepages free; %s", freeMiB, held), env.hugepageFix(stale, seeAlso, "", ""), details...)
	}
	return ok(fmt.Sprintf("%d MiB of hugepages free in %s (a capture needs about %d MiB)", freeMiB, mountPaths(hp.Mounts), pdumpNeedBytes>>20), details...)
}

// deadHugepageFiles are hugepage file groups of prefixes no process holds:
// a killed primary's memory, never returned to the pool.
func (e *Env) deadHugepageFiles(ctx context.Context) ([]host.HugepageFiles, int64) {
	all, err := e.hugepageFiles(ctx)
	if err != nil {
		return nil, 0
	}
	live := map[string]bool{}
	if rt, err := e.Runtime(ctx); err == nil {
		for _, p := range rt.Live() {
			live[p.Name] = true
		}
	}
	var out []host.HugepageFiles
	var bytes int64
	for _, g := range all {
		if !live[g.Prefix] {
			out = append(out, g)
			bytes += g.Bytes
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Bytes > out[j].Bytes })
	return out, bytes
}

// hugepageOwners maps a dead prefix whose runtime dir remains to the
// earlier check whose cleanup command removes its hugepage files with the
// dir: runtime-dir for every one, primary for the target's alone.
func (e *Env) hugepageOwners(ctx context.Context, stale []host.HugepageFiles) map[string]string {
	out := map[string]string{}
	rt, err := e.Runtime(ctx)
	if err != nil {
		return out
	}
	target := ""
	if t, err := e.Target(ctx); err == nil {
		target = t.Prefix
	}
	for _, g := range stale {
		for _, p := range rt.Stale() {
			if p.Name != g.Prefix {
				continue
			}
			if by := e.reportedBy("runtime-dir"); by != "" {
				out[g.Prefix] = by
			} else if by := e.reportedBy("primary"); by != "" && p.Name == target {
				out[g.Prefix] = by
			}
		}
	}
	return out
}

// hugepageFix frees dead primaries' hugepage files and, with text, adds
// reserve (reserveCommand) to the commands.
func (e *Env) hugepageFix(stale []host.HugepageFiles, seeAlso map[string]string, text, reserve string) *Fix {
	var cmds []string
	if text != "" {
		cmds = append(cmds, reserve)
	}
	var names, elsewhere []string
	for _, g := range stale {
		what := fmt.Sprintf("%s (%d files, %d MiB, in %s)", g.Prefix, g.Count, g.Bytes>>20, g.Mount)
		if by := seeAlso[g.Prefix]; by != "" {
			elsewhere = append(elsewhere, fmt.Sprintf("%s: the command under %s removes them with its runtime dir", what, by))
			continue
		}
		names = append(names, what)
		globs := strings.Join(e.hugepageGlobs(g.Mount, g.Prefix), " ")
		cmds = append(cmds, fmt.Sprintf("fuser -s %s; [ $? = 1 ] && rm -f %s", globs, globs))
	}
	if len(names)+len(elsewhere) > 0 {
		if text != "" {
			text += "; "
		}
		text += "free the hugepages held by dead primaries' files: " + strings.Join(append(names, elsewhere...), ", ")
		if len(names) > 0 {
			text += " (the commands remove nothing a process still maps)"
		}
	}
	return fix(text, cmds...)
}

// reserveCommand raises the default-size hugepage pool by the pages a
// capture still lacks (need bytes, free of them free now): from the pool's
// size, never to a fixed number, which would shrink a larger pool the
// operator set. "" when the pool's size or page size is unknown.
func reserveCommand(hp *host.Hugepages, need, free uint64) string {
	if hp.Meminfo == nil || hp.Meminfo.HugepagesizeKB == 0 || need <= free {
		return ""
	}
	nr := hp.Meminfo.HugePagesTotal - min(hp.Meminfo.HugePagesTotal, hp.Meminfo.HugePagesSurp)
	if s := hp.Size(hp.Meminfo.HugepagesizeKB); s != nil {
		nr = s.Nr
	}
	page := hp.Meminfo.HugepagesizeKB << 10
	return fmt.Sprintf("echo %d > /proc/sys/vm/nr_hugepages", nr+(need-free+page-1)/page)
}

// mountFix mounts hugetlbfs at dir; a relative dir is the primary's
// working directory's, which gzdoctor does not know: no command then.
func mountFix(dir string) *Fix {
	if !path.IsAbs(dir) {
		return fix(fmt.Sprintf("mount hugetlbfs there (%s is relative to the primary's working directory: better give --huge-dir an absolute path)", dir))
	}
	q := shquote.Quote(dir)
	return fix("mount hugetlbfs there", "mkdir -p "+q, "mount -t hugetlbfs nodev "+q)
}

func mountPaths(ms []host.HugetlbfsMount) string {
	var s []string
	for _, m := range ms {
		s = append(s, m.Path)
	}
	return strings.Join(s, ", ")
}
