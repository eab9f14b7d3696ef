package capture

import (
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gzdoctor/gzdoctor/doctor"
	"github.com/gzdoctor/gzdoctor/host"
	"github.com/gzdoctor/gzdoctor/host/target"
	"github.com/gzdoctor/gzdoctor/host/telemetry"
	"github.com/gzdoctor/gzdoctor/internal/shquote"
	"github.com/gzdoctor/gzdoctor/ui"
)

// Interfaces is what `gzdoctor capture -D` lists: every live primary and
// the ports a capture can name, as dumpcap -D lists interfaces.
type Interfaces struct {
	Primaries []ListedPrimary `json:"primaries"`
}

// ListedPrimary is one live primary.
type ListedPrimary struct {
	Prefix     string `json:"prefix"`
	RuntimeDir string `json:"runtime_dir"`
	PID        int    `json:"pid"` // 0 when the lock holder is not visible
	Exe        string `json:"exe,omitempty"`
	// DPDK is the release: telemetry's version ("22.11.4"), else the
	// release of the librte_eal it maps ("22.11"); "" when neither says.
	DPDK  string       `json:"dpdk,omitempty"`
	Ports []ListedPort `json:"ports"`
	// PortsError says why the ports are unknown (no telemetry socket…).
	PortsError string `json:"ports_error,omitempty"`
	// Capture is what holds the primary; nil when it is free.
	Capture *ListedCapture `json:"capture,omitempty"`
	// Unknown says what could not be read to tell it free or held.
	Unknown []string `json:"unknown,omitempty"`
}

// ListedPort is one ethdev port.
type ListedPort struct {
	ID   int    `json:"port_id"`
	Name string `json:"name,omitempty"`
	// Driver is the kernel driver a PCI device is bound to (sysfs), or
	// the vdev's driver its name says (net_ring0: net_ring).
	Driver string `json:"driver,omitempty"`
	MAC    string `json:"mac_addr,omitempty"`
	Link   string `json:"link,omitempty"` // "up 10 Gbps full-duplex", "down"; "" unknown
	// RxQueues and TxQueues are nil when unknown: DPDK 20.11's
	// telemetry has no /ethdev/info.
	RxQueues *int `json:"nb_rx_queues,omitempty"`
	TxQueues *int `json:"nb_tx_queues,omitempty"`
	// PdumpVdev: one of pdump's own pcap vdevs, a capture's, not a port
	// to capture.
	PdumpVdev bool `json:"pdump_vdev,omitempty"`
}

// ListedCapture says what holds a primary.
type ListedCapture struct {
	// By is "gzdoctor" (a gzdoctor capture holds its lock), "tool" (a
	// capture tool gzdoctor did not start is attached) or "leftovers" (a
	// killed capture's vdevs, rings or pools: no capture starts until the
	// primary restarts) or "stopped" (the primary is stopped or exited:
	// state T, t, Z or X).
	By      string `json:"by"`
	PID     int    `json:"pid,omitempty"`
	Command string `json:"command,omitempty"`
	Since   string `json:"since,omitempty"`
	Detail  string `json:"detail,omitempty"`
}

// ListInterfaces finds every live primary (o.Prefix: that one only) with
// the prefix discovery and telemetry a capture uses.
func ListInterfaces(ctx context.Context, o Options) (*Interfaces, error) {
	h := host.New(orRoot(o.Root))
	all, err := target.Scan(h)
	if err != nil {
		return nil, fmt.Errorf("listing DPDK runtime dirs: %w", err)
	}
	out := &Interfaces{Primaries: []ListedPrimary{}}
	for i := range all {
		pre := &all[i]
		if pre.State != host.PrefixLive || o.Prefix != "" && pre.Name != o.Prefix {
			continue
		}
		out.Primaries = append(out.Primaries, listPrimary(ctx, h, &o, pre))
	}
	sort.SliceStable(out.Primaries, func(i, j int) bool { return out.Primaries[i].Prefix < out.Primaries[j].Prefix })
	if o.Prefix != "" && len(out.Primaries) == 0 {
		return nil, fmt.Errorf("no live DPDK primary with prefix %s (run gzdoctor capture -D without --prefix to list them all)", o.Prefix)
	}
	return out, nil
}

