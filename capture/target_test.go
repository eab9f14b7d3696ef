package capture

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gzdoctor/gzdoctor/doctor"
	"github.com/gzdoctor/gzdoctor/host"
	"github.com/gzdoctor/gzdoctor/host/target"
	"github.com/gzdoctor/gzdoctor/host/telemetry"
	"github.com/gzdoctor/gzdoctor/ui"
)

// A pdump killed with SIGKILL (or one still running) leaves net_pcap_rx_N
// and net_pcap_tx_N among the primary's ports, as seen on the lab.
var leftoverPorts = []telemetry.EthPort{{ID: 0, Name: "net_ring0"}, {ID: 1, Name: "net_pcap_rx_0"}, {ID: 2, Name: "net_pcap_tx_0"}}

func TestResolveDeviceSkipsPdumpVdevs(t *testing.T) {
	tests := []struct {
		name    string
		ports   []telemetry.EthPort
		want    string
		wantErr string
	}{
		{"only port plus pdump's vdevs", leftoverPorts, "net_ring0", ""},
		{"two real ports", append([]telemetry.EthPort{{ID: 3, Name: "0000:01:00.0"}}, leftoverPorts...), "", "has 2 ports: choose one with -i NAME or --port N (repeat it for several, or --all-ports): 3=0000:01:00.0, 0=net_ring0"},
		{"nothing but pdump's vdevs", leftoverPorts[1:], "", "no ethdev ports"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &Plan{}
			err := resolveDevice(&Options{Port: -1}, &capTarget{prefix: "x", ports: tt.ports}, p)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || p.Device != tt.want {
				t.Fatalf("device %q err %v, want %s", p.Device, err, tt.want)
			}
		})
	}
}

// Without telemetry (DPDK 19.11, --no-telemetry) the device comes from
// the primary's EAL arguments; several there are asked for, one is taken
// and says where it came from.
func TestResolveDeviceWithoutTelemetry(t *testing.T) {
	noTel := errors.New("the primary has no telemetry socket in /var/run/dpdk/x")
	for _, tt := range []struct {
		name    string
		eal     []string
		want    string
		wantErr string
	}{
		{"one device", []string{"net_null0"}, "net_null0", ""},
		{"two devices", []string{"0000:01:00.0", "net_bonding0"}, "", "its EAL arguments (the command line of pid 7) name 0000:01:00.0, net_bonding0: choose one with -i"},
		{"none", nil, "", "its EAL arguments name none: give -i DEVICE"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := &Plan{}
			err := resolveDevice(&Options{Port: -1}, &capTarget{prefix: "x", portsErr: noTel, ealDevices: tt.eal, ealFrom: "the command line of pid 7"}, p)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || p.Device != tt.want || !strings.Contains(p.DeviceWhy, "the command line of pid 7") || !strings.Contains(p.DeviceWhy, "no telemetry") {
				t.Fatalf("device %q (%s) err %v, want %s from the command line", p.Device, p.DeviceWhy, err, tt.want)
			}
		})
	}
}

// --port and --queue are held against the primary's ports and queues
// (telemetry /ethdev/info) before anything starts: left to pdump, a queue
// the port lacks fails as "Invalid argument", which reads like a wrong
// device (seen on the lab: --queue 5 got pdump-device-not-in-primary).
func TestPortAndQueueValidated(t *testing.T) {
	ports := []telemetry.EthPort{{ID: 0, Name: "net_ring0", RxQueues: 1, TxQueues: 1}, {ID: 1, Name: "net_bonding0", RxQueues: 4, TxQueues: 2}}
	tests := []struct {
		name    string
		o       Options
		ports   []telemetry.EthPort
		wantErr string // "" means accepted
	}{
		{"queue of a one-queue port", Options{Port: 0, Queue: "0", Write: "w"}, ports, ""},
		{"queue 5 of a one-queue port", Options{Port: 0, Queue: "5", Write: "w"}, ports,
			"--queue 5: port 0 (net_ring0) has 1 rx queue and 1 tx queue (numbered from 0): give --queue 0, or --queue '*' for all"},
		{"by name", Options{Device: "net_ring0", Port: -1, Queue: "1", Write: "w"}, ports, "port 0 (net_ring0) has 1 rx queue and 1 tx queue"},
		{"rx has it, tx does not", Options{Port: 1, Queue: "3", Write: "w"}, ports, "port 1 (net_bonding0) has 2 tx queues (numbered from 0): give --queue 0 to 1"},
		{"rx only: the tx queues do not matter", Options{Port: 1, Queue: "3", RxFile: "r"}, ports, ""},
		{"all queues", Options{Port: 0, Queue: "*", Write: "w"}, ports, ""},
		{"no such port", Options{Port: 3, Queue: "*", Write: "w"}, ports, "--port 3: the primary on prefix x has no port 3; its ports: 0=net_ring0 (1 rx, 1 tx queues), 1=net_bonding0 (4 rx, 2 tx queues)"},
		{"queues unknown (20.11 has no /ethdev/info)", Options{Port: 0, Queue: "5", Write: "w"}, []telemetry.EthPort{{ID: 0}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := tt.o
			if err := o.check(); err != nil {
				t.Fatal(err)
			}
			tg := &capTarget{prefix: "x", ports: tt.ports}
			p := &Plan{Queue: o.Queue}
			err := resolveDevice(&o, tg, p)
			if err == nil {
				if err = planOutputs(&Options{Write: o.Write, RxFile: o.RxFile, DryRun: true, tag: "t"}, p); err != nil {
					t.Fatal(err)
				}
				err = checkQueue(tg, p)
			}
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("err %v, want %q", err, tt.wantErr)
			}
			var ue *UsageError
			if err != nil && !errors.As(err, &ue) {
				t.Errorf("%v is not a usage error", err)
			}
		})
	}
}

