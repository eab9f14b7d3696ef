#!/usr/bin/env bash
# Reading a one-line lstack.conf of growing size: `gzdoctor check --only
# config` against the real libconfig (testdata/conf/oracle/lcdump.c, the
# tests' oracle) on the same files, in one hyperfine run. Real libconfig is
# itself quadratic on a long line, so it runs only on the two small sizes.
# Prints each figure, the growth ratio for each doubling (linear: ~2) and
# gzdoctor/libconfig. Target: gzdoctor's 2N/N ratio below 3 at every step,
# and a 1 MB one-line config inside check's default 1 s budget.
set -euo pipefail
cd "$(dirname "$0")/.."
GZ=${GZDOCTOR:-$PWD/bin/gzdoctor}
RUNS=${RUNS:-5}
for t in hyperfine jq gcc python3; do
	command -v "$t" >/dev/null || { echo "config.bench: $t not installed"; exit 1; }
done
[ -x "$GZ" ] || go build -o "$GZ" ./cmd/gzdoctor
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
gcc -O1 -o "$dir/lcdump" testdata/conf/oracle/lcdump.c -lconfig
sizes=(65536 131072 262144 524288 1048576)
for n in "${sizes[@]}"; do
	python3 - "$n" "$dir/c$n.conf" <<'PY'
import sys
n, out = int(sys.argv[1]), sys.argv[2]
parts = ['dpdk_args = ["--socket-mem", "1024", "--file-prefix", "gazelle"]; ']
size, i = len(parts[0]), 0
while size < n:
    s = 'k%d = "v%d"; l%d = (1, 2.5, "x"); ' % (i, i, i)
    parts.append(s); size += len(s); i += 1
open(out, "w").write("".join(parts) + "\n")
PY
done
args=()
for n in "${sizes[@]}"; do
	args+=(-n "gz $n" "$GZ check -q --only config --timeout 60s --config $dir/c$n.conf")
done
for n in 65536 131072; do
	args+=(-n "libconfig $n" "$dir/lcdump $dir/c$n.conf")
done
hyperfine -N -i --style basic --warmup 1 --runs "$RUNS" --export-json "$dir/r.json" "${args[@]}" >&2
mean() { jq -r --arg n "$1" '.results[] | select(.command==$n) | .mean' "$dir/r.json"; }
ok=1
prev=
for n in "${sizes[@]}"; do
	m=$(mean "gz $n")
	line=$(awk -v n="$n" -v m="$m" 'BEGIN { printf "gzdoctor  %8d bytes on one line: %8.1f ms", n, m*1000 }')
	if [ -n "$prev" ]; then
		r=$(awk -v a="$prev" -v b="$m" 'BEGIN { printf "%.2f", b/a }')
		line="$line   x$r for 2x the size"
		awk -v r="$r" 'BEGIN { exit !(r >= 3) }' && ok=0
	fi
	echo "$line"
	prev=$m
done
for n in 65536 131072; do
	awk -v n="$n" -v l="$(mean "libconfig $n")" -v g="$(mean "gz $n")" \
		'BEGIN { printf "libconfig %8d bytes on one line: %8.1f ms   ratio libconfig/gzdoctor %.1fx\n", n, l*1000, l/g }'
done
awk -v m="$(mean "gz 1048576")" 'BEGIN { exit !(m < 1) }' || ok=0
echo "target (each doubling < 3x, 1 MB < 1 s):" "$([ $ok = 1 ] && echo met || echo NOT met)"
[ $ok = 1 ]
