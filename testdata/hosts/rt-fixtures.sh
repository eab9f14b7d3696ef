#!/bin/sh
# Regenerates the rt-* fixture trees that host's runtime/lock/proc tests
# read. Each tree is a tiny machine: /var/run/dpdk (or /run/user/N/dpdk),
# /proc/<pid>/..., /proc/locks, /proc/net/unix. What git cannot store
# (owners, modes, sockets, the dev:inode /proc/locks names) is in
# .fixture/stat (see host.FixtureStatFile).
set -eu
cd "$(dirname "$0")"

# proc PID NAME UID PPID EXE MNTNS CMDLINE... ; maps from stdin
proc() {
	d=$T/proc/$1; mkdir -p "$d/ns"
	printf 'Name:\t%s\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t%s\nPid:\t%s\nPPid:\t%s\nUid:\t%s\t%s\t%s\t%s\nGid:\t%s\t%s\t%s\t%s\n' \
		"$2" "$1" "$1" "$4" "$3" "$3" "$3" "$3" "$3" "$3" "$3" "$3" >"$d/status"
	ln -sfn "$5" "$d/exe"
	ln -sfn "mnt:[$6]" "$d/ns/mnt"
	shift 6
	printf '%s\0' "$@" >"$d/cmdline"
	cat >"$d/maps"
	: >"$d/environ"
}
environ() { printf '%s\0' "$@" >"$T/proc/$PID/environ"; }
# files DIR NAME...: creates empty files, keeping any that exist (rt-stale's
# fbarray_memzone is a real one, captured from a DPDK 22.11.11 primary).
files() { d=$T$1; shift; mkdir -p "$d"; for f in "$@"; do [ -e "$d/$f" ] || : >"$d/$f"; done; }
unix_header() { echo 'Num       RefCount Protocol Flags    Type St Inode Path' >"$T/proc/net/unix"; }

# --- rt-healthy: lstack 21.11 primary by LD_PRELOAD, live, one secondary ---
T=rt-healthy; rm -rf $T/proc $T/.fixture; mkdir -p $T/.fixture $T/proc/net
files /var/run/dpdk/gazelle config mp_socket mp_socket_4242_3a1f9c0de hugepage_info \
	fbarray_memzone fbarray_memseg-2048k-0-0 dpdk_telemetry.v2 dpdk_telemetry.v2:1
cat >$T/.fixture/stat <<'S'
/var/run/dpdk          uid=0 gid=0 mode=0700
/var/run/dpdk/gazelle  uid=0 gid=0 mode=0700
/var/run/dpdk/gazelle/config dev=fd:00 ino=917505 mode=0600
/var/run/dpdk/gazelle/mp_socket type=socket mode=0700
/var/run/dpdk/gazelle/mp_socket_4242_3a1f9c0de type=socket mode=0755
/var/run/dpdk/gazelle/dpdk_telemetry.v2 type=socket mode=0755
/var/run/dpdk/gazelle/dpdk_telemetry.v2:1 type=socket mode=0755
S
cat >$T/proc/locks <<'S'
1: FLOCK  ADVISORY  READ 1234 fd:00:917507 0 EOF
2: FLOCK  ADVISORY  READ 1234 fd:00:917506 0 EOF
3: POSIX  ADVISORY  WRITE 1234 fd:00:917505 136 17543
3: -> POSIX  ADVISORY  WRITE 4242 fd:00:917505 0 EOF
4: POSIX  ADVISORY  WRITE 801 00:19:555 0 EOF
S
unix_header
cat >>$T/proc/net/unix <<'S'
0000000056b9055f: 00000002 00000000 00000000 0002 01 20591 /var/run/dpdk/gazelle/mp_socket
0000000056b90560: 00000002 00000000 00000000 0002 01 20600 /var/run/dpdk/gazelle/mp_socket_4242_3a1f9c0de
000000005bb3bc65: 00000002 00000000 00010000 0005 01 19775 /var/run/dpdk/gazelle/dpdk_telemetry.v2
000000005bb3bc66: 00000002 00000000 00010000 0005 01 19790 /var/run/dpdk/gazelle/dpdk_telemetry.v2:1
0000000000000001: 00000003 00000000 00000000 0001 03 1147
00000000abcdef00: 00000002 00000000 00010000 0001 01 3001 @/tmp/.X11-unix/X0
S
proc 1234 redis-server 0 1 /usr/bin/redis-server 4026531841 redis-server /etc/redis.conf <<'S'
55d0c0a00000-55d0c0a4c000 r--p 00000000 fd:00 393222                     /usr/bin/redis-server
55d0c0a4c000-55d0c0b6e000 r-xp 0004c000 fd:00 393222                     /usr/bin/redis-server
7f0000000000-7f0040000000 rw-s 00000000 00:2e 1001                       /mnt/hugepages-lstack/gazellemap_0
7f0040000000-7f0080000000 rw-s 00000000 00:2e 1002                       /mnt/hugepages-lstack/gazellemap_1
7f1000000000-7f1000006000 rw-s 00000000 fd:00 917505                     /run/dpdk/gazelle/config
7f1000100000-7f1000130000 rw-s 00000000 fd:00 917506                     /run/dpdk/gazelle/fbarray_memzone
7f1000200000-7f1000261000 rw-s 00000000 fd:00 917507                     /run/dpdk/gazelle/fbarray_memseg-2048k-0-0
7f2a00000000-7f2a00200000 r-xp 00000000 fd:00 524301                     /usr/lib64/librte_eal.so.22
7f2a00200000-7f2a00210000 r--p 00200000 fd:00 524301                     /usr/lib64/librte_eal.so.22
7f2a00400000-7f2a00420000 r-xp 00000000 fd:00 524330                     /usr/lib64/librte_net_pcap.so.22
7f2a00500000-7f2a00510000 r-xp 00000000 fd:00 524340                     /usr/lib64/librte_pdump.so.22
7f2a00600000-7f2a00a00000 r-xp 00000000 fd:00 524350                     /usr/lib64/liblstack.so
7f2a00c00000-7f2a00c21000 rw-p 00000000 00:00 0                          [heap]
7ffd4c000000-7ffd4c021000 rw-p 00000000 00:00 0                          [stack]
S
PID=1234 environ 'PATH=/usr/bin' 'LD_PRELOAD=/usr/lib64/liblstack.so' 'GAZELLE_BIND_PROCNAME=redis-server' \
	'LSTACK_CONF_PATH=/etc/gazelle/lstack.conf' 'SECRET_TOKEN=do-not-keep'
