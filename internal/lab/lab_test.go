package lab

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gzdoctor/gzdoctor/internal/testenv"
)

func TestStartStop(t *testing.T) {
	Require(t)
	t.Parallel()
	p, err := Start(context.Background(), Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Cleanup)

	if !strings.HasPrefix(p.Prefix, "gzlab_") {
		t.Errorf("Prefix = %q, want a gzlab_ prefix", p.Prefix)
	}
	if p.Device != DefaultVdev {
		t.Errorf("Device = %q, want %q", p.Device, DefaultVdev)
	}
	if want := filepath.Join("/var/run/dpdk", p.Prefix); p.RuntimeDir != want {
		t.Errorf("RuntimeDir = %q, want %q", p.RuntimeDir, want)
	}
	for _, f := range []string{"config", "mp_socket", "hugepage_info", "fbarray_memzone"} {
		if _, err := os.Stat(filepath.Join(p.RuntimeDir, f)); err != nil {
			t.Errorf("runtime file missing: %v", err)
		}
	}
	if !configLocked(filepath.Join(p.RuntimeDir, "config")) {
		t.Errorf("%s/config is not locked by the running primary", p.RuntimeDir)
	}
	if len(HugepageFiles(p.Prefix)) == 0 {
		t.Errorf("no %smap_* hugepage files while the primary runs", p.Prefix)
	}
	if exe, err := os.Readlink(filepath.Join("/proc", strconv.Itoa(p.Pid), "exe")); err != nil || exe != PrimaryBinary() {
		t.Errorf("pid %d runs %q (%v), want %s", p.Pid, exe, err, PrimaryBinary())
	}

	waitCounters(t, p, func(c Counters) bool { return c.RxPackets > 0 })
	if err := p.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if p.Running() {
		t.Fatal("primary still running after Stop")
	}
	out := p.Output()
	for _, want := range []string{"EAL: Multi-process socket " + p.RuntimeDir + "/mp_socket\n", "lab-primary: ready", "lab-primary: stopped"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	c, err := p.Counters()
	if err != nil {
		t.Fatalf("Counters after Stop: %v", err)
	}
	if c.Pid != p.Pid || c.Device != DefaultVdev || !c.PdumpInit || c.TxPackets == 0 || c.RxPackets == 0 || c.RxPackets > c.TxPackets {
		t.Errorf("final counters %+v: want this pid, %s, pdump_init, tx>0, 0<rx<=tx", c, DefaultVdev)
	}
	if _, err := os.Stat(p.RuntimeDir); !os.IsNotExist(err) {
		t.Errorf("runtime dir %s still there after Stop (%v)", p.RuntimeDir, err)
	}
	if left := HugepageFiles(p.Prefix); len(left) != 0 {
		t.Errorf("hugepage files left after Stop: %v", left)
	}
}

func TestCountersGrow(t *testing.T) {
	t.Parallel()
	p := StartT(t, Config{Rate: 2000})
	first := waitCounters(t, p, func(c Counters) bool { return c.TxPackets > 0 })
	second := waitCounters(t, p, func(c Counters) bool { return c.TxPackets > first.TxPackets+200 })
	if second.RxPackets <= first.RxPackets || second.RxBytes <= first.RxBytes || second.TxBytes <= first.TxBytes {
		t.Errorf("counters did not grow: %+v then %+v", first, second)
	}
	// net_ring0 hands every sent frame back to rx.
	if second.RxPackets+BurstSlack < second.TxPackets {
		t.Errorf("rx %d lags tx %d by more than a burst on the loopback ring", second.RxPackets, second.TxPackets)
	}
}

// BurstSlack is how far rx may lag tx in a snapshot of the counters.
const BurstSlack = 64

func TestNoTraffic(t *testing.T) {
	t.Parallel()
	p := StartT(t, Config{Rate: -1})
	time.Sleep(300 * time.Millisecond)
	c := waitCounters(t, p, func(Counters) bool { return true })
	if c.TxPackets != 0 || c.RxPackets != 0 {
		t.Errorf("Rate -1 sent traffic: %+v", c)
	}
}

func TestKillLeavesFilesCleanupRemoves(t *testing.T) {
	t.Parallel()
	p := StartT(t, Config{})
	if err := p.Kill(); err != nil {
		t.Fatal(err)
	}
	if p.Running() {
		t.Fatal("primary alive after Kill")
	}
	if _, err := os.Stat(filepath.Join(p.RuntimeDir, "config")); err != nil {
		t.Errorf("Kill removed the runtime dir: %v", err)
	}
	if configLocked(filepath.Join(p.RuntimeDir, "config")) {
		t.Errorf("config still locked after the primary died")
	}
	files := HugepageFiles(p.Prefix)
	if len(files) == 0 {
		t.Errorf("Kill left no hugepage files; a killed primary leaves them")
	}
	// Any primary that starts meanwhile (here one, in CI another
	// package's) clears the unlocked *map_* files of its --huge-dir: the
	// files Kill holds stay; released, they go.
	StartT(t, Config{Rate: -1})
	if left := HugepageFiles(p.Prefix); len(left) != len(files) {
		t.Errorf("a primary's start removed the killed one's files: %d of %d left", len(left), len(files))
	}
	p.ReleaseHugepages()
	StartT(t, Config{Rate: -1})
	if left := HugepageFiles(p.Prefix); len(left) != 0 {
		// The hold is what kept them: DPDK 22.11's EAL removes them.
		t.Errorf("released, %d files survived a primary's start: Kill's hold is not what keeps them", len(left))
	}
	p.Cleanup()
	p.Cleanup() // idempotent
	if _, err := os.Stat(p.RuntimeDir); !os.IsNotExist(err) {
		t.Errorf("runtime dir still there after Cleanup (%v)", err)
	}
	if left := HugepageFiles(p.Prefix); len(left) != 0 {
		t.Errorf("hugepage files left after Cleanup: %v", left)
	}
}

func TestParallelPrimaries(t *testing.T) {
	Require(t)
	t.Parallel()
	ps := make(chan *Primary, 2)
	for _, name := range []string{"a", "b"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p := StartT(t, Config{})
			waitCounters(t, p, func(c Counters) bool { return c.RxPackets > 100 })
			ps <- p
			// Stay up until both run, so they truly overlap.
			deadline := time.After(10 * time.Second)
			for len(ps) < 2 {
				select {
				case <-deadline:
					t.Fatal("the other primary never got going")
				case <-time.After(20 * time.Millisecond):
				}
			}
		})
	}
	t.Cleanup(func() {
		close(ps)
		var prefixes []string
		for p := range ps {
			prefixes = append(prefixes, p.Prefix)
		}
		if len(prefixes) == 2 && prefixes[0] == prefixes[1] {
			t.Errorf("two primaries shared prefix %s", prefixes[0])
		}
	})
}

