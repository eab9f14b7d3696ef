package doctor

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gzdoctor/gzdoctor/host"
	"github.com/gzdoctor/gzdoctor/ui"
)

// Fixture trees are built by testdata/hosts/chk-fixtures.sh.
const fixtures = "../testdata/hosts"

// fixtureCase runs every check against one fixture tree as a given user.
type fixtureCase struct {
	name   string
	tree   string
	cfg    Config
	status map[string]Status   // expected status per check; unlisted checks: ok or skip
	says   map[string][]string // substrings the finding or fix of a check must hold
	avoids map[string][]string // substrings the finding or fix of a check must not hold
	only   []string            // --only; nil runs every check
	// verdict is the summary's verdict; "" does not look.
	verdict string
}

var root = &User{UID: 0, GID: 0}

func fixtureCases() []fixtureCase {
	return []fixtureCase{
		{
			name: "healthy 22.11 lstack", tree: "chk-healthy-2211", cfg: Config{User: root, Device: "0000:01:00.0"},
			status: map[string]Status{"runtime-dir": OK, "config": OK, "prefix": OK, "primary": OK, "permissions": OK, "namespaces": OK,
				"device": OK, "pcap-pmd": OK, "pdump": OK, "busy": OK, "build-match": OK, "hugepages": OK, "iommu": OK, "aslr": OK, "address-space": OK,
				"gazelle-hugepages": OK, "gazelle-settings": OK, "gazelle-devices": OK, "gazelle-kernel": Skip, "gazelle-ltran": OK, "gazelle-sockets": OK},
			says: map[string][]string{
				"prefix":      {`prefix "gazelle" (from the config) has a running primary`},
				"primary":     {"pid 4242 redis-server holds prefix gazelle", "mp_socket bound"},
				"device":      {"the primary drives 0000:01:00.0"},
				"pcap-pmd":    {"librte_net_pcap.so.23"},
				"pdump":       {"rte_pdump_stats present", "fbarray_memzone"},
				"build-match": {"both run DPDK 22.11"},
			},
		},
		{
			name: "healthy 22.11, device from lstack.conf devices (MAC) cannot be mapped: no --device", tree: "chk-healthy-2211", cfg: Config{User: root},
			status: map[string]Status{"device": OK},
			says:   map[string][]string{"device": {"use device_id=0000:01:00.0"}},
		},
		{
			name: "healthy 22.11, --device names a NIC on its kernel driver: a device failure, and VFIO is not claimed for it", tree: "chk-healthy-2211",
			cfg:    Config{User: root, Device: "0000:03:00.0"},
			status: map[string]Status{"device": Fail, "iommu": OK},
			says:   map[string][]string{"device": {"kernel driver ixgbe"}, "iommu": {"usable for 0000:01:00.0 (vfio-pci)"}},
			avoids: map[string][]string{"iommu": {"ixgbe"}},
		},
		// adv3 F24: a --pdump-bin capture refuses (exit 2) passed check.
		{
			name: "--pdump-bin names no tool: the capture cannot start", tree: "chk-healthy-2211", cfg: Config{User: root, Device: "0000:01:00.0", PdumpBin: "dpdk-pdmp"},
			only:   []string{"build-match"},
			status: map[string]Status{"build-match": Fail},
			says:   map[string][]string{"build-match": {"no capture tool to run: --pdump-bin dpdk-pdmp: not found on PATH"}},
		},
		{
			name: "ltran mode on 21.11: the capture attaches to ltran's prefix", tree: "chk-ltran-2111", cfg: Config{User: root},
			status: map[string]Status{"config": OK, "prefix": OK, "primary": OK, "pcap-pmd": OK, "pdump": OK,
				"gazelle-hugepages": OK, "gazelle-settings": OK, "gazelle-ltran": OK, "gazelle-sockets": OK},
			says: map[string][]string{
				"prefix":  {`prefix "ltran" (from the config) has a running primary`},
				"primary": {"pid 3100 ltran holds prefix ltran"},
			},
		},
		{
			name: "19.11 primary: librte_pmd_pcap, pdump only weakly proven", tree: "chk-1911", cfg: Config{User: root},
			status: map[string]Status{"pcap-pmd": OK, "pdump": Warn, "build-match": OK},
			says: map[string][]string{
				"pcap-pmd": {"librte_pmd_pcap.so.20.0"},
				"pdump":    {"librte_pdump.so.20.0", "weakest evidence"},
			},
		},
		{
			name: "killed primary left its files", tree: "chk-stale", cfg: Config{User: root},
			status: map[string]Status{"runtime-dir": Fail, "prefix": OK, "primary": Fail, "gazelle-hugepages": Fail},
			says: map[string][]string{
				"runtime-dir": {"no running primary", "gazelle", "rm -rf /var/run/dpdk/gazelle /mnt/hugepages-lstack/gazellemap_*", "fuser -s"},
				"primary":     {"primary of prefix gazelle is gone", "4 hugepage files", "the command under runtime-dir"},
				"hugepages":   {"the command under runtime-dir removes them"},
			},
			// One cause, one command: runtime-dir's.
			avoids: map[string][]string{"primary": {"rm -rf"}, "hugepages": {"rm -f"}},
		},
		{
			name: "config implies rte, the live prefix is gazelle", tree: "chk-wrong-prefix", cfg: Config{User: root},
			status: map[string]Status{"prefix": Fail, "primary": Skip},
			says:   map[string][]string{"prefix": {`prefix "rte" (from the config) has no runtime dir`, "gazelle (pid 4242, /usr/bin/redis-server)", "--file-prefix gazelle"}},
		},
		{
			name: "--prefix names no live primary", tree: "chk-healthy-2211", cfg: Config{User: root, Prefix: "lstack1"},
			status: map[string]Status{"prefix": Fail},
			says:   map[string][]string{"prefix": {`prefix "lstack1" (from --prefix) has no runtime dir`, "--file-prefix gazelle"}},
		},
		{
			name: "non-root capture user, root primary", tree: "chk-nonroot-tool", cfg: Config{User: &User{UID: 1000, GID: 1000, XDGRuntimeDir: "/run/user/1000"}},
			status: map[string]Status{"runtime-dir": Fail, "permissions": Fail},
			says: map[string][]string{
				"runtime-dir": {"runs as root (runtime dir /var/run/dpdk)", "capture runs as uid 1000 and will look in /run/user/1000/dpdk", "a root primary needs root", "sudo gzdoctor --root ../testdata/hosts/chk-nonroot-tool check --prefix gazelle"},
				"permissions": {"cannot enter /var/run/dpdk"},
			},
		},
		{
			name: "non-root primary, root capture", tree: "chk-nonroot-primary", cfg: Config{User: root},
			status: map[string]Status{"runtime-dir": Fail, "prefix": OK, "primary": OK},
			says: map[string][]string{
				"runtime-dir": {"runs as uid 1000 (runtime dir /run/user/1000/dpdk)", "capture runs as root and will look in /var/run/dpdk", "XDG_RUNTIME_DIR=/run/user/1000"},
			},
		},
		{
			name: "another uid shares XDG_RUNTIME_DIR but not the files", tree: "chk-permissions", cfg: Config{User: &User{UID: 1001, GID: 1001, XDGRuntimeDir: "/run/user/1000"}},
			status: map[string]Status{"runtime-dir": OK, "permissions": Fail},
			says:   map[string][]string{"permissions": {"uid 1001", "cannot enter /run/user/1000/dpdk"}},
		},
		{
			name: "device the primary does not drive", tree: "chk-healthy-2211", cfg: Config{User: root, Device: "0000:02:08.0"},
			status: map[string]Status{"device": Fail},
			says: map[string][]string{"device": {"does not drive 0000:02:08.0", "device_id=0000:01:00.0",
				// Only dpdk-pdump is installed in this tree: the command names it.
				"dpdk-pdump --file-prefix gazelle -- --pdump 'device_id=0000:01:00.0,queue=*,rx-dev=/tmp/capture.pcap'"}},
			avoids: map[string][]string{"device": {"gazelle-pdump"}},
		},
		{
			name: "device the primary does not drive, gazelle-pdump installed: the command names it", tree: "chk-ltran-2111", cfg: Config{User: root, Device: "0000:02:08.0"},
			status: map[string]Status{"device": Fail},
			says:   map[string][]string{"device": {"gazelle-pdump --file-prefix ltran -- --pdump 'device_id=0000:01:00.0,queue=*,rx-dev=/tmp/capture.pcap'"}},
		},
		{
			// gzdoctor capture's preflight: the fix is the operator's own
			// command with the device corrected, not the capture tool's.
			name: "capture's device the primary does not drive: its own command, corrected", tree: "chk-healthy-2211",
			cfg:    Config{User: root, Device: "0000:02:08.0", Devices: []string{"0000:02:08.0"}, Rerun: func(d string) string { return "rerun with [" + d + "]" }},
			status: map[string]Status{"device": Fail},
			says:   map[string][]string{"device": {"use device_id=0000:01:00.0", "rerun with [0000:01:00.0]"}},
			avoids: map[string][]string{"device": {"dpdk-pdump --file-prefix"}},
		},
		{
			// -i repeated, the right device among them: the fix drops the
			// wrong one instead of offering the one the capture has.
			name: "a second -i the primary does not drive: dropped", tree: "chk-healthy-2211",
			cfg:    Config{User: root, Device: "0000:02:08.0", Devices: []string{"01:00.0", "0000:02:08.0"}, Rerun: func(d string) string { return "rerun with [" + d + "]" }},
			status: map[string]Status{"device": Fail},
			says:   map[string][]string{"device": {"drop 0000:02:08.0", "which this capture has already", "rerun with []"}},
			avoids: map[string][]string{"device": {"use device_id=0000:01:00.0", "dpdk-pdump --file-prefix"}},
		},
		{
			name: "device on a kernel driver", tree: "chk-healthy-2211", cfg: Config{User: root, Device: "03:00.0"},
			status: map[string]Status{"device": Fail},
			says:   map[string][]string{"device": {"kernel driver ixgbe", "dpdk-devbind.py -b vfio-pci 0000:03:00.0", "device_id=0000:01:00.0"}},
		},
		{
			name: "lstack.conf devices= is the MAC of a NIC on its kernel driver", tree: "chk-healthy-2211",
			cfg:    Config{User: root, ConfigPath: "/etc/gazelle/lstack-kernelnic.conf"},
			status: map[string]Status{"device": Fail, "gazelle-devices": Fail, "gazelle-hugepages": Fail},
			says: map[string][]string{"device": {
				"0000:03:00.0 (devices=aa:bb:cc:dd:ee:03 (/etc/gazelle/lstack-kernelnic.conf:10), the MAC of 0000:03:00.0)",
				"kernel driver ixgbe", "dpdk-devbind.py -b vfio-pci 0000:03:00.0",
			}},
		},
		{
			name: "device that does not exist", tree: "chk-healthy-2211", cfg: Config{User: root, Device: "0000:09:00.0"},
			status: map[string]Status{"device": Fail},
			says:   map[string][]string{"device": {"does not exist", "device_id=0000:01:00.0"}},
		},
		{
			name: "no rte_pdump_init", tree: "chk-no-pdump", cfg: Config{User: root},
			status: map[string]Status{"pdump": Fail},
			says:   map[string][]string{"pdump": {"did not call rte_pdump_init()", "fbarray_memzone"}},
		},
		{
			name: "no pcap PMD", tree: "chk-no-pcap", cfg: Config{User: root},
			status: map[string]Status{"pcap-pmd": Fail},
			says:   map[string][]string{"pcap-pmd": {"has no pcap PMD", "librte_net_pcap.so", `"-d"`}},
		},
		{
			name: "no free hugepages, dead primary's files", tree: "chk-hugepages", cfg: Config{User: root},
			status: map[string]Status{"hugepages": Fail},
			says:   map[string][]string{"hugepages": {"no free hugepages", "oldapp (8 files", "rm -f /mnt/hugepages-lstack/oldappmap_*"}},
		},
		{
			name: "--huge-dir not on hugetlbfs", tree: "chk-hugedir", cfg: Config{User: root},
			status: map[string]Status{"hugepages": Fail},
			says:   map[string][]string{"hugepages": {"--huge-dir in /etc/gazelle/lstack.conf:1 /mnt/hugepages-lstack is not on a hugetlbfs mount"}},
		},
		{
			name: "config gotchas with line numbers", tree: "chk-config", cfg: Config{User: root},
			status: map[string]Status{"config": Fail, "gazelle-ltran": Fail},
			says: map[string][]string{"config": {
				"lstack.conf:3", "--map-perfect without --legacy-mem",
				`"--file-prefix=gazelle" is one token`, "use_ltran is not set",
			}},
		},
		{
			name: "capture tool of another DPDK", tree: "chk-mismatch", cfg: Config{User: root},
			status: map[string]Status{"build-match": Fail},
			says:   map[string][]string{"build-match": {"dpdk-pdump is DPDK 21.11 but the primary maps DPDK 22.11"}},
		},
		{
			name: "primary in another mount namespace", tree: "chk-namespace", cfg: Config{User: root},
			status: map[string]Status{"namespaces": Fail},
			says:   map[string][]string{"namespaces": {"another mount namespace", "nsenter -t 4242 -m"}},
		},
		{
			name: "vfio-pci without IOMMU", tree: "chk-iommu", cfg: Config{User: root},
			status: map[string]Status{"iommu": Fail},
			says:   map[string][]string{"iommu": {"0000:01:00.0 is on vfio-pci but has no IOMMU group", "enable_unsafe_noiommu_mode"}},
		},
		{
			name: "address-space limits", tree: "chk-limits", cfg: Config{User: root},
			status: map[string]Status{"address-space": Warn},
			says:   map[string][]string{"address-space": {"vm.max_map_count is 4096", "Max address space 4294967296"}},
		},
		{
			name: "nothing ran", tree: "chk-no-runtime", cfg: Config{User: root},
			status: map[string]Status{"runtime-dir": Fail, "primary": Fail, "gazelle-hugepages": Fail},
			says:   map[string][]string{"runtime-dir": {"no DPDK runtime dir"}, "primary": {`no primary runs with prefix "gazelle"`}},
		},
		{
			name: "stopped primary (SIGSTOP): primary fails with kill -CONT, nothing suggests removing or restarting", tree: "chk-stopped", cfg: Config{User: root},
			status: map[string]Status{"primary": Fail, "device": Skip, "busy": Skip},
			says:   map[string][]string{"primary": {"pid 4242 redis-server holds prefix gazelle but is stopped (state T", "kill -CONT 4242"}},
			avoids: map[string][]string{"primary": {"rm ", "restart"}, "runtime-dir": {"rm "}},
		},
		{
			name: "zombie primary: dead, its parent must reap it", tree: "chk-zombie", cfg: Config{User: root},
			status: map[string]Status{"primary": Fail},
			says:   map[string][]string{"primary": {"has exited (state Z, zombie)", "parent (pid 4100, runner)", "must reap it"}},
			avoids: map[string][]string{"primary": {"rm ", "kill -CONT"}},
		},
		{
			name: "a killed pdump poisoned the primary: busy fails, only a restart clears it", tree: "chk-poisoned", cfg: Config{User: root},
			status: map[string]Status{"primary": OK, "busy": Fail},
			says: map[string][]string{"busy": {"MP_pdump_pool_0, RG_rx_ring_0, RG_tx_ring_0", "no capture tool is attached", "pid 7249 is gone",
				"only a restart of the primary (pid 4242, /usr/bin/redis-server)", "kill 4242;",
				"env GAZELLE_BIND_PROCNAME=redis-server LD_PRELOAD=/usr/lib64/liblstack.so LSTACK_CONF_PATH=/etc/gazelle/lstack.conf /usr/bin/redis-server /etc/redis.conf"}},
		},
		{
			name: "a capture is running: busy names it", tree: "chk-capture-running", cfg: Config{User: root},
			status: map[string]Status{"primary": OK, "busy": Fail},
			says:   map[string][]string{"busy": {"a capture is running on prefix gazelle: pid 7300 (dpdk-pdump --file-prefix gazelle", "kill -INT 7300"}},
			avoids: map[string][]string{"busy": {"restart", "kill 4242"}},
		},
		{
			name: "--only CHK-11 with two live primaries and no --prefix: the prefix check joins and fails", tree: "chk-two-primaries", cfg: Config{User: root},
			only:    []string{"CHK-11"},
			status:  map[string]Status{"prefix": Fail, "pcap-pmd": Skip, "pdump": Skip, "busy": Skip},
			says:    map[string][]string{"prefix": {"several primaries are running (app1 (pid 5001, /usr/bin/app1); app2 (pid 5002, /usr/bin/app2))", "check --prefix app2"}, "pcap-pmd": {"needs prefix"}},
			verdict: VerdictFail,
		},
		{
			name: "--only CHK-11 on a resolved target: passes, but vouches for no capture", tree: "chk-two-primaries", cfg: Config{User: root, Prefix: "app1"},
			only:    []string{"CHK-11"},
			status:  map[string]Status{"pcap-pmd": OK, "pdump": OK, "busy": OK},
			verdict: VerdictSubset,
		},
		{
			name: "typo'd --prefix left an empty runtime dir: debris, the closest running prefix first", tree: "chk-debris", cfg: Config{User: root, Prefix: "gazele"},
			status: map[string]Status{"runtime-dir": Warn, "prefix": Fail, "primary": Skip},
			says: map[string][]string{
				"runtime-dir": {"gazele (a failed capture tool's empty dir)", "rmdir /var/run/dpdk/gazele"},
				"prefix": {`prefix "gazele" (from --prefix) has no running primary: /var/run/dpdk/gazele is an empty dir a capture tool left when it failed to attach`,
					"closest name first: gazelle (pid 4242, /usr/bin/redis-server); zz_other (pid 5001, /usr/bin/other)",
					"check --prefix gazelle", "gzdoctor capture --prefix gazelle", "removed by the command under runtime-dir"},
			},
			avoids: map[string][]string{"prefix": {"rmdir", "in-memory", "restart", "no-config", "stale"}, "runtime-dir": {"no-config", "stale"}},
		},
		{
			// adv3 F8: an lstack takes --no-huge from dpdk_args; the fix
			// names the line, not a command line it does not have.
			name: "lstack started with --no-huge: no secondary can attach", tree: "chk-nohuge", cfg: Config{User: root},
			only:   []string{"CHK-01", "CHK-04"},
			status: map[string]Status{"primary": Fail},
			says: map[string][]string{"primary": {
				"pid 4242 redis-server holds prefix gazelle, mp_socket bound, but it runs with --no-huge (/var/run/dpdk/gazelle has fbarray_nohugemem and no hugepage_info; --no-huge in dpdk_args of /etc/gazelle/lstack.conf)",
				"no secondary can attach", "restart it without --no-huge",
				"stop pid 4242 (/usr/bin/redis-server), remove --no-huge in /etc/gazelle/lstack.conf:1",
			}},
		},
		{
			// adv3 F9: a concurrent gzdoctor's measurement dir is its, not
			// a failed capture tool's debris; an ended one's is debris,
			// named as what it is.
			name: "build-match measurement dirs: a running gzdoctor's is not debris, an ended one's is", tree: "chk-measuring", cfg: Config{User: root},
			only:   []string{"runtime-dir"},
			status: map[string]Status{"runtime-dir": Warn},
			says: map[string][]string{"runtime-dir": {
				"left behind: gzdoctor-ops-7002-1796197863001126909 (the empty dir of an ended gzdoctor's build-match measurement, pid 7002)",
				"rmdir /var/run/dpdk/gzdoctor-ops-7002-1796197863001126909",
			}},
			avoids: map[string][]string{"runtime-dir": {"gzdoctor-ops-7001-1796197863801126909 (", "rmdir /var/run/dpdk/gzdoctor-ops-7001", "failed capture tool"}},
		},
		{
			name: "typo'd --prefix, prefix check alone: it gives the rmdir itself", tree: "chk-debris", cfg: Config{User: root, Prefix: "gazele"},
			only:   []string{"prefix"},
			status: map[string]Status{"prefix": Fail},
			says:   map[string][]string{"prefix": {"rmdir /var/run/dpdk/gazele"}},
		},
		{
			name: "debris and nothing else running: primary says so with rmdir", tree: "chk-debris", cfg: Config{User: root, Prefix: "gazele"},
			only:   []string{"primary"},
			status: map[string]Status{"primary": Fail},
			says:   map[string][]string{"primary": {`no primary runs with prefix "gazele"`, "failed to attach", "rmdir /var/run/dpdk/gazele"}},
			avoids: map[string][]string{"primary": {"in-memory", "restart"}},
		},
		{
			name: "non-root user's debris of a root primary's prefix: a root primary needs root", tree: "chk-nonroot-debris",
			cfg:    Config{User: &User{UID: 1000, GID: 1000, XDGRuntimeDir: "/run/user/1000"}, Prefix: "gazelle"},
			status: map[string]Status{"runtime-dir": Fail, "prefix": Fail},
			says: map[string][]string{
				"runtime-dir": {"a root primary needs root", "sudo gzdoctor --root ../testdata/hosts/chk-nonroot-debris check --prefix gazelle", "rmdir /run/user/1000/dpdk/gazelle"},
				"prefix":      {"/run/user/1000/dpdk/gazelle is an empty dir", "gazelle (pid 4242, /usr/bin/redis-server, runs as root in /var/run/dpdk)", "a root primary needs root", "sudo gzdoctor --root ../testdata/hosts/chk-nonroot-debris check --prefix gazelle"},
			},
			avoids: map[string][]string{"prefix": {"in-memory", "restart", "dpdk-pdump --file-prefix"}},
		},
		{
			name: "capture file the primary cannot reach", tree: "chk-healthy-2211", cfg: Config{User: root, CaptureFile: "/srv/captures/x.pcap"},
			status: map[string]Status{"output-path": Fail},
			says:   map[string][]string{"output-path": {"/srv/captures does not exist where the primary (pid 4242, root) looks", "mkdir -p /srv/captures"}},
		},
		{
			name: "capture file on a read-only mount: root cannot write either", tree: "chk-output", cfg: Config{User: root, CaptureFile: "/srv/ro/x.pcap"},
			status: map[string]Status{"output-path": Fail},
			says:   map[string][]string{"output-path": {"/srv/ro is on a read-only mount (tmpfs on /srv/ro)", "--capture-file /tmp/x.pcap"}},
			avoids: map[string][]string{"output-path": {"mkdir"}},
		},
		{
			name: "capture file in an immutable dir", tree: "chk-output", cfg: Config{User: root, CaptureFile: "/srv/frozen/x.pcap"},
			status: map[string]Status{"output-path": Fail},
			says:   map[string][]string{"output-path": {"/srv/frozen is immutable (chattr +i)", "chattr -i /srv/frozen"}},
		},
		{
			name: "healthy lstack: the Gazelle checks say why they pass", tree: "chk-healthy-2211", cfg: Config{User: root},
			only: []string{"gazelle-hugepages", "gazelle-ltran", "gazelle-sockets"},
			says: map[string][]string{
				"gazelle-hugepages": {"lstack.conf: pools of about 744 MiB; redis-server (pid 4242) runs with it, so they fit"},
				"gazelle-ltran":     {"use_ltran=0 (/etc/gazelle/lstack.conf:3)"},
				"gazelle-sockets":   {"gazellectl's socket is listening"},
			},
		},
		{
			name: "ltran mode: ltran runs and listens where lstack registers", tree: "chk-ltran-2111", cfg: Config{User: root},
			only: []string{"gazelle-hugepages", "gazelle-ltran", "gazelle-sockets"},
			says: map[string][]string{
				"gazelle-hugepages": {"ltran.conf: pools of about 805 MiB; ltran (pid 3100) runs with it"},
				"gazelle-ltran":     {"use_ltran=1 and ltran runs (pid 3100), listening at /var/run/gazelle/ltran_client.sock"},
			},
		},
		{
			name: "Gazelle's own rules broken: pools, exclusive settings, NIC, CPUs, kernel, ltran, flag file", tree: "chk-gazelle", cfg: Config{User: root},
			only:   []string{"gazelle-hugepages", "gazelle-settings", "gazelle-devices", "gazelle-kernel", "gazelle-ltran", "gazelle-sockets"},
			status: map[string]Status{"gazelle-hugepages": Fail, "gazelle-settings": Fail, "gazelle-devices": Fail, "gazelle-kernel": Warn, "gazelle-ltran": Fail, "gazelle-sockets": Warn},
			says: map[string][]string{
				"gazelle-hugepages": {
					"lstack.conf's pools need at least 4283 MiB on node 0 but --socket-mem gives 2048 MB with --legacy-mem (--socket-mem in /etc/gazelle/lstack.conf:1)",
					"lower tcp_conn_count=10000 (/etc/gazelle/lstack.conf:6) or mbuf_count_per_conn=170 (/etc/gazelle/lstack.conf:7)",
					"in ltran mode both must use hugepages of one size",
					"--socket-mem in /etc/gazelle/ltran.conf:2: give it at least 1064 MB in --socket-mem",
				},
				"gazelle-settings": {
					"/etc/gazelle/lstack.conf:3: kni_switch=1 with use_ltran=1 (/etc/gazelle/lstack.conf:2)",
					"/etc/gazelle/lstack.conf:4: keep one: flow_bifurcation",
					"/etc/gazelle/lstack.conf:8: set nic_rxqueue_size to one of 512",
					"/etc/gazelle/ltran.conf:3: rename it to rx_mbuf_pool_size",
					"/etc/gazelle/lstack.conf:9: give both files the same unix_prefix",
					`/etc/gazelle/lstack.conf:13: set devices="aa:bb:cc:dd:ee:01"`,
				},
				"gazelle-devices": {
					"devices=aa:bb:cc:dd:ee:03 is eth1 of 0000:03:00.0, still on its kernel driver ixgbe",
					"dpdk-devbind.py -b vfio-pci 0000:03:00.0",
					"/etc/gazelle/lstack.conf:5: use online CPUs only",
					"ethtool -l eth1",
				},
				"gazelle-kernel":  {"transparent hugepages are [always] on", "echo madvise > /sys/kernel/mm/transparent_hugepage/enabled", "sysctl -w net.ipv4.conf.eth1.rp_filter=1", "build Gazelle on this machine"},
				"gazelle-ltran":   {"/etc/gazelle/lstack.conf:2: lstack runs in ltran mode (use_ltran=1) but no ltran runs", "/var/run/gazelle/altran_client.sock", "ltran --config-file /etc/gazelle/ltran.conf"},
				"gazelle-sockets": {"gazelle_primary exists but no lstack runs", "rm -f /var/run/gazelle/gazelle_primary"},
			},
		},
		{
			name: "capture file in a writable dir", tree: "chk-output", cfg: Config{User: root, CaptureFile: "/srv/open/x.pcap"},
			status: map[string]Status{"output-path": OK},
			says:   map[string][]string{"output-path": {"the primary (pid 4242, root) can create /srv/open/x.pcap"}},
		},
	}
}

