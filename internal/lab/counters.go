package lab

import (
	"bufio"
	"fmt"
	"strconv"
	"strings"
)

// Counters are the lab primary's traffic counters, as it writes them to its
// stats file every 200 ms and prints them when it stops.
type Counters struct {
	Pid       int    `json:"pid"`
	Device    string `json:"device"`
	Ports     int    `json:"ports"`
	PdumpInit bool   `json:"pdump_init"`
	TxPackets uint64 `json:"tx_packets"`
	TxBytes   uint64 `json:"tx_bytes"`
	TxDropped uint64 `json:"tx_dropped"`
	RxPackets uint64 `json:"rx_packets"`
	RxBytes   uint64 `json:"rx_bytes"`
}

// parseCounters reads key=value lines. Unknown keys are ignored so the
// primary may grow; a malformed number or a missing tx_packets is an error.
func parseCounters(text string) (Counters, error) {
	var c Counters
	seen := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(text))
	for line := 1; sc.Scan(); line++ {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		if !ok {
			continue
		}
		var err error
		switch k {
		case "pid":
			c.Pid, err = strconv.Atoi(v)
		case "device":
			c.Device = v
		case "ports":
			c.Ports, err = strconv.Atoi(v)
		case "pdump_init":
			c.PdumpInit = v == "1"
		case "tx_packets":
			c.TxPackets, err = strconv.ParseUint(v, 10, 64)
		case "tx_bytes":
			c.TxBytes, err = strconv.ParseUint(v, 10, 64)
		case "tx_dropped":
			c.TxDropped, err = strconv.ParseUint(v, 10, 64)
		case "rx_packets":
			c.RxPackets, err = strconv.ParseUint(v, 10, 64)
		case "rx_bytes":
			c.RxBytes, err = strconv.ParseUint(v, 10, 64)
		default:
			continue
		}
		if err != nil {
			return Counters{}, fmt.Errorf("line %d: %s: %w", line, k, err)
		}
		seen[k] = true
	}
	if !seen["tx_packets"] || !seen["rx_packets"] {
		return Counters{}, fmt.Errorf("no tx_packets/rx_packets counters in %q", text)
	}
	return c, nil
}
