package doctor

import (
	"context"
	"fmt"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/gzdoctor/gzdoctor/host"
	"github.com/gzdoctor/gzdoctor/internal/shquote"
)

// checkGazelleSettings (CHK-04): settings lstack and ltran refuse, alone
// or together, each with its line. Gazelle's rules (lstack_cfg.c,
// ltran_param.c) make the process exit at start with `cfg_init failed`.
func checkGazelleSettings(ctx context.Context, env *Env) Result {
	g, stop := env.gazelleOrSkip(ctx)
	if stop != nil {
		return *stop
	}
	if len(g.configs()) == 0 {
		return skip("no lstack.conf / ltran.conf to read (give one with --config)")
	}
	var fs []gzFinding
	var details []string
	bad := func(c *host.GazelleConfig, s gzSetting, msg, fixText string) {
		fs = append(fs, gzFinding{Status: Fail, Where: s.where(c), Msg: fmt.Sprintf("%s: %s", s.where(c), msg), FixText: fixText})
	}
	if c := g.Lstack; c != nil {
		useLtran := gzSetting{Key: "use_ltran", Int: 1}
		if st := c.Raw.Lookup("use_ltran"); st != nil {
			useLtran = intKey(c, "use_ltran", 1)
		}
		kni := intKey(c, "kni_switch", 0)
		flow := intKey(c, "flow_bifurcation", 0)
		tuple := intKey(c, "tuple_filter", 0)
		shadow := intKey(c, "listen_shadow", 0)
		intr := intKey(c, "stack_interrupt", 0)
		mode := strKey(c, "stack_thread_mode", "run-to-wakeup")
		bond := intKey(c, "bond_mode", -1)
		stackNum := intKey(c, "stack_num", 0)
		if kni.Int == 1 && useLtran.Int == 1 {
			bad(c, kni, fmt.Sprintf("kni_switch=1 with use_ltran=1 (%s): lstack refuses it (`kni_switch=1 when use_ltran=1, invaild.`)", useLtran.where(c)),
				"set kni_switch=0, or use_ltran=0 (KNI then belongs to lstack)")
		}
		if kni.Int == 1 && flow.Int == 1 {
			bad(c, flow, fmt.Sprintf("flow_bifurcation=1 with kni_switch=1 (%s): lstack refuses both (`flow_bifurcation and kni_switch cannot both be enabled`)", kni.where(c)),
				"keep one: flow_bifurcation (virtio-user, DPDK ≥ 23.11) or kni_switch (DPDK < 23.11)")
		}
		if tuple.Int == 1 && (useLtran.Int == 1 || shadow.Int == 1) {
			other := useLtran
			if shadow.Int == 1 {
				other = shadow
			}
			bad(c, tuple, fmt.Sprintf("tuple_filter=1 with %s=1 (%s): lstack refuses it (`tuple filter and (ltran or listen_shadow) cannot be enabled at the same time`)", other.Key, other.where(c)),
				"set tuple_filter=0, or "+other.Key+"=0")
		}
		if intr.Int == 1 && mode.Str == "run-to-completion" {
			bad(c, intr, fmt.Sprintf("stack_interrupt=1 with stack_thread_mode=\"run-to-completion\" (%s): lstack refuses it (`rtc mode not support interrupt mode now.`)", mode.where(c)),
				"set stack_interrupt=0 or stack_thread_mode=\"run-to-wakeup\"")
		}
		if intr.Int == 1 && bond.Int != -1 {
			bad(c, intr, fmt.Sprintf("stack_interrupt=1 with bond_mode=%d (%s): lstack refuses it (`bond mode not support interrupt mode.`)", bond.Int, bond.where(c)),
				"set stack_interrupt=0 or bond_mode=-1")
		}
		if bond.Set && !slices.Contains([]int64{-1, 1, 4, 6}, bond.Int) {
			bad(c, bond, fmt.Sprintf("bond_mode=%d: lstack supports only -1 (no bond), 1, 4 and 6", bond.Int), "set bond_mode to -1, 1, 4 or 6")
		}
		if bond.Int != -1 && bond.Set && len(c.BondSlaves) == 0 {
			bad(c, bond, fmt.Sprintf("bond_mode=%d without bond_slave_mac: lstack has no slave to bond", bond.Int), "list the slaves in bond_slave_mac (MACs or PCI addresses, \";\"-separated, at most 2)")
		}
		if len(c.BondSlaves) > 2 {
			s := strKey(c, "bond_slave_mac", "")
			bad(c, s, fmt.Sprintf("bond_slave_mac lists %d slaves; lstack takes at most 2", len(c.BondSlaves)), "keep two slaves")
		}
		if stackNum.Int > 1 {
			bad(c, stackNum, fmt.Sprintf("stack_num=%d: lstack refuses it (`Multi stacks bound to numa are not supported currently. Please set stack_num <= 1.`)", stackNum.Int), "set stack_num=0 (threads from num_cpus) or 1")
		}
		for _, k := range []string{"nic_rxqueue_size", "nic_txqueue_size"} {
			s := intKey(c, k, 0)
			if s.Set && (s.Int < 512 || s.Int > 8192 || s.Int&(s.Int-1) != 0) {
				bad(c, s, fmt.Sprintf("%s=%d: lstack takes a power of two from 512 to 8192 (`nic queue size only support power of two`)", k, s.Int), fmt.Sprintf("set %s to one of 512, 1024, 2048, 4096, 8192", k))
			}
		}
		if s := intKey(c, "tcp_conn_count", 1500); s.Set && (s.Int < 1 || s.Int > 20000) {
			bad(c, s, fmt.Sprintf("tcp_conn_count=%d: lstack takes 1 to 20000 (GAZELLE_MAX_CLIENTS; 1.0.2 only up to 1500)", s.Int), "set tcp_conn_count within 1..20000")
		}
		if s := intKey(c, "mbuf_count_per_conn", 170); s.Set && (s.Int < 1 || s.Int > 65535) {
			bad(c, s, fmt.Sprintf("mbuf_count_per_conn=%d: lstack stores it in 16 bits (1..65535)", s.Int), "set mbuf_count_per_conn within 1..65535")
		}
		if s := strKey(c, "num_cpus", ""); s.Set {
			if _, err := host.ParseCPUList(s.Str); err != nil {
				bad(c, s, fmt.Sprintf("num_cpus: %v", err), "write num_cpus as a CPU list such as \"2\", \"0,2,4\" or \"2-5\"")
			}
		}
		if s := strKey(c, "unix_prefix", ""); s.Set && strings.ContainsAny(s.Str, "|;&$><`\\!\n") {
			bad(c, s, fmt.Sprintf("unix_prefix=%q has a character lstack rejects (| ; & $ > < ` \\ !)", s.Str), "use letters, digits, '-', '_' and '.' only")
		}
		details = append(details, fmt.Sprintf("%s: use_ltran=%d kni_switch=%d flow_bifurcation=%d tuple_filter=%d stack_interrupt=%d stack_thread_mode=%s bond_mode=%d",
			c.File, useLtran.Int, kni.Int, flow.Int, tuple.Int, intr.Int, mode.Str, bond.Int))
	}
	if c := g.Ltran; c != nil {
		for _, k := range []string{"rx_pool_mbuf_size", "tx_pool_mbuf_size"} {
			if st := c.Raw.Lookup(k); st != nil {
				right := strings.Replace(k, "pool_mbuf", "mbuf_pool", 1)
				fs = append(fs, gzFinding{Status: Warn, Where: posWords(st.Pos, c.File),
					Msg:     fmt.Sprintf("%s: ltran does not read %s (the shipped ltran.conf's comment misspells it); it uses %s", posWords(st.Pos, c.File), k, right),
					FixText: fmt.Sprintf("rename it to %s", right)})
			}
		}
		bm := intKey(c, "bond_mode", 1)
		if bm.Set && bm.Int != 1 {
			bad(c, bm, fmt.Sprintf("bond_mode=%d: ltran supports only bond_mode=1", bm.Int), "set bond_mode=1")
		}
		bp := strKey(c, "bond_ports", "")
		for _, p := range c.BondPorts {
			if !strings.HasPrefix(strings.ToLower(p), "0x") {
				bad(c, bp, fmt.Sprintf("bond_ports entry %q does not start with 0x (`Err: bond_port should start with 0x`)", p), "write each bond port as a hex mask of DPDK port ids, e.g. \"0x1\"")
			}
		}
		if len(c.BondPorts) > 2 {
			bad(c, bp, fmt.Sprintf("bond_ports has %d entries; ltran takes at most 2", len(c.BondPorts)), "keep two")
		}
		if len(c.BondPorts) > 0 && len(c.BondMacs) != len(c.BondPorts) {
			s := strKey(c, "bond_macs", "")
			bad(c, s, fmt.Sprintf("bond_macs has %d MACs for %d bond_ports", len(c.BondMacs), len(c.BondPorts)), "give one MAC per bond port")
		}
		if s := intKey(c, "dispatch_max_clients", 30); s.Set && (s.Int < 1 || s.Int > 32) {
			bad(c, s, fmt.Sprintf("dispatch_max_clients=%d: ltran takes 1 to 32", s.Int), "set dispatch_max_clients within 1..32")
		}
	}
	// lstack in ltran mode must meet ltran where ltran listens, with a MAC
	// ltran bonds.
	if ls, lt := g.Lstack, g.Ltran; ls != nil && lt != nil && ls.UseLtran {
		lp, tp := strKey(ls, "unix_prefix", ""), strKey(lt, "unix_prefix", "")
		if lp.Str != tp.Str {
			bad(ls, lp, fmt.Sprintf("lstack's unix_prefix %q differs from ltran's %q (%s): lstack waits at %s, ltran listens at %s",
				lp.Str, tp.Str, tp.where(lt), host.GazelleSocket(lp.Str, host.LtranClientSock), host.GazelleSocket(tp.Str, host.LtranClientSock)),
				"give both files the same unix_prefix")
		}
		if ls.Devices != "" && len(lt.BondMacs) > 0 && !slices.Contains(lt.BondMacs, ls.Devices) {
			bad(ls, strKey(ls, "devices", ""), fmt.Sprintf("devices=%s is not in ltran's bond_macs %s (%s): ltran refuses the registration (`match_bond_port failed`)",
				ls.Devices, strings.Join(lt.BondMacs, ","), strKey(lt, "bond_macs", "").where(lt)),
				fmt.Sprintf("set devices=%q (ltran's bond MAC)", lt.BondMacs[0]))
		}
	}
	return gzResult(fs, "no setting Gazelle refuses, alone or together", details)
}