proc 4242 gazelle-pdump 0 900 /usr/bin/gazelle-pdump 4026531841 gazelle-pdump --file-prefix gazelle -- --pdump 'device_id=0000:02:08.0,queue=*,rx-dev=/tmp/rx.pcap' <<'S'
5600c0a00000-5600c0a4c000 r-xp 00000000 fd:00 393300                     /usr/bin/gazelle-pdump
7f1000000000-7f1000006000 rw-s 00000000 fd:00 917505                     /run/dpdk/gazelle/config
7f0000000000-7f0040000000 rw-s 00000000 00:2e 1001                       /mnt/hugepages-lstack/gazellemap_0
S
# a wrapper with EAL args on its command line but no DPDK in it
proc 900 sudo 0 1 /usr/bin/sudo 4026531841 sudo gazelle-pdump --file-prefix gazelle <<'S'
55d0c0a00000-55d0c0a4c000 r-xp 00000000 fd:00 393001                     /usr/bin/sudo
S

# --- rt-stale: primary gone, runtime dir and files left behind ---
T=rt-stale; rm -rf $T/proc $T/.fixture; mkdir -p $T/.fixture $T/proc/net
files /var/run/dpdk/rte config mp_socket hugepage_info fbarray_memzone \
	fbarray_memseg-2048k-0-0 fbarray_memseg-2048k-0-1 dpdk_telemetry.v2
cat >$T/.fixture/stat <<'S'
/var/run/dpdk/rte uid=0 gid=0 mode=0700
/var/run/dpdk/rte/config dev=fd:00 ino=917600 mode=0600
/var/run/dpdk/rte/mp_socket type=socket mode=0755
/var/run/dpdk/rte/dpdk_telemetry.v2 type=socket mode=0755
S
cat >$T/proc/locks <<'S'
1: FLOCK  ADVISORY  WRITE 77 fd:00:917600 0 EOF
2: POSIX  ADVISORY  READ  78 fd:00:917600 0 EOF
3: POSIX  ADVISORY  WRITE 79 fd:01:917600 0 EOF
4: POSIX  ADVISORY  WRITE 80 fd:00:917601 0 EOF
S
unix_header
proc 1 systemd 0 0 /usr/lib/systemd/systemd 4026531841 /sbin/init <<'S'
55d0c0a00000-55d0c0a4c000 r-xp 00000000 fd:00 393001                     /usr/lib/systemd/systemd
S

