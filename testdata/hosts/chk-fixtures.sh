#!/bin/sh
# Regenerates the chk-* fixture trees that doctor's tests (doctor/fixture_test.go)
# run `gzdoctor check` against. Each tree is a whole small machine: DPDK runtime
# dirs, /proc (processes, locks, unix sockets, mounts, meminfo), /sys (hugepages,
# PCI devices), /etc/gazelle configs and, where the build-match check needs one, a
# capture tool built from chk-src/tool.c against stub librte libraries with the
# SONAMEs of the DPDK release in question. What git cannot store (owners, modes,
# sockets, the dev:inode /proc/locks names) is in .fixture/stat
# (host.FixtureStatFile). Needs gcc.
set -eu
cd "$(dirname "$0")"
SRC=$PWD/chk-src
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# new T: start an empty tree with a machine's common files.
new() {
	T=$1
	rm -rf "$T"
	mkdir -p "$T/.fixture" "$T/proc/net" "$T/proc/self/ns" "$T/proc/sys/kernel" "$T/proc/sys/vm"
	: >"$T/.fixture/stat"
	: >"$T/proc/locks"
	echo 'Num       RefCount Protocol Flags    Type St Inode Path' >"$T/proc/net/unix"
	echo 2 >"$T/proc/sys/kernel/randomize_va_space"
	echo 65530 >"$T/proc/sys/vm/max_map_count"
	ln -s 'mnt:[4026531841]' "$T/proc/self/ns/mnt"
	hugepages 1024 900
	mounts /mnt/hugepages-lstack
}
stat() { echo "$*" >>"$T/.fixture/stat"; }
lock() { echo "$*" >>"$T/proc/locks"; }
bound() { echo "0000000056b9$(printf %04x "$1"): 00000002 00000000 00000000 0002 01 $1 $2" >>"$T/proc/net/unix"; }

# hugepages NR FREE: one pool of 2 MiB pages on node 0.
hugepages() {
	for d in "$T/sys/kernel/mm/hugepages/hugepages-2048kB" "$T/sys/devices/system/node/node0/hugepages/hugepages-2048kB"; do
		mkdir -p "$d"
		echo "$1" >"$d/nr_hugepages"
		echo "$2" >"$d/free_hugepages"
		echo 0 >"$d/surplus_hugepages"
	done
	echo 0 >"$T/sys/kernel/mm/hugepages/hugepages-2048kB/resv_hugepages"
	cat >"$T/proc/meminfo" <<M
MemTotal:        8000000 kB
HugePages_Total:    $1
HugePages_Free:     $2
HugePages_Rsvd:        0
HugePages_Surp:        0
Hugepagesize:       2048 kB
M
}

# mounts DIR...: hugetlbfs mounts (besides / and /proc).
mounts() {
	{
		echo '/dev/vda1 / ext4 rw,relatime 0 0'
		echo 'proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0'
		for m in "$@"; do
			echo "nodev $m hugetlbfs rw,relatime,pagesize=2M 0 0"
			mkdir -p "$T$m"
			stat "$m uid=0 gid=0 mode=0700"
		done
	} >"$T/proc/mounts"
}

# proc PID NAME UID EXE MNTNS CMDLINE... ; maps from stdin
proc() {
	d=$T/proc/$1
	mkdir -p "$d/ns"
	printf 'Name:\t%s\nState:\tS (sleeping)\nTgid:\t%s\nPid:\t%s\nPPid:\t1\nUid:\t%s\t%s\t%s\t%s\nGid:\t%s\t%s\t%s\t%s\n' \
		"$2" "$1" "$1" "$3" "$3" "$3" "$3" "$3" "$3" "$3" "$3" >"$d/status"
	ln -sfn "$4" "$d/exe"
	ln -sfn "mnt:[$5]" "$d/ns/mnt"
	shift 5
	printf '%s\0' "$@" >"$d/cmdline"
	cat >"$d/maps"
	: >"$d/environ"
	printf 'Limit                     Soft Limit           Hard Limit           Units     \nMax address space         unlimited            unlimited            bytes     \n' >"$d/limits"
}
environ() { printf '%s\0' "$@" >"$T/proc/$PID/environ"; }

