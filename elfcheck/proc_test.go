package elfcheck

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gzdoctor/gzdoctor/internal/testenv"
)

func TestAnalyzePIDFixture(t *testing.T) {
	root := writeRoot(t, map[string][]byte{
		"/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2": lib("ld-linux-x86-64.so.2"),
		"/lib/x86_64-linux-gnu/libc.so.6":            lib("libc.so.6", "ld-linux-x86-64.so.2"),
		"/opt/app/bin/app":                           synthELF{interp: ldso, needed: []string{"libc.so.6", "libgone.so.1"}}.bytes(),
		"/opt/plug/librte_net_pcap.so.23":            lib("librte_net_pcap.so.23"),
		"/proc/42/maps": []byte(strings.Join([]string{
			"55d0c0000000-55d0c0001000 r--p 00000000 08:01 1 /opt/app/bin/app",
			"7f0000000000-7f0000001000 r--p 00000000 08:01 2 /lib/x86_64-linux-gnu/libc.so.6",
			"7f0000002000-7f0000003000 r-xp 00000000 08:01 3 /opt/plug/librte_net_pcap.so.23",
			"7f0000004000-7f0000005000 rw-p 00000000 00:00 0 [heap]",
			"7f0000006000-7f0000007000 r--p 00000000 08:01 4 /lib64/ld-linux-x86-64.so.2",
			"7f0000008000-7f0000009000 r--s 00000000 00:05 5 /dev/hugepages/rtemap_0 (deleted)",
		}, "\n")),
		"/proc/42/cmdline": []byte("/opt/app/bin/app\x00-l\x000\x00-d\x00/opt/plug/librte_net_pcap.so.23\x00--\x00-x\x00"),
	}, map[string]string{ldso: "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", "/proc/42/exe": "/opt/app/bin/app"})
	r, err := AnalyzePID(context.Background(), 42, Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	got := paths(r)
	if got["libc.so.6"] != "/lib/x86_64-linux-gnu/libc.so.6" || got["librte_net_pcap.so.23"] != "/opt/plug/librte_net_pcap.so.23" || got["libgone.so.1"] != "" {
		t.Errorf("mapped %v", got)
	}
	if r.PID != 42 || len(r.DPDK.EALDrivers) != 1 || !r.DPDK.PcapPMD.Reachable {
		t.Errorf("pid %d eal drivers %v pcap %+v", r.PID, r.DPDK.EALDrivers, r.DPDK.PcapPMD)
	}
}

func TestAnalyzePIDLive(t *testing.T) {
	if _, err := os.Stat("/proc/self/maps"); err != nil {
		t.Skip("no /proc")
	}
	sleep := testenv.Tool(t, "sleep", "coreutils")
	cmd := exec.Command(sleep, "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	var r *Report
	var err error
	found := false
	for i := 0; i < 100 && !found; i++ { // until exec and the loader have mapped libc
		r, err = AnalyzePID(context.Background(), cmd.Process.Pid, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range r.Libraries {
			if strings.HasPrefix(l.Name, "libc.so") && l.FoundVia == ViaMapped {
				found = true
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	real, _ := filepath.EvalSymlinks(sleep)
	if r.Path != real {
		t.Errorf("exe %s, want %s", r.Path, real)
	}
	if !found {
		t.Errorf("libc not among mapped libraries: %v", paths(r))
	}
}
