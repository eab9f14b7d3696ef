// Package telemetrytest serves DPDK's telemetry v2 protocol on a unix
// SOCK_SEQPACKET socket for tests, as net/http/httptest serves HTTP: the
// telemetry client's own tests and host's probe tests talk to the same
// fake, with replies recorded from the lab's DPDK 22.11 primary.
package telemetrytest

import (
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Server is a fake telemetry socket: a greeting on accept, then one reply
// packet per command.
type Server struct {
	// Path is the socket, set by Start (dpdk_telemetry.v2 in a temporary
	// directory).
	Path string
	// Greeting is sent on accept; "" hangs up at once (as DPDK does past
	// its maximum of clients), "-" sends none.
	Greeting string
	// Reply returns the packet for a command; ok false means "say
	// nothing" (a hung server).
	Reply func(cmd string) (reply string, ok bool)

	mu   sync.Mutex
	seen []string
}

// Start listens on a new socket and serves s until the test ends.
func Start(t testing.TB, s *Server) *Server {
	t.Helper()
	s.Path = filepath.Join(t.TempDir(), "dpdk_telemetry.v2")
	l, err := net.Listen("unixpacket", s.Path)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { l.Close(); close(done) })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go s.serve(c, done)
		}
	}()
	return s
}

// Seen returns the commands received so far, in order.
func (s *Server) Seen() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.seen...)
}

func (s *Server) serve(c net.Conn, done chan struct{}) {
	defer c.Close()
	if s.Greeting == "" {
		return
	}
	if s.Greeting != "-" {
		if _, err := c.Write([]byte(s.Greeting)); err != nil {
			return
		}
	}
	buf := make([]byte, 1024)
	for {
		n, err := c.Read(buf)
		if err != nil {
			return
		}
		cmd := string(buf[:n])
		s.mu.Lock()
		s.seen = append(s.seen, cmd)
		s.mu.Unlock()
		out, ok := s.Reply(cmd)
		if !ok {
			<-done
			return
		}
		if _, err := c.Write([]byte(out)); err != nil {
			return
		}
	}
}

// Greeting2211 is the greeting of the lab's DPDK 22.11.11 primary.
const Greeting2211 = `{"version":"DPDK 22.11.11","pid":13976,"max_output_len":16384}`

// DPDK2211 answers as the DPDK 22.11.11 primary on the lab machine did
// (replies recorded from a live dpdk-testpmd).
func DPDK2211(cmd string) (string, bool) {
	name, param, _ := strings.Cut(cmd, ",")
	switch {
	case cmd == "/":
		return `{"/":["/","/eal/app_params","/eal/heap_info","/eal/heap_list","/eal/memzone_info","/eal/memzone_list","/eal/params","/ethdev/info","/ethdev/list","/help","/info"]}`, true
	case cmd == "/info":
		return `{"/info":` + Greeting2211 + `}`, true
	case cmd == "/eal/params":
		return `{"/eal/params":["dpdk-testpmd","-l","0-1","--no-pci","--vdev","net_null0","--file-prefix","rtprobe","--socket-mem","64"]}`, true
	case cmd == "/ethdev/list":
		return `{"/ethdev/list":[0,1]}`, true
	case name == "/ethdev/info" && param == "0":
		return `{"/ethdev/info":{"name":"net_null0","state":1,"nb_rx_queues":1,"nb_tx_queues":1,"port_id":0,"mtu":1500,"rx_mbuf_size_min":2176,"mac_addr":"F2:01:81:38:83:2A","promiscuous":1,"scattered_rx":0,"all_multicast":1,"dev_started":1,"lro":0,"dev_configured":1,"rxq_state":[1],"txq_state":[1],"numa_node":0,"dev_flags":64,"rx_offloads":0,"tx_offloads":0,"ethdev_rss_hf":0}}`, true
	case name == "/ethdev/info":
		return `{"/ethdev/info":null}`, true
	case cmd == "/eal/memzone_list":
		return `{"/eal/memzone_list":[0,1,5]}`, true
	case name == "/eal/memzone_info" && param == "0":
		return `{"/eal/memzone_info":{"Zone":0,"Name":"rte_eth_dev_data","Length":6976,"Address":"0x1003fe940","Socket":0,"Flags":0,"Hugepage_size":2097152,"Hugepage_base":"0x100200000","Hugepage_used":1}}`, true
	case name == "/eal/memzone_info" && param == "1":
		return `{"/eal/memzone_info":{"Zone":1,"Name":"rte_pdump_stats","Length":4194368,"Address":"0x103782380","Socket":0,"Flags":0,"Hugepage_size":2097152,"Hugepage_base":"0x103600000","Hugepage_used":3}}`, true
	case name == "/eal/memzone_info" && param == "5":
		return `{"/eal/memzone_info":{"Zone":5,"Name":"RTE_METRICS","Length":24,"Address":"0x103782300","Socket":0,"Flags":0,"Hugepage_size":2097152,"Hugepage_base":"0x103600000","Hugepage_used":1}}`, true
	}
	return fmt.Sprintf(`{"%s":null}`, name), true
}