// checkGazelleDevices (CHK-07): the NICs a config names exist and are bound
// to a DPDK driver, and num_cpus fits the CPUs and the NIC's queues.
func checkGazelleDevices(ctx context.Context, env *Env) Result {
	g, stop := env.gazelleOrSkip(ctx)
	if stop != nil {
		return *stop
	}
	if len(g.configs()) == 0 {
		return skip("no lstack.conf / ltran.conf to read (give one with --config)")
	}
	devs, err := env.pciDevices(ctx)
	if err != nil {
		return errored(err.Error())
	}
	var fs []gzFinding
	var details []string
	pci := func(c *host.GazelleConfig, where, addr string) {
		info, r := env.describePCI(ctx, addr)
		details = append(details, info)
		if r != nil {
			fs = append(fs, gzFinding{Status: r.Status, Msg: fmt.Sprintf("%s names %s, which %s", where, addr, r.Finding), FixText: r.Fix.Text, Commands: r.Fix.Commands})
		}
	}
	mac := func(c *host.GazelleConfig, s gzSetting, m string) {
		d := host.PCIByMAC(devs, m)
		if d == nil {
			if iface := env.h.InterfaceByMAC(m); iface != "" {
				details = append(details, fmt.Sprintf("%s=%s (%s): the kernel interface %s, which has no PCI device (reached through a vdev such as net_af_packet or net_af_xdp, iface=%s)", s.Key, m, s.where(c), iface, iface))
				return
			}
			details = append(details, fmt.Sprintf("%s=%s (%s): no kernel interface has this MAC (bound to a DPDK driver, or absent)", s.Key, m, s.where(c)))
			return
		}
		iface := ""
		for _, i := range d.Interfaces {
			if i.MAC == m {
				iface = i.Name
			}
		}
		details = append(details, fmt.Sprintf("%s=%s (%s) is %s of %s, driver %s", s.Key, m, s.where(c), iface, d.Addr, orUnknown(d.Driver)))
		if d.DriverKind == host.DriverKernel {
			fs = append(fs, gzFinding{Status: Fail, Where: s.where(c),
				Msg:      fmt.Sprintf("%s: %s=%s is %s of %s, still on its kernel driver %s: Gazelle will find no DPDK port with this MAC (`No NIC is matched`)", s.where(c), s.Key, m, iface, d.Addr, d.Driver),
				FixText:  fmt.Sprintf("bind %s to vfio-pci (its kernel interface %s goes away: not the one you are logged in through), then start Gazelle", d.Addr, iface),
				Commands: []string{shquote.Join([]string{"dpdk-devbind.py", "-b", "vfio-pci", d.Addr.String()})}})
		}
	}
	for _, c := range g.configs() {
		key := argsKey(c.Role)
		for _, a := range c.EAL.AllowedPCI() {
			pci(c, fmt.Sprintf("%s (-a in %s)", c.File, key), a.String())
		}
		if c.Role == host.RoleLstack {
			if c.Devices != "" {
				mac(c, strKey(c, "devices", ""), c.Devices)
			}
			for _, sl := range c.BondSlaves {
				sl = strings.TrimSpace(sl)
				if a, err := host.ParsePCIAddr(sl); err == nil {
					pci(c, fmt.Sprintf("%s (bond_slave_mac)", c.File), a.String())
				} else if m, err := host.NormalizeMAC(sl); err == nil {
					mac(c, strKey(c, "bond_slave_mac", ""), m)
				}
			}
			fs = append(fs, cpuFindings(env, c, devs, &details)...)
		} else {
			for _, m := range c.BondMacs {
				mac(c, strKey(c, "bond_macs", ""), m)
			}
		}
	}
	return gzResult(fs, "the NICs and CPUs the Gazelle config names are there", details)
}

