#!/usr/bin/env bash
# gzdoctor diagnose vs grep -E -c -f over the catalogue's own patterns, on a
# 1 GiB log made of real lines from the corpus (healthy captures and
# start-ups, repeated) with a few real failures inside. Both run as whole
# processes, side by side in one hyperfine run; peak RSS from /usr/bin/time -v.
# grep runs twice: in the caller's locale (what an operator types; GNU grep
# is slow on these patterns in UTF-8 locales) and with LC_ALL=C (its fast
# byte mode). The ratio against each is printed.
#   bench/diagnose.bench.sh            (SIZE_MIB=1024, RUNS=1 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
GZ=${GZDOCTOR:-}
if [ -z "$GZ" ] || [ ! -x "$GZ" ]; then
	GZ=/tmp/gzdiag-bench-gzdoctor
	go build -o "$GZ" ./cmd/gzdoctor
fi
size_mib=${SIZE_MIB:-1024}
work=${BENCH_DIR:-/tmp/gzdiag-bench}
mkdir -p "$work"
log=$work/big-$size_mib.log
pat=$work/patterns.ere

# Healthy lines: everything in the healthy samples; failures: three real logs.
healthy=(testdata/logs/lab/healthy-pdump.log testdata/logs/lab/healthy-dumpcap.log
	testdata/logs/public/23-gazelle-ltran-healthy-null-prefix.log
	testdata/logs/public/24-gazelle-lstack-healthy-auto-file-prefix.log
	testdata/logs/local-2211/22.11-pdump-healthy.log)
failures=(testdata/logs/public/02-gazelle-pdump-null-prefix-no-primary.log
	testdata/logs/lab/pcap-pmd-hidden-pdump.log testdata/logs/lab/no-pdump-init-pdump.log)

if [ ! -s "$log" ]; then
	block=$work/block
	: >"$block"
	while [ "$(stat -c %s "$block")" -lt $((1 << 20)) ]; do
		grep -hv '^# ' "${healthy[@]}" >>"$block"
	done
	fblock=$work/fblock
	{ cat "$block"; grep -hv '^# ' "${failures[@]}"; } >"$fblock"
	: >"$log.tmp"
	blocks=$((size_mib))
	for i in $(seq 1 "$blocks"); do
		if [ "$i" = $((blocks / 4)) ] || [ "$i" = $((blocks / 2)) ] || [ "$i" = $((3 * blocks / 4)) ]; then
			cat "$fblock"
		else
			cat "$block"
		fi
	done >"$log.tmp"
	mv "$log.tmp" "$log"
fi
"$GZ" runbooks list --patterns >"$pat"
# 40 catalogue-like patterns (every fifth of the catalogue's): the size of
# pattern file an operator greps a log with; all 229 make GNU grep slow in
# UTF-8 locales and would flatter gzdoctor.
pat40=$work/patterns40.ere
awk 'NR % 5 == 1' "$pat" | head -40 >"$pat40"
echo "log: $log ($(du -h "$log" | cut -f1), $(wc -l <"$log") lines); $(wc -l <"$pat") patterns from the catalogue"

# Warm the page cache so both read from memory.
cat "$log" >/dev/null

json=$work/hyperfine.json
# gzdoctor exits 1 (it finds the failures inside): -i keeps hyperfine going.
# --output=pipe: GNU grep stops at the first match when stdout is /dev/null.
hyperfine --style basic --runs "${RUNS:-1}" -i --output=pipe --export-json "$json" \
	-n gzdoctor "$GZ -q diagnose $log" \
	-n grep "grep -E -c -f $pat $log" \
	-n grep-C "env LC_ALL=C grep -E -c -f $pat $log" \
	-n grep40 "grep -E -c -f $pat40 $log" \
	-n grep40-C "env LC_ALL=C grep -E -c -f $pat40 $log" \
	-n floor "cat $log" >&2
# The counts, so a grep that failed cannot pass for a fast one.
echo "grep counts $(LC_ALL=C grep -E -c -f "$pat" "$log") matching lines" >&2

# Output goes through a pipe here too, for the same reason as above.
rss() { { /usr/bin/time -v "$@" | cat >/dev/null; } 2>&1 | awk -F': ' '/Maximum resident set size/ {print $2}'; }
gz_rss=$(rss "$GZ" -q diagnose "$log" || true)
grep_rss=$(rss env LC_ALL=C grep -E -c -f "$pat" "$log" || true)

python3 - "$json" "$gz_rss" "$grep_rss" <<'PY'
import json, sys
res = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
g, r, rc = res["gzdoctor"]["mean"], res["grep"]["mean"], res["grep-C"]["mean"]
r40, rc40, fl = res["grep40"]["mean"], res["grep40-C"]["mean"], res["floor"]["mean"]
gu = res["gzdoctor"]["user"] + res["gzdoctor"]["system"]
print(f"gzdoctor diagnose:        {g:.3f} s wall, {gu:.3f} s CPU (peak RSS {int(sys.argv[2])/1024:.1f} MiB)")
print(f"grep -E -c -f:            {r:.3f} s wall")
print(f"LC_ALL=C grep -E -c -f:   {rc:.3f} s wall (peak RSS {int(sys.argv[3])/1024:.1f} MiB)")
print(f"grep -E -c -f (40):       {r40:.3f} s wall; LC_ALL=C: {rc40:.3f} s")
print(f"cat (the floor):          {fl:.3f} s wall")
print(f"ratio gzdoctor/grep: {g/r:.3f}, gzdoctor/grep-C: {g/rc:.3f}; with 40 patterns gzdoctor/grep: {g/r40:.3f}, gzdoctor/grep-C: {g/rc40:.3f}; gzdoctor/cat: {g/fl:.2f} (target <= 1.00 against grep)")
PY