# prefix DIR UID PID INO MEMZONE: a runtime dir held by PID (PID 0: stale),
# with the real fbarray_memzone MEMZONE (pdump or nopdump).
prefix() {
	dir=$1 uid=$2 pid=$3 ino=$4
	mkdir -p "$T$dir"
	for f in config hugepage_info fbarray_memseg-2048k-0-0 mp_socket; do : >"$T$dir/$f"; done
	cp "$SRC/fbarray_memzone.$5" "$T$dir/fbarray_memzone"
	stat "$(dirname "$dir") uid=$uid gid=$uid mode=0700"
	stat "$dir uid=$uid gid=$uid mode=0700"
	stat "$dir/config dev=fd:00 ino=$ino uid=$uid gid=$uid mode=0600"
	for f in hugepage_info fbarray_memseg-2048k-0-0 fbarray_memzone; do stat "$dir/$f uid=$uid gid=$uid mode=0600"; done
	stat "$dir/mp_socket type=socket uid=$uid gid=$uid mode=0755"
	if [ "$pid" != 0 ]; then
		lock "1: POSIX  ADVISORY  WRITE $pid fd:00:$ino 136 17543"
		bound "$ino" "$dir/mp_socket"
	fi
}

# hugefiles DIR PREFIX N: hugepage files a primary mapped.
hugefiles() {
	i=0
	while [ "$i" -lt "$3" ]; do : >"$T$1/$2map_$i"; i=$((i + 1)); done
}

# pci ADDR DRIVER [IOMMU-GROUP] [IFNAME MAC]: a network device in sysfs.
pci() {
	d=$T/sys/bus/pci/devices/$1
	mkdir -p "$d"
	echo 0x8086 >"$d/vendor"
	echo 0x1572 >"$d/device"
	echo 0x020000 >"$d/class"
	echo 0 >"$d/numa_node"
	if [ "$2" != none ]; then
		mkdir -p "$T/sys/bus/pci/drivers/$2"
		ln -sfn "../../../bus/pci/drivers/$2" "$d/driver"
	fi
	if [ "${3:-}" != "" ] && [ "$3" != - ]; then
		mkdir -p "$T/sys/kernel/iommu_groups/$3/devices"
		ln -sfn "../../../kernel/iommu_groups/$3" "$d/iommu_group"
	fi
	if [ "${4:-}" != "" ]; then
		mkdir -p "$d/net/$4"
		echo "$5" >"$d/net/$4/address"
	fi
}

# tool PATH ABI RELEASE-LIBS...: a capture tool needing librte_eal.so.ABI and
# the given librte libraries, with stub libraries in /usr/lib64.
tool() {
	path=$1 abi=$2
	shift 2
	mkdir -p "$T/usr/lib64" "$T$(dirname "$path")"
	links=""
	for lib in eal "$@"; do
		so=librte_$lib.so.$abi
		[ -e "$T/usr/lib64/$so" ] || gcc -shared -fPIC -Wl,-soname,"$so" -o "$T/usr/lib64/$so" "$SRC/stub.c"
		links="$links -l:$so"
	done
	# shellcheck disable=SC2086
	gcc -o "$T$path" "$SRC/tool.c" -L"$T/usr/lib64" -Wl,--no-as-needed $links
	strip "$T$path" "$T"/usr/lib64/librte_*.so.*
}

conf() { mkdir -p "$T/etc/gazelle"; cat >"$T/etc/gazelle/$1"; }

# lstack_maps PID-PREFIX-DIR ABI [pcap-name|-] [pdump]: maps of an lstack app.
lstack_maps() {
	dir=$1 abi=$2 pcap=$3
	cat <<M
55d0c0a00000-55d0c0a4c000 r-xp 00000000 fd:00 393222                     /usr/bin/redis-server
7f0000000000-7f0040000000 rw-s 00000000 00:2e 1001                       /mnt/hugepages-lstack/gazellemap_0
7f1000000000-7f1000006000 rw-s 00000000 fd:00 917505                     $dir/config
7f1000100000-7f1000130000 rw-s 00000000 fd:00 917506                     $dir/fbarray_memzone
7f2a00000000-7f2a00200000 r-xp 00000000 fd:00 524301                     /usr/lib64/librte_eal.so.$abi
7f2a00300000-7f2a00310000 r-xp 00000000 fd:00 524320                     /usr/lib64/librte_mempool_ring.so.$abi
7f2a00500000-7f2a00510000 r-xp 00000000 fd:00 524340                     /usr/lib64/librte_pdump.so.$abi
7f2a00600000-7f2a00a00000 r-xp 00000000 fd:00 524350                     /usr/lib64/liblstack.so
M
	if [ "$pcap" != - ]; then
		echo "7f2a00400000-7f2a00420000 r-xp 00000000 fd:00 524330                     /usr/lib64/$pcap.so.$abi"
	fi
}

