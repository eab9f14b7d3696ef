package doctor

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/gzdoctor/gzdoctor/host"
	"github.com/gzdoctor/gzdoctor/host/telemetry"
)

// pciAddr matches a PCI address with or without the domain.
var pciAddr = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^([0-9a-fA-F]{4}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]$`)
})

// sameDevice reports whether two device names are one device: PCI
// addresses with and without the domain are.
func sameDevice(a, b string) bool {
	if pciAddr().MatchString(a) && pciAddr().MatchString(b) {
		return normPCI(a) == normPCI(b)
	}
	return a == b
}

// normPCI writes a PCI address the way DPDK names its ports
// (0000:01:00.0).
func normPCI(s string) string {
	s = strings.ToLower(s)
	if strings.Count(s, ":") == 1 {
		s = "0000:" + s
	}
	return s
}

// checkDevice (CHK-07, CHK-16): the device to capture on exists and the
// primary drives it. When it does not, say which devices the primary does
// drive and the device_id to use instead (the seed's error 1).
func checkDevice(ctx context.Context, env *Env) Result {
	p, err := env.Primary(ctx)
	if err != nil {
		return errored(err.Error())
	}
	if p == nil {
		return skip("no running primary")
	}
	driven, how := env.drivenDevices(ctx, p)
	details := []string{"the primary drives (" + how + "): " + strings.Join(driven, ", ")}
	dev, from := env.cfg.Device, "--device"
	if dev == "" {
		d, why := env.configDevice(ctx)
		switch {
		case d != "":
			dev, from = d, why
			details = append(details, "device from "+why)
		case why != "":
			details = append(details, why)
		}
	}
	if dev == "" {
		if ids := env.unnamedPorts(ctx); len(driven) == 0 && len(ids) > 0 {
			return ok(fmt.Sprintf("no --device given; telemetry lists the primary's ports by id only (DPDK before 21.11) and its EAL arguments do not name them: capture with %s (gzdoctor capture --port N)",
				strings.Join(ids, " or ")), details...)
		}
		switch len(driven) {
		case 0:
			return warn("no --device given and the primary reports no ports", fix("give the device to capture on with --device (PCI address or vdev name)"), details...)
		case 1:
			return ok(fmt.Sprintf("no --device given; the primary drives one device: use device_id=%s", driven[0]), details...)
		}
		return ok(fmt.Sprintf("no --device given; the primary drives %s: pick one as device_id", strings.Join(driven, ", ")), details...)
	}

	isPCI := pciAddr().MatchString(dev)
	name := dev
	if isPCI {
		name = normPCI(dev)
		if info, d := env.describePCI(ctx, name); info != "" {
			details = append(details, info)
			if d != nil {
				f := d.Fix
				if use := useInstead(ctx, env, p, driven); use != nil {
					f = &Fix{Text: use.Text + "; or " + d.Fix.Text, Commands: append(use.Commands, d.Fix.Commands...)}
				}
				return fail(fmt.Sprintf("%s (%s) %s", dev, from, d.Finding), f, details...)
			}
		}
	}
	if slices.Contains(driven, name) {
		return ok(fmt.Sprintf("the primary drives %s (%s): device_id=%s", name, from, name), details...)
	}
	if how == "" {
		return warn(fmt.Sprintf("cannot tell whether the primary drives %s: no telemetry and nothing in its arguments", dev),
			fix("if the capture says \"is not driven by the primary process\", use a device the primary probed (dpdk-telemetry.py: /ethdev/list)"), details...)
	}
	f := useInstead(ctx, env, p, driven)
	if f == nil {
		f = fix("capture on a device the primary drives")
	}
	return fail(fmt.Sprintf("the primary does not drive %s (%s): pdump will say \"Device %s is not driven by the primary process\"", dev, from, name), f, details...)
}

// DrivenDevices names the devices the primary of the env's prefix drives
// and where that was read (telemetry, else its EAL arguments: the Gazelle
// config or its command line); "" when nothing tells. capture asks it when
// the primary has no telemetry to list its ports (DPDK 19.11,
// --no-telemetry).
func (e *Env) DrivenDevices(ctx context.Context) ([]string, string) {
	p, err := e.Primary(ctx)
	if err != nil || p == nil {
		return nil, ""
	}
	return e.drivenDevices(ctx, p)
}

// drivenDevices lists the devices the primary drives: its ports from
// telemetry (without pdump's own net_pcap vdevs), else what its EAL
// arguments allow (-a/-w and --vdev).
func (e *Env) drivenDevices(ctx context.Context, p *host.Process) ([]string, string) {
	if tel, err := e.Telemetry(ctx); err == nil && tel != nil && tel.Errors["ports"] == "" && allNamed(tel.Ports) {
		var names []string
		for _, pt := range tel.Ports {
			if host.IsPdumpVdev(pt.Name) {
				continue // created by a running pdump, not by the primary
			}
			names = append(names, pt.Name)
		}
		return names, "telemetry"
	}
	// No telemetry (DPDK before 20.05, or it did not answer): what the
	// primary's EAL arguments let it probe.
	a, from := e.PrimaryEAL(ctx, p)
	if a == nil {
		return nil, ""
	}
	var names []string
	if !a.NoPCI {
		if len(a.Allow) > 0 {
			for _, pa := range a.AllowedPCI() {
				if a.ProbesPCI(pa) {
					names = append(names, pa.String())
				}
			}
		} else if devs, err := e.pciDevices(ctx); err == nil {
			for _, d := range devs {
				if d.Network && (d.DriverKind == host.DriverDPDK || d.DriverKind == host.DriverBifurcated) && a.ProbesPCI(d.Addr) {
					names = append(names, d.Addr.String())
				}
			}
		}
	}
	for _, v := range a.VDevs {
		n, _, _ := strings.Cut(v, ",")
		names = append(names, n)
	}
	return names, from
}

// allNamed reports whether telemetry (or the EAL arguments) named every
// port: DPDK before 21.11 lists ids only.
func allNamed(ports []telemetry.EthPort) bool {
	for _, p := range ports {
		if p.Name == "" {
			return false
		}
	}
	return true
}

// unnamedPorts lists "port=N" for the ports telemetry lists without a name.
func (e *Env) unnamedPorts(ctx context.Context) []string {
	var out []string
	if tel, err := e.Telemetry(ctx); err == nil && tel != nil && tel.Errors["ports"] == "" {
		for _, p := range tel.Ports {
			if p.Name == "" {
				out = append(out, fmt.Sprintf("port=%d", p.ID))
			}
		}
	}
	return out
}

// useInstead is the fix naming the device_id the primary does drive: the
// first it drives that the capture does not have already. When the capture
// has them all (a wrong -i beside right ones), the fix drops the wrong one.
func useInstead(ctx context.Context, env *Env, p *host.Process, driven []string) *Fix {
	if len(driven) == 0 {
		return nil
	}
	prefix := p.DPDK.Prefix
	if t, err := env.Target(ctx); err == nil {
		prefix = t.Prefix
	}
	use := ""
	for _, d := range driven {
		if !slices.ContainsFunc(env.cfg.Devices, func(g string) bool { return sameDevice(g, d) }) {
			use = d
			break
		}
	}
	if use == "" {
		if env.cfg.Rerun == nil {
			return nil
		}
		f := fix(fmt.Sprintf("drop %s: the primary drives %s, which this capture has already", env.cfg.Device, strings.Join(driven, ", ")))
		if c := env.cfg.Rerun(""); c != "" {
			f.Commands = append(f.Commands, c)
		}
		return f
	}
	f := fix(fmt.Sprintf("use device_id=%s (the primary drives %s)", use, strings.Join(driven, ", ")))
	c := ""
	if env.cfg.Rerun != nil {
		c = env.cfg.Rerun(use)
	}
	if c == "" {
		c = env.captureCommand(prefix, use)
	}
	if c != "" {
		f.Commands = append(f.Commands, c)
	}
	return f
}