func TestBusyPrimaryIsAProblem(t *testing.T) {
	busy := doctor.DetectBusy(host.New(t.TempDir()), &host.Prefix{Name: "gz", Dir: "/var/run/dpdk/gz"}, leftoverPorts, true, nil)
	p := &Plan{Prefix: "gz", PdumpVdevs: busy.Vdevs, Backend: BackendPdump, busy: busy}
	if got := strings.Join(p.PdumpVdevs, ","); got != "net_pcap_rx_0,net_pcap_tx_0" {
		t.Fatalf("pdump vdevs %q", got)
	}
	res := &Result{Plan: p, Stopped: StopBusy, Notes: []string{busyWords(p)}}
	if !res.Problem() {
		t.Error("a busy primary is not reported as a problem (exit 1)")
	}
	var b strings.Builder
	if err := res.RenderText(&b, ui.Style{}, false); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"capture not started", "net_pcap_rx_0, net_pcap_tx_0", "killed"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, b.String())
		}
	}
}

// DPDK before 21.11 lists port ids without names; when the EAL arguments
// did not name the port either, the capture uses port=N (pdump and dumpcap),
// never an empty device_id.
func TestUnnamedPortCapturesByID(t *testing.T) {
	tg := &capTarget{prefix: "gz", ports: []telemetry.EthPort{{ID: 0, Error: "/ethdev/info: command unknown"}}}
	for _, tc := range []struct {
		backend string
		want    string
	}{
		{BackendPdump, "--pdump port=0,queue=*"},
		{BackendDumpcap, "-i 0 "},
	} {
		p := &Plan{Prefix: "gz", Backend: tc.backend, Queue: "*", Temps: []Temp{{Dir: "rx", Path: "/c/rx.pcap"}}}
		o := &Options{Port: -1, Queue: "*"}
		if err := resolveDevice(o, tg, p); err != nil {
			t.Fatal(err)
		}
		if err := buildArgs(o, p); err != nil {
			t.Fatal(err)
		}
		a := strings.Join(p.Args, " ")
		if !strings.Contains(a, tc.want) || strings.Contains(a, "device_id") {
			t.Errorf("%s args %q, want %q and no device_id", tc.backend, a, tc.want)
		}
	}
}