# lstack APP-PID PREFIX ABI PCAP MEMZONE: a root lstack app (redis) by
# LD_PRELOAD, the primary of PREFIX.
lstack() {
	prefix "/var/run/dpdk/$2" 0 "$1" 917505 "$5"
	hugefiles /mnt/hugepages-lstack "$2" 4
	lstack_maps "/var/run/dpdk/$2" "$3" "$4" | proc "$1" redis-server 0 /usr/bin/redis-server 4026531841 redis-server /etc/redis.conf
	PID=$1 environ 'LD_PRELOAD=/usr/lib64/liblstack.so' 'GAZELLE_BIND_PROCNAME=redis-server' 'LSTACK_CONF_PATH=/etc/gazelle/lstack.conf'
	# lstack without ltran listens for gazellectl (gazelle-sockets).
	bound 917600 /var/run/gazelle/lstack_cmd.sock
}

LSTACK_CONF='dpdk_args=["--socket-mem", "2048,0,0,0", "--huge-dir", "/mnt/hugepages-lstack", "--proc-type", "primary", "--file-prefix", "gazelle", "-a", "0000:01:00.0"]

use_ltran=0
kni_switch=0
num_cpus="2"

host_addr="192.168.1.10"
mask_addr="255.255.255.0"
gateway_addr="192.168.1.1"
devices="aa:bb:cc:dd:ee:01"'

healthy_pci() {
	pci 0000:01:00.0 vfio-pci 12
	pci 0000:02:08.0 vfio-pci 13
	pci 0000:03:00.0 ixgbe 14 eth1 aa:bb:cc:dd:ee:03
	mkdir -p "$T/dev/vfio" && : >"$T/dev/vfio/vfio"
	mkdir -p "$T/sys/module/vfio/parameters" "$T/sys/module/vfio_pci"
	echo N >"$T/sys/module/vfio/parameters/enable_unsafe_noiommu_mode"
}

# --- chk-healthy-2211: lstack (LD_PRELOAD) on DPDK 22.11, everything in place ---
new chk-healthy-2211
lstack 4242 gazelle 23 librte_net_pcap pdump
echo "$LSTACK_CONF" | conf lstack.conf
# devices= names the NIC still on its kernel driver (--config selects it).
echo "$LSTACK_CONF" | sed 's/ee:01/ee:03/' | conf lstack-kernelnic.conf
healthy_pci
tool /usr/bin/dpdk-pdump 23 mempool_ring pdump