func listPrimary(ctx context.Context, h *host.Host, o *Options, pre *host.Prefix) ListedPrimary {
	lp := ListedPrimary{Prefix: pre.Name, RuntimeDir: pre.Dir, Ports: []ListedPort{}}
	if pre.Lock.Holder != nil {
		lp.PID = pre.Lock.Holder.PID
	}
	if lp.PID > 0 {
		if proc, err := h.ReadProcess(lp.PID); err == nil {
			lp.Exe, lp.DPDK = proc.Exe, proc.DPDK.Release
		}
	}
	t := &capTarget{prefix: pre.Name, dir: pre}
	t.probePorts(ctx, h)
	if t.telemetry != nil {
		if v := strings.TrimPrefix(t.telemetry.DPDKVersion, "DPDK "); v != "" {
			lp.DPDK = v
		}
	}
	if t.portsErr != nil {
		lp.PortsError = t.portsErr.Error()
	}
	links := linkStatus(ctx, h, pre, t.ports)
	for _, pt := range t.ports {
		lpt := ListedPort{ID: pt.ID, Name: pt.Name, Driver: portDriver(h, pt.Name), MAC: pt.MAC,
			Link: links[pt.ID], PdumpVdev: host.IsPdumpVdev(pt.Name)}
		// /ethdev/info gave the name, and the queues with it; a name from
		// the EAL arguments (20.11) comes without them.
		if pt.Name != "" && pt.NameFrom == "" && pt.Error == "" {
			rx, tx := pt.RxQueues, pt.TxQueues
			lpt.RxQueues, lpt.TxQueues = &rx, &tx
		}
		lp.Ports = append(lp.Ports, lpt)
	}
	lp.Capture, lp.Unknown = listHolder(h, o, pre, t)
	if lp.Capture == nil && lp.PID > 0 {
		// The state check and the preflight's primary check read (host's
		// /proc/<pid>/status State): a stopped primary is not free, it
		// answers no capture tool.
		if proc, err := h.ReadProcess(lp.PID); err == nil {
			if halt := proc.Halted(); halt != nil {
				lp.Capture, lp.Unknown = &ListedCapture{By: "stopped", PID: lp.PID, Detail: halt.String()}, nil
			}
		}
	}
	return lp
}

// portDriver names a port's driver: a PCI device's kernel driver, or the
// driver a vdev's name carries.
func portDriver(h *host.Host, name string) string {
	if a, err := host.ParsePCIAddr(name); err == nil {
		if d, err := h.PCIDevice(a); err == nil && d.Driver != "" {
			return d.Driver
		}
		return ""
	}
	if drv := strings.TrimRight(name, "0123456789"); drv != name && (strings.HasPrefix(drv, "net_") || strings.HasPrefix(drv, "eth_")) {
		return drv
	}
	return ""
}