// TestCaptureResolvesTheTargetCheckDoes drives capture's plan (Prepare)
// and check (doctor.Run) on the same fixture hosts with the same flags:
// both name the same prefix, chosen the same way, and where nothing
// chooses, capture's refusal (asked after its preflight) names the
// candidates check's prefix check names. Before the fold, capture ignored
// the Gazelle config unless --config was given (chk-wrong-prefix: capture
// took the live gazelle while check held the config's rte).
func TestCaptureResolvesTheTargetCheckDoes(t *testing.T) {
	for _, tt := range []struct {
		tree, prefix, config string
		want                 string     // the prefix both resolve; "" when ambiguous
		via                  target.Via // what chose it
		refusal              string     // capture's deferred refusal, when it has one
	}{
		{tree: "chk-healthy-2211", want: "gazelle", via: target.ViaConfig},
		{tree: "chk-healthy-2211", prefix: "gazelle", want: "gazelle", via: target.ViaFlag},
		{tree: "chk-wrong-prefix", want: "rte", via: target.ViaConfig},
		{tree: "chk-wrong-prefix", prefix: "lstack1", want: "lstack1", via: target.ViaFlag},
		{tree: "chk-ltran-2111", want: "ltran", via: target.ViaConfig},
		{tree: "chk-config", want: "gazelle", via: target.ViaLive},
		{tree: "chk-two-primaries", refusal: "several live DPDK primaries (app1, app2): choose one with --prefix"},
		{tree: "chk-two-primaries", prefix: "app2", want: "app2", via: target.ViaFlag},
		{tree: "chk-ltran-2111", config: "/etc/gazelle/lstack.conf", want: "ltran", via: target.ViaConfig},
		{tree: "chk-stale", want: "gazelle", via: target.ViaConfig},
		{tree: "rt-stale", want: "rte", via: target.ViaDefault, refusal: "no live DPDK primary found"},
	} {
		t.Run(tt.tree+"/"+tt.prefix+tt.config, func(t *testing.T) {
			root := "../testdata/hosts/" + tt.tree
			ctx := context.Background()
			o := &Options{Root: root, Prefix: tt.prefix, ConfigPath: tt.config, Port: -1, Device: "net_ring0", Write: filepath.Join(t.TempDir(), "x.pcapng"),
				Queue: "*", lookPath: func(string) (string, error) { return "/usr/bin/dpdk-pdump", nil }}
			p, err := Prepare(ctx, o)
			if err != nil {
				t.Fatalf("capture: %v", err)
			}
			rep, err := doctor.Run(ctx, doctor.NewEnv(doctor.Config{Host: host.New(root), Prefix: tt.prefix, ConfigPath: tt.config}), doctor.Options{Only: []string{"prefix"}})
			if err != nil {
				t.Fatalf("check: %v", err)
			}
			chk, _ := rep.Result("prefix")
			if rep.Target.Prefix != tt.want || rep.Target.PrefixSource != tt.via {
				t.Errorf("check: prefix %q via %q (%s), want %q via %q", rep.Target.Prefix, rep.Target.PrefixSource, chk.Finding, tt.want, tt.via)
			}
			switch {
			case tt.refusal != "":
				if p.deferred == nil || !strings.Contains(p.deferred.Error(), tt.refusal) {
					t.Errorf("capture: deferred %v, want %q", p.deferred, tt.refusal)
				}
				if tt.want == "" {
					for _, c := range []string{"app1", "app2"} {
						if !strings.Contains(chk.Finding, c) {
							t.Errorf("check's prefix finding does not name %s: %s", c, chk.Finding)
						}
					}
				}
			case p.Prefix != tt.want || p.PrefixSource != tt.via:
				t.Errorf("capture: prefix %q via %q (%s), want %q via %q", p.Prefix, p.PrefixSource, p.PrefixWhy, tt.want, tt.via)
			}
		})
	}
}

// The capture user's LSTACK_CONF_PATH names the config in use when no
// live lstack does: capture follows it as check does (two live primaries,
// the config naming one of them). Capture ignored it before the fold.
func TestCaptureFollowsLstackConfPathAsCheckDoes(t *testing.T) {
	tree := filepath.Join(t.TempDir(), "tree")
	if out, err := exec.Command("cp", "-a", "../testdata/hosts/chk-two-primaries", tree).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v: %s", err, out)
	}
	if err := os.MkdirAll(filepath.Join(tree, "opt/app2"), 0o755); err != nil {
		t.Fatal(err)
	}
	conf := `dpdk_args=["--socket-mem", "2048,0,0,0", "--file-prefix", "app2"]` + "\nuse_ltran=0\n"
	if err := os.WriteFile(filepath.Join(tree, "opt/app2/lstack.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("LSTACK_CONF_PATH", "/opt/app2/lstack.conf")
	ctx := context.Background()
	p, err := Prepare(ctx, &Options{Root: tree, Port: -1, Device: "net_ring0", Write: filepath.Join(t.TempDir(), "x.pcapng"), Queue: "*",
		lookPath: func(string) (string, error) { return "/usr/bin/dpdk-pdump", nil }})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := doctor.Run(ctx, doctor.NewEnv(doctor.Config{Host: host.New(tree)}), doctor.Options{Only: []string{"prefix"}})
	if err != nil {
		t.Fatal(err)
	}
	if p.Prefix != "app2" || p.PrefixSource != target.ViaConfig || rep.Target.Prefix != p.Prefix || rep.Target.PrefixSource != p.PrefixSource {
		t.Errorf("capture %q via %q (%v), check %q via %q; want app2 via config in both", p.Prefix, p.PrefixSource, p.deferred, rep.Target.Prefix, rep.Target.PrefixSource)
	}
}
