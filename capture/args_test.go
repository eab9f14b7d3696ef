package capture

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gold "github.com/gzdoctor/gzdoctor/internal/golden"

	"github.com/gzdoctor/gzdoctor/capture/pcapfile"
)

// fakeTools pretends these capture tools are on PATH.
func fakeTools(names ...string) func(string) (string, error) {
	return func(name string) (string, error) {
		if strings.Contains(name, "/") {
			return name, nil
		}
		for _, n := range names {
			if n == name {
				return "/usr/bin/" + name, nil
			}
		}
		return "", errors.New("executable file not found in $PATH")
	}
}

// TestDryRunGolden pins the backend command lines gzdoctor builds: the
// exact text --dry-run prints.
func TestDryRunGolden(t *testing.T) {
	all := fakeTools("gazelle-pdump", "dpdk-pdump", "dpdk-dumpcap")
	base := func() Options {
		return Options{Prefix: "gazelle", Port: -1, DryRun: true, NoPreflight: true, tag: "1234", lookPath: all,
			now: func() time.Time { return time.Date(2026, 11, 26, 10, 30, 0, 0, time.UTC) }}
	}
	cases := []struct {
		name string
		edit func(o *Options)
	}{
		{"gazelle doc: one file, PCI device", func(o *Options) { o.Device = "0000:01:00.0"; o.Write = "/captures/cap.pcapng" }},
		{"rx and tx files, port and queue", func(o *Options) {
			o.Port = 1
			o.Queue = "3"
			o.RxFile = "/captures/rx.pcap"
			o.TxFile = "/captures/tx.pcap"
		}},
		{"rx only, pcapng", func(o *Options) {
			o.Device = "net_ring0"
			o.RxFile = "/captures/rx.pcapng"
			o.Format = pcapfile.FormatPcapNG
		}},
		{"pdump mempool and ring", func(o *Options) {
			o.Device = "net_ring0"
			o.Write = "/captures/big.pcapng"
			o.RingSize, o.MbufSize, o.TotalMbufs = 16384, 9216, 65535
		}},
		{"count, duration, size, filter by gzdoctor", func(o *Options) {
			o.Device = "net_ring0"
			o.Write = "/captures/f.pcap"
			o.Format = pcapfile.FormatPcap
			o.Count, o.Duration, o.MaxSize, o.Filter = 5000, 90*time.Second, 20_000_000, "udp port 8080"
		}},
		{"dumpcap filters itself", func(o *Options) {
			o.Backend = BackendDumpcap
			o.Device = "net_ring0"
			o.Write = "/captures/d.pcapng"
			o.Filter, o.SnapLen, o.RingSize = "tcp and host 192.168.1.10", 128, 4096
		}},
		{"dumpcap by port", func(o *Options) { o.Backend = BackendDumpcap; o.Port = 0; o.Write = "/captures/d.pcapng" }},
		{"pdump-bin names dumpcap", func(o *Options) {
			o.PdumpBin = "/opt/dpdk/bin/dpdk-dumpcap"
			o.Device = "net_ring0"
			o.Write = "/captures/d.pcapng"
		}},
		{"default file name", func(o *Options) { o.Device = "0000:01:00.0" }},
		{"directory too long for pdump", func(o *Options) {
			o.Device = "net_ring0"
			o.Write = "/captures/" + strings.Repeat("a-long-directory-name/", 3) + "x.pcapng"
		}},
		{"path needing quotes", func(o *Options) { o.Device = "net_ring0"; o.Write = "/captures/it's here.pcapng" }},
		// One pdump, one --pdump tuple per port, each with its own files.
		{"two devices, one pdump", func(o *Options) {
			o.Device, o.Devices = "0000:01:00.0", []string{"net_bonding0"}
			o.Write = "/captures/ltran.pcapng"
		}},
		{"more EAL arguments for pdump", func(o *Options) {
			o.Device = "net_af_xdp0"
			o.Write = "/captures/x.pcapng"
			o.EALArgs = []string{"-d", "/usr/lib64/librte_net_af_xdp.so", "--log-level", "pmd.net.af_xdp:debug"}
		}},
		{"three ports by number, rx and tx files", func(o *Options) {
			o.Port, o.Ports = 0, []int{1, 2}
			o.RxFile, o.TxFile, o.Format = "/captures/rx.pcapng", "/captures/tx.pcapng", pcapfile.FormatPcapNG
		}},
		{"ring buffer with -z", func(o *Options) {
			o.Device = "net_ring0"
			o.Write = "/captures/lb.pcapng"
			o.Ring = Ring{FileSize: 100_000_000, Duration: time.Hour, Files: 10}
			o.StopFiles = 50
			o.PostRotate = "/bin/true"
		}},
		{"dumpcap asked for promiscuous mode", func(o *Options) {
			o.Backend = BackendDumpcap
			o.Device = "net_ring0"
			o.Write = "/captures/d.pcapng"
			o.Promisc = true
		}},
	}
	golden := filepath.Join(moduleRoot(t), "testdata/capture/dryrun.golden")
	t.Chdir("/") // the default file name lands in the working directory
	t.Setenv("TMPDIR", "/tmp")
	var b strings.Builder
	for _, tc := range cases {
		o := base()
		tc.edit(&o)
		fmt.Fprintf(&b, "== %s\n", tc.name)
		res, err := Run(context.Background(), o)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if err := res.RenderText(&b, noStyle, false); err != nil {
			t.Fatal(err)
		}
	}
	gold.Check(t, golden, []byte(b.String()))
}