# --- chk-ltran-2111: 21.11, lstack in ltran mode: the capture attaches to ltran ---
new chk-ltran-2111
mounts /mnt/hugepages-lstack /mnt/hugepages-ltran
prefix /var/run/dpdk/ltran 0 3100 700001 pdump
hugefiles /mnt/hugepages-ltran ltran 2
proc 3100 ltran 0 /usr/bin/ltran 4026531841 ltran --config-file /etc/gazelle/ltran.conf <<'M'
55d0c0a00000-55d0c0a4c000 r-xp 00000000 fd:00 393400                     /usr/bin/ltran
7f1000000000-7f1000006000 rw-s 00000000 fd:00 700001                     /var/run/dpdk/ltran/config
7f0000000000-7f0040000000 rw-s 00000000 00:2f 2001                       /mnt/hugepages-ltran/ltranmap_0
7f2a00300000-7f2a00310000 r-xp 00000000 fd:00 524320                     /usr/lib64/librte_mempool_ring.so.22
7f2a00400000-7f2a00420000 r-xp 00000000 fd:00 524330                     /usr/lib64/librte_net_pcap.so.22
7f2a00500000-7f2a00510000 r-xp 00000000 fd:00 524340                     /usr/lib64/librte_pdump.so.22
M
# ltran's registration and gazellectl sockets (gazelle-ltran, gazelle-sockets).
bound 700010 /var/run/gazelle/ltran_client.sock
bound 700011 /var/run/gazelle/ltran_cmd.sock
# lstack registered with ltran runs as a primary of its own gazelle_<pid> prefix.
prefix /var/run/dpdk/gazelle_5000 0 5000 700101 nopdump
lstack_maps /var/run/dpdk/gazelle_5000 22 - | proc 5000 redis-server 0 /usr/bin/redis-server 4026531841 redis-server
conf lstack.conf <<'C'
dpdk_args=["--socket-mem", "2048,0,0,0", "--huge-dir", "/mnt/hugepages-lstack", "--proc-type", "primary", "--legacy-mem", "--map-perfect"]
use_ltran=1
num_cpus="2"
host_addr="192.168.1.10"
mask_addr="255.255.255.0"
gateway_addr="192.168.1.1"
devices="aa:bb:cc:dd:ee:01"
C
conf ltran.conf <<'C'
forward_kit="dpdk"
forward_kit_args="-l 0,1 --socket-mem 1024,0,0,0 --huge-dir /mnt/hugepages-ltran --proc-type primary --legacy-mem --map-perfect --syslog daemon --file-prefix ltran -a 0000:01:00.0"
kni_switch=0
dispatch_subnet="192.168.1.0"
dispatch_subnet_length=8
dispatch_max_clients=30
bond_mode=1
bond_miimon=100
bond_mtu=1500
bond_ports="0x1"
bond_macs="aa:bb:cc:dd:ee:01"
C
healthy_pci
tool /usr/local/bin/gazelle-pdump 22 mempool_ring pdump net_pcap

# --- chk-1911: openEuler 19.11 lstack: librte_pmd_pcap, no rte_pdump_stats memzone in 19.11 ---
new chk-1911
lstack 4242 gazelle 20.0 librte_pmd_pcap nopdump
echo "$LSTACK_CONF" | sed 's/"-a"/"-w"/' | conf lstack.conf
healthy_pci
tool /usr/bin/dpdk-pdump 20.0 mempool_ring pdump

# --- chk-stale: the primary was killed: config unlocked, files and hugepages left ---
new chk-stale
prefix /var/run/dpdk/gazelle 0 0 917505 pdump
hugefiles /mnt/hugepages-lstack gazelle 4
echo "$LSTACK_CONF" | conf lstack.conf
healthy_pci
tool /usr/bin/dpdk-pdump 23 mempool_ring pdump

# --- chk-wrong-prefix: lstack.conf has no --file-prefix (rte) but the live primary uses gazelle ---
new chk-wrong-prefix
lstack 4242 gazelle 23 librte_net_pcap pdump
echo "$LSTACK_CONF" | sed 's/, "--file-prefix", "gazelle"//' | conf lstack.conf
healthy_pci
tool /usr/bin/dpdk-pdump 23 mempool_ring pdump

# --- chk-nonroot-tool: root primary; the capture runs as uid 1000 (XDG_RUNTIME_DIR=/run/user/1000) ---
new chk-nonroot-tool
lstack 4242 gazelle 23 librte_net_pcap pdump
mkdir -p "$T/run/user/1000/dpdk"
stat "/run/user/1000/dpdk uid=1000 gid=1000 mode=0700"
echo "$LSTACK_CONF" | conf lstack.conf
healthy_pci
tool /usr/bin/dpdk-pdump 23 mempool_ring pdump

# --- chk-nonroot-primary: uid 1000 runs the primary in /run/user/1000/dpdk; root captures ---
new chk-nonroot-primary
prefix /run/user/1000/dpdk/app 1000 2000 42 pdump
proc 2000 app 1000 /home/u/app 4026531841 ./app -l 1 --iova-mode va --vdev net_null0 --file-prefix app <<'M'
55d0c0a00000-55d0c0a4c000 r-xp 00000000 fd:00 400001                     /home/u/app
7f1000000000-7f1000006000 rw-s 00000000 fd:00 42                         /run/user/1000/dpdk/app/config
7f2a00000000-7f2a00200000 r-xp 00000000 fd:00 524401                     /usr/lib64/librte_eal.so.23
7f2a00300000-7f2a00310000 r-xp 00000000 fd:00 524320                     /usr/lib64/librte_mempool_ring.so.23
7f2a00400000-7f2a00420000 r-xp 00000000 fd:00 524330                     /usr/lib64/librte_net_pcap.so.23
M
PID=2000 environ 'XDG_RUNTIME_DIR=/run/user/1000' 'HOME=/home/u'
tool /usr/bin/dpdk-pdump 23 mempool_ring pdump

