#!/usr/bin/env bash
# scripts/demo.sh: what `make demo` runs after lab/setup and the build. It
# starts the lab primary (a real DPDK primary standing in for Gazelle's
# lstack) with --file-prefix gazelle, shows it, runs gzdoctor against it and
# a short real capture, and always stops the lab and cleans up.
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
gz=$root/bin/gzdoctor
primary=$root/lab/build/lab-primary
prefix=gazelle
rundir=/var/run/dpdk/$prefix
tmp=$(mktemp -d /tmp/gzdoctor-demo.XXXXXX)
prim_pid=

if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then b=$'\e[1m' d=$'\e[2m' r=$'\e[0m'; else b= d= r=; fi
step() { printf '\n%s==> %s%s\n' "$b" "$*" "$r"; }
show() { printf '%s$ %s%s\n' "$d" "$*" "$r"; "$@"; }
die()  { printf 'demo: ERROR: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root (make demo runs lab/setup, which needs root too)"
[ -x "$gz" ] || die "$gz missing: run make build"
[ -x "$primary" ] || die "$primary missing: run lab/setup"

hugetlbfs_mounts() { awk '$3 == "hugetlbfs" { print $2 }' /proc/mounts; }

remove_prefix_files() {
	rm -rf "$rundir"
	local m
	for m in $(hugetlbfs_mounts); do rm -f "$m/${prefix}"map_*; done
}

# lock_holder: the pid holding the lock on $rundir/config (a live primary),
# from /proc/locks (fields: id: POSIX ADVISORY WRITE pid maj:min:inode ...).
lock_holder() {
	[ -e "$rundir/config" ] || return 1
	local ino
	ino=$(stat -c %i "$rundir/config") || return 1
	awk -v ino="$ino" '{ n = split($6, a, ":"); if (a[n] == ino) { print $5; exit } }' /proc/locks | grep .
}

cleanup() {
	# Output may be gone (demo | head): never let a failed write end the
	# cleanup early.
	trap '' PIPE
	if [ -n "$prim_pid" ] && kill -0 "$prim_pid" 2>/dev/null; then
		step "Stopping the lab primary (SIGINT)"
		kill -INT "$prim_pid"
		for _ in $(seq 100); do kill -0 "$prim_pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$prim_pid" 2>/dev/null
		wait "$prim_pid" 2>/dev/null
		sed -n '/^lab-primary: stopped/,$p' "$tmp/primary.log"
	fi
	[ -n "$prim_pid" ] && remove_prefix_files
	rm -rf "$tmp"
}
trap cleanup EXIT
# A closed stdout (demo | head) or a hang-up must still stop the lab.
trap 'exit 130' INT TERM HUP
trap 'exit 141' PIPE

# --- a stale demo (or anything else) on the gazelle prefix --------------------
if holder=$(lock_holder); then
	exe=$(readlink "/proc/$holder/exe" 2>/dev/null || true)
	if [ "$exe" = "$primary" ]; then
		step "Stopping a lab primary left from an earlier demo (pid $holder)"
		kill -INT "$holder"
		for _ in $(seq 100); do kill -0 "$holder" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$holder" 2>/dev/null
	else
		die "a DPDK primary already runs with --file-prefix $prefix (pid $holder, ${exe:-unknown exe}); the demo will not touch it"
	fi
fi
if [ -e "$rundir" ]; then
	echo "demo: removing the stale runtime dir $rundir and its ${prefix}map_* hugepage files (no process holds it)"
fi
remove_prefix_files

# --- start the lab -----------------------------------------------------------
step "Starting the lab primary: a real DPDK 22.11 primary, standing in for lstack"
echo "$ $primary --file-prefix $prefix --no-pci --vdev net_ring0 -- --stats $tmp/stats"
"$primary" --file-prefix "$prefix" --no-pci --vdev net_ring0 -- --stats "$tmp/stats" >"$tmp/primary.log" 2>&1 &
prim_pid=$!
for _ in $(seq 300); do
	grep -qs '^lab-primary: ready' "$tmp/primary.log" && [ -S "$rundir/mp_socket" ] && break
	kill -0 "$prim_pid" 2>/dev/null || { cat "$tmp/primary.log"; die "the lab primary exited"; }
	sleep 0.05
done
grep -qs '^lab-primary: ready' "$tmp/primary.log" || { cat "$tmp/primary.log"; die "the lab primary did not get ready in 15 s"; }
cat "$tmp/primary.log"

step "What is running"
show ps -o pid,user,etime,args -p "$prim_pid"
show ls -l "$rundir"
show grep -E '^HugePages_(Total|Free)' /proc/meminfo
sleep 0.3
show cat "$tmp/stats"

# --- gzdoctor ------------------------------------------------------------------
step "gzdoctor version"
show "$gz" version

step "gzdoctor check: will a capture on prefix '$prefix' work?"
show "$gz" check --prefix "$prefix" --device net_ring0
echo "${d}(exit status $?)${r}"

capture_file=$tmp/demo.pcapng
step "gzdoctor capture --dry-run: the raw pdump command it would run"
show "$gz" capture --prefix "$prefix" -i net_ring0 -c 2000 -w "$capture_file" --dry-run

step "gzdoctor capture: 2000 packets from net_ring0, both directions, one file"
show timeout -s INT 60 "$gz" capture --prefix "$prefix" -i net_ring0 -c 2000 -w "$capture_file"
echo "${d}(exit status $?)${r}"
[ -s "$capture_file" ] || die "no capture file was written"

step "Both directions are in the file: one interface per direction, direction flag set"
printf '%s$ tshark -r %s -T fields -e frame.interface_name -e frame.packet_flags_direction | sort | uniq -c%s\n' "$d" "$capture_file" "$r"
tshark -r "$capture_file" -T fields -e frame.interface_name -e frame.packet_flags_direction 2>/dev/null | sort | uniq -c
show ls -l "$capture_file"

step "What was captured"
show "$gz" pcap stats "$capture_file"
show tcpdump -nr "$capture_file" -c 8

step "The seed guide's filter, without tcpdump (same packets as tcpdump selects)"
show "$gz" pcap filter "$capture_file" src host 192.168.1.10 -w "$tmp/filtered.pcapng"
printf '%s$ tcpdump -nr %s src host 192.168.1.10 | wc -l%s\n' "$d" "$capture_file" "$r"
tcpdump -nr "$capture_file" src host 192.168.1.10 2>/dev/null | wc -l

step "When it goes wrong: a typo in the prefix is caught before anything starts"
show "$gz" capture --prefix gazele -i net_ring0 -c 100 -w "$tmp/typo.pcapng"
echo "${d}(exit status $?)${r}"

step "When it goes wrong: the seed guide's three error logs, explained"
for log in 01-gazelle-pdump-device-id-mismatch 02-gazelle-pdump-null-prefix-no-primary 03-gazelle-pdump-pcap-pmd-not-in-primary; do
	show "$gz" diagnose "$root/testdata/logs/public/$log.log"
	echo "${d}(exit status $?)${r}"
done
