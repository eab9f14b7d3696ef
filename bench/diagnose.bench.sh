#!/usr/bin/env bash
# gzdoctor diagnose against grep -E -c -f on the common case of a big log: a
# long healthy log (the corpus's healthy samples, EAL and pdump start-ups,
# repeated) with a real failure every 200 MiB (issue 17). grep gets 40
# catalogue patterns that match no healthy line, so that it does what an
# operator's grep does on such a log: reject almost every line. It runs in
# the default C.UTF-8 locale and with LC_ALL=C (its byte mode). All run as
# whole processes, side by side in one hyperfine run per size, with
# `cat FILE` as the floor; peak RSS from /usr/bin/time -v at each size.
# The first size is also run as a coloured terminal capture (every line in
# ANSI colour) and as a JSON log (every line a JSON string, with escaped
# quotes and backslashes): lines that hold an ESC or a backslash are the
# pre-filter's slow path, once quadratic in its chunk.
#   bench/diagnose.bench.sh      (SIZES="256 1024" MiB, RUNS=3 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
GZ=${GZDOCTOR:-}
if [ -z "$GZ" ] || [ ! -x "$GZ" ]; then
	GZ=/tmp/gzdiag-bench-gzdoctor
	go build -o "$GZ" ./cmd/gzdoctor
fi
for t in hyperfine python3; do
	command -v "$t" >/dev/null || { echo "diagnose.bench: $t not installed"; exit 1; }
done
work=${BENCH_DIR:-/tmp/gzdiag-bench}
mkdir -p "$work"

healthy=(testdata/logs/lab/healthy-pdump.log testdata/logs/lab/healthy-dumpcap.log
	testdata/logs/public/23-gazelle-ltran-healthy-null-prefix.log
	testdata/logs/public/24-gazelle-lstack-healthy-auto-file-prefix.log
	testdata/logs/local-2211/22.11-pdump-healthy.log)
failures=(testdata/logs/public/02-gazelle-pdump-null-prefix-no-primary.log
	testdata/logs/lab/pcap-pmd-hidden-pdump.log testdata/logs/lab/no-pdump-init-pdump.log)

# 1 MiB of healthy lines, and the failures.
block=$work/block
if [ ! -s "$block" ]; then
	: >"$block.tmp"
	while [ "$(stat -c %s "$block.tmp")" -lt $((1 << 20)) ]; do
		grep -hv '^# ' "${healthy[@]}" >>"$block.tmp"
	done
	mv "$block.tmp" "$block"
fi
fail=$work/failures
grep -hv '^# ' "${failures[@]}" >"$fail"

# 40 catalogue patterns, evenly spread over those that match no healthy
# line: with patterns that match the healthy lines grep would print half
# the log, which is not what it is used for here.
"$GZ" runbooks list --patterns >"$work/patterns.ere"
pat=$work/patterns40.ere
: >"$work/clean.ere"
while IFS= read -r p; do
	if ! LC_ALL=C grep -qE -e "$p" "$block" 2>/dev/null; then
		printf '%s\n' "$p" >>"$work/clean.ere"
	fi
done <"$work/patterns.ere"
n=$(wc -l <"$work/clean.ere")
awk -v n="$n" 'NR == 1 + int(k * n / 40) { print; k++ }' "$work/clean.ere" >"$pat"
[ "$(wc -l <"$pat")" = 40 ] || { echo "diagnose.bench: $(wc -l <"$pat") patterns, want 40"; exit 1; }

# Output goes through a pipe: GNU grep stops at the first match when stdout
# is /dev/null.
rss() { { /usr/bin/time -v "$@" | cat >/dev/null; } 2>&1 | awk -F': ' '/Maximum resident set size/ {print $2}'; }

sizes=(${SIZES:-256 1024})
runs=()
for size_mib in "${sizes[@]}"; do runs+=("plain:$size_mib"); done
runs+=("coloured:${sizes[0]}" "json:${sizes[0]}")
for run in "${runs[@]}"; do
	kind=${run%%:*} size_mib=${run#*:}
	plain=$work/healthy-$size_mib.log
	if [ ! -s "$plain" ]; then
		for i in $(seq 0 $((size_mib - 1))); do
			cat "$block"
			if [ $((i % 200)) = 100 ]; then cat "$fail"; fi
		done >"$plain.tmp"
		mv "$plain.tmp" "$plain"
	fi
	log=$plain
	case $kind in
	coloured)
		log=$work/healthy-$size_mib-coloured.log
		[ -s "$log" ] || { sed 's/^/\x1b[32m/; s/$/\x1b[0m/' "$plain" >"$log.tmp" && mv "$log.tmp" "$log"; }
		;;
	json)
		log=$work/healthy-$size_mib-json.log
		[ -s "$log" ] || { python3 -c 'import json, sys
for l in sys.stdin: sys.stdout.write(json.dumps({"log": l.rstrip("\n"), "path": "C:\\dpdk\\x"}) + "\n")' <"$plain" >"$log.tmp" && mv "$log.tmp" "$log"; }
		;;
	esac
	echo "log ($kind): $log ($(du -h "$log" | cut -f1), $(wc -l <"$log") lines, a failure every 200 MiB); 40 of $n catalogue patterns that match no healthy line"
	cat "$log" >/dev/null # warm the page cache so that all read from memory
	json=$work/hyperfine-$kind-$size_mib.json
	# gzdoctor exits 1 (it finds the failures inside): -i keeps hyperfine going.
	hyperfine --style basic --runs "${RUNS:-3}" -i --output=pipe --export-json "$json" \
		-n gzdoctor "$GZ -q diagnose $log" \
		-n grep-C.UTF-8 "env LC_ALL=C.UTF-8 grep -E -c -f $pat $log" \
		-n grep-C "env LC_ALL=C grep -E -c -f $pat $log" \
		-n cat "cat $log" >&2
	# The count, so that a grep that failed cannot pass for a fast one.
	echo "grep counts $(LC_ALL=C grep -E -c -f "$pat" "$log") matching lines" >&2
	gz_rss=$(rss "$GZ" -q diagnose "$log" || true)
	grep_rss=$(rss env LC_ALL=C.UTF-8 grep -E -c -f "$pat" "$log" || true)
	python3 - "$json" "$size_mib" "$gz_rss" "$grep_rss" "$kind" <<'PY'
import json, sys
res = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
size, gz_rss, grep_rss, kind = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
def line(name, label):
    r = res[name]
    print(f"  {label:<26} {r['mean']:.3f} s wall (min {r['min']:.3f}), {r['user'] + r['system']:.3f} s CPU")
print(f"{size} MiB healthy log ({kind}):")
line("gzdoctor", "gzdoctor diagnose:")
line("grep-C.UTF-8", "grep -E -c -f (C.UTF-8):")
line("grep-C", "grep -E -c -f (LC_ALL=C):")
line("cat", "cat (the floor):")
g = res["gzdoctor"]
gc = g["user"] + g["system"]
for name in ("grep-C.UTF-8", "grep-C"):
    r = res[name]
    print(f"  ratio gzdoctor/{name}: {g['mean'] / r['mean']:.2f} wall, {gc / (r['user'] + r['system']):.2f} CPU (target <= 1.00 wall)")
print(f"  ratio gzdoctor/cat: {g['mean'] / res['cat']['mean']:.2f} wall")
print(f"  peak RSS: gzdoctor {gz_rss / 1024:.1f} MiB, grep {grep_rss / 1024:.1f} MiB")
PY
done
