package host

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeTelemetry is a SOCK_SEQPACKET server speaking DPDK's telemetry v2
// protocol: a greeting on accept, then one reply packet per command.
type fakeTelemetry struct {
	path     string
	greeting string
	// reply returns the packet for a command; ok false means "say nothing"
	// (a hung server).
	reply func(cmd string) (string, bool)

	mu   sync.Mutex
	seen []string
}

func startFake(t *testing.T, f *fakeTelemetry) *fakeTelemetry {
	t.Helper()
	f.path = filepath.Join(t.TempDir(), "dpdk_telemetry.v2")
	l, err := net.Listen("unixpacket", f.path)
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
			go f.serve(c, done)
		}
	}()
	return f
}

func (f *fakeTelemetry) serve(c net.Conn, done chan struct{}) {
	defer c.Close()
	if f.greeting == "" {
		return // accept and hang up, as DPDK does past MAX_CONNECTIONS
	}
	if f.greeting != "-" {
		if _, err := c.Write([]byte(f.greeting)); err != nil {
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
		f.mu.Lock()
		f.seen = append(f.seen, cmd)
		f.mu.Unlock()
		out, ok := f.reply(cmd)
		if !ok {
			<-done
			return
		}
		if _, err := c.Write([]byte(out)); err != nil {
			return
		}
	}
}

const greeting2211 = `{"version":"DPDK 22.11.11","pid":13976,"max_output_len":16384}`

// dpdk2211 answers as the DPDK 22.11.11 primary on the lab machine did
// (replies recorded from a live dpdk-testpmd).
func dpdk2211(cmd string) (string, bool) {
	name, param, _ := strings.Cut(cmd, ",")
	switch {
	case cmd == "/":
		return `{"/":["/","/eal/app_params","/eal/heap_info","/eal/heap_list","/eal/memzone_info","/eal/memzone_list","/eal/params","/ethdev/info","/ethdev/list","/help","/info"]}`, true
	case cmd == "/info":
		return `{"/info":` + greeting2211 + `}`, true
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

func TestTelemetryProtocol(t *testing.T) {
	f := startFake(t, &fakeTelemetry{greeting: greeting2211, reply: dpdk2211})
	ctx := context.Background()
	tel, err := DialTelemetry(ctx, f.path)
	if err != nil {
		t.Fatal(err)
	}
	defer tel.Close()
	if tel.Info != (TelemetryInfo{Version: "DPDK 22.11.11", PID: 13976, MaxOutputLen: 16384}) || tel.Info.DPDKVersion() != "22.11.11" {
		t.Errorf("Info = %+v (%q)", tel.Info, tel.Info.DPDKVersion())
	}
	cmds, err := tel.Commands(ctx)
	if err != nil || len(cmds) != 11 || cmds[0] != "/" {
		t.Errorf("Commands = %q, %v", cmds, err)
	}
	params, err := tel.EALParams(ctx)
	if err != nil || !reflect.DeepEqual(params[5:8], []string{"net_null0", "--file-prefix", "rtprobe"}) {
		t.Errorf("EALParams = %q, %v", params, err)
	}
	ports, err := tel.Ports(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want0 := EthPort{ID: 0, Name: "net_null0", MAC: "F2:01:81:38:83:2A", State: 1, Started: true, Configured: true, RxQueues: 1, TxQueues: 1, Promiscuous: true}
	if len(ports) != 2 || ports[0] != want0 || ports[1].ID != 1 || !strings.Contains(ports[1].Error, "null reply") {
		t.Errorf("Ports = %+v", ports)
	}
	mzs, err := tel.Memzones(ctx)
	if err != nil || len(mzs) != 3 || mzs[1].Name != PdumpMemzone || mzs[1].Length != 4194368 || mzs[2].Index != 5 {
		t.Errorf("Memzones = %+v, %v", mzs, err)
	}
	raw, err := tel.Query(ctx, "/info")
	if err != nil || string(raw) != greeting2211 {
		t.Errorf("Query(/info) = %s, %v", raw, err)
	}
	_, err = tel.Query(ctx, "/nope")
	if !errors.Is(err, ErrTelemetryNull) {
		t.Errorf("Query(/nope) err = %v, want ErrTelemetryNull", err)
	}
	// Only the listed memzones were asked for.
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.seen {
		if strings.HasPrefix(c, "/eal/memzone_info,") && !strings.HasSuffix(c, ",0") && !strings.HasSuffix(c, ",1") && !strings.HasSuffix(c, ",5") {
			t.Errorf("asked for unlisted memzone: %s", c)
		}
	}
}

func TestProbeTelemetry(t *testing.T) {
	f := startFake(t, &fakeTelemetry{greeting: greeting2211, reply: dpdk2211})
	r, err := New("/").ProbeTelemetry(context.Background(), f.path)
	if err != nil {
		t.Fatal(err)
	}
	if r.DPDKVersion != "22.11.11" || r.PdumpInit == nil || !*r.PdumpInit || len(r.Ports) != 2 || len(r.EALParams) != 10 {
		t.Errorf("report = %+v", r)
	}
	if !reflect.DeepEqual(r.Memzones, []string{"rte_eth_dev_data", "rte_pdump_stats", "RTE_METRICS"}) {
		t.Errorf("Memzones = %q", r.Memzones)
	}
	if len(r.Errors) != 0 {
		t.Errorf("Errors = %v", r.Errors)
	}
	if _, err := json.Marshal(r); err != nil {
		t.Error(err)
	}
}

func TestProbeTelemetryPdumpInit(t *testing.T) {
	tests := []struct {
		name     string
		greeting string
		memzones func(string) (string, bool)
		want     *bool
	}{
		{"22.11 without pdump memzone", greeting2211, func(cmd string) (string, bool) {
			switch cmd {
			case "/eal/memzone_list":
				return `{"/eal/memzone_list":[0]}`, true
			case "/eal/memzone_info,0":
				return `{"/eal/memzone_info":{"Zone":0,"Name":"rte_eth_dev_data"}}`, true
			}
			return dpdk2211(cmd)
		}, boolp(false)},
		{"22.11, one memzone unreadable", greeting2211, func(cmd string) (string, bool) {
			if cmd == "/eal/memzone_info,1" {
				return `{"/eal/memzone_info":null}`, true
			}
			if cmd == "/eal/memzone_list" {
				return `{"/eal/memzone_list":[0,1]}`, true
			}
			return dpdk2211(cmd)
		}, nil},
		{"20.11 has no pdump memzone to show", `{"version":"DPDK 20.11.0","pid":1,"max_output_len":16384}`, func(cmd string) (string, bool) {
			if cmd == "/eal/memzone_list" {
				return `{"/eal/memzone_list":[0]}`, true
			}
			return dpdk2211(cmd)
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := startFake(t, &fakeTelemetry{greeting: tt.greeting, reply: tt.memzones})
			r, err := New("/").ProbeTelemetry(context.Background(), f.path)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(r.PdumpInit, tt.want) {
				t.Errorf("PdumpInit = %v, want %v", r.PdumpInit, tt.want)
			}
		})
	}
}

func TestTelemetryErrors(t *testing.T) {
	tests := []struct {
		name     string
		greeting string
		reply    func(string) (string, bool)
		timeout  time.Duration // 0: context without deadline (default timeout)
		dialErr  func(error) bool
		queryErr func(error) bool
	}{
		{
			name: "server hangs up at once (too many clients)", greeting: "",
			dialErr: func(err error) bool { return errors.Is(err, ErrTelemetryClosed) },
		},
		{
			name: "no greeting", greeting: "-", timeout: 50 * time.Millisecond,
			dialErr: func(err error) bool { return errors.Is(err, context.DeadlineExceeded) },
		},
		{
			name: "greeting not JSON", greeting: "hello",
			dialErr: func(err error) bool { return strings.Contains(err.Error(), "greeting is not JSON") },
		},
		{
			name: "greeting asks for an absurd buffer", greeting: `{"version":"x","pid":1,"max_output_len":1000000000}`,
			dialErr: func(err error) bool { return strings.Contains(err.Error(), "max_output_len") },
		},
		{
			name: "slow server", greeting: greeting2211, timeout: 50 * time.Millisecond,
			reply:    func(string) (string, bool) { return "", false },
			queryErr: func(err error) bool { return errors.Is(err, context.DeadlineExceeded) },
		},
		{
			name: "hung server, default timeout", greeting: greeting2211,
			reply:    func(string) (string, bool) { return "", false },
			queryErr: func(err error) bool { return errors.Is(err, context.DeadlineExceeded) },
		},
		{
			name: "bad JSON", greeting: greeting2211,
			reply:    func(string) (string, bool) { return `{"/ethdev/list":[0,`, true },
			queryErr: func(err error) bool { return strings.Contains(err.Error(), "not a JSON object") },
		},
		{
			name: "reply to another command", greeting: greeting2211,
			reply:    func(string) (string, bool) { return `{"/info":{}}`, true },
			queryErr: func(err error) bool { return strings.Contains(err.Error(), "does not answer") },
		},
		{
			name: "wrong type", greeting: greeting2211,
			reply:    func(string) (string, bool) { return `{"/ethdev/list":{"a":1}}`, true },
			queryErr: func(err error) bool { return strings.Contains(err.Error(), "unexpected reply") },
		},
		{
			name: "oversized reply", greeting: `{"version":"DPDK 22.11.11","pid":1,"max_output_len":64}`,
			reply: func(string) (string, bool) {
				return `{"/ethdev/list":[` + strings.Repeat("0,", 100) + `0]}`, true
			},
			queryErr: func(err error) bool { return errors.Is(err, ErrTelemetryTruncated) },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := startFake(t, &fakeTelemetry{greeting: tt.greeting, reply: tt.reply})
			ctx := context.Background()
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			tel, err := DialTelemetry(ctx, f.path)
			if tt.dialErr != nil {
				if err == nil || !tt.dialErr(err) {
					t.Fatalf("DialTelemetry err = %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer tel.Close()
			_, err = tel.PortIDs(ctx)
			if err == nil || !tt.queryErr(err) {
				t.Errorf("PortIDs err = %v", err)
			}
		})
	}
}

func TestTelemetryCancel(t *testing.T) {
	f := startFake(t, &fakeTelemetry{greeting: greeting2211, reply: func(string) (string, bool) { return "", false }})
	tel, err := DialTelemetry(context.Background(), f.path)
	if err != nil {
		t.Fatal(err)
	}
	defer tel.Close()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	if _, err := tel.Query(ctx, "/info"); !errors.Is(err, context.Canceled) {
		t.Errorf("Query err = %v, want context.Canceled", err)
	}
}

func TestTelemetryBadCommand(t *testing.T) {
	f := startFake(t, &fakeTelemetry{greeting: greeting2211, reply: dpdk2211})
	tel, err := DialTelemetry(context.Background(), f.path)
	if err != nil {
		t.Fatal(err)
	}
	defer tel.Close()
	for _, cmd := range []string{"ethdev/list", "", "/x\x00y", "/" + strings.Repeat("a", 1024)} {
		if _, err := tel.Query(context.Background(), cmd); err == nil {
			t.Errorf("Query(%q): want an error", cmd)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.seen) != 0 {
		t.Errorf("bad commands reached the server: %q", f.seen)
	}
}

func TestDialTelemetryNoSocket(t *testing.T) {
	_, err := DialTelemetry(context.Background(), filepath.Join(t.TempDir(), "dpdk_telemetry.v2"))
	if err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("err = %v, want no such file", err)
	}
}

func TestReleaseAtLeast(t *testing.T) {
	for _, tt := range []struct {
		v    string
		want bool
	}{{"22.11.11", true}, {"21.11", true}, {"21.08.0", false}, {"19.11.0", false}, {"", false}, {"x", false}, {"23.03", true}} {
		if got := ReleaseAtLeast(tt.v, 21, 11); got != tt.want {
			t.Errorf("ReleaseAtLeast(%q, 21, 11) = %v", tt.v, got)
		}
	}
}

// A reply that comes after its query timed out must not be taken as the
// answer to the next query (seen on a loaded CI machine).
func TestTelemetryLateReplySkipped(t *testing.T) {
	var calls atomic.Int32
	f := startFake(t, &fakeTelemetry{greeting: greeting2211, reply: func(cmd string) (string, bool) {
		if calls.Add(1) == 1 {
			time.Sleep(150 * time.Millisecond)
		}
		return dpdk2211(cmd)
	}})
	tel, err := DialTelemetry(context.Background(), f.path)
	if err != nil {
		t.Fatal(err)
	}
	defer tel.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	_, err = tel.Query(ctx, "/eal/params")
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("first query: err = %v, want a timeout", err)
	}
	ids, err := tel.PortIDs(context.Background())
	if err != nil {
		t.Fatalf("second query after a late reply: %v", err)
	}
	if len(ids) == 0 {
		t.Error("no port ids")
	}
}
