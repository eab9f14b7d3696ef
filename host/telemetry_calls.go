package host

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// PdumpMemzone is the memzone rte_pdump_init() reserves since DPDK 21.11:
// its presence proves the primary can serve pdump. Earlier releases
// reserve none, so its absence there proves nothing.
const PdumpMemzone = "rte_pdump_stats"

// Commands lists the commands the server knows ("/").
func (t *Telemetry) Commands(ctx context.Context) ([]string, error) {
	var out []string
	return out, t.QueryInto(ctx, "/", &out)
}

// EALParams returns the EAL arguments the process was started with,
// argv[0] first ("/eal/params", DPDK 21.11+).
func (t *Telemetry) EALParams(ctx context.Context) ([]string, error) {
	var out []string
	return out, t.QueryInto(ctx, "/eal/params", &out)
}

// EthPort is one ethdev port as /ethdev/info describes it.
type EthPort struct {
	ID          int    `json:"port_id"`
	Name        string `json:"name"`
	MAC         string `json:"mac_addr,omitempty"`
	State       int    `json:"state"`
	Started     bool   `json:"dev_started"`
	Configured  bool   `json:"dev_configured"`
	NumaNode    int    `json:"numa_node"`
	RxQueues    int    `json:"nb_rx_queues"`
	TxQueues    int    `json:"nb_tx_queues"`
	Promiscuous bool   `json:"promiscuous"`
	// Error is set when the port is listed but its info could not be read.
	Error string `json:"error,omitempty"`
	// NameFrom is PortNameFromEAL when the name is not telemetry's but
	// was inferred from the EAL arguments (NamePortsFromEAL).
	NameFrom string `json:"name_from,omitempty"`
}

// ethInfoWire is /ethdev/info's reply; DPDK encodes booleans as 0/1.
type ethInfoWire struct {
	Name        string `json:"name"`
	State       int    `json:"state"`
	RxQueues    int    `json:"nb_rx_queues"`
	TxQueues    int    `json:"nb_tx_queues"`
	PortID      int    `json:"port_id"`
	MAC         string `json:"mac_addr"`
	Promiscuous int    `json:"promiscuous"`
	Started     int    `json:"dev_started"`
	Configured  int    `json:"dev_configured"`
	NumaNode    int    `json:"numa_node"`
}

// PortIDs lists the ethdev port ids ("/ethdev/list").
func (t *Telemetry) PortIDs(ctx context.Context) ([]int, error) {
	var ids []int
	return ids, t.QueryInto(ctx, "/ethdev/list", &ids)
}

// Port describes one port ("/ethdev/info,<id>").
func (t *Telemetry) Port(ctx context.Context, id int) (EthPort, error) {
	var w ethInfoWire
	if err := t.QueryInto(ctx, "/ethdev/info,"+strconv.Itoa(id), &w); err != nil {
		return EthPort{ID: id}, err
	}
	return EthPort{
		ID: id, Name: w.Name, MAC: w.MAC, State: w.State,
		Started: w.Started != 0, Configured: w.Configured != 0, NumaNode: w.NumaNode,
		RxQueues: w.RxQueues, TxQueues: w.TxQueues, Promiscuous: w.Promiscuous != 0,
	}, nil
}

// Ports lists every port with its name. A port whose info fails keeps its
// id and carries the error; only a failing list is an error.
func (t *Telemetry) Ports(ctx context.Context) ([]EthPort, error) {
	ids, err := t.PortIDs(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]EthPort, 0, len(ids))
	for _, id := range ids {
		p, err := t.Port(ctx, id)
		if err != nil {
			if ctx.Err() != nil {
				return out, err
			}
			p.Error = err.Error()
		}
		out = append(out, p)
	}
	return out, nil
}

// Memzone is one entry of /eal/memzone_info.
type Memzone struct {
	Index        int    `json:"index"`
	Name         string `json:"name"`
	Length       uint64 `json:"length"`
	Socket       int    `json:"socket"`
	HugepageSize uint64 `json:"hugepage_size,omitempty"`
	Error        string `json:"error,omitempty"`
}

type memzoneWire struct {
	Zone         int    `json:"Zone"`
	Name         string `json:"Name"`
	Length       uint64 `json:"Length"`
	Socket       int    `json:"Socket"`
	HugepageSize uint64 `json:"Hugepage_size"`
}

