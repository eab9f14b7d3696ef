#!/usr/bin/env bash
# lab/record-logs.sh [OUTDIR]: run real dpdk-pdump / dpdk-dumpcap (and the lab
# primary) through the failures gzdoctor explains, and keep their real
# stdout+stderr as testdata/logs/lab/<scenario>.log, plus a README.md that
# says how each log was made. PIDs, paths and line numbers stay as they were.
#
# Needs root, the lab (lab/setup) and about 100 free hugepages. Takes ~1 min
# (pdump waits 5 s per unanswered mp_pdump request). It only ever touches its
# own prefixes (gzrec*), its own scratch dirs, and the rte prefix when that
# has no runtime dir before it starts.
#
# lab/record-logs.sh --releases [OUTDIR]: the same for the other DPDK releases
# (lab/setup-releases chroots): each release's dpdk-pdump through the failures
# gzdoctor explains on that release's lab primary, and against every other
# release's primary, into testdata/logs/lab-releases/<release>-pdump-*.log with
# a header that says how each was made. The Go lab helper does it
# (internal/lab/record_test.go, TestRecordReleaseLogs), since it owns the chroots' mounts
# and primaries; TestReleaseLogsAreRecorded keeps that dir to exactly its logs.
# Takes about 30 s.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
if [ "${1:-}" = --releases ]; then
	out=$(realpath -m "${2:-$root/testdata/logs/lab-releases}")
	export PATH=/usr/local/go/bin:$PATH
	cd "$root" && LAB_RECORD_LOGS=$out exec go test -count=1 -run '^TestRecordReleaseLogs$' -v ./internal/lab
fi
out=${1:-$root/testdata/logs/lab}
primary=$here/build/lab-primary
prefix=gzrec
rundir=/var/run/dpdk
scratch=$(mktemp -d /tmp/gzrec.XXXXXX)

