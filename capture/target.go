package capture

import (
	"context"
	"fmt"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/gzdoctor/gzdoctor/host"
)

// target is the primary a capture attaches to.
type target struct {
	prefix string
	why    string
	dir    *host.Prefix // nil when no runtime dir was found
	ports  []host.EthPort
	// portsErr says why the ports are unknown (no telemetry socket, an
	// old DPDK...).
	portsErr error
}

// resolvePrefix follows what the operator gave: --prefix, else the prefix
// the --config file implies, else the only live prefix on the machine.
func resolvePrefix(ctx context.Context, h *host.Host, o *Options) (*target, error) {
	t := &target{}
	switch {
	case o.Prefix != "":
		t.prefix, t.why = o.Prefix, "--prefix"
	case o.ConfigPath != "":
		cfgs, err := h.LoadGazelleConfigs(o.ConfigPath, os.Getenv)
		if err != nil {
			return nil, fmt.Errorf("reading --config %s: %w", o.ConfigPath, err)
		}
		if len(cfgs) == 0 || cfgs[0].Prefix == "" || cfgs[0].PrefixSource == "ltran-pid" {
			return nil, usagef("--config %s does not fix the prefix (lstack in ltran mode attaches to ltran: give ltran.conf or --prefix)", o.ConfigPath)
		}
		t.prefix, t.why = cfgs[0].Prefix, "--file-prefix in "+o.ConfigPath
	}
	bases := h.RuntimeBases(os.Geteuid(), envMap())
	all, err := h.Prefixes(bases)
	if err != nil {
		return nil, fmt.Errorf("listing DPDK runtime dirs: %w", err)
	}
	if t.prefix != "" {
		for i := range all {
			if all[i].Name == t.prefix {
				if t.dir == nil || all[i].State == "live" {
					t.dir = &all[i]
				}
			}
		}
		return t, nil
	}
	var live []host.Prefix
	for _, p := range all {
		if p.State == "live" {
			live = append(live, p)
		}
	}
	switch len(live) {
	case 0:
		var where []string
		for _, b := range bases {
			where = append(where, b.Path)
		}
		return nil, fmt.Errorf("no live DPDK primary found (looked in %s): start lstack/ltran, or give --prefix (and run as the primary's user)",
			strings.Join(where, ", "))
	case 1:
		t.prefix, t.why, t.dir = live[0].Name, "the only live prefix ("+live[0].Dir+")", &live[0]
		return t, nil
	}
	var names []string
	for _, p := range live {
		names = append(names, p.Name)
	}
	sort.Strings(names)
	return nil, usagef("several live DPDK primaries (%s): choose one with --prefix", strings.Join(names, ", "))
}

func envMap() map[string]string {
	return host.EnvMap(os.Environ())
}

// probePorts asks the primary's telemetry socket for its ports.
func (t *target) probePorts(ctx context.Context, h *host.Host) {
	if t.dir == nil {
		t.portsErr = fmt.Errorf("no runtime dir for prefix %s", t.prefix)
		return
	}
	if len(t.dir.Telemetry) == 0 {
		t.portsErr = fmt.Errorf("the primary has no telemetry socket in %s", t.dir.Dir)
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	sock := t.dir.Telemetry[0]
	if !path.IsAbs(sock) {
		sock = path.Join(t.dir.Dir, sock)
	}
	rep, err := h.ProbeTelemetry(ctx, sock)
	if err != nil {
		t.portsErr = err
		return
	}
	if e, ok := rep.Errors["ports"]; ok {
		t.portsErr = fmt.Errorf("telemetry: %s", e)
		return
	}
	t.ports = rep.Ports
}

// resolveDevice fills p.Device and p.Port from the flags and, where they
// say nothing, the primary's ports.
func resolveDevice(o *Options, t *target, p *Plan) error {
	p.Port = -1
	switch {
	case o.Device != "":
		p.Device = o.Device
		for _, pt := range t.ports {
			if pt.Name == o.Device {
				p.Port = pt.ID
			}
		}
	case o.Port >= 0:
		p.Port = o.Port
		for _, pt := range t.ports {
			if pt.ID == o.Port {
				p.Device = pt.Name
			}
		}
	default:
		var ports []host.EthPort
		for _, pt := range t.ports {
			if !host.IsPdumpVdev(pt.Name) {
				ports = append(ports, pt)
			}
		}
		if t.portsErr != nil {
			return usagef("which device? the primary's ports are unknown (%v): give -i DEVICE (PCI address or vdev name) or --port N", t.portsErr)
		}
		switch len(ports) {
		case 0:
			return fmt.Errorf("the primary on prefix %s has no ethdev ports: nothing to capture", t.prefix)
		case 1:
			// An empty name (DPDK before 21.11 lists ids only, and the EAL
			// arguments did not tell it) makes buildArgs use port=N.
			p.Device, p.Port = ports[0].Name, ports[0].ID
		default:
			var list []string
			for _, pt := range ports {
				name := pt.Name
				if name == "" {
					name = "?"
				}
				list = append(list, fmt.Sprintf("%d=%s", pt.ID, name))
			}
			return usagef("the primary has %d ports (%s): choose one with -i NAME or --port N", len(ports), strings.Join(list, ", "))
		}
	}
	return nil
}
