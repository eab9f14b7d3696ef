// Package capture runs a packet capture against a DPDK primary (Gazelle's
// lstack or ltran) the way an operator would by hand, but checked and
// explained: it resolves the prefix and the device, runs the capture-relevant
// checks of package doctor first, builds the backend's command line
// (gazelle-pdump / dpdk-pdump, or dpdk-dumpcap), supervises the backend,
// feeds every line it prints to the runbook matcher, counts packets from the
// growing capture files, enforces the stop conditions itself, and finally
// validates, repairs, merges and writes the capture file atomically.
//
// The backend writes into temporary files beside the target. With pdump
// these files are opened by the pcap vdev that the *primary* probes too, so
// their paths must be absolute and reachable from the primary's mount
// namespace.
package capture
