#!/usr/bin/env bash
# gzdoctor pcap filter|merge|stats against tcpdump, mergecap and capinfos, side
# by side on the same ≥1 GB capture, with `cat FILE > /dev/null` as the floor.
# The capture replicates a real lab capture (dpdk-pdump on the lab primary)
# with shifted timestamps; without the lab it replicates synthetic traffic.
# Outputs go to tmpfs (/dev/shm) so that disk writeback does not decide the
# race. Prints each figure and the ratios; peak RSS at two input sizes.
set -euo pipefail
cd "$(dirname "$0")/.."
GZ=${GZDOCTOR:-$PWD/bin/gzdoctor}
RUNS=${RUNS:-5}
SIZE=${SIZE:-1G}
SMALL=${SMALL:-256M}
DIR=${BENCH_DIR:-/tmp/gzdoctor-pcap-bench}
OUT=/dev/shm/gzdoctor-pcap-bench
[ -d /dev/shm ] || OUT=$DIR/out
EXPR=${EXPR:-udp and src host 192.168.1.10}
mkdir -p "$DIR" "$OUT"
trap 'rm -rf "$OUT"' EXIT
for t in hyperfine tcpdump mergecap capinfos jq; do
	command -v "$t" >/dev/null || { echo "pcap.bench: $t not installed"; exit 1; }
done
[ -x "$GZ" ] || go build -o "$GZ" ./cmd/gzdoctor

# A real capture from the lab primary, when the lab can run here.
seed=$DIR/seed.pcap
if [ ! -s "$seed" ] && [ -x lab/build/lab-primary ] && command -v dpdk-pdump >/dev/null; then
	prefix=gzbench_$$
	lab/build/lab-primary --file-prefix "$prefix" --no-pci --vdev net_ring0 >"$DIR/primary.log" 2>&1 &
	ppid=$!
	sleep 2
	timeout -s INT 3 dpdk-pdump --file-prefix "$prefix" -- \
		--pdump "device_id=net_ring0,queue=*,rx-dev=$DIR/seed-rx.pcap,tx-dev=$DIR/seed-tx.pcap,ring-size=1024,total-num-mbufs=4095" \
		>"$DIR/pdump.log" 2>&1 || true
	kill -INT $ppid 2>/dev/null || true
	wait $ppid 2>/dev/null || true
	rm -rf "/var/run/dpdk/$prefix"
	[ -s "$DIR/seed-tx.pcap" ] && mv "$DIR/seed-tx.pcap" "$seed"
fi
src=()
if [ -s "$seed" ]; then src=(-in "$seed"); echo "source: lab capture $seed"; else EXPR="udp and src host 10.0.0.1"; echo "source: synthetic traffic (lab not available)"; fi

mk() { # mk FILE SIZE [args]
	local f=$1 s=$2; shift 2
	[ -s "$f" ] || go run ./capture/pcapfile/internal/mkbig "${src[@]}" -size "$s" -o "$f" "$@"
}
big=$DIR/big-$SIZE.pcap small=$DIR/small-$SMALL.pcap
mk "$big" "$SIZE"
mk "$small" "$SMALL"
half=$DIR/half-a.pcap half2=$DIR/half-b.pcap
mk "$half" 512M
mk "$half2" 512M -offset 37us
ls -l "$big" "$half" "$half2" | awk '{print "input:", $5, $NF}'

json=$DIR/hyperfine.json
hyperfine -N -w 1 -r "$RUNS" --export-json "$json" \
	-n floor "cat $big" \
	-n gz-filter "$GZ pcap filter $big -f '$EXPR' -w $OUT/f1.pcap --force" \
	-n tcpdump "tcpdump -r $big -w $OUT/f2.pcap '$EXPR'" \
	-n floor-merge "cat $half $half2" \
	-n floor-merge-write "sh -c 'cat $half $half2 > $OUT/c.pcap'" \
	-n gz-merge "$GZ pcap merge $half $half2 -w $OUT/m1.pcapng --force" \
	-n mergecap "mergecap -w $OUT/m2.pcapng $half $half2" \
	-n gz-stats "$GZ pcap stats $big" \
	-n capinfos "capinfos $big" >/dev/null 2>&1
# Wall time decides the race on an idle machine; on a shared one (CI, two
# cores and other jobs) CPU time (user+sys) says more, so both are shown.
t() { jq -r --arg n "$1" '.results[] | select(.command==$n) | .median' "$json"; }
cpu() { jq -r --arg n "$1" '.results[] | select(.command==$n) | .user + .system' "$json"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a/b}'; }
echo "median wall time and mean CPU time (user+sys) of $RUNS runs each"
printf '%-16s %-5s %9s %9s %9s %7s %8s\n' "" "" gzdoctor reference floor "ref/gz" "gz/floor"
row() { # name gz ref floor ref-target [floor-name]
	local g r f m
	for m in wall cpu; do
		if [ $m = wall ]; then g=$(t "$2") r=$(t "$3") f=$(t "$4"); else g=$(cpu "$2") r=$(cpu "$3") f=$(cpu "$4"); fi
		printf '%-16s %-5s %8.3fs %8.3fs %8.3fs %6sx %7sx   target ref/gz ≥%s×, gz/floor ≤2.5× (floor: %s)\n' \
			"$1" "$m" "$g" "$r" "$f" "$(ratio "$r" "$g")" "$(ratio "$g" "$f")" "$5" "${6:-floor}"
	done
}
row "filter/tcpdump" gz-filter tcpdump floor 2 "cat IN"
row "merge/mergecap" gz-merge mergecap floor-merge 1.5 "cat IN..."
# Merge writes as many bytes as it reads: the floor that writes them too.
row "merge/mergecap" gz-merge mergecap floor-merge-write 1.5 "cat IN... >OUT"
row "stats/capinfos" gz-stats capinfos floor 2 "cat IN"

rss() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; }
echo "peak RSS (KiB):        $(ls -l "$small" | awk '{print $5}') B   $(ls -l "$big" | awk '{print $5}') B"
for c in filter stats; do
	case $c in
	filter) a=$(rss "$GZ" pcap filter "$small" -f "$EXPR" -w "$OUT/r.pcap" --force); b=$(rss "$GZ" pcap filter "$big" -f "$EXPR" -w "$OUT/r.pcap" --force) ;;
	stats) a=$(rss "$GZ" pcap stats "$small"); b=$(rss "$GZ" pcap stats "$big") ;;
	esac
	printf '  gzdoctor pcap %-7s %10s %10s\n' "$c" "$a" "$b"
done
a=$(rss "$GZ" pcap merge "$small" "$small" -w "$OUT/r.pcapng" --force); b=$(rss "$GZ" pcap merge "$half" "$half2" -w "$OUT/r.pcapng" --force)
printf '  gzdoctor pcap %-7s %10s %10s   (2×%s vs 2×512M)\n' merge "$a" "$b" "$SMALL"
a=$(rss tcpdump -r "$small" -w "$OUT/r.pcap" "$EXPR"); b=$(rss tcpdump -r "$big" -w "$OUT/r.pcap" "$EXPR")
printf '  tcpdump            %10s %10s\n' "$a" "$b"