die() { printf 'record-logs: ERROR: %s\n' "$*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "must run as root"
[ -x "$primary" ] || die "$primary not built (run lab/setup)"
command -v dpdk-pdump >/dev/null && command -v dpdk-dumpcap >/dev/null || die "dpdk-pdump/dpdk-dumpcap missing"
mkdir -p "$out"

rows=() # README rows: file|what|command|exit
prim_pid=

cleanup_prefix() { # remove a prefix's runtime dir and hugepage files
	rm -rf "${rundir:?}/$1"
	for m in $(awk '$3 == "hugetlbfs" { print $2 }' /proc/mounts); do rm -f "$m/$1"map_*; done
}

finish() {
	[ -n "$prim_pid" ] && kill -KILL "$prim_pid" 2>/dev/null
	for p in "$prefix" "${prefix}_stale" "${prefix}_nopdump" "${prefix}_nopcap" "${prefix}_g1"; do cleanup_prefix "$p"; done
	mountpoint -q "$scratch/huge1g" && umount "$scratch/huge1g"
	rm -rf "$scratch"
}
trap finish EXIT

# start_primary LOG PREFIX [EAL args...] [-- app args]: run the lab primary in
# the background and wait for its ready line.
start_primary() {
	local log=$1 pfx=$2
	shift 2
	cleanup_prefix "$pfx"
	"$primary" --file-prefix "$pfx" --no-pci --vdev net_ring0 "$@" >"$log" 2>&1 &
	prim_pid=$!
	for _ in $(seq 300); do
		grep -qs '^lab-primary: ready' "$log" && [ -S "$rundir/$pfx/mp_socket" ] && return 0
		kill -0 "$prim_pid" 2>/dev/null || break
		sleep 0.05
	done
	cat "$log" >&2
	die "lab primary ($pfx) did not get ready"
}

stop_primary() { # SIGINT, wait, remove its files
	local pfx=$1
	kill -INT "$prim_pid" 2>/dev/null
	wait "$prim_pid" 2>/dev/null
	prim_pid=
	cleanup_prefix "$pfx"
}

# record NAME WHAT CMD...: run CMD to its end (60 s at most), keep its output.
record() {
	local name=$1 what=$2
	shift 2
	timeout -s KILL 60 "$@" >"$out/$name.log" 2>&1
	local rc=$?
	rows+=("$name.log|$what|$*|$rc")
	printf 'record-logs: %-40s exit %s\n' "$name.log" "$rc"
}

# record_for SECONDS NAME WHAT CMD...: run CMD, stop it with SIGINT (as ^C
# does) after SECONDS, keep its output.
record_for() {
	local secs=$1 name=$2 what=$3
	shift 3
	"$@" >"$out/$name.log" 2>&1 &
	local pid=$!
	sleep "$secs"
	kill -INT "$pid" 2>/dev/null
	wait "$pid"
	local rc=$?
	rows+=("$name.log|$what (stopped with SIGINT after ${secs} s)|$*|$rc")
	printf 'record-logs: %-40s exit %s\n' "$name.log" "$rc"
}

# primary_log NAME WHAT LOG ARGS: keep a lab primary's output as a log.
primary_log() {
	cp "$3" "$out/$1.log"
	rows+=("$1.log|$2|$4|(stopped with SIGINT)")
	printf 'record-logs: %-40s\n' "$1.log"
}

# The PCI NIC the kernel drives (this machine's virtio eth0): a device_id the
# primary does not drive.
kernel_nic=
for d in /sys/bus/pci/devices/*; do
	if [ -d "$d/net" ] || ls "$d"/virtio*/net >/dev/null 2>&1; then kernel_nic=$(basename "$d"); break; fi
done

pcap=$scratch/capture.pcap

# --- healthy ------------------------------------------------------------------
start_primary "$scratch/healthy-primary" "$prefix"
record_for 2 healthy-pdump "successful capture of both directions into one pcap file" \
	dpdk-pdump --file-prefix "$prefix" -- --pdump "port=0,queue=*,rx-dev=$pcap,tx-dev=$pcap"
record healthy-dumpcap "successful dpdk-dumpcap capture of 100 packets" \
	dpdk-dumpcap --file-prefix "$prefix" -i net_ring0 -w "$scratch/capture.pcapng" -c 100

# --- device_id the primary does not drive ---------------------------------------
record device-mismatch-vdev-pdump "device_id names a vdev (net_null0) the primary lacks" \
	dpdk-pdump --file-prefix "$prefix" -- --pdump "device_id=net_null0,queue=*,rx-dev=$pcap"
if [ -n "$kernel_nic" ]; then
	record device-mismatch-pci-pdump "device_id is the PCI address of the kernel-bound NIC ($kernel_nic)" \
		dpdk-pdump --file-prefix "$prefix" -- --pdump "device_id=$kernel_nic,queue=*,rx-dev=$pcap"
	record device-mismatch-pci-dumpcap "dumpcap -i the PCI address of the kernel-bound NIC ($kernel_nic)" \
		dpdk-dumpcap --file-prefix "$prefix" -i "$kernel_nic" -w "$scratch/x.pcapng" -c 10
fi
record bad-port-pdump "port=7: the primary has one port (0)" \
	dpdk-pdump --file-prefix "$prefix" -- --pdump "port=7,queue=*,rx-dev=$pcap"

# --- wrong prefix, while the primary runs on $prefix --------------------------------
record wrong-prefix-pdump "--file-prefix gazele (typo): no runtime dir of that name" \
	dpdk-pdump --file-prefix gazele -- --pdump "port=0,queue=*,rx-dev=$pcap"
record wrong-prefix-dumpcap "--file-prefix gazele (typo)" \
	dpdk-dumpcap --file-prefix gazele -w "$scratch/x.pcapng" -c 10
rm -rf "${rundir:?}/gazele" # the failed secondaries leave it behind, empty

# --- no prefix given: DPDK's default rte, no primary on it -------------------------
if [ -e "$rundir/rte" ]; then
	echo "record-logs: $rundir/rte exists; skipping the no-prefix logs" >&2
else
	record no-prefix-pdump "no --file-prefix (default rte), no primary on rte" \
		dpdk-pdump -- --pdump "port=0,queue=*,rx-dev=$pcap"
	record no-prefix-dumpcap "no --file-prefix (default rte), no primary on rte" \
		dpdk-dumpcap -w "$scratch/x.pcapng" -c 10
	rm -rf "${rundir:?}/rte"
fi

# --- a user who is not root: the runtime dir is /tmp/dpdk/<prefix> -----------------
chmod 0777 "$scratch"
record nonroot-pdump "run as uid 65534 (nobody), XDG_RUNTIME_DIR unset" \
	setpriv --reuid=65534 --regid=65534 --clear-groups env -u XDG_RUNTIME_DIR \
	dpdk-pdump --file-prefix "$prefix" -- --pdump "port=0,queue=*,rx-dev=$scratch/nobody.pcap"
record nonroot-dumpcap "run as uid 65534 (nobody), XDG_RUNTIME_DIR unset" \
	setpriv --reuid=65534 --regid=65534 --clear-groups env -u XDG_RUNTIME_DIR \
	dpdk-dumpcap --file-prefix "$prefix" -w "$scratch/nobody.pcapng" -c 10
rm -rf "/tmp/dpdk/$prefix"
rmdir /tmp/dpdk 2>/dev/null

# --- pdump's mempool does not fit in the free hugepages ----------------------------
# total-num-mbufs is capped at 65535, so the size comes from mbuf-size:
# 65535 x 64 KiB = 4 GiB.
record pdump-mempool-too-big "mbuf-size=65535,total-num-mbufs=65535: a ~4 GiB mbuf pool, more than the free hugepages" \
	dpdk-pdump --file-prefix "$prefix" -- --pdump "port=0,queue=*,rx-dev=$pcap,mbuf-size=65535,total-num-mbufs=65535"

# --- a second primary on the same prefix ---------------------------------------------
record second-primary-same-prefix "a second lab primary started with the running primary's prefix" \
	"$primary" --file-prefix "$prefix" --no-pci --vdev net_ring0 --
stop_primary "$prefix"
primary_log healthy-primary "the lab primary's own output during the healthy, device, prefix, non-root, mempool and second-primary runs above" \
	"$scratch/healthy-primary" "$primary --file-prefix $prefix --no-pci --vdev net_ring0 --"

# --- the primary died: stale runtime dir ---------------------------------------------
start_primary "$scratch/stale-primary" "${prefix}_stale"
kill -KILL "$prim_pid"
wait "$prim_pid" 2>/dev/null
prim_pid=
record stale-prefix-pdump "the primary was killed (SIGKILL); its runtime dir and hugepage files remain" \
	dpdk-pdump --file-prefix "${prefix}_stale" -- --pdump "port=0,queue=*,rx-dev=$pcap"
cleanup_prefix "${prefix}_stale"

# --- the primary died during its own rte_eal_init() -------------------------------------
# Killed as soon as its config file exists, before the EAL marked the shared
# config complete: a secondary then waits for that forever, and pdump, which
# installs its SIGINT/SIGTERM handlers before rte_eal_init(), ignores ^C.
cleanup_prefix "${prefix}_stale"
"$primary" --file-prefix "${prefix}_stale" --no-pci --vdev net_ring0 -- >"$scratch/initdeath-primary" 2>&1 &
prim_pid=$!
for _ in $(seq 5000); do [ -e "$rundir/${prefix}_stale/config" ] && break; sleep 0.001; done
kill -KILL "$prim_pid"
wait "$prim_pid" 2>/dev/null
prim_pid=
dpdk-pdump --file-prefix "${prefix}_stale" -- --pdump "port=0,queue=*,rx-dev=$pcap" >"$out/primary-died-in-init-pdump.log" 2>&1 &
pd=$!
sleep 3
kill -INT "$pd"
sleep 2
if kill -0 "$pd" 2>/dev/null; then
	kill -KILL "$pd"
	st="still running 2 s after SIGINT; killed with SIGKILL"
else
	st="exited"
fi
wait "$pd"
rows+=("primary-died-in-init-pdump.log|the primary was killed during its rte_eal_init() (as soon as its config existed); pdump hangs (SIGINT after 3 s)|dpdk-pdump --file-prefix ${prefix}_stale -- --pdump port=0,queue=*,rx-dev=$pcap|$? ($st)")
printf 'record-logs: %-40s %s\n' primary-died-in-init-pdump.log "$st"
cp "$scratch/initdeath-primary" "$out/primary-died-in-init-primary.log"
rows+=("primary-died-in-init-primary.log|the primary's output up to its SIGKILL during rte_eal_init()|$primary --file-prefix ${prefix}_stale --no-pci --vdev net_ring0 --|(killed)")
cleanup_prefix "${prefix}_stale"

# --- primary without rte_pdump_init() ----------------------------------------------------
start_primary "$scratch/nopdump-primary" "${prefix}_nopdump" -- --no-pdump-init
record no-pdump-init-pdump "the primary never called rte_pdump_init()" \
	dpdk-pdump --file-prefix "${prefix}_nopdump" -- --pdump "port=0,queue=*,rx-dev=$pcap,tx-dev=$pcap"
record no-pdump-init-dumpcap "the primary never called rte_pdump_init()" \
	dpdk-dumpcap --file-prefix "${prefix}_nopdump" -i net_ring0 -w "$scratch/x.pcapng" -c 10
stop_primary "${prefix}_nopdump"
primary_log no-pdump-init-primary "the primary without rte_pdump_init() while pdump and dumpcap tried" \
	"$scratch/nopdump-primary" "$primary --file-prefix ${prefix}_nopdump --no-pci --vdev net_ring0 -- --no-pdump-init"

# --- primary without the pcap PMD ---------------------------------------------------------
pmds=$(cat "$here/build/pmds-dir")
nopcap_cmd=(unshare --mount --propagation private -- /bin/sh -c 'mount --bind "$1" "$2" || exit 125; shift 2; exec "$@"'
	sh "$here/build/pmds-nopcap" "$pmds")
cleanup_prefix "${prefix}_nopcap"
"${nopcap_cmd[@]}" "$primary" --file-prefix "${prefix}_nopcap" --no-pci --vdev net_ring0 -- >"$scratch/nopcap-primary" 2>&1 &
prim_pid=$!
for _ in $(seq 300); do grep -qs '^lab-primary: ready' "$scratch/nopcap-primary" && break; sleep 0.05; done
record pcap-pmd-hidden-pdump "the primary runs without librte_net_pcap (plugin dir without it, in a mount namespace)" \
	dpdk-pdump --file-prefix "${prefix}_nopcap" -- --pdump "port=0,queue=*,rx-dev=$pcap"
record pcap-pmd-hidden-dumpcap "the primary runs without librte_net_pcap (dumpcap does not need it)" \
	dpdk-dumpcap --file-prefix "${prefix}_nopcap" -i net_ring0 -w "$scratch/x.pcapng" -c 10
stop_primary "${prefix}_nopcap"
primary_log pcap-pmd-hidden-primary "the primary without the pcap PMD while pdump and dumpcap attached" \
	"$scratch/nopcap-primary" "unshare -m + mount --bind $here/build/pmds-nopcap $pmds; $primary --file-prefix ${prefix}_nopcap --no-pci --vdev net_ring0 --"

# --- a new primary without hugepages ---------------------------------------------------
# Without taking the machine's free 2 MiB pages away from everyone else: a
# hugetlbfs of 1 GiB pages, of which none are reserved, is all it may use.
mkdir -p "$scratch/huge1g"
if [ -d /sys/kernel/mm/hugepages/hugepages-1048576kB ] && mount -t hugetlbfs -o pagesize=1G nodev "$scratch/huge1g"; then
	record primary-no-hugepages "a new primary whose --huge-dir has no free hugepages (1 GiB size, none reserved)" \
		"$primary" --file-prefix "${prefix}_g1" --no-pci --vdev net_ring0 --huge-dir "$scratch/huge1g" --
	umount "$scratch/huge1g"
	cleanup_prefix "${prefix}_g1"
fi
record primary-socket-mem-too-big "a new primary asking for more hugepage memory than is free (--socket-mem 4096)" \
	"$primary" --file-prefix "${prefix}_g1" --no-pci --vdev net_ring0 --socket-mem 4096 --
cleanup_prefix "${prefix}_g1"

# --- README ----------------------------------------------------------------------------
{
	cat <<EOF
# Real DPDK logs from the lab

Recorded by \`lab/record-logs.sh\` (run it as root after \`lab/setup\` to regenerate) on
$(. /etc/os-release && echo "$PRETTY_NAME"), DPDK $(dpkg-query -W -f='${Version}' dpdk 2>/dev/null) (Debian's
\`dpdk-pdump\` and \`dpdk-dumpcap\`), kernel $(uname -r), $(nproc) CPUs, $(awk '/^HugePages_Total/ {print $2}' /proc/meminfo) x 2 MiB hugepages,
on $(date -u +%Y-%m-%d).

Each \`.log\` is the untouched stdout+stderr of one command: PIDs, paths, and source line numbers are
as they were. The primary is \`lab/build/lab-primary\` (lab/primary.c), a DPDK primary standing in for
Gazelle's lstack, on one \`net_ring0\` port, started as \`$primary --file-prefix <prefix> --no-pci --vdev net_ring0 --\`
unless the row says otherwise. \`$scratch\` was the script's scratch dir. Commands are shown with their
args joined by spaces, unquoted: quote the \`--pdump\` value when you rerun one.

| file | situation | command | exit status |
|---|---|---|---|
EOF
	for r in "${rows[@]}"; do
		IFS='|' read -r f w c s <<<"$r"
		printf '| `%s` | %s | `%s` | %s |\n' "$f" "$w" "$c" "$s"
	done
	cat <<'EOF'

## What the logs show (DPDK 22.11, as recorded)

- Every pdump/dumpcap run, healthy or not, prints `Device 0000:00:03.0 is not driven by the primary
  process` / `EAL: Requested device 0000:00:03.0 cannot be used`: the tools probe the machine's
  kernel-bound virtio NIC. Noise, not a cause.
- Wrong prefix, no prefix (`rte`) and a non-root user all end in `EAL: Cannot open '<dir>/config' for
  rte_mem_config`: dpdk-pdump then panics (`PANIC in main(): Cannot init EAL`, exit 134), dpdk-dumpcap
  says `EAL init failed: is primary process running?`. The seed guide's error 2 (`mp_socket ...
  Connection refused`, `bus_vdev_mp`) is what 22.11 prints for a prefix whose primary *died*
  (`stale-prefix-pdump.log`), ending in `No Ethernet ports - bye`. The non-root user looks in
  `/tmp/dpdk/<prefix>` (or `$XDG_RUNTIME_DIR/dpdk/<prefix>`), not `/var/run/dpdk`. A failed secondary
  leaves the empty runtime dir it created behind (the script removes it).
- A `device_id` the primary does not drive (vdev name or PCI address): pdump prints
  `client request for pdump enable/disable failed` twice and `Cause: Invalid argument`; the primary
  logs `set_pdump_rxtx_cbs(): failed to get port id for device id=<id>` (see `healthy-primary.log`).
  dpdk-dumpcap rejects a PCI address as an interface: `Specified port_number "0000:00:03.0" is not a
  valid number`. A bad `port=` gives `Invalid port_id=7` / `pdump_validate_port(): port 7 to name mapping failed`.
- A primary that dies *during* its `rte_eal_init()` leaves a `config` that was never marked complete:
  pdump hangs after `Detected shared linkage of DPDK` (before any `Multi-process socket` line), spinning
  on a CPU, and ignores SIGINT and SIGTERM (its handlers are installed before `rte_eal_init()`); only SIGKILL
  ends it. A capture supervisor needs a start-up timeout.
- A primary killed after start-up (`stale-prefix-pdump.log`) ends, run to run, either in `No Ethernet
  ports - bye` or, when the dead primary's heap has no room for the secondary's first allocation, in the
  seed's full error 2: `EAL: Cannot send message to primary` / `error allocating rte services array` /
  `EAL: FATAL: rte_service_init() failed` / `PANIC in main()`.
- No `rte_pdump_init()` in the primary: `EAL: Fail to recv reply for request <dir>/mp_socket:mp_pdump`
  after 5 s per request, `Cause: Connection timed out` (pdump) or `Packet dump enable failed: Operation
  not permitted` (dumpcap); the primary logs `EAL: Cannot find action: mp_pdump` once per request.
- No pcap PMD in the primary: `EAL: Failed to hotplug add device` / `Cause: vdev creation
  failed:create_mp_ring_vdev:<line>`; the line number depends on the rx-dev/tx-dev combination (694
  when rx-dev and tx-dev are the same file, 764 for rx-dev alone, in 22.11.11) — match `\d+`. The
  primary logs `EAL: failed to parse device "vdev:net_pcap_rx_0"` / `EAL: Failed to hotplug add device
  on primary`. dpdk-dumpcap does not need the pcap PMD and works.
- pdump's `total-num-mbufs` is capped at 65535; a pool that does not fit ends in `Cause: Mempool
  creation failed: Cannot allocate memory` (sometimes after `EAL: Request timed out` while the primary
  allocates). Recording it briefly takes every free hugepage: do not run this script alongside tests.
- A primary that finds no free hugepages of a size it can use: `EAL: No free 1048576 kB hugepages
  reported on node 0` / `EAL: FATAL: Cannot get hugepage information.`; asking for more than is free:
  `EAL: Not enough memory available on socket 0! Requested: 4096MB, available: 1632MB` /
  `EAL: FATAL: Cannot init memory`. A second primary on a live prefix: `EAL: Cannot create lock on
  '<dir>/config'. Is another primary process running?`.
- The lab primary's own failure line mirrors lstack's: `lab-primary: rte_eal_init failed, rte_errno N (text)`.
EOF
} >"$out/README.md"
echo "record-logs: wrote $out/README.md"