func TestStartFailureCarriesOutput(t *testing.T) {
	Require(t)
	t.Parallel()
	prefix := NewPrefix()
	_, err := Start(context.Background(), Config{Prefix: prefix, Vdevs: []string{"net_bogus0"}})
	if err == nil {
		t.Fatal("Start with a vdev no driver knows succeeded")
	}
	if !strings.Contains(err.Error(), "exited before it was ready") || !strings.Contains(err.Error(), "net_bogus0") {
		t.Errorf("error does not carry the primary's output: %v", err)
	}
	if _, serr := os.Stat(RuntimeDir(prefix)); !os.IsNotExist(serr) {
		t.Errorf("failed start left %s behind", RuntimeDir(prefix))
	}
	if left := HugepageFiles(prefix); len(left) != 0 {
		t.Errorf("failed start left hugepage files: %v", left)
	}
}

// TestPdumpCapture attaches Debian's dpdk-pdump to a lab primary and checks
// with tcpdump that both directions hold the lab's traffic.
func TestPdumpCapture(t *testing.T) {
	t.Parallel()
	needTool(t, "dpdk-pdump", "tcpdump")
	p := StartT(t, Config{})
	dir := t.TempDir()
	rx, tx := filepath.Join(dir, "rx.pcap"), filepath.Join(dir, "tx.pcap")
	// Until both files hold a few traffic cycles (24 frames each).
	out := pdumpUntil(t, p, 0, rx, tx, map[string]string{rx: "udp and src host 192.168.1.12", tx: "ip6"}, nil)
	if !strings.Contains(out, "packets transmitted to vdev") {
		t.Fatalf("dpdk-pdump did not run its capture loop:\n%s", out)
	}
	for _, tc := range []struct {
		file, filter string
	}{
		{rx, "udp and src host 192.168.1.10 and dst port 8080"},
		{rx, "udp and src host 192.168.1.11"},
		{rx, "udp and src host 192.168.1.12"},
		{rx, "udp and src port 8080 and dst host 192.168.1.10"},
		{tx, "udp and src host 192.168.1.10"},
		{tx, "tcp[tcpflags] & tcp-syn != 0 and tcp[tcpflags] & tcp-ack == 0"},
		{tx, "tcp[tcpflags] & (tcp-syn|tcp-ack) == (tcp-syn|tcp-ack)"},
		{tx, "icmp[icmptype] == icmp-echo"},
		{tx, "icmp[icmptype] == icmp-echoreply"},
		{tx, "arp"},
		{tx, "vlan 100 and udp and dst port 5001"},
		{tx, "ip6 and udp and dst port 8080"},
	} {
		if n := tcpdumpCount(t, tc.file, tc.filter); n == 0 {
			t.Errorf("%s: no packets match %q", filepath.Base(tc.file), tc.filter)
		}
	}
	// Everything the lab sends is well formed: tcpdump -v reports bad
	// checksums as "bad cksum" / "bad udp cksum".
	verbose, err := exec.Command("tcpdump", "-nvr", tx, "-c", "500").CombinedOutput()
	if err != nil {
		t.Fatalf("tcpdump -v: %v\n%s", err, verbose)
	}
	if strings.Contains(string(verbose), "bad ") || strings.Contains(string(verbose), "truncated") {
		t.Errorf("tcpdump finds malformed frames:\n%s", verbose)
	}
}

