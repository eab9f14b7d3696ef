package doctor

import (
	"context"
	"fmt"
	"strings"

	"github.com/gzdoctor/gzdoctor/host"
	"github.com/gzdoctor/gzdoctor/host/target"
)

// Target resolves the run's target (host/target's rules, which capture
// follows through this same method): --prefix, else the config in use,
// else the only live prefix, else DPDK's default; ambiguous otherwise.
func (e *Env) Target(ctx context.Context) (*target.Target, error) {
	return e.target.await(ctx, "the target prefix", func() (*target.Target, error) {
		rt, err := e.Runtime(ctx)
		if err != nil {
			return nil, err
		}
		f := target.Facts{Prefixes: rt.Prefixes, CallerBase: rt.CallerBase}
		if e.cfg.Prefix == "" {
			// A config that does not parse cannot choose; the config check
			// reports why, and the live prefixes still can.
			if cf, _ := e.GazelleConfig(ctx); cf != nil {
				f.Config = &target.Config{Path: cf.Path, Prefix: cf.Prefix, Why: cf.PrefixWhy}
				if len(cf.Conflict) > 0 {
					// The running lstacks read other files than this one:
					// it cannot say which of them the capture is for.
					f.Config.Prefix = ""
					f.Config.Why = fmt.Sprintf("the running lstacks read different configs (%s)", strings.Join(cf.Conflict, "; "))
				}
			}
		}
		r := target.Request{Prefix: e.cfg.Prefix, Via: e.cfg.PrefixFrom, Why: e.cfg.PrefixWhy}
		if e.cfg.allPrefixes {
			r.Via = target.ViaAll
		}
		return target.Resolve(r, f), nil
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
		if t.Ambiguous() || t.Dir == nil || t.Dir.State != host.PrefixLive {
			return nil, nil
		}
		pid := t.PID
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
				return nil, fmt.Errorf("prefix %s is locked but its holder is not visible from here (another pid namespace?)", t.Prefix)
			}
		}
		return e.h.ReadProcess(pid)
	})
}

func (e *Env) dpdkProcesses(ctx context.Context) ([]host.Process, error) {
	return e.procs.await(ctx, "the list of DPDK processes", e.h.DPDKProcesses)
}
