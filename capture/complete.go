package capture

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"github.com/gzdoctor/gzdoctor/host"
	"github.com/gzdoctor/gzdoctor/host/target"
)

// Shell completion (cobra's __complete) asks for candidates while the
// operator types: they come from the same resolution a capture uses
// (resolvePrefix, probePorts: telemetry, named from the EAL arguments on
// DPDK 20.11), each as "value<TAB>description", and never take longer
// than completeTimeout, whatever the primary does.
const completeTimeout = time.Second

// CompletePrefixes lists the live primaries' prefixes under root, with
// the pid and program holding each.
func CompletePrefixes(root string) []string {
	h := host.New(orRoot(root))
	all, err := target.Scan(h)
	if err != nil {
		return nil
	}
	var out []string
	seen := map[string]bool{}
	for _, p := range all {
		if p.State != host.PrefixLive || seen[p.Name] {
			continue
		}
		seen[p.Name] = true
		desc := "live primary"
		if hd := p.Lock.Holder; hd != nil {
			desc = fmt.Sprintf("pid %d", hd.PID)
			if proc, err := h.ReadProcess(hd.PID); err == nil && proc.Exe != "" {
				desc += " " + filepath.Base(proc.Exe)
			}
		}
		out = append(out, p.Name+"\t"+desc)
	}
	sort.Strings(out)
	return out
}

// CompletePorts lists the capturable ports of the primary that prefix (or
// the config, or the only live primary) names: their names for -i/--device
// (byName) or their numbers for --port. pdump's own vdevs are left out.
func CompletePorts(ctx context.Context, root, prefix, config string, byName bool) []string {
	ctx, cancel := context.WithTimeout(ctx, completeTimeout)
	defer cancel()
	h := host.New(orRoot(root))
	t, err := resolvePrefix(ctx, h, &Options{Prefix: prefix, ConfigPath: config})
	if err != nil {
		return nil
	}
	t.probePorts(ctx, h)
	var out []string
	for _, pt := range t.ports {
		if host.IsPdumpVdev(pt.Name) {
			continue
		}
		// DPDK 20.11's telemetry has no queue counts, nor names (those
		// come from the EAL arguments then).
		about := fmt.Sprintf("%d rx, %d tx queues", pt.RxQueues, pt.TxQueues)
		if pt.RxQueues == 0 && pt.TxQueues == 0 {
			about = "queues unknown"
		}
		if pt.NameFrom != "" {
			about += ", name from the EAL arguments"
		}
		switch {
		case byName && pt.Name != "":
			out = append(out, fmt.Sprintf("%s\tport %d, %s", pt.Name, pt.ID, about))
		case !byName:
			name := pt.Name
			if name == "" {
				name = "name unknown"
			}
			out = append(out, strconv.Itoa(pt.ID)+"\t"+name+", "+about)
		}
	}
	return out
}