func runFixture(t *testing.T, c fixtureCase) Report {
	t.Helper()
	cfg := c.cfg
	cfg.Host = host.New(filepath.Join(fixtures, c.tree))
	cfg.Env = []string{"PATH=/usr/bin:/bin"}
	rep, err := Run(context.Background(), NewEnv(cfg), Options{Only: c.only})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestFixtures(t *testing.T) {
	for _, c := range fixtureCases() {
		t.Run(c.name, func(t *testing.T) {
			rep := runFixture(t, c)
			for _, r := range rep.Results {
				want, listed := c.status[r.ID]
				switch {
				case listed && r.Status != want:
					t.Errorf("%s: %s %q, want %s", r.ID, r.Status, r.Finding, want)
				case !listed && r.Status != OK && r.Status != Skip && r.Status != Warn:
					t.Errorf("%s: unexpected %s %q", r.ID, r.Status, r.Finding)
				}
				if r.Status == Error {
					t.Errorf("%s: error %q", r.ID, r.Finding)
				}
			}
			forbiddenFixes(t, c, rep)
			if c.verdict != "" && rep.Summary.Verdict != c.verdict {
				t.Errorf("verdict %q, want %q", rep.Summary.Verdict, c.verdict)
			}
			for id, subs := range c.says {
				r := mustResult(t, rep, id)
				text := r.Finding
				if r.Fix != nil {
					text += "\n" + r.Fix.Text + "\n" + strings.Join(r.Fix.Commands, "\n")
				}
				for _, s := range subs {
					if !strings.Contains(text, s) {
						t.Errorf("%s does not say %q:\n%s", id, s, text)
					}
				}
			}
			for id, subs := range c.avoids {
				r := mustResult(t, rep, id)
				text := r.Finding
				if r.Fix != nil {
					text += "\n" + r.Fix.Text + "\n" + strings.Join(r.Fix.Commands, "\n")
				}
				for _, s := range subs {
					if strings.Contains(text, s) {
						t.Errorf("%s says %q:\n%s", id, s, text)
					}
				}
			}
			if t.Failed() {
				t.Log("\n" + dump(rep))
			}
		})
	}
}

// TestFixtureGolden pins the whole rendered report of each fixture tree.
func TestFixtureGolden(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range fixtureCases() {
		if seen[c.tree] {
			continue
		}
		seen[c.tree] = true
		t.Run(c.tree, func(t *testing.T) {
			rep := runFixture(t, c)
			var b bytes.Buffer
			if err := rep.RenderText(&b, ui.Style{}, true); err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("fixtures", c.tree+".txt"), b.Bytes())
		})
	}
}