# --- rt-nonroot: uid 1000's primary under /run/user/1000/dpdk ---
T=rt-nonroot; rm -rf $T/proc $T/.fixture; mkdir -p $T/.fixture $T/proc/net
files /run/user/1000/dpdk/app config mp_socket hugepage_info fbarray_memzone dpdk_telemetry.v2
cat >$T/.fixture/stat <<'S'
/run/user/1000/dpdk      uid=1000 gid=1000 mode=0700
/run/user/1000/dpdk/app  uid=1000 gid=1000 mode=0700
/run/user/1000/dpdk/app/config dev=00:1a ino=42 uid=1000 gid=1000 mode=0600
/run/user/1000/dpdk/app/mp_socket type=socket uid=1000 gid=1000 mode=0755
/run/user/1000/dpdk/app/dpdk_telemetry.v2 type=socket uid=1000 gid=1000 mode=0755
S
cat >$T/proc/locks <<'S'
1: POSIX  ADVISORY  WRITE 2000 00:1a:42 136 17543
S
unix_header
cat >>$T/proc/net/unix <<'S'
0000000056b9055f: 00000002 00000000 00000000 0002 01 30591 /run/user/1000/dpdk/app/mp_socket
S
proc 2000 app 1000 1 /home/u/app 4026531841 ./app -l 1 --iova-mode va --vdev net_null0 <<'S'
55d0c0a00000-55d0c0a4c000 r-xp 00000000 fd:00 400001                     /home/u/app
7f1000000000-7f1000006000 rw-s 00000000 00:1a 42                         /run/user/1000/dpdk/app/config
7f2a00000000-7f2a00200000 r-xp 00000000 fd:00 524401                     /usr/lib/x86_64-linux-gnu/librte_eal.so.23.0
S
PID=2000 environ 'XDG_RUNTIME_DIR=/run/user/1000' 'HOME=/home/u'

# --- rt-1911-null: openEuler 19.11 + Gazelle patch, no --file-prefix: prefix "(null)" ---
T=rt-1911-null; rm -rf $T/proc $T/.fixture; mkdir -p $T/.fixture $T/proc/net
files '/var/run/dpdk/(null)' config mp_socket hugepage_info fbarray_memzone fbarray_memseg-2048k-0-0
cat >$T/.fixture/stat <<'S'
/var/run/dpdk/(null) uid=0 gid=0 mode=0700
/var/run/dpdk/(null)/config dev=fd:00 ino=700001 mode=0600
/var/run/dpdk/(null)/mp_socket type=socket mode=0700
S
cat >$T/proc/locks <<'S'
1: POSIX  ADVISORY  WRITE 3100 fd:00:700001 128 16511
S
unix_header
cat >>$T/proc/net/unix <<'S'
0000000056b9055f: 00000002 00000000 00000000 0002 01 40591 /var/run/dpdk/(null)/mp_socket
S
proc 3100 ltran 0 1 /usr/bin/ltran 4026531841 ltran --config-file /etc/gazelle/ltran.conf <<'S'
55d0c0a00000-55d0c0a4c000 r-xp 00000000 fd:00 393400                     /usr/bin/ltran
7f1000000000-7f1000006000 rw-s 00000000 fd:00 700001                     /var/run/dpdk/(null)/config
7f0000000000-7f0040000000 rw-s 00000000 00:2f 2001                       /mnt/hugepages-ltran/rtemap_0
7f2a00000000-7f2a00200000 r-xp 00000000 fd:00 524501                     /usr/lib64/librte_eal.so.20.0
7f2a00400000-7f2a00420000 r-xp 00000000 fd:00 524530                     /usr/lib64/librte_pmd_pcap.so.20.0
7f2a00500000-7f2a00510000 r-xp 00000000 fd:00 524540                     /usr/lib64/librte_pdump.so.20.0
S

# --- rt-nopcap: 22.11 primary that maps no pcap PMD, exe replaced on disk ---
T=rt-nopcap; rm -rf $T/proc $T/.fixture; mkdir -p $T/.fixture $T/proc/net
files /var/run/dpdk/nopcap config mp_socket fbarray_memzone
cat >$T/.fixture/stat <<'S'
/var/run/dpdk/nopcap uid=0 gid=0 mode=0700
/var/run/dpdk/nopcap/config dev=fd:00 ino=800001 mode=0600
/var/run/dpdk/nopcap/mp_socket type=socket mode=0755
S
cat >$T/proc/locks <<'S'
1: POSIX  ADVISORY  WRITE 5100 fd:00:800001 136 17543
S
unix_header
proc 5100 primary 0 1 '/opt/lab/primary (deleted)' 4026532200 /opt/lab/primary --file-prefix nopcap --no-pci <<'S'
55d0c0a00000-55d0c0a4c000 r-xp 00000000 fd:00 400001                     /opt/lab/primary (deleted)
7f1000000000-7f1000006000 rw-s 00000000 fd:00 800001                     /var/run/dpdk/nopcap/config
7f2a00000000-7f2a00200000 r-xp 00000000 fd:00 524401                     /usr/lib/x86_64-linux-gnu/librte_eal.so.23.0
7f2a00600000-7f2a00610000 r-xp 00000000 fd:00 524450                     /usr/lib/x86_64-linux-gnu/librte_net_null.so.23.0
S
