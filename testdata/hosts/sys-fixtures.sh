#!/bin/sh
# Regenerates the sys-* fixture trees that host's PCI/hugepage tests read:
# /sys/bus/pci/devices, /sys/class/net, /sys/kernel/mm/hugepages, NUMA
# nodes, /proc/meminfo, /proc/mounts and hugetlbfs mount contents.
# Owners and modes git cannot store are in .fixture/stat.
set -eu
cd "$(dirname "$0")"

# pci T ADDR VENDOR DEVICE CLASS NUMA DRIVER IOMMU [IFACE MAC]...
pci() {
	T=$1 d=$1/sys/bus/pci/devices/$2
	mkdir -p "$d"
	echo "$3" >"$d/vendor"; echo "$4" >"$d/device"; echo "$5" >"$d/class"; echo "$6" >"$d/numa_node"
	[ "$7" = - ] || ln -sfn "../../../bus/pci/drivers/$7" "$d/driver"
	[ "$8" = - ] || ln -sfn "../../../kernel/iommu_groups/$8" "$d/iommu_group"
	shift 8
	while [ $# -ge 2 ]; do
		mkdir -p "$d/net/$1" "$T/sys/class/net/$1"
		echo "$2" >"$T/sys/class/net/$1/address"
		echo "$2" >"$d/net/$1/address"
		shift 2
	done
}
# meminfo T TOTAL FREE RSVD SURP SIZEKB
meminfo() {
	mkdir -p "$1/proc"
	printf 'MemTotal:        8038516 kB\nHugePages_Total:    %s\nHugePages_Free:     %s\nHugePages_Rsvd:     %s\nHugePages_Surp:     %s\nHugepagesize:       %s kB\nHugetlb:         %s kB\n' \
		"$2" "$3" "$4" "$5" "$6" $(($2 * $6)) >"$1/proc/meminfo"
}
# pool DIR NR FREE RESV SURP (RESV "-" for a node, which has no resv file)
pool() {
	mkdir -p "$1"
	echo "$2" >"$1/nr_hugepages"; echo "$3" >"$1/free_hugepages"; echo "$5" >"$1/surplus_hugepages"
	[ "$4" = - ] || echo "$4" >"$1/resv_hugepages"
}
mounts() { mkdir -p "$1/proc"; cat >"$1/proc/mounts"; }
reset() { rm -rf "$1"; mkdir -p "$1/.fixture"; : >"$1/.fixture/stat"; }
# dirs T PATH...: directories git must keep (a .keep file in each).
dirs() { T=$1; shift; for p in "$@"; do mkdir -p "$T$p"; : >"$T$p/.keep"; done; }

# --- sys-vfio-kernel: an i40e pair, one port on vfio-pci, one on the kernel ---
T=sys-vfio-kernel; reset $T
pci $T 0000:00:1f.2 0x8086 0xa182 0x010601 0 ahci -
pci $T 0000:01:00.0 0x8086 0x1572 0x020000 0 vfio-pci 12
pci $T 0000:01:00.1 0x8086 0x1572 0x020000 0 i40e 13 ens1f1 3c:fd:fe:a0:00:02
pci $T 0000:02:00.0 0x8086 0x10fb 0x020000 1 - 14
meminfo $T 512 500 2 0 2048
pool $T/sys/kernel/mm/hugepages/hugepages-2048kB 512 500 2 0
pool $T/sys/kernel/mm/hugepages/hugepages-1048576kB 0 0 0 0
pool $T/sys/devices/system/node/node0/hugepages/hugepages-2048kB 512 500 - 0
pool $T/sys/devices/system/node/node0/hugepages/hugepages-1048576kB 0 0 - 0
mounts $T <<'M'
sysfs /sys sysfs rw,nosuid,nodev,noexec,relatime 0 0
hugetlbfs /dev/hugepages hugetlbfs rw,relatime 0 0
nodev /mnt/hugepages-lstack hugetlbfs rw,relatime,pagesize=2M 0 0
nodev /mnt/huge\0401g hugetlbfs rw,relatime,pagesize=1024M 0 0
M
dirs $T /dev/hugepages /mnt/hugepages-lstack "/mnt/huge 1g"
echo "/mnt/hugepages-lstack mode=0700 uid=0 gid=0" >>$T/.fixture/stat

# --- sys-mlx5: ConnectX-5, bifurcated: mlx5_core keeps the netdev ---
T=sys-mlx5; reset $T
pci $T 0000:3b:00.0 0x15b3 0x1017 0x020000 0 mlx5_core 40 ens2f0np0 b8:59:9f:00:00:10
pci $T 0000:3b:00.1 0x15b3 0x1017 0x020000 0 mlx5_core 41 ens2f1np1 B8:59:9F:00:00:11
meminfo $T 1024 1024 0 0 2048
pool $T/sys/kernel/mm/hugepages/hugepages-2048kB 1024 1024 0 0
mounts $T <<'M'
nodev /mnt/huge hugetlbfs rw,relatime,pagesize=2M 0 0
M
dirs $T /mnt/huge

# --- sys-nohuge: no hugepages reserved, hugetlbfs mounted anyway ---
T=sys-nohuge; reset $T
meminfo $T 0 0 0 0 2048
pool $T/sys/kernel/mm/hugepages/hugepages-2048kB 0 0 0 0
pool $T/sys/devices/system/node/node0/hugepages/hugepages-2048kB 0 0 - 0
mounts $T <<'M'
hugetlbfs /dev/hugepages hugetlbfs rw,relatime,pagesize=2M 0 0
M
dirs $T /dev/hugepages

# --- sys-node1-only: two NUMA nodes, all pages on node1, NIC on node0 ---
T=sys-node1-only; reset $T
pci $T 0000:81:00.0 0x19e5 0x0200 0x020000 0 vfio-pci 7
meminfo $T 1024 1024 0 0 2048
pool $T/sys/kernel/mm/hugepages/hugepages-2048kB 1024 1024 0 0
pool $T/sys/devices/system/node/node0/hugepages/hugepages-2048kB 0 0 - 0
pool $T/sys/devices/system/node/node1/hugepages/hugepages-2048kB 1024 1024 - 0
mounts $T <<'M'
nodev /mnt/hugepages-2M hugetlbfs rw,relatime,pagesize=2M 0 0
M
dirs $T /mnt/hugepages-2M

# --- sys-nomount: pages reserved, no hugetlbfs mounted ---
T=sys-nomount; reset $T
meminfo $T 256 256 0 0 2048
pool $T/sys/kernel/mm/hugepages/hugepages-2048kB 256 256 0 0
mounts $T <<'M'
proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0
tmpfs /mnt/huge tmpfs rw,relatime 0 0
M

# --- sys-stale-files: a killed primary's gazellemap_* left in /mnt/huge ---
# Each file holds 8 KiB of data so that st_blocks is not zero on the disk
# the tests run from; on hugetlbfs each would hold one 2 MiB page.
T=sys-stale-files; reset $T
meminfo $T 1024 1020 0 0 2048
pool $T/sys/kernel/mm/hugepages/hugepages-2048kB 1024 1020 0 0
mounts $T <<'M'
nodev /mnt/huge hugetlbfs rw,relatime,pagesize=2M 0 0
nodev /mnt/hugepages-ltran hugetlbfs rw,relatime,pagesize=2M 0 0
M
dirs $T /mnt/huge /mnt/hugepages-ltran
for f in gazellemap_0 gazellemap_1 gazellemap_2 rtemap_0; do head -c 8192 /dev/zero | tr '\0' 'x' >"$T/mnt/huge/$f"; done
: >"$T/mnt/huge/notes.txt"
head -c 8192 /dev/zero | tr '\0' 'x' >"$T/mnt/hugepages-ltran/ltranmap_5"