// cpuFindings: num_cpus names online CPUs, and no more stack threads (one
// queue each) than the NIC's kernel interface has queues.
func cpuFindings(env *Env, c *host.GazelleConfig, devs []host.PCIDevice, details *[]string) []gzFinding {
	s := strKey(c, "num_cpus", "")
	if !s.Set {
		return nil
	}
	cpus, err := host.ParseCPUList(s.Str)
	if err != nil {
		return nil // gazelle-settings says so
	}
	var fs []gzFinding
	if online := env.h.OnlineCPUs(); online != nil {
		var off []string
		for _, cpu := range cpus {
			if !slices.Contains(online, cpu) {
				off = append(off, fmt.Sprint(cpu))
			}
		}
		if len(off) > 0 {
			fs = append(fs, gzFinding{Status: Fail, Where: s.where(c),
				Msg:     fmt.Sprintf("%s: num_cpus names CPU %s, which is not online here (EAL: `Cannot set affinity` / invalid lcore)", s.where(c), strings.Join(off, ",")),
				FixText: fmt.Sprintf("use online CPUs only (%s lists them)", "/sys/devices/system/cpu/online")})
		}
	}
	threads := len(cpus)
	if np := intKey(c, "num_process", 1); np.Int > 1 {
		threads *= int(np.Int)
	}
	if c.Devices == "" {
		return fs
	}
	d := host.PCIByMAC(devs, c.Devices)
	if d == nil {
		*details = append(*details, fmt.Sprintf("num_cpus %q: %d stack thread(s), one NIC queue each; the NIC's queues are not readable while a DPDK driver owns it (lstack prints `port_id N max_queues=M` when they are too few)", s.Str, threads))
		return fs
	}
	for _, i := range d.Interfaces {
		if i.MAC != c.Devices {
			continue
		}
		q := env.h.NetQueues(i.Name)
		*details = append(*details, fmt.Sprintf("num_cpus %q: %d stack thread(s); %s has %d rx queue(s) set up", s.Str, threads, i.Name, q))
		if q > 0 && threads > q {
			fs = append(fs, gzFinding{Status: Warn, Where: s.where(c),
				Msg:      fmt.Sprintf("%s: num_cpus gives %d stack threads, one queue each, and %s (%s) has %d rx queues set up now", s.where(c), threads, i.Name, d.Addr, q),
				FixText:  fmt.Sprintf("see the most queues %s supports (ethtool -l, \"Pre-set maximums\"); if fewer than %d, list fewer CPUs in num_cpus", i.Name, threads),
				Commands: []string{shquote.Join([]string{"ethtool", "-l", i.Name})}})
		}
	}
	return fs
}

