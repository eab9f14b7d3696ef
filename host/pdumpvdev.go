package host

import "strings"

// IsPdumpVdev reports whether an ethdev port is one of the pcap vdevs a
// pdump hot-plugs into the primary for its rx-dev/tx-dev (net_pcap_rx_N,
// net_pcap_tx_N in 19.11 to 22.11): a capture's plumbing, never a device
// to capture on.
func IsPdumpVdev(name string) bool {
	return strings.HasPrefix(name, "net_pcap_rx_") || strings.HasPrefix(name, "net_pcap_tx_")
}
