#!/usr/bin/env bash
# bench/capture.bench.sh: gzdoctor capture vs bare dpdk-pdump, side by side,
# from the same lab primary (a real DPDK 22.11 primary, net_ring0 loopback,
# the lab's default rate). Each tool captures for the same window in turn.
#
# Completeness: packets captured per second of the tool's capture span,
# divided by the primary's own tx+rx packets per second over the tool's
# window (its stats file) -- attach time does not count against a tool.
# The figure that matters is gzdoctor's completeness / pdump's (target >= 0.99).
# CPU: gzdoctor's own utime+stime (/proc/<pid>/stat, children excluded:
# pdump busy-polls a core by design) while it captures, as % of one core
# (target <= 5%).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
gz=${GZDOCTOR:-$root/bin/gzdoctor}
primary=$root/lab/build/lab-primary
window=${WINDOW:-6}
prefix=gzbench_$$
tmp=$(mktemp -d /tmp/gzcb.XXXXXX)
prim_pid=

[ "$(id -u)" -eq 0 ] || { echo "capture.bench: needs root (the lab)"; exit 1; }
[ -x "$gz" ] && [ -x "$primary" ] || { echo "capture.bench: build first (make build; make -C lab)"; exit 1; }

cleanup() {
	if [ -n "$prim_pid" ]; then
		kill -INT "$prim_pid" 2>/dev/null || true
		wait "$prim_pid" 2>/dev/null || true
	fi
	rm -rf "/var/run/dpdk/$prefix" "$tmp"
	for m in $(awk '$3 == "hugetlbfs" { print $2 }' /proc/mounts); do rm -f "$m/${prefix}"map_*; done
}
trap cleanup EXIT

"$primary" --file-prefix "$prefix" --no-pci --vdev net_ring0 -- --stats "$tmp/stats" >"$tmp/primary.log" 2>&1 &
prim_pid=$!
for _ in $(seq 200); do grep -qs '^lab-primary: ready' "$tmp/primary.log" && [ -S "/var/run/dpdk/$prefix/mp_socket" ] && break; sleep 0.05; done
grep -qs '^lab-primary: ready' "$tmp/primary.log" || { cat "$tmp/primary.log"; exit 1; }
sleep 0.5

now() { date +%s.%N; }
# primary's tx+rx packets so far
prim_pkts() { awk -F= '$1 == "tx_packets" || $1 == "rx_packets" { s += $2 } END { print s }' "$tmp/stats"; }
# packets and span (s) of capture files, from capinfos
cap_count() { capinfos -T -r -c "$@" 2>/dev/null | awk -F'\t' '{ s += $2 } END { print s }'; }
cap_span() { capinfos -T -r -u "$@" 2>/dev/null | awk -F'\t' '$2 > m { m = $2 } END { print m }'; }

# --- bare dpdk-pdump ----------------------------------------------------------
p0=$(prim_pkts); t0=$(now)
dpdk-pdump --file-prefix "$prefix" -- --pdump "device_id=net_ring0,queue=*,rx-dev=$tmp/rx.pcap,tx-dev=$tmp/tx.pcap,ring-size=4096,mbuf-size=2176,total-num-mbufs=8191" >"$tmp/pdump.log" 2>&1 &
pd=$!
sleep "$window"
kill -INT "$pd"; wait "$pd"
sleep 0.3
p1=$(prim_pkts); t1=$(now)
pd_n=$(cap_count "$tmp/rx.pcap" "$tmp/tx.pcap"); pd_span=$(cap_span "$tmp/rx.pcap" "$tmp/tx.pcap")

# --- gzdoctor capture ---------------------------------------------------------
q0=$(prim_pkts); u0=$(now)
"$gz" -q capture --prefix "$prefix" -i net_ring0 --duration "$window" -w "$tmp/gz.pcapng" &
gzpid=$!
ticks=0 cap_end=
seen_child=
while kill -0 "$gzpid" 2>/dev/null; do
	# utime + stime of gzdoctor alone (fields 14, 15), sampled while its
	# backend (its child) runs: the capture itself. The final merge and
	# write after the backend ended is reported apart.
	if [ -n "$(cat /proc/"$gzpid"/task/*/children 2>/dev/null)" ]; then
		seen_child=1
		ticks=$(awk '{ print $14 + $15 }' "/proc/$gzpid/stat" 2>/dev/null || echo "$ticks")
		cap_end=$(now)
	elif [ -n "$seen_child" ]; then
		break
	fi
	sleep 0.05
done
wait "$gzpid"
u1=$(now)
[ -n "$cap_end" ] || cap_end=$u1
q1=$(prim_pkts)
gz_n=$(cap_count "$tmp/gz.pcapng"); gz_span=$(cap_span "$tmp/gz.pcapng")
hz=$(getconf CLK_TCK)

awk -v pdn="$pd_n" -v pds="$pd_span" -v p0="$p0" -v p1="$p1" -v t0="$t0" -v t1="$t1" \
    -v gzn="$gz_n" -v gzs="$gz_span" -v q0="$q0" -v q1="$q1" -v u0="$u0" -v u1="$u1" \
    -v ticks="$ticks" -v hz="$hz" -v w="$window" -v ce="$cap_end" 'BEGIN {
	prate = (p1 - p0) / (t1 - t0); grate = (q1 - q0) / (u1 - u0)
	pc = (pdn / pds) / prate; gc = (gzn / gzs) / grate
	printf "window %ds each, primary %.0f pkt/s (tx+rx)\n", w, (prate + grate) / 2
	printf "dpdk-pdump:  %d packets over %.3f s of capture; primary sent+received %d in its window; completeness %.4f\n", pdn, pds, p1 - p0, pc
	printf "gzdoctor:    %d packets over %.3f s of capture; primary sent+received %d in its window; completeness %.4f\n", gzn, gzs, q1 - q0, gc
	printf "ratio gzdoctor/pdump completeness: %.4f (target >= 0.99)\n", gc / pc
	cpu = ticks / hz
	pct = 100 * cpu / (ce - u0)
	printf "gzdoctor CPU while capturing: %.2f s user+sys over %.2f s = %.2f%% of one core (target <= 5%%); the final merge and write took %.2f s more\n", cpu, ce - u0, pct, u1 - ce
	if (gc / pc < 0.99 || pct > 5) exit 1
}'