// checkGazelleKernel: what Gazelle's user guide asks of the machine:
// transparent hugepages off, the CPU features its x86 build assumes
// (-march=native on a Xeon Gold: SSE4.2, AVX, AVX2, AVX-512), rp_filter=1
// on a NIC the kernel still sees.
func checkGazelleKernel(ctx context.Context, env *Env) Result {
	g, stop := env.gazelleOrSkip(ctx)
	if stop != nil {
		return *stop
	}
	var fs []gzFinding
	var details []string
	checked := 0 // what could be read: with nothing, there is no verdict
	thp := env.h.THPMode()
	switch thp {
	case "":
		details = append(details, "transparent hugepages: not readable (/sys/kernel/mm/transparent_hugepage/enabled)")
	case "always":
		fs = append(fs, gzFinding{Status: Warn,
			Msg:      "transparent hugepages are [always] on; Gazelle's user guide says they are not supported",
			FixText:  "set them to madvise (or never) before starting Gazelle; add transparent_hugepage=madvise to the kernel command line to keep it",
			Commands: []string{"echo madvise > /sys/kernel/mm/transparent_hugepage/enabled"}})
	default:
		details = append(details, "transparent hugepages: "+thp)
	}
	if thp != "" {
		checked++
	}
	arch, flags := env.h.CPUFlags()
	switch arch {
	case "x86":
		checked++
		var missing []string
		for _, f := range []string{"sse4_2", "avx", "avx2"} {
			if !slices.Contains(flags, f) {
				missing = append(missing, f)
			}
		}
		details = append(details, "CPU flags checked: sse4_2 avx avx2 avx512f")
		// AVX-512 is the guide's build machine's (a Xeon Gold 5118), which
		// -march=native passes on; Gazelle built on this machine runs here
		// without it, so its absence alone is only noted.
		if !slices.Contains(flags, "avx512f") {
			details = append(details, "no avx512f: a Gazelle built with -march=native on an AVX-512 machine dies with SIGILL here; one built here runs")
		}
		if len(missing) > 0 {
			fs = append(fs, gzFinding{Status: Warn,
				Msg:     fmt.Sprintf("this CPU lacks %s: Gazelle's x86 build uses -march=native, and its user guide requires SSE4.2, AVX, AVX2 and AVX-512", strings.Join(missing, ", ")),
				FixText: "a liblstack.so/ltran built elsewhere may die with SIGILL here; build Gazelle on this machine (or for its CPU)"})
		}
	case "":
		details = append(details, "CPU flags: /proc/cpuinfo not readable")
	default:
		details = append(details, "CPU: "+arch+" (the guide's instruction-set rule is for x86)")
	}
	if c := g.Lstack; c != nil && c.Devices != "" {
		if devs, err := env.pciDevices(ctx); err == nil {
			if d := host.PCIByMAC(devs, c.Devices); d != nil {
				for _, i := range d.Interfaces {
					if i.MAC != c.Devices {
						continue
					}
					key := sysctlKey(i.Name)
					v, err := env.h.Sysctl(key)
					if err != nil {
						continue
					}
					checked++
					details = append(details, fmt.Sprintf("%s = %s", key, v))
					if v != "1" {
						fs = append(fs, gzFinding{Status: Warn,
							Msg:      fmt.Sprintf("%s is %s: Gazelle's user guide asks for 1 on its NIC, else traffic may go through the kernel stack", key, v),
							FixText:  "set it to 1",
							Commands: []string{shquote.Join([]string{"sysctl", "-w", key + "=1"})}})
					}
				}
			}
		}
	}
	if checked == 0 {
		return skip("nothing to judge: transparent hugepages, the CPU's flags (x86) and the NIC's rp_filter are not readable here", details...)
	}
	return gzResult(fs, "the kernel and CPU meet Gazelle's user guide", details)
}