# --- chk-permissions: uid 1001 shares uid 1000's XDG_RUNTIME_DIR but not its files ---
new chk-permissions
prefix /run/user/1000/dpdk/app 1000 2000 42 pdump
proc 2000 app 1000 /home/u/app 4026531841 ./app -l 1 --iova-mode va --vdev net_null0 --file-prefix app <<'M'
55d0c0a00000-55d0c0a4c000 r-xp 00000000 fd:00 400001                     /home/u/app
7f1000000000-7f1000006000 rw-s 00000000 fd:00 42                         /run/user/1000/dpdk/app/config
7f2a00000000-7f2a00200000 r-xp 00000000 fd:00 524401                     /usr/lib64/librte_eal.so.23
7f2a00300000-7f2a00310000 r-xp 00000000 fd:00 524320                     /usr/lib64/librte_mempool_ring.so.23
7f2a00400000-7f2a00420000 r-xp 00000000 fd:00 524330                     /usr/lib64/librte_net_pcap.so.23
M
tool /usr/bin/dpdk-pdump 23 mempool_ring pdump

# --- chk-no-pdump: 22.11 primary that never called rte_pdump_init() ---
new chk-no-pdump
lstack 4242 gazelle 23 librte_net_pcap nopdump
echo "$LSTACK_CONF" | conf lstack.conf
healthy_pci
tool /usr/bin/dpdk-pdump 23 mempool_ring pdump

# --- chk-no-pcap: 22.11 primary without the pcap PMD (the seed's error 3) ---
new chk-no-pcap
lstack 4242 gazelle 23 - pdump
echo "$LSTACK_CONF" | conf lstack.conf
healthy_pci
tool /usr/bin/dpdk-pdump 23 mempool_ring pdump

# --- chk-hugepages: no free hugepages, and leftovers of a dead primary ---
new chk-hugepages
hugepages 1024 0
lstack 4242 gazelle 23 librte_net_pcap pdump
hugefiles /mnt/hugepages-lstack oldapp 8
echo "$LSTACK_CONF" | conf lstack.conf
healthy_pci
tool /usr/bin/dpdk-pdump 23 mempool_ring pdump

# --- chk-hugedir: the config's --huge-dir is not a hugetlbfs mount ---
new chk-hugedir
mounts /dev/hugepages
lstack 4242 gazelle 23 librte_net_pcap pdump
echo "$LSTACK_CONF" | conf lstack.conf
healthy_pci
tool /usr/bin/dpdk-pdump 23 mempool_ring pdump

# --- chk-config: gazelle-facts §13 gotchas, with line numbers ---
new chk-config
lstack 4242 gazelle 23 librte_net_pcap pdump
conf lstack.conf <<'C'
# use_ltran is missing: lstack defaults to ltran mode
dpdk_args=["--socket-mem", "2048,0,0,0", "--huge-dir", "/mnt/hugepages-lstack",
           "--file-prefix=gazelle", "--map-perfect"]
num_cpus="2"
host_addr="192.168.1.10"
mask_addr="255.255.255.0"
gateway_addr="192.168.1.1"
devices="aa:bb:cc:dd:ee:01"
C
healthy_pci
tool /usr/bin/dpdk-pdump 23 mempool_ring pdump

# --- chk-mismatch: 22.11 primary, capture tool built against 21.11 ---
new chk-mismatch
lstack 4242 gazelle 23 librte_net_pcap pdump
echo "$LSTACK_CONF" | conf lstack.conf
healthy_pci
tool /usr/bin/dpdk-pdump 22 mempool_ring pdump

