package runbooks

import (
	"fmt"
	"strconv"
	"strings"
)

// LivePort is one port of the target primary as this machine reports it
// (its telemetry): what tells apart causes whose tool-side lines are the
// same.
type LivePort struct {
	ID                 int
	Name               string
	RxQueues, TxQueues int
}

// Promotion says why a finding names another cause than its lines alone
// would: the lines fit both, and a live fact picks this one.
type Promotion struct {
	// From is the cause the log alone reads as.
	From string `json:"from"`
	// Why are the live facts that tell the two apart.
	Why string `json:"why"`
}

// tellers pick an alternative from live facts. Each returns the values
// the alternative's text needs and the words that prove it, or ok=false
// when the facts do not point at it.
var tellers = map[string]func(vals map[string]string, ports []LivePort) (more map[string]string, why string, ok bool){
	// pdump's tool says only "Invalid argument" for a queue= past the
	// port's queues: the primary checks it (rte_eth_add_first_rx_callback
	// sets EINVAL), so the same lines follow a device_id it lacks. The
	// port existing and the queue being out of its range tell them apart.
	"pdump-queue-invalid": func(vals map[string]string, ports []LivePort) (map[string]string, string, bool) {
		q, err := strconv.Atoi(vals["queue"])
		if err != nil || q < 0 {
			return nil, "", false
		}
		p, ok := askedPort(vals, ports)
		if !ok || q < p.RxQueues && q < p.TxQueues {
			return nil, "", false
		}
		return map[string]string{
				"port": strconv.Itoa(p.ID), "queue": vals["queue"], "device_id": p.Name,
				"queues": fmt.Sprintf("%d rx and %d tx %s", p.RxQueues, p.TxQueues, plural(int64(p.TxQueues), "queue", "queues")),
			}, fmt.Sprintf("the primary drives %s (port %d) with %d rx and %d tx %s, and the capture asked for queue %d",
				p.Name, p.ID, p.RxQueues, p.TxQueues, plural(int64(p.TxQueues), "queue", "queues"), q), true
	},
	// A port that exists with no queues set up fails like a missing one
	// in the tool's log.
	"pdump-port-not-configured": func(vals map[string]string, ports []LivePort) (map[string]string, string, bool) {
		p, ok := askedPort(vals, ports)
		if !ok || p.RxQueues > 0 || p.TxQueues > 0 {
			return nil, "", false
		}
		return map[string]string{"port": strconv.Itoa(p.ID)},
			fmt.Sprintf("the primary has %s (port %d), with no rx or tx queue set up yet", p.Name, p.ID), true
	},
}

// askedPort finds the port the capture asked for among the primary's: by
// device_id (the primary looks it up by exact name), else by port=.
func askedPort(vals map[string]string, ports []LivePort) (LivePort, bool) {
	if d := vals["device_id"]; d != "" && !strings.HasPrefix(d, "<") {
		for _, p := range ports {
			if p.Name == d {
				return p, true
			}
		}
		return LivePort{}, false
	}
	if id, err := strconv.Atoi(vals["port"]); err == nil {
		for _, p := range ports {
			if p.ID == id {
				return p, true
			}
		}
	}
	return LivePort{}, false
}

// liveAlternative returns the alternative of e that the context's live
// ports prove, with the values it needs (vals laid under them) and why.
func (m *Matcher) liveAlternative(e *Entry, vals map[string]string) (ni int, alt *Entry, avals map[string]string, why string) {
	if m.ctx.Ports == nil {
		return 0, nil, nil, ""
	}
	for _, a := range e.Alternatives {
		tell := tellers[a.ID]
		if tell == nil {
			continue
		}
		more, w, ok := tell(vals, m.ctx.Ports)
		if !ok {
			continue
		}
		j := m.c.byID[a.ID]
		ae := m.c.nodes[j].entry
		out := map[string]string{}
		for k := range ae.Extract {
			if v := vals[k]; v != "" {
				out[k] = v
			}
		}
		for k, v := range more {
			if _, declared := ae.Extract[k]; declared {
				out[k] = v
			}
		}
		return j, ae, out, w
	}
	return 0, nil, nil, ""
}
