#!/usr/bin/env bash
# Records real DPDK 22.11 (Debian 12 packages) failure and success logs for
# the diagnose corpus. Needs root and hugepages. Each scenario uses its own
# --file-prefix and cleans up its runtime dir and hugepage files.
#   testdata/logs/local-2211/record.sh [OUTDIR]
set -uo pipefail
out=${1:-$(dirname "$0")}
pfx=gzrec$$
prim_pid=

hdr() { # file expected also description
	printf '# source: recorded on %s with Debian dpdk %s by testdata/logs/local-2211/record.sh (%s)\n# expected: %s\n' \
		"$(uname -n)" "$(dpkg-query -W -f '${Version}' dpdk 2>/dev/null)" "$4" "$2" >"$out/$1"
	[ -n "$3" ] && printf '# also: %s\n' "$3" >>"$out/$1"
}
start_primary() { # prefix [extra EAL args]
	local p=$1; shift
	dpdk-testpmd --no-pci --vdev net_null0 --file-prefix "$p" --socket-mem 256 "$@" -- --stats-period 5 </dev/null >"/tmp/$p.primary.log" 2>&1 &
	prim_pid=$!
	for _ in $(seq 50); do [ -S "/var/run/dpdk/$p/mp_socket" ] && grep -q 'Press enter\|Start automatic' "/tmp/$p.primary.log" && break; sleep 0.2; done
	sleep 1
}
stop_primary() { # prefix
	pkill -INT -f -- "--file-prefix $1 " ; sleep 1; pkill -KILL -f -- "--file-prefix $1 "
	rm -rf "/var/run/dpdk/$1"; rm -f /dev/hugepages/"$1"map_* /mnt/huge/"$1"map_*
}
run() { timeout -s INT "${T:-8}" "$@" 2>&1 | sed 's/\x1b\[[0-9;]*m//g'; }

# 1. pdump, no primary ever ran on the prefix.
hdr 22.11-pdump-no-primary.log no-primary-config "" "dpdk-pdump, no primary"
run dpdk-pdump --file-prefix "$pfx-none" -- --pdump 'port=0,queue=*,rx-dev=/tmp/gzrec.pcap' >>"$out/22.11-pdump-no-primary.log"

# 2. dumpcap, no primary.
hdr 22.11-dumpcap-no-primary.log no-primary-config "" "dpdk-dumpcap, no primary"
run dpdk-dumpcap --file-prefix "$pfx-none" -w /tmp/gzrec.pcapng >>"$out/22.11-dumpcap-no-primary.log"

# 3. non-root user: the runtime dir moves to /tmp/dpdk or $XDG_RUNTIME_DIR.
hdr 22.11-pdump-nonroot.log nonroot-runtime-dir "" "dpdk-pdump as user nobody, root primary"
start_primary "$pfx"
run setpriv --reuid=65534 --regid=65534 --clear-groups env -u XDG_RUNTIME_DIR dpdk-pdump --file-prefix "$pfx" -- --pdump 'port=0,queue=*,rx-dev=/tmp/gzrec-nobody.pcap' >>"$out/22.11-pdump-nonroot.log"

# 4. a second primary on the same prefix.
hdr 22.11-second-primary.log primary-already-running "" "dpdk-testpmd started twice with one --file-prefix"
T=5 run dpdk-testpmd --no-pci --vdev net_null1 --file-prefix "$pfx" --socket-mem 64 -- --stats-period 0 </dev/null >>"$out/22.11-second-primary.log"

# 5. pdump with a device_id the primary does not have.
hdr 22.11-pdump-device-mismatch.log pdump-device-not-in-primary "" "dpdk-pdump device_id=net_null9 against a net_null0 primary"
run dpdk-pdump --file-prefix "$pfx" -- --pdump 'device_id=net_null9,queue=*,rx-dev=/tmp/gzrec.pcap' >>"$out/22.11-pdump-device-mismatch.log"

# 6. pdump with a port that does not exist.
hdr 22.11-pdump-bad-port.log pdump-port-invalid "" "dpdk-pdump port=7"
run dpdk-pdump --file-prefix "$pfx" -- --pdump 'port=7,queue=*,rx-dev=/tmp/gzrec.pcap' >>"$out/22.11-pdump-bad-port.log"

# 7. pdump options before the --.
hdr 22.11-pdump-args-before-dashes.log pdump-bad-args "" "dpdk-pdump --pdump before --"
run dpdk-pdump --file-prefix "$pfx" --pdump 'port=0,queue=*,rx-dev=/tmp/gzrec.pcap' >>"$out/22.11-pdump-args-before-dashes.log"

# 8. a healthy capture, stopped with SIGINT.
hdr 22.11-pdump-healthy.log none "" "dpdk-pdump on the primary's net_null0, 3 s, SIGINT"
T=3 run dpdk-pdump --file-prefix "$pfx" -- --pdump 'device_id=net_null0,queue=*,rx-dev=/tmp/gzrec.pcap' >>"$out/22.11-pdump-healthy.log"
rm -f /tmp/gzrec.pcap /tmp/gzrec-nobody.pcap

# 9. the primary's own log during 5-8: testpmd links mempool drivers that
# dpdk-pdump does not, so it also floods "Failed to allocate IO portal".
hdr 22.11-testpmd-primary-during-captures.log pdump-device-not-in-primary mempool-ops-order-mismatch "dpdk-testpmd primary log while 5-8 ran"
head -100 "/tmp/$pfx.primary.log" | sed 's/\x1b\[[0-9;]*[A-Za-z]//g' >>"$out/22.11-testpmd-primary-during-captures.log"

# 10. primary killed with SIGKILL: stale runtime dir, nobody on mp_socket.
kill -KILL $(pgrep -f -- "--file-prefix $pfx ") 2>/dev/null; sleep 1
hdr 22.11-pdump-stale-dir.log mp-primary-unreachable secondary-sees-no-ports "dpdk-pdump after the primary was killed with SIGKILL"
run dpdk-pdump --file-prefix "$pfx" -- --pdump 'port=0,queue=*,rx-dev=/tmp/gzrec.pcap' >>"$out/22.11-pdump-stale-dir.log"
stop_primary "$pfx"

# 11. a primary asking for more memory than there is.
hdr 22.11-primary-socket-mem-too-big.log hugepages-insufficient "" "dpdk-testpmd --socket-mem 900000"
T=10 run dpdk-testpmd --no-pci --vdev net_null0 --file-prefix "$pfx-big" --socket-mem 900000 -- --stats-period 0 </dev/null >>"$out/22.11-primary-socket-mem-too-big.log"
stop_primary "$pfx-big"

# 12. -m together with --socket-mem.
hdr 22.11-eal-option-conflict.log eal-option-conflict "" "dpdk-testpmd -m 64 --socket-mem 64"
T=5 run dpdk-testpmd --no-pci --file-prefix "$pfx-opt" -m 64 --socket-mem 64 -- --stats-period 0 </dev/null >>"$out/22.11-eal-option-conflict.log"
stop_primary "$pfx-opt"
rm -rf "/var/run/dpdk/$pfx-none" "/tmp/$pfx.primary.log" "/tmp/$pfx-big.primary.log" "/tmp/$pfx-opt.primary.log"
echo "recorded into $out"