# --- chk-namespace: the primary runs in another mount namespace with its own /var/run ---
new chk-namespace
lstack 4242 gazelle 23 librte_net_pcap pdump
ln -sfn 'mnt:[4026532999]' "$T/proc/4242/ns/mnt"
mkdir -p "$T/proc/4242/root"
echo "$LSTACK_CONF" | conf lstack.conf
healthy_pci
tool /usr/bin/dpdk-pdump 23 mempool_ring pdump

# --- chk-iommu: the device is on vfio-pci without an IOMMU group or no-IOMMU mode ---
new chk-iommu
lstack 4242 gazelle 23 librte_net_pcap pdump
echo "$LSTACK_CONF" | conf lstack.conf
pci 0000:01:00.0 vfio-pci -
mkdir -p "$T/sys/module/vfio/parameters" "$T/sys/module/vfio_pci"
echo N >"$T/sys/module/vfio/parameters/enable_unsafe_noiommu_mode"
tool /usr/bin/dpdk-pdump 23 mempool_ring pdump

# --- chk-limits: address-space limits on the primary and the machine ---
new chk-limits
lstack 4242 gazelle 23 librte_net_pcap pdump
printf 'Limit                     Soft Limit           Hard Limit           Units     \nMax address space         4294967296           unlimited            bytes     \n' >"$T/proc/4242/limits"
echo 4096 >"$T/proc/sys/vm/max_map_count"
echo "$LSTACK_CONF" | conf lstack.conf
healthy_pci
tool /usr/bin/dpdk-pdump 23 mempool_ring pdump

# --- chk-no-runtime: nothing has run: no runtime dir at all ---
new chk-no-runtime
echo "$LSTACK_CONF" | conf lstack.conf
healthy_pci
tool /usr/bin/dpdk-pdump 23 mempool_ring pdump

# state PID LETTER WORDS [PPID]: the process's State (and parent) in its status.
state() {
	sed -i "s/^State:.*/State:\t$2 ($3)/" "$T/proc/$1/status"
	if [ "${4:-}" != "" ]; then sed -i "s/^PPid:.*/PPid:\t$4/" "$T/proc/$1/status"; fi
}

# secondary DIR PID NAME [bound]: a secondary's mp_socket_<pid>_<tsc> in DIR.
secondary() {
	: >"$T$1/mp_socket_$2_ff61d19925"
	stat "$1/mp_socket_$2_ff61d19925 type=socket uid=0 gid=0 mode=0755"
	if [ "${3:-}" = bound ]; then bound "$2" "$1/mp_socket_$2_ff61d19925"; fi
}

# --- chk-stopped: the primary was stopped (SIGSTOP, Ctrl-Z): state T ---
new chk-stopped
lstack 4242 gazelle 23 librte_net_pcap pdump
state 4242 T stopped
echo "$LSTACK_CONF" | conf lstack.conf
healthy_pci
tool /usr/bin/dpdk-pdump 23 mempool_ring pdump

# --- chk-zombie: the primary exited, its parent has not reaped it, and /proc/locks still names it ---
new chk-zombie
lstack 4242 gazelle 23 librte_net_pcap pdump
state 4242 Z zombie 4100
proc 4100 runner 0 /usr/bin/runner 4026531841 runner </dev/null
echo "$LSTACK_CONF" | conf lstack.conf
healthy_pci
tool /usr/bin/dpdk-pdump 23 mempool_ring pdump

# --- chk-poisoned: a dpdk-pdump (pid 7249) was killed with -9: its vdevs' rings and pool stay in the primary ---
# fbarray_memzone.poisoned is the real one of a lab primary after that kill.
new chk-poisoned
lstack 4242 gazelle 23 librte_net_pcap poisoned
secondary /var/run/dpdk/gazelle 7249
echo "$LSTACK_CONF" | conf lstack.conf
healthy_pci
tool /usr/bin/dpdk-pdump 23 mempool_ring pdump

# --- chk-capture-running: a dpdk-pdump (pid 7300) is attached and capturing ---
new chk-capture-running
lstack 4242 gazelle 23 librte_net_pcap poisoned
secondary /var/run/dpdk/gazelle 7300 bound
proc 7300 dpdk-pdump 0 /usr/bin/dpdk-pdump 4026531841 dpdk-pdump --file-prefix gazelle -- --pdump 'device_id=0000:01:00.0,queue=*,rx-dev=/tmp/rx.pcap' </dev/null
echo "$LSTACK_CONF" | conf lstack.conf
healthy_pci
tool /usr/bin/dpdk-pdump 23 mempool_ring pdump