// linkStatus asks telemetry /ethdev/link_status,N for each port.
func linkStatus(ctx context.Context, h *host.Host, pre *host.Prefix, ports []telemetry.EthPort) map[int]string {
	out := map[int]string{}
	if len(pre.Telemetry) == 0 || len(ports) == 0 {
		return out
	}
	sock := pre.Telemetry[0]
	if !path.IsAbs(sock) {
		sock = path.Join(pre.Dir, sock)
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	t, err := h.DialTelemetry(ctx, sock)
	if err != nil {
		return out
	}
	defer t.Close()
	for _, pt := range ports {
		var st struct {
			Status string `json:"status"`
			Speed  *int64 `json:"speed"`
			Duplex string `json:"duplex"`
		}
		if err := t.QueryInto(ctx, "/ethdev/link_status,"+strconv.Itoa(pt.ID), &st); err != nil || st.Status == "" {
			continue
		}
		s := strings.ToLower(st.Status)
		if s == "up" {
			if st.Speed != nil && *st.Speed > 0 {
				s += " " + linkSpeed(*st.Speed)
			}
			if st.Duplex != "" {
				s += " " + st.Duplex
			}
		}
		out[pt.ID] = s
	}
	return out
}

// linkSpeed words a speed in Mbps as ethtool does.
func linkSpeed(mbps int64) string {
	if mbps >= 1000 && mbps%1000 == 0 {
		return strconv.FormatInt(mbps/1000, 10) + " Gbps"
	}
	return strconv.FormatInt(mbps, 10) + " Mbps"
}

// listHolder says what holds the primary, with what a capture would be
// refused by: the capture lock's live holder, an attached capture tool,
// a killed capture's plumbing (doctor.DetectBusy, the busy check's
// detector). The lock file is read, never locked: a shared lock taken to
// look would refuse a capture starting at that moment.
func listHolder(h *host.Host, o *Options, pre *host.Prefix, t *capTarget) (*ListedCapture, []string) {
	p := &Plan{Prefix: pre.Name, runtimeDir: pre.Dir}
	if dir, err := lockDir(o); err == nil {
		lf := filepath.Join(dir, lockKey(p))
		if _, err := os.Lstat(lf); err == nil {
			hd := readHolder(lf)
			switch {
			case hd.Alive:
				lc := &ListedCapture{By: "gzdoctor", PID: hd.PID, Command: hd.Command, Since: hd.Since}
				if hd.BackendPID > 0 {
					lc.Detail = fmt.Sprintf("its capture tool: pid %d (%s)", hd.BackendPID, hd.BackendCommand)
				}
				return lc, nil
			case hd.BackendPID > 0:
				return &ListedCapture{By: "tool", PID: hd.BackendPID, Command: hd.BackendCommand,
					Detail: fmt.Sprintf("left running by gzdoctor pid %d, which is gone", hd.PID)}, nil
			}
		}
	}
	busy := doctor.DetectBusy(h, pre, t.ports, t.portsErr == nil, nil)
	switch {
	case len(busy.Captures) > 0:
		c := busy.Captures[0]
		return &ListedCapture{By: "tool", PID: c.PID, Command: shquote.Join(c.Cmdline), Since: processStart(h, c.PID)}, busy.Unknown
	case busy.Held():
		var what []string
		what = append(what, busy.Vdevs...)
		what = append(what, busy.Memzones...)
		return &ListedCapture{By: "leftovers", Detail: "a killed capture left " + strings.Join(what, ", ") + " in the primary: no capture starts until it restarts"}, busy.Unknown
	}
	return nil, busy.Unknown
}

// RenderText prints one block per primary, its ports under it.
func (l *Interfaces) RenderText(w io.Writer, st ui.Style, verbose bool) error {
	var b strings.Builder
	if len(l.Primaries) == 0 {
		b.WriteString("no live DPDK primary (start lstack or ltran; run as the primary's user)\n")
	}
	for i, p := range l.Primaries {
		if i > 0 {
			b.WriteByte('\n')
		}
		head := fmt.Sprintf("%s  pid %d", st.Bold(p.Prefix), p.PID)
		if p.Exe != "" {
			head += "  " + p.Exe
		}
		if p.DPDK != "" {
			head += "  DPDK " + p.DPDK
		}
		fmt.Fprintf(&b, "%s\n", head)
		if verbose {
			fmt.Fprintf(&b, "  %s\n", st.Dim("runtime dir "+p.RuntimeDir))
		}
		for _, pt := range p.Ports {
			queues := "queues unknown"
			if pt.RxQueues != nil && pt.TxQueues != nil {
				queues = fmt.Sprintf("%d rx, %d tx queues", *pt.RxQueues, *pt.TxQueues)
			}
			line := fmt.Sprintf("  %d. %-14s %-14s %-17s %-24s %s", pt.ID, orDash(pt.Name), orDash(pt.Driver), orDash(pt.MAC), orDash(pt.Link), queues)
			if pt.PdumpVdev {
				line += "  (a capture's vdev)"
			}
			fmt.Fprintln(&b, strings.TrimRight(line, " "))
		}
		if p.PortsError != "" {
			fmt.Fprintf(&b, "  %s ports unknown: %s\n", st.Symbol("warn"), p.PortsError)
		}
		switch c := p.Capture; {
		case c == nil && len(p.Unknown) > 0:
			fmt.Fprintf(&b, "  capture: free as far as gzdoctor can tell (unread: %s)\n", strings.Join(p.Unknown, ", "))
		case c == nil:
			fmt.Fprintf(&b, "  capture: free\n")
		case c.By == "leftovers" || c.By == "stopped":
			fmt.Fprintf(&b, "  %s capture: blocked: %s\n", st.Symbol("fail"), c.Detail)
		default:
			s := fmt.Sprintf("held by %s pid %d (%s)", map[string]string{"gzdoctor": "gzdoctor", "tool": "capture tool"}[c.By], c.PID, c.Command)
			if c.Since != "" {
				s += " since " + c.Since
			}
			if c.Detail != "" {
				s += "; " + c.Detail
			}
			fmt.Fprintf(&b, "  %s capture: %s\n", st.Symbol("warn"), s)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