// Memzones lists the reserved memzones ("/eal/memzone_list", then
// "/eal/memzone_info,<i>" for each listed index — only listed ones: DPDK
// 22.11 dereferences whatever index it is given).
func (t *Telemetry) Memzones(ctx context.Context) ([]Memzone, error) {
	var idx []int
	if err := t.QueryInto(ctx, "/eal/memzone_list", &idx); err != nil {
		return nil, err
	}
	out := make([]Memzone, 0, len(idx))
	for _, i := range idx {
		var w memzoneWire
		mz := Memzone{Index: i}
		if err := t.QueryInto(ctx, "/eal/memzone_info,"+strconv.Itoa(i), &w); err != nil {
			if ctx.Err() != nil {
				return out, err
			}
			mz.Error = err.Error()
		} else {
			mz.Name, mz.Length, mz.Socket, mz.HugepageSize = w.Name, w.Length, w.Socket, w.HugepageSize
		}
		out = append(out, mz)
	}
	return out, nil
}

// TelemetryReport is everything gzdoctor asks a telemetry socket, in one
// value. Each part that failed leaves its error in Errors and the rest
// stands.
type TelemetryReport struct {
	Socket      string        `json:"socket"`
	Info        TelemetryInfo `json:"info"`
	DPDKVersion string        `json:"dpdk_version"`
	EALParams   []string      `json:"eal_params,omitempty"`
	Ports       []EthPort     `json:"ports,omitempty"`
	Memzones    []string      `json:"memzones,omitempty"`
	// PdumpInit: the rte_pdump_stats memzone exists. nil when that cannot
	// be told: memzones unreadable, or DPDK older than 21.11.
	PdumpInit *bool             `json:"pdump_init,omitempty"`
	Errors    map[string]string `json:"errors,omitempty"`
	// Unanswered lists the parts of Errors that got no reply in time: the
	// server greeted, then fell silent (stuck or starved), as opposed to
	// refusing a command it does not know.
	Unanswered []string `json:"unanswered,omitempty"`
}

// ProbeTelemetry connects to the telemetry socket at machine path p and
// asks for the DPDK version, EAL params, ports and memzones. Every
// exchange has its own deadline (DefaultTelemetryTimeout unless ctx sets
// one); a dead or hung socket costs at most that per exchange.
func (h *Host) ProbeTelemetry(ctx context.Context, p string) (rep *TelemetryReport, err error) {
	if h.Recorder != nil {
		defer func() { h.Recorder.Telemetry(p, rep, err) }()
	}
	t, err := h.DialTelemetry(ctx, p)
	if err != nil {
		return nil, err
	}
	defer t.Close()
	r := &TelemetryReport{Socket: p, Info: t.Info, DPDKVersion: t.Info.DPDKVersion()}
	fail := func(what string, err error) {
		if r.Errors == nil {
			r.Errors = map[string]string{}
		}
		r.Errors[what] = err.Error()
		if errors.Is(err, context.DeadlineExceeded) {
			r.Unanswered = append(r.Unanswered, what)
		}
	}
	if r.EALParams, err = t.EALParams(ctx); err != nil {
		fail("eal_params", err)
	}
	if r.Ports, err = t.Ports(ctx); err != nil {
		fail("ports", err)
	} else if len(r.EALParams) > 1 {
		NamePortsFromEAL(r.Ports, ParseEALArgs(r.EALParams[1:]))
	}
	mzs, err := t.Memzones(ctx)
	if err != nil {
		fail("memzones", err)
	} else {
		found, unsure := false, !ReleaseAtLeast(r.DPDKVersion, 21, 11)
		for _, m := range mzs {
			if m.Name != "" {
				r.Memzones = append(r.Memzones, m.Name)
			}
			found = found || m.Name == PdumpMemzone
			unsure = unsure || m.Error != ""
		}
		if found || !unsure {
			r.PdumpInit = &found
		}
	}
	if errors.Is(ctx.Err(), context.Canceled) {
		return r, fmt.Errorf("telemetry %s: %w", p, ctx.Err())
	}
	return r, nil
}

// ReleaseBefore reports whether a DPDK version ("20.11.10", "DPDK 20.11.10")
// is known and older than year.month. An unparsable version is not.
func ReleaseBefore(version string, year, month int) bool {
	var y, m int
	if _, err := fmt.Sscanf(strings.TrimPrefix(version, "DPDK "), "%d.%d", &y, &m); err != nil {
		return false
	}
	return y < year || (y == year && m < month)
}

// ReleaseAtLeast reports whether a DPDK version ("22.11.11", "21.11") is at
// least year.month. An unparsable version is not.
func ReleaseAtLeast(version string, year, month int) bool {
	var y, m int
	if _, err := fmt.Sscanf(version, "%d.%d", &y, &m); err != nil {
		return false
	}
	return y > year || (y == year && m >= month)
}
