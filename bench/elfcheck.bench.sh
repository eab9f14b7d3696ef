#!/usr/bin/env bash
# Resolving the dependency tree of dpdk-testpmd (~54 direct, ~75 total
# libraries) as a whole process: gzdoctor elfcheck --flat vs pax-utils'
# lddtree (Debian's python3 + pyelftools) vs ldd (runs the loader), in one
# hyperfine run. Targets: >= 5x faster than lddtree, faster than ldd.
set -euo pipefail
cd "$(dirname "$0")/.."
gz=${GZDOCTOR:-$PWD/bin/gzdoctor}
target=${ELFCHECK_BENCH_TARGET:-/usr/bin/dpdk-testpmd}
[ -x "$gz" ] || go build -o "$gz" ./cmd/gzdoctor
for t in hyperfine ldd /usr/bin/lddtree /usr/bin/python3 jq; do
	command -v "$t" >/dev/null || { echo "elfcheck bench: $t missing"; exit 1; }
done
[ -e "$target" ] || { echo "elfcheck bench: $target missing (package dpdk)"; exit 1; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT
hyperfine -N --warmup 3 --min-runs 20 --export-json "$out" \
	-n gzdoctor "$gz elfcheck --flat $target" \
	-n lddtree "/usr/bin/python3 /usr/bin/lddtree $target" \
	-n ldd "ldd $target" >/dev/null
mean() { jq -r --arg n "$1" '.results[] | select(.command==$n) | .mean' "$out"; }
g=$(mean gzdoctor) t=$(mean lddtree) l=$(mean ldd)
awk -v g="$g" -v t="$t" -v l="$l" 'BEGIN {
	printf "elfcheck tree of dpdk-testpmd: gzdoctor %.2f ms, lddtree %.2f ms, ldd %.2f ms\n", g*1000, t*1000, l*1000
	printf "ratio lddtree/gzdoctor %.1fx (target >= 5x), ldd/gzdoctor %.1fx (target > 1x)\n", t/g, l/g
	exit !(t/g >= 5 && l/g > 1)
}'