# --- chk-two-primaries: two live primaries, no Gazelle config: nothing says which one the capture is for ---
new chk-two-primaries
for n in 1 2; do
	prefix /var/run/dpdk/app$n 0 500$n 80000$n pdump
	proc 500$n app$n 0 /usr/bin/app$n 4026531841 app$n --file-prefix app$n --vdev net_ring0 <<M
55d0c0a00000-55d0c0a4c000 r-xp 00000000 fd:00 40000$n                     /usr/bin/app$n
7f1000000000-7f1000006000 rw-s 00000000 fd:00 80000$n                     /var/run/dpdk/app$n/config
7f2a00000000-7f2a00200000 r-xp 00000000 fd:00 524401                     /usr/lib64/librte_eal.so.23
7f2a00300000-7f2a00310000 r-xp 00000000 fd:00 524320                     /usr/lib64/librte_mempool_ring.so.23
7f2a00400000-7f2a00420000 r-xp 00000000 fd:00 524330                     /usr/lib64/librte_net_pcap.so.23
M
done
tool /usr/bin/dpdk-pdump 23 mempool_ring pdump

# --- chk-debris: --file-prefix gazele (a typo) made a capture tool leave an empty /var/run/dpdk/gazele ---
new chk-debris
lstack 4242 gazelle 23 librte_net_pcap pdump
prefix /var/run/dpdk/zz_other 0 5001 800001 pdump
proc 5001 other 0 /usr/bin/other 4026531841 other --file-prefix zz_other </dev/null
mkdir -p "$T/var/run/dpdk/gazele"
stat "/var/run/dpdk/gazele uid=0 gid=0 mode=0700"
echo "$LSTACK_CONF" | conf lstack.conf
healthy_pci
tool /usr/bin/dpdk-pdump 23 mempool_ring pdump

# --- chk-measuring: build-match measurement dirs (elfcheck's gzdoctor-ops-<pid>-<ns>) of a gzdoctor that runs
# (pid 7001) and of one that ended before it removed its dir (pid 7002, no process) ---
new chk-measuring
lstack 4242 gazelle 23 librte_net_pcap pdump
proc 7001 gzdoctor 0 /usr/local/bin/gzdoctor 4026531841 gzdoctor check --only build-match </dev/null
for d in gzdoctor-ops-7001-1796197863801126909 gzdoctor-ops-7002-1796197863001126909; do
	mkdir -p "$T/var/run/dpdk/$d"
	stat "/var/run/dpdk/$d uid=0 gid=0 mode=0700"
done
echo "$LSTACK_CONF" | conf lstack.conf
healthy_pci
tool /usr/bin/dpdk-pdump 23 mempool_ring pdump

# --- chk-nohuge: lstack started with --no-huge (dpdk_args): its runtime dir has fbarray_nohugemem, no hugepage_info,
# as the lab's 22.11 primary with --no-huge -m 256 has; no hugepage files ---
new chk-nohuge
lstack 4242 gazelle 23 librte_net_pcap pdump
rm -f "$T/var/run/dpdk/gazelle/hugepage_info" "$T/var/run/dpdk/gazelle/fbarray_memseg-2048k-0-0" "$T"/mnt/hugepages-lstack/gazellemap_*
: >"$T/var/run/dpdk/gazelle/fbarray_nohugemem"
stat "/var/run/dpdk/gazelle/fbarray_nohugemem uid=0 gid=0 mode=0600"
echo "$LSTACK_CONF" | sed 's/"--socket-mem", "2048,0,0,0", "--huge-dir", "\/mnt\/hugepages-lstack"/"--no-huge", "-m", "1024"/' | conf lstack.conf
healthy_pci
tool /usr/bin/dpdk-pdump 23 mempool_ring pdump