// forbiddenFixes: no printed command removes a runtime dir whose config a
// process holds, and none carries an unfilled placeholder.
func forbiddenFixes(t *testing.T, c fixtureCase, rep Report) {
	t.Helper()
	env := NewEnv(Config{Host: host.New(filepath.Join(fixtures, c.tree)), User: c.cfg.User, Env: []string{}})
	rt, err := env.Runtime(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rep.Results {
		if r.Fix == nil {
			continue
		}
		for _, cmd := range r.Fix.Commands {
			for _, p := range rt.Live() {
				for _, rm := range []string{"rm -rf " + p.Dir, "rm -r " + p.Dir, "rmdir " + p.Dir} {
					if strings.Contains(cmd+" ", rm+" ") {
						t.Errorf("%s: %q removes the held runtime dir %s", r.ID, cmd, p.Dir)
					}
				}
			}
			for _, ph := range []string{"...", "'...'", "<pid>", "<prefix>", "<dir>", "DEVICE"} {
				if strings.Contains(cmd, ph) {
					t.Errorf("%s: %q holds the placeholder %q", r.ID, cmd, ph)
				}
			}
		}
	}
}

// TestFixtureMeasurementWords: runtime-dir's details say what each
// measurement dir is (adv3 F9).
func TestFixtureMeasurementWords(t *testing.T) {
	rep := runFixture(t, fixtureCase{tree: "chk-measuring", cfg: Config{User: root}, only: []string{"runtime-dir"}})
	details := strings.Join(mustResult(t, rep, "runtime-dir").Details, "\n")
	for _, want := range []string{
		"/var/run/dpdk/gzdoctor-ops-7001-1796197863801126909: the build-match measurement of gzdoctor pid 7001, which still runs and removes it when done, owner uid 0 mode 0700, no files",
		"/var/run/dpdk/gzdoctor-ops-7002-1796197863001126909: left by the build-match measurement of gzdoctor pid 7002, which ended before it removed it (nothing uses it), owner uid 0 mode 0700, no files",
	} {
		if !strings.Contains(details, want) {
			t.Errorf("details lack %q:\n%s", want, details)
		}
	}
}