// checkGazelleLtran (CHK-02): use_ltran against the ltran that runs.
func checkGazelleLtran(ctx context.Context, env *Env) Result {
	g, stop := env.gazelleOrSkip(ctx)
	if stop != nil {
		return *stop
	}
	c := g.Lstack
	if c == nil {
		if len(g.LtranProcs) > 0 {
			p := g.LtranProcs[0]
			return ok(fmt.Sprintf("ltran runs (pid %d); no lstack.conf to compare (give one with --config)", p.PID))
		}
		return skip("no lstack.conf (give one with --config)")
	}
	socks, _ := env.unixSockets(ctx)
	useLtran := gzSetting{Key: "use_ltran", Int: 1}
	if c.Raw.Lookup("use_ltran") != nil {
		useLtran = intKey(c, "use_ltran", 1)
	}
	if !c.UseLtran {
		for _, p := range g.LtranProcs {
			conf := ltranConfOf(p)
			if g.Ltran != nil && path.Clean(conf) == path.Clean(g.Ltran.File) && c.Devices != "" && slices.Contains(g.Ltran.BondMacs, c.Devices) {
				return warn(fmt.Sprintf("%s: use_ltran=0, but ltran (pid %d) runs and bonds devices=%s (%s): lstack and ltran would both drive that NIC", useLtran.where(c), p.PID, c.Devices, conf),
					fix("stop ltran before starting lstack without it, or set use_ltran=1 to register with it"))
			}
		}
		return ok(fmt.Sprintf("use_ltran=0 (%s): lstack drives the NIC itself", useLtran.where(c)))
	}
	prefix := strKey(c, "unix_prefix", "").Str
	regs := host.GazelleSockets(prefix, host.LtranClientSocks)
	sock := regs[0]
	if len(g.LtranProcs) == 0 {
		cmds := []string{}
		if g.Ltran != nil {
			cmds = append(cmds, shquote.Join([]string{"ltran", "--config-file", g.Ltran.File}))
		}
		return fail(fmt.Sprintf("%s: lstack runs in ltran mode (use_ltran=1) but no ltran runs: lstack waits at %s for ever (`wait for connecting to ltran`)", useLtran.where(c), sock),
			fix(fmt.Sprintf("unless you need ltran (deprecated upstream, and it needs openEuler's DPDK: `rte_eal_sec_attach`), set use_ltran=0 in %s and remove \"--map-perfect\" from dpdk_args; otherwise start ltran", c.File), cmds...))
	}
	p := g.LtranProcs[0]
	if socks != nil {
		bound, ok := firstBound(socks, regs)
		if !ok {
			return fail(fmt.Sprintf("ltran runs (pid %d) but nothing listens at %s, where lstack (unix_prefix %q, %s) registers", p.PID, strings.Join(regs, " or "), prefix, c.File),
				fix("give lstack.conf and ltran.conf the same unix_prefix, and restart ltran if its socket file was removed"))
		}
		sock = bound
	}
	return ok(fmt.Sprintf("use_ltran=1 and ltran runs (pid %d), listening at %s", p.PID, sock))
}

