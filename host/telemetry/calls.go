package telemetry

import (
	"context"
	"strconv"
)

// Commands lists the commands the server knows ("/").
func (t *Client) Commands(ctx context.Context) ([]string, error) {
	var out []string
	return out, t.QueryInto(ctx, "/", &out)
}

// EALParams returns the EAL arguments the process was started with,
// argv[0] first ("/eal/params", DPDK 21.11+).
func (t *Client) EALParams(ctx context.Context) ([]string, error) {
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
	// NameFrom is host.PortNameFromEAL when the name is not telemetry's
	// but was inferred from the EAL arguments (host.NamePortsFromEAL).
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
func (t *Client) PortIDs(ctx context.Context) ([]int, error) {
	var ids []int
	return ids, t.QueryInto(ctx, "/ethdev/list", &ids)
}

// Port describes one port ("/ethdev/info,<id>").
func (t *Client) Port(ctx context.Context, id int) (EthPort, error) {
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
func (t *Client) Ports(ctx context.Context) ([]EthPort, error) {
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
func (t *Client) Memzones(ctx context.Context) ([]Memzone, error) {
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