// TestDumpcapCapture runs Debian's dpdk-dumpcap against a lab primary.
func TestDumpcapCapture(t *testing.T) {
	t.Parallel()
	needTool(t, "dpdk-dumpcap", "tcpdump")
	p := StartT(t, Config{UDPClients: 5})
	f := filepath.Join(t.TempDir(), "f.pcapng")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "dpdk-dumpcap", "--file-prefix", p.Prefix, "-i", p.Device, "-w", f, "-c", "400").CombinedOutput()
	if err != nil {
		t.Fatalf("dpdk-dumpcap: %v\n%s", err, out)
	}
	// dumpcap checks -c after each burst it dequeues, so it may write a
	// few packets more than asked (204 for -c 200 on the lab).
	if n := tcpdumpCount(t, f, ""); n < 400 || n > 400+BurstSlack {
		t.Errorf("%s holds %d packets, want 400 (+ at most a burst)\n%s", f, n, out)
	}
	for i := range 5 {
		filter := fmt.Sprintf("udp and src host 192.168.1.%d and src port %d and dst port 8080", 10+i, 10001+i)
		if n := tcpdumpCount(t, f, filter); n == 0 {
			t.Errorf("no packets match %q with UDPClients 5", filter)
		}
	}
	if n := tcpdumpCount(t, f, "src host 192.168.1.15"); n != 0 {
		t.Errorf("%d packets from a sixth client with UDPClients 5", n)
	}
}

