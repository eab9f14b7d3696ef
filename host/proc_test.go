package host

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
)

func TestReadProcessFixtures(t *testing.T) {
	tests := []struct {
		name    string
		fixture string
		pid     int
		check   func(t *testing.T, p *Process)
	}{
		{"21.11 lstack by LD_PRELOAD", "rt-healthy", 1234, func(t *testing.T, p *Process) {
			want := ProcDPDK{
				EAL: "/usr/lib64/librte_eal.so.22", EALABI: "22", Release: "21.11",
				Lstack: "/usr/lib64/liblstack.so", PcapPMD: "/usr/lib64/librte_net_pcap.so.22",
				Pdump: "/usr/lib64/librte_pdump.so.22", RuntimeDir: "/run/dpdk/gazelle", Prefix: "gazelle",
				HugepageFiles: map[string]int{"/mnt/hugepages-lstack": 2},
			}
			if !reflect.DeepEqual(p.DPDK, want) {
				t.Errorf("DPDK =\n%+v\nwant\n%+v", p.DPDK, want)
			}
			wantEnv := map[string]string{
				"LD_PRELOAD": "/usr/lib64/liblstack.so", "GAZELLE_BIND_PROCNAME": "redis-server",
				"LSTACK_CONF_PATH": "/etc/gazelle/lstack.conf",
			}
			if !reflect.DeepEqual(p.Env, wantEnv) {
				t.Errorf("Env = %v, want %v (and nothing else)", p.Env, wantEnv)
			}
			if p.Name != "redis-server" || p.PPID != 1 || p.UID != 0 || p.EUID != 0 || p.Exe != "/usr/bin/redis-server" || p.ExeDeleted {
				t.Errorf("status/exe = %+v", p)
			}
			if !reflect.DeepEqual(p.Cmdline, []string{"redis-server", "/etc/redis.conf"}) {
				t.Errorf("Cmdline = %q", p.Cmdline)
			}
			if p.MountNS != "mnt:[4026531841]" {
				t.Errorf("MountNS = %q", p.MountNS)
			}
			for _, m := range p.Mapped {
				if strings.Contains(m, "gazellemap_") || strings.HasPrefix(m, "[") {
					t.Errorf("Mapped holds %q", m)
				}
			}
			if len(p.Mapped) != 8 || p.Mapped[0] != "/usr/bin/redis-server" {
				t.Errorf("Mapped = %q, want 8 files, exe first", p.Mapped)
			}
		}},
		{"19.11 ltran with the (null) prefix", "rt-1911-null", 3100, func(t *testing.T, p *Process) {
			want := ProcDPDK{
				EAL: "/usr/lib64/librte_eal.so.20.0", EALABI: "20.0", Release: "19.11",
				PcapPMD: "/usr/lib64/librte_pmd_pcap.so.20.0", Pdump: "/usr/lib64/librte_pdump.so.20.0",
				RuntimeDir: "/var/run/dpdk/(null)", Prefix: "(null)",
				HugepageFiles: map[string]int{"/mnt/hugepages-ltran": 1},
			}
			if !reflect.DeepEqual(p.DPDK, want) {
				t.Errorf("DPDK =\n%+v\nwant\n%+v", p.DPDK, want)
			}
		}},
		{"primary without pcap PMD, binary replaced", "rt-nopcap", 5100, func(t *testing.T, p *Process) {
			if p.DPDK.PcapPMD != "" || p.DPDK.EAL == "" || p.DPDK.Release != "22.11" || p.DPDK.Prefix != "nopcap" {
				t.Errorf("DPDK = %+v, want 22.11 EAL without a pcap PMD", p.DPDK)
			}
			if p.Exe != "/opt/lab/primary" || !p.ExeDeleted {
				t.Errorf("Exe = %q deleted %v", p.Exe, p.ExeDeleted)
			}
			if p.MountNS != "mnt:[4026532200]" {
				t.Errorf("MountNS = %q", p.MountNS)
			}
		}},
		{"non-root primary", "rt-nonroot", 2000, func(t *testing.T, p *Process) {
			if p.UID != 1000 || p.Env["XDG_RUNTIME_DIR"] != "/run/user/1000" || p.DPDK.RuntimeDir != "/run/user/1000/dpdk/app" {
				t.Errorf("got uid %d env %v runtime dir %q", p.UID, p.Env, p.DPDK.RuntimeDir)
			}
			if got := RuntimeBase(p.UID, p.Env); got != "/run/user/1000/dpdk" {
				t.Errorf("RuntimeBase of the process = %q", got)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := fixture(t, tt.fixture).ReadProcess(tt.pid)
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Unreadable) != 0 {
				t.Errorf("Unreadable = %v", p.Unreadable)
			}
			tt.check(t, p)
		})
	}
}

func TestReadProcessMissing(t *testing.T) {
	_, err := fixture(t, "rt-healthy").ReadProcess(99999)
	if !errors.Is(err, ErrNoProcess) {
		t.Errorf("err = %v, want ErrNoProcess", err)
	}
}

