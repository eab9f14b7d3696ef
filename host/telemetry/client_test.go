package telemetry

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gzdoctor/gzdoctor/internal/telemetrytest"
)

func TestTelemetryProtocol(t *testing.T) {
	f := telemetrytest.Start(t, &telemetrytest.Server{Greeting: telemetrytest.Greeting2211, Reply: telemetrytest.DPDK2211})
	ctx := context.Background()
	tel, err := Dial(ctx, f.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer tel.Close()
	if tel.Info != (Info{Version: "DPDK 22.11.11", PID: 13976, MaxOutputLen: 16384}) || tel.Info.DPDKVersion() != "22.11.11" {
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
	if err != nil || len(mzs) != 3 || mzs[1].Name != "rte_pdump_stats" || mzs[1].Length != 4194368 || mzs[2].Index != 5 {
		t.Errorf("Memzones = %+v, %v", mzs, err)
	}
	raw, err := tel.Query(ctx, "/info")
	if err != nil || string(raw) != telemetrytest.Greeting2211 {
		t.Errorf("Query(/info) = %s, %v", raw, err)
	}
	_, err = tel.Query(ctx, "/nope")
	if !errors.Is(err, ErrNull) {
		t.Errorf("Query(/nope) err = %v, want ErrNull", err)
	}
	// Only the listed memzones were asked for.
	for _, c := range f.Seen() {
		if strings.HasPrefix(c, "/eal/memzone_info,") && !strings.HasSuffix(c, ",0") && !strings.HasSuffix(c, ",1") && !strings.HasSuffix(c, ",5") {
			t.Errorf("asked for unlisted memzone: %s", c)
		}
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
			dialErr: func(err error) bool { return errors.Is(err, ErrClosed) },
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
			name: "slow server", greeting: telemetrytest.Greeting2211, timeout: 50 * time.Millisecond,
			reply:    func(string) (string, bool) { return "", false },
			queryErr: func(err error) bool { return errors.Is(err, context.DeadlineExceeded) },
		},
		{
			name: "hung server, default timeout", greeting: telemetrytest.Greeting2211,
			reply:    func(string) (string, bool) { return "", false },
			queryErr: func(err error) bool { return errors.Is(err, context.DeadlineExceeded) },
		},
		{
			name: "bad JSON", greeting: telemetrytest.Greeting2211,
			reply:    func(string) (string, bool) { return `{"/ethdev/list":[0,`, true },
			queryErr: func(err error) bool { return strings.Contains(err.Error(), "not a JSON object") },
		},
		{
			name: "reply to another command", greeting: telemetrytest.Greeting2211,
			reply:    func(string) (string, bool) { return `{"/info":{}}`, true },
			queryErr: func(err error) bool { return strings.Contains(err.Error(), "does not answer") },
		},
		{
			name: "wrong type", greeting: telemetrytest.Greeting2211,
			reply:    func(string) (string, bool) { return `{"/ethdev/list":{"a":1}}`, true },
			queryErr: func(err error) bool { return strings.Contains(err.Error(), "unexpected reply") },
		},
		{
			name: "oversized reply", greeting: `{"version":"DPDK 22.11.11","pid":1,"max_output_len":64}`,
			reply: func(string) (string, bool) {
				return `{"/ethdev/list":[` + strings.Repeat("0,", 100) + `0]}`, true
			},
			queryErr: func(err error) bool { return errors.Is(err, ErrTruncated) },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := telemetrytest.Start(t, &telemetrytest.Server{Greeting: tt.greeting, Reply: tt.reply})
			ctx := context.Background()
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			tel, err := Dial(ctx, f.Path)
			if tt.dialErr != nil {
				if err == nil || !tt.dialErr(err) {
					t.Fatalf("Dial err = %v", err)
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
	f := telemetrytest.Start(t, &telemetrytest.Server{Greeting: telemetrytest.Greeting2211, Reply: func(string) (string, bool) { return "", false }})
	tel, err := Dial(context.Background(), f.Path)
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
	f := telemetrytest.Start(t, &telemetrytest.Server{Greeting: telemetrytest.Greeting2211, Reply: telemetrytest.DPDK2211})
	tel, err := Dial(context.Background(), f.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer tel.Close()
	for _, cmd := range []string{"ethdev/list", "", "/x\x00y", "/" + strings.Repeat("a", 1024)} {
		if _, err := tel.Query(context.Background(), cmd); err == nil {
			t.Errorf("Query(%q): want an error", cmd)
		}
	}
	if seen := f.Seen(); len(seen) != 0 {
		t.Errorf("bad commands reached the server: %q", seen)
	}
}

func TestDialTelemetryNoSocket(t *testing.T) {
	_, err := Dial(context.Background(), filepath.Join(t.TempDir(), "dpdk_telemetry.v2"))
	if err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("err = %v, want no such file", err)
	}
}

// A reply that comes after its query timed out must not be taken as the
// answer to the next query (seen on a loaded CI machine).
func TestTelemetryLateReplySkipped(t *testing.T) {
	var calls atomic.Int32
	f := telemetrytest.Start(t, &telemetrytest.Server{Greeting: telemetrytest.Greeting2211, Reply: func(cmd string) (string, bool) {
		if calls.Add(1) == 1 {
			time.Sleep(150 * time.Millisecond)
		}
		return telemetrytest.DPDK2211(cmd)
	}})
	tel, err := Dial(context.Background(), f.Path)
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