func moduleRoot(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(wd)
}

func TestBadOptions(t *testing.T) {
	all := fakeTools("dpdk-pdump", "dpdk-dumpcap")
	for _, tc := range []struct {
		name string
		edit func(o *Options)
		want string
	}{
		{"w and rx", func(o *Options) { o.Write, o.RxFile = "/a", "/b" }, "either -w or --rx/--tx"},
		{"device and port", func(o *Options) { o.Device, o.Port = "net_ring0", 0 }, "not both"},
		{"bad queue", func(o *Options) { o.Queue = "x" }, "--queue"},
		{"ring not power of 2", func(o *Options) { o.RingSize = 1000 }, "power of 2"},
		{"bad backend", func(o *Options) { o.Backend = "tcpdump" }, "--backend"},
		{"same rx and tx", func(o *Options) { o.Write, o.RxFile, o.TxFile = "", "/a.pcap", "/a.pcap" }, "same file"},
		{"comma in path", func(o *Options) { o.Write = "/x,y/a.pcapng" }, "','"},
		{"rx to stdout", func(o *Options) { o.Write, o.RxFile = "", "-" }, "use -w -"},
		{"stdout with -C", func(o *Options) { o.Write, o.MaxSize = "-", 1000 }, "-C limits the size of files"},
		{"dumpcap queue", func(o *Options) { o.Backend, o.Queue = BackendDumpcap, "1" }, "every queue"},
		{"dumpcap mbufs", func(o *Options) { o.Backend, o.TotalMbufs = BackendDumpcap, 2047 }, "pdump's"},
		// pdump's own bounds, refused before anything starts (pdump
		// refuses them only after EAL init, as its own failure).
		{"ring of 1", func(o *Options) { o.RingSize = 1 }, "--ring-size 1: want a power of 2 from 2 to 1073741824"},
		{"ring of 2^31", func(o *Options) { o.RingSize = 1 << 31 }, "from 2 to 1073741824"},
		{"pool too small", func(o *Options) { o.TotalMbufs = 1023 }, "--total-num-mbufs 1023: pdump takes 1025 to 65535"},
		{"pool too big", func(o *Options) { o.TotalMbufs = 65536 }, "pdump takes 1025 to 65535"},
		// Small mbufs crashed the primary on the lab (adversarial F16).
		{"mbuf of 1", func(o *Options) { o.MbufSize = 1 }, "--mbuf-size 1: below 1646"},
		{"mbuf of 1024", func(o *Options) { o.MbufSize = 1024 }, "crashed the primary"},
		{"mbuf too big", func(o *Options) { o.MbufSize = 65536 }, "at most 65535"},
		{"bad filter", func(o *Options) { o.Filter = "udp prot 80" }, "-f:"},
		{"big snaplen", func(o *Options) { o.SnapLen = 1 << 20 }, "-s"},
		{"no tool", func(o *Options) { o.lookPath = fakeTools() }, "no capture tool found"},
		{"devices and ports", func(o *Options) { o.Devices, o.Port = []string{"net_ring1"}, 0 }, "not both"},
		{"all ports and a device", func(o *Options) { o.AllPorts = true }, "--all-ports captures every port: give it without -i or --port"},
		{"device twice", func(o *Options) { o.Devices = []string{"net_ring1", "net_ring0"} }, "-i net_ring0 given twice"},
		{"port twice", func(o *Options) { o.Device, o.Port, o.Ports = "", 1, []int{1} }, "--port 1 given twice"},
		{"two ports in pcap", func(o *Options) { o.Devices, o.Format = []string{"net_ring1"}, pcapfile.FormatPcap },
			"a pcap file cannot tell 2 ports apart (it has no interfaces): write pcapng"},
		{"two ports in rx pcap", func(o *Options) { o.Devices, o.Write, o.RxFile = []string{"net_ring1"}, "", "/c/rx.pcap" },
			"/c/rx.pcap: a pcap file cannot tell 2 ports apart"},
		{"eal args with dumpcap", func(o *Options) { o.Backend, o.EALArgs = BackendDumpcap, []string{"-d", "x.so"} }, "--eal-args: dpdk-dumpcap takes no EAL arguments"},
		{"eal args end", func(o *Options) { o.EALArgs = []string{"--"} }, `"--" ends the EAL arguments`},
		{"eal args prefix", func(o *Options) { o.EALArgs = []string{"--file-prefix=x"} }, "give the prefix with --prefix"},
		{"two ports with dumpcap", func(o *Options) { o.Devices, o.Backend = []string{"net_ring1"}, BackendDumpcap },
			"2 ports: dpdk-dumpcap 22.11 captures only the last of several -i; use the pdump backend"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := Options{Prefix: "gazelle", Device: "net_ring0", Port: -1, DryRun: true, Write: "/c/x.pcapng", lookPath: all}
			tc.edit(&o)
			_, err := Run(context.Background(), o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestPdumpBoundsAccepted: the edges of what pdump takes plan, and the
// dry run passes them to pdump as given.
func TestPdumpBoundsAccepted(t *testing.T) {
	for _, edit := range []func(o *Options){
		func(o *Options) { o.RingSize, o.TotalMbufs, o.MbufSize = MinRingSize, MinTotalMbufs, MinMbufSize },
		func(o *Options) { o.RingSize, o.TotalMbufs, o.MbufSize = MaxRingSize, MaxTotalMbufs, MaxMbufSize },
	} {
		o := Options{Prefix: "gazelle", Device: "net_ring0", Port: -1, DryRun: true, Write: "/c/x.pcapng", lookPath: fakeTools("dpdk-pdump")}
		edit(&o)
		res, err := Run(context.Background(), o)
		if err != nil {
			t.Fatalf("%d/%d/%d: %v", o.RingSize, o.TotalMbufs, o.MbufSize, err)
		}
		var b strings.Builder
		if err := res.RenderText(&b, noStyle, false); err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("ring-size=%d,mbuf-size=%d,total-num-mbufs=%d", o.RingSize, o.MbufSize, o.TotalMbufs)
		if !strings.Contains(b.String(), want) {
			t.Errorf("the dry run lacks %q:\n%s", want, b.String())
		}
	}
}

func TestParseAutostopAndSize(t *testing.T) {
	var o Options
	for _, a := range []string{"duration:2.5", "packets:10", "filesize:300"} {
		if err := o.ParseAutostop(a); err != nil {
			t.Fatal(err)
		}
	}
	if o.Duration != 2500*time.Millisecond || o.Count != 10 || o.MaxSize != 300_000 {
		t.Errorf("%+v", o)
	}
	// internal/duration's rule: dumpcap's seconds, or a Go duration.
	if err := o.ParseAutostop("duration:1m30s"); err != nil || o.Duration != 90*time.Second {
		t.Errorf("-a duration:1m30s: %v, %v", o.Duration, err)
	}
	for _, bad := range []string{"duration", "duration:-1", "duration:0", "duration:inf", "duration:1e3", "files:0", "frames:3", "packets:x"} {
		if err := o.ParseAutostop(bad); err == nil {
			t.Errorf("-a %s accepted", bad)
		}
	}
	for in, want := range map[string]int64{"2": 2_000_000, "500k": 500 << 10, "20M": 20 << 20, "1g": 1 << 30, "1500b": 1500, "0.5": 500_000} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "x", "-1", "0"} {
		if _, err := ParseSize(bad); err == nil {
			t.Errorf("ParseSize(%q) accepted", bad)
		}
	}
}