func TestDPDKProcesses(t *testing.T) {
	tests := []struct {
		fixture string
		want    []int
	}{
		{"rt-healthy", []int{1234, 4242}}, // not 900: sudo carries EAL args but no DPDK
		{"rt-stale", nil},
		{"rt-nonroot", []int{2000}},
		{"rt-1911-null", []int{3100}},
		{"rt-nopcap", []int{5100}},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			ps, err := fixture(t, tt.fixture).DPDKProcesses()
			if err != nil {
				t.Fatal(err)
			}
			var got []int
			for _, p := range ps {
				got = append(got, p.PID)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("DPDK pids = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestProcessesByPrefixDir(t *testing.T) {
	h := fixture(t, "rt-healthy")
	ps, err := h.DPDKProcesses()
	if err != nil {
		t.Fatal(err)
	}
	// The prefix is listed as /var/run/...; the maps say /run/...
	got := ProcessesByPrefixDir(ps, "/var/run/dpdk/gazelle")
	if len(got) != 2 || got[0].PID != 1234 || got[1].PID != 4242 {
		t.Errorf("ProcessesByPrefixDir = %d processes, want 1234 and 4242", len(got))
	}
	if got := ProcessesByPrefixDir(ps, "/var/run/dpdk/rte"); len(got) != 0 {
		t.Errorf("other prefix matched %d processes", len(got))
	}
}

func TestIsDPDKUnreadableMaps(t *testing.T) {
	tests := []struct {
		name string
		p    Process
		want bool
	}{
		{"EAL args, maps unreadable", Process{Cmdline: []string{"app", "--file-prefix", "x"}, Unreadable: []string{"maps: permission denied"}}, true},
		{"EAL args, maps readable", Process{Cmdline: []string{"timeout", "9", "app", "--file-prefix=x"}}, false},
		{"app args after -- only", Process{Cmdline: []string{"app", "--", "--vdev"}, Unreadable: []string{"maps: permission denied"}}, false},
		{"lstack preload", Process{Env: map[string]string{"LD_PRELOAD": "/usr/lib64/liblstack.so"}}, true},
		{"nothing", Process{Cmdline: []string{"bash"}}, false},
	}
	for _, tt := range tests {
		if got := tt.p.IsDPDK(); got != tt.want {
			t.Errorf("%s: IsDPDK = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestParseMaps(t *testing.T) {
	in := "55d0c0a00000-55d0c0a4c000 r--p 00000000 fd:00 393222  /usr/bin/my app\n" +
		"55d0c0a4c000-55d0c0b6e000 r-xp 0004c000 fd:00 393222  /usr/bin/my app\n" +
		"7f0000000000-7f0040000000 rw-s 00000000 00:2e 1001    /mnt/huge/rtemap_0 (deleted)\n" +
		"7f2a00c00000-7f2a00c21000 rw-p 00000000 00:00 0       [heap]\n" +
		"7f2a00d00000-7f2a00d21000 rw-p 00000000 00:00 0\n" +
		"7f2a00e00000-7f2a00e21000 rw-s 00000000 00:0e 55      anon_inode:[io_uring]\n"
	want := []string{"/usr/bin/my app", "/mnt/huge/rtemap_0 (deleted)"}
	if got := ParseMaps([]byte(in)); !reflect.DeepEqual(got, want) {
		t.Errorf("ParseMaps = %q, want %q", got, want)
	}
	d, rest := classifyMaps(want)
	if d.HugepageFiles["/mnt/huge"] != 1 || !reflect.DeepEqual(rest, want[:1]) {
		t.Errorf("classifyMaps = %+v, %q", d, rest)
	}
}

// TestReadProcessSelf reads this test process from the real /proc.
func TestReadProcessSelf(t *testing.T) {
	p, err := New("/").ReadProcess(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if p.Exe != exe || p.PPID != os.Getppid() || p.UID != os.Getuid() || p.EUID != os.Geteuid() {
		t.Errorf("self = exe %q ppid %d uid %d/%d, want %q %d %d/%d", p.Exe, p.PPID, p.UID, p.EUID, exe, os.Getppid(), os.Getuid(), os.Geteuid())
	}
	if len(p.Cmdline) == 0 || p.Cmdline[0] != os.Args[0] {
		t.Errorf("Cmdline = %q, want it to start with %q", p.Cmdline, os.Args[0])
	}
	self, _ := os.Readlink("/proc/self/ns/mnt")
	if p.MountNS != self || self == "" {
		t.Errorf("MountNS = %q, want %q", p.MountNS, self)
	}
	if p.IsDPDK() {
		t.Errorf("the test binary looks like DPDK: %+v", p.DPDK)
	}
	found := false
	for _, m := range p.Mapped {
		found = found || m == exe
	}
	if !found {
		t.Errorf("Mapped %q lacks the executable", p.Mapped)
	}
}

func TestEnvMap(t *testing.T) {
	got := EnvMap([]string{"A=1", "B=x=y", "A=2", "NOEQ", "E="})
	want := map[string]string{"A": "1", "B": "x=y", "E": ""}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("EnvMap = %v, want %v", got, want)
	}
}

func TestParseProcStat(t *testing.T) {
	tail := " 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 424242 20 21\n"
	for _, tt := range []struct {
		line  string
		state byte
		start uint64
		bad   bool
	}{
		{"1234 (dpdk-pdump) S" + tail, 'S', 424242, false},
		// comm may hold spaces and parentheses: fields count from the last ')'.
		{"1234 (a) b (c) T" + tail, 'T', 424242, false},
		{"1234 (lcore-worker-1) t 1 2\n", 't', 0, false},
		{"1234 (cut", 0, 0, true},
		{"1234 (x) \n", 0, 0, true},
	} {
		st, err := ParseProcStat([]byte(tt.line))
		if (err != nil) != tt.bad || st.State != tt.state || st.StartTime != tt.start {
			t.Errorf("%q: %+v %v, want state %q start %d (error %v)", tt.line, st, err, tt.state, tt.start, tt.bad)
		}
	}
}