# --- chk-nonroot-debris: uid 1000 ran a capture tool with --file-prefix gazelle against root's primary ---
new chk-nonroot-debris
lstack 4242 gazelle 23 librte_net_pcap pdump
mkdir -p "$T/run/user/1000/dpdk/gazelle"
stat "/run/user/1000/dpdk uid=1000 gid=1000 mode=0700"
stat "/run/user/1000/dpdk/gazelle uid=1000 gid=1000 mode=0700"
echo "$LSTACK_CONF" | conf lstack.conf
healthy_pci
tool /usr/bin/dpdk-pdump 23 mempool_ring pdump

# --- chk-output: capture files on a read-only mount, in an immutable dir, in a missing dir ---
new chk-output
lstack 4242 gazelle 23 librte_net_pcap pdump
ln -sfn ../.. "$T/proc/4242/root" # the primary's view of / is this tree's /
mkdir -p "$T/srv/ro" "$T/srv/frozen" "$T/srv/open"
{
	cat "$T/proc/mounts"
	echo 'tmpfs /srv/ro tmpfs ro,relatime 0 0'
} >"$T/proc/4242/mounts"
stat "/srv/frozen uid=0 gid=0 mode=0755 attr=i"
stat "/srv/open uid=0 gid=0 mode=0755"
echo "$LSTACK_CONF" | conf lstack.conf
healthy_pci
tool /usr/bin/dpdk-pdump 23 mempool_ring pdump

# --- chk-gazelle: nothing runs yet; lstack.conf and ltran.conf break Gazelle's own rules (gazelle-* checks) ---
new chk-gazelle
{
	echo '/dev/vda1 / ext4 rw,relatime 0 0'
	echo 'nodev /mnt/hugepages-lstack hugetlbfs rw,relatime,pagesize=2M 0 0'
	echo 'nodev /mnt/hugepages-ltran hugetlbfs rw,relatime,pagesize=1G 0 0'
} >"$T/proc/mounts"
mkdir -p "$T/mnt/hugepages-lstack" "$T/mnt/hugepages-ltran" "$T/sys/devices/system/cpu" "$T/sys/kernel/mm/transparent_hugepage" \
	"$T/sys/class/net/eth1/queues/rx-0" "$T/sys/class/net/eth1/queues/rx-1" "$T/proc/sys/net/ipv4/conf/eth1" "$T/var/run/gazelle"
stat "/mnt/hugepages-lstack uid=0 gid=0 mode=0700"
stat "/mnt/hugepages-ltran uid=0 gid=0 mode=0700"
echo 0-1 >"$T/sys/devices/system/cpu/online"
echo 0-1 >"$T/sys/devices/system/node/node0/cpulist"
echo '[always] madvise never' >"$T/sys/kernel/mm/transparent_hugepage/enabled"
printf 'processor\t: 0\nflags\t\t: fpu sse sse2 ssse3 sse4_1 sse4_2 avx\n' >"$T/proc/cpuinfo"
echo 2 >"$T/proc/sys/net/ipv4/conf/eth1/rp_filter"
: >"$T/var/run/gazelle/gazelle_primary"
conf lstack.conf <<'C'
dpdk_args=["--socket-mem", "2048,0,0,0", "--huge-dir", "/mnt/hugepages-lstack", "--proc-type", "primary", "--legacy-mem", "--map-perfect"]
use_ltran=1
kni_switch=1
flow_bifurcation=1
num_cpus="0-3"
tcp_conn_count=10000
mbuf_count_per_conn=170
nic_rxqueue_size=3000
unix_prefix="a"
host_addr="192.168.1.10"
mask_addr="255.255.255.0"
gateway_addr="192.168.1.1"
devices="aa:bb:cc:dd:ee:03"
C
conf ltran.conf <<'C'
forward_kit="dpdk"
forward_kit_args="-l 0,1 --socket-mem 1024,0,0,0 --huge-dir /mnt/hugepages-ltran --proc-type primary --legacy-mem --map-perfect --syslog daemon --file-prefix ltran -a 0000:01:00.0"
rx_pool_mbuf_size=100000
dispatch_subnet="192.168.1.0"
dispatch_subnet_length=8
dispatch_max_clients=30
bond_mode=1
bond_ports="0x1"
bond_macs="aa:bb:cc:dd:ee:01"
C
healthy_pci

# git keeps no empty directories; some of these matter (mount points,
# /sys/module/<m>, a runtime base dir).
for t in chk-*/; do
	find "$t" -type d -empty -exec touch {}/.keep \;
done
