#!/usr/bin/env bash
# What loading the runbook catalogue costs every diagnose (and every
# capture, which loads it to name the backend's failures): `gzdoctor
# diagnose` on a 15-line log against `gzdoctor version`, the same binary
# doing nothing (the floor: process start). The difference is the
# catalogue: YAML decode, regexp compile, the pre-filter's automaton.
#   bench/runbooks.bench.sh     (RUNS=30 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
GZ=${GZDOCTOR:-}
if [ -z "$GZ" ] || [ ! -x "$GZ" ]; then
	GZ=/tmp/gzrunbooks-bench-gzdoctor
	go build -o "$GZ" ./cmd/gzdoctor
fi
command -v hyperfine >/dev/null || { echo "runbooks.bench: hyperfine not installed"; exit 1; }
log=testdata/logs/lab/bad-port-pdump.log
json=$(mktemp)
trap 'rm -f "$json"' EXIT
# diagnose exits 1 (the log holds a known failure): -i keeps hyperfine going.
hyperfine --style basic --warmup 3 --runs "${RUNS:-30}" -N -i --export-json "$json" \
	-n diagnose "$GZ -q diagnose $log" \
	-n version "$GZ version" >&2
python3 - "$json" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
d, v = r["diagnose"], r["version"]
cpu = lambda x: (x["user"] + x["system"]) * 1000
print(f"gzdoctor diagnose (15 lines)  mean {d['mean']*1000:6.1f} ms wall, {cpu(d):5.1f} ms CPU")
print(f"gzdoctor version (the floor)  mean {v['mean']*1000:6.1f} ms wall, {cpu(v):5.1f} ms CPU")
print(f"  catalogue load ~ {cpu(d) - cpu(v):.1f} ms CPU; ratio diagnose/version {cpu(d) / cpu(v):.1f}x CPU, {d['mean'] / v['mean']:.1f}x wall")
PY