// firstBound is the first of paths, one role's socket under each Gazelle
// release's name, that a process listens on.
func firstBound(socks host.UnixSockets, paths []string) (string, bool) {
	for _, p := range paths {
		if socks.Bound(p) {
			return p, true
		}
	}
	return "", false
}

// checkGazelleSockets: the control sockets gazellectl talks to are where
// unix_prefix puts them, and none is left over by a dead process.
func checkGazelleSockets(ctx context.Context, env *Env) Result {
	g, stop := env.gazelleOrSkip(ctx)
	if stop != nil {
		return *stop
	}
	socks, err := env.unixSockets(ctx)
	if err != nil {
		return errored(err.Error())
	}
	var fs []gzFinding
	var details []string
	// Who should listen, at the socket's path under each release's name
	// (Gazelle ≤1.0.2 names them differently: host.LegacyClientSock).
	type listener struct {
		who    string
		prefix string
		paths  []string
	}
	var want []listener
	expected := map[string]bool{}
	prefixOf := func(c *host.GazelleConfig) string { return strKey(c, "unix_prefix", "").Str }
	for _, p := range g.LstackProcs {
		var c *host.GazelleConfig
		if g.Lstack != nil && path.Clean(lstackConfOf(p)) == path.Clean(g.Lstack.File) {
			c = g.Lstack
		}
		if c == nil || c.UseLtran {
			continue // its config is not here, or ltran answers gazellectl for it
		}
		want = append(want, listener{fmt.Sprintf("lstack in %s (pid %d)", p.Name, p.PID), prefixOf(c), host.GazelleSockets(prefixOf(c), host.LstackCmdSocks)})
	}
	for _, p := range g.LtranProcs {
		prefix := ""
		if g.Ltran != nil && path.Clean(ltranConfOf(p)) == path.Clean(g.Ltran.File) {
			prefix = prefixOf(g.Ltran)
		}
		want = append(want, listener{fmt.Sprintf("ltran (pid %d)", p.PID), prefix, host.GazelleSockets(prefix, host.LtranCmdSocks)})
	}
	slices.SortFunc(want, func(a, b listener) int { return strings.Compare(a.paths[0], b.paths[0]) })
	for _, l := range want {
		for _, p := range l.paths {
			expected[p] = true
		}
		sock, ok := firstBound(socks, l.paths)
		if ok {
			details = append(details, fmt.Sprintf("%s: bound by %s", sock, l.who))
			continue
		}
		u := ""
		if l.prefix != "" {
			u = " -u " + l.prefix
		}
		fs = append(fs, gzFinding{Status: Warn,
			Msg: fmt.Sprintf("%s runs but nothing listens at %s (Gazelle 1.0.3 and later) or %s (1.0.2 and before): gazellectl%s cannot reach it (errno 2 or 111)",
				l.who, l.paths[0], l.paths[1], u),
			FixText: "the socket file was removed, or the process failed to bind it at start; gazellectl works again after the process restarts"})
	}
	// Files in the run dir that nothing listens on: what a killed lstack or
	// ltran left (gazellectl then gets ECONNREFUSED).
	if dir, err := os.ReadDir(env.h.Path(host.GazelleRunDir)); err == nil {
		var ents []string
		for _, d := range dir {
			ents = append(ents, d.Name())
		}
		for _, name := range ents {
			p := path.Join(host.GazelleRunDir, name)
			if !strings.HasSuffix(name, ".sock") || expected[p] {
				continue
			}
			if st, err := env.h.Stat(p); err != nil || st.Type != "socket" || socks.Bound(p) {
				continue
			}
			details = append(details, p+": a socket file nothing listens on (left by a process that is gone)")
		}
		if slices.Contains(ents, host.GazellePrimary) && len(g.LstackProcs) == 0 {
			fs = append(fs, gzFinding{Status: Warn,
				Msg:     fmt.Sprintf("%s exists but no lstack runs: a secondary lstack would start without its primary", path.Join(host.GazelleRunDir, host.GazellePrimary)),
				FixText: "the primary lstack removes it on a clean exit; remove it while no lstack runs (gzdoctor found none)", Commands: []string{"rm -f " + path.Join(host.GazelleRunDir, host.GazellePrimary)}})
		}
	}
	if len(want) == 0 && len(fs) == 0 {
		return skip("no lstack (without ltran) or ltran runs: no control socket to look for", details...)
	}
	return gzResult(fs, fmt.Sprintf("gazellectl's %s listening", plural(len(want), "socket is", "sockets are")), details)
}

// sysctlKey is an interface's rp_filter key as sysctl(8) takes it: a dot
// in the name (a VLAN, eth0.100) is written "/", since sysctl reads dots
// as path separators.
func sysctlKey(iface string) string {
	return "net.ipv4.conf." + strings.ReplaceAll(iface, ".", "/") + ".rp_filter"
}
