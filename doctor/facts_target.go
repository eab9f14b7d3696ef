package doctor

import (
	"context"
	"fmt"

	"github.com/gzdoctor/gzdoctor/host"
)

// Where the target prefix came from.
const (
	SourceFlag    = "flag"    // --prefix
	SourceConfig  = "config"  // lstack.conf dpdk_args / ltran.conf forward_kit_args
	SourceLive    = "live"    // the only live prefix
	SourceDefault = "default" // DPDK's default, rte
	SourceAll     = "all"     // one of the running primaries, checked in turn (--all-prefixes)
)

// DefaultPrefix is DPDK's --file-prefix when none is given.
const DefaultPrefix = "rte"

// TargetPrefix is the prefix the capture must use and how it was chosen.
type TargetPrefix struct {
	Name   string `json:"name"`
	Source string `json:"source"`
	// Why explains the choice in words ("--file-prefix in
	// /etc/gazelle/lstack.conf:3").
	Why string `json:"why"`
	// Dir is the prefix's runtime dir, nil when none exists.
	Dir *host.Prefix `json:"dir,omitempty"`
	// Ambiguous lists the live prefixes when nothing chose between them.
	Ambiguous []string `json:"ambiguous,omitempty"`
}

// Target resolves the prefix: --prefix, else the config in use, else the
// only live prefix, else DPDK's default.
func (e *Env) Target(ctx context.Context) (*TargetPrefix, error) {
	return e.target.await(ctx, "the target prefix", func() (*TargetPrefix, error) {
		rt, err := e.Runtime(ctx)
		if err != nil {
			return nil, err
		}
		t := &TargetPrefix{}
		switch {
		case e.cfg.Prefix != "" && e.cfg.allPrefixes:
			t.Name, t.Source, t.Why = e.cfg.Prefix, SourceAll, "a running primary's prefix (--all-prefixes checks each)"
		case e.cfg.Prefix != "":
			t.Name, t.Source, t.Why = e.cfg.Prefix, SourceFlag, "--prefix "+e.cfg.Prefix
		default:
			// A config that does not parse cannot choose; the config check
			// reports why, and the live prefixes still can.
			cf, _ := e.GazelleConfig(ctx)
			if cf != nil && cf.Prefix != "" {
				t.Name, t.Source, t.Why = cf.Prefix, SourceConfig, cf.PrefixWhy
				break
			}
			live := rt.Live()
			switch len(live) {
			case 0:
				t.Name, t.Source, t.Why = DefaultPrefix, SourceDefault, "no --prefix, no config, no running primary: DPDK's default"
			case 1:
				t.Name, t.Source, t.Why = live[0].Name, SourceLive, "the only running primary's prefix"
			default:
				for _, p := range live {
					t.Ambiguous = append(t.Ambiguous, p.Name)
				}
				return t, nil
			}
		}
		t.Dir = rt.Find(t.Name)
		return t, nil
	})
}

// Primary is the process holding the target prefix's config lock, or nil
// when none does. errNoTarget when the prefix is ambiguous.
func (e *Env) Primary(ctx context.Context) (*host.Process, error) {
	return e.primary.await(ctx, "the primary's /proc entry", func() (*host.Process, error) {
		t, err := e.Target(ctx)
		if err != nil {
			return nil, err
		}
		if t.Dir == nil || t.Dir.State != host.PrefixLive {
			return nil, nil
		}
		pid := 0
		if t.Dir.Lock.Holder != nil {
			pid = t.Dir.Lock.Holder.PID
		}
		if pid == 0 {
			// The holder is in another pid namespace (or an OFD lock without
			// pid): find the process that maps this runtime dir.
			ps, err := e.dpdkProcesses(ctx)
			if err != nil {
				return nil, err
			}
			for _, p := range host.ProcessesByPrefixDir(ps, t.Dir.Dir) {
				if p.DPDK.EAL != "" || p.DPDK.Lstack != "" {
					pid = p.PID
					break
				}
			}
			if pid == 0 {
				return nil, fmt.Errorf("prefix %s is locked but its holder is not visible from here (another pid namespace?)", t.Name)
			}
		}
		return e.h.ReadProcess(pid)
	})
}

func (e *Env) dpdkProcesses(ctx context.Context) ([]host.Process, error) {
	return e.procs.await(ctx, "the list of DPDK processes", e.h.DPDKProcesses)
}