func TestParseCounters(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     Counters
		wantErr  bool
	}{
		{"full", "pid=7\ndevice=net_ring0\nports=1\npdump_init=1\ntx_packets=10\ntx_bytes=900\ntx_dropped=2\nrx_packets=9\nrx_bytes=800\n",
			Counters{Pid: 7, Device: "net_ring0", Ports: 1, PdumpInit: true, TxPackets: 10, TxBytes: 900, TxDropped: 2, RxPackets: 9, RxBytes: 800}, false},
		{"unknown keys and noise", "lab-primary: stopped\nfuture=1\ntx_packets=1\nrx_packets=0\npdump_init=0\n",
			Counters{TxPackets: 1}, false},
		{"bad number", "tx_packets=x\nrx_packets=1\n", Counters{}, true},
		{"empty", "", Counters{}, true},
		{"no rx", "tx_packets=1\n", Counters{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseCounters(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestOutputBufferKeepsHeadAndTail(t *testing.T) {
	var b outputBuffer
	b.Write([]byte("start\n"))
	chunk := []byte(strings.Repeat("x", 4095) + "\n")
	for range 2 * maxOutput / len(chunk) {
		b.Write(chunk)
	}
	b.Write([]byte("the end\n"))
	s := b.String()
	if !strings.HasPrefix(s, "start\n") || !strings.HasSuffix(s, "the end\n") || !strings.Contains(s, "bytes of output dropped") {
		t.Errorf("head/tail/marker missing (len %d)", len(s))
	}
	if len(s) > maxOutput+200 {
		t.Errorf("buffer grew to %d bytes", len(s))
	}
}

func TestModuleRoot(t *testing.T) {
	if _, err := os.Stat(filepath.Join(LabDir(), "primary.c")); err != nil {
		t.Fatalf("LabDir %q: %v", LabDir(), err)
	}
	if filepath.Dir(PrimaryBinary()) != BuildDir() || filepath.Base(BuildDir()) != "build" {
		t.Errorf("PrimaryBinary %q not in BuildDir %q", PrimaryBinary(), BuildDir())
	}
}

// ---- helpers ----

func waitCounters(t *testing.T, p *Primary, ok func(Counters) bool) Counters {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := p.Counters()
		if err == nil && ok(c) {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("counters never got there: %+v, %v\noutput:\n%s", c, err, p.Output())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func needTool(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		testenv.Tool(t, tool, "lab/packages.txt")
	}
}

// tcpdumpCount counts the packets of file that match filter, by tcpdump.
func tcpdumpCount(t *testing.T, file, filter string) int {
	t.Helper()
	args := []string{"-nr", file}
	if filter != "" {
		args = append(args, filter)
	}
	cmd := exec.Command("tcpdump", args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tcpdump %v: %v\n%s", args, err, stderr.String())
	}
	return strings.Count(string(out), "\n")
}

// TestPrimaryCommandLine runs the binary directly: --count ends it by
// itself with exact counters, bad application arguments exit 2.
func TestPrimaryCommandLine(t *testing.T) {
	Require(t)
	t.Parallel()
	for _, tc := range []struct {
		name     string
		app      []string
		wantExit int
		want     string
	}{
		{"count", []string{"--count", "100", "--rate", "100000"}, 0, "tx_packets=100\n"},
		{"negative rate", []string{"--rate", "-1"}, 2, "lab-primary: bad --rate -1"},
		{"zero clients", []string{"--udp-clients", "0"}, 2, "lab-primary: bad --udp-clients 0"},
		{"port out of range", []string{"--ports", "8"}, 2, "lab-primary: bad --ports 8"},
		{"no such port", []string{"--ports", "3"}, 1, "no ethdev ports to drive"},
		{"unknown option", []string{"--bogus"}, 2, "usage: lab-primary"},
		{"stray argument", []string{"stray"}, 2, "unexpected argument stray"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			prefix := NewPrefix()
			t.Cleanup(func() { removePrefixFiles(prefix, RuntimeDir(prefix)) })
			args := append([]string{"--file-prefix", prefix, "--no-pci", "--vdev", DefaultVdev, "--"}, tc.app...)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			out, err := exec.CommandContext(ctx, PrimaryBinary(), args...).CombinedOutput()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tc.wantExit || !strings.Contains(string(out), tc.want) {
				t.Errorf("exit %d, want %d; output lacks %q?\n%s", code, tc.wantExit, tc.want, out)
			}
		})
	}
}
