#!/usr/bin/env bash
# The whole `gzdoctor check` against a live lab primary, as a whole process,
# side by side in one hyperfine run with what an operator runs by hand today:
# `dpdk-devbind.py --status` and `dpdk-telemetry.py` answering one query
# (`echo /ethdev/list | dpdk-telemetry.py -f <prefix>`). Target: gzdoctor's
# full check (all 15 checks, telemetry, ELF analysis of primary and capture
# tool, sysfs, hugepages) takes less wall time than either tool alone.
#   bench/check.bench.sh        (RUNS=20 by default; needs root and the lab)
set -euo pipefail
cd "$(dirname "$0")/.."
GZ=${GZDOCTOR:-}
if [ -z "$GZ" ] || [ ! -x "$GZ" ]; then
	GZ=/tmp/gzcheck-bench-gzdoctor
	go build -o "$GZ" ./cmd/gzdoctor
fi
for tool in hyperfine dpdk-devbind.py dpdk-telemetry.py; do
	command -v "$tool" >/dev/null || { echo "check.bench: $tool not found (make setup)" >&2; exit 1; }
done
[ -x lab/build/lab-primary ] || make -s -C lab >&2

prefix=gzbench_check_$$
lab/build/lab-primary --file-prefix "$prefix" --no-pci --vdev net_ring0 >/tmp/"$prefix".log 2>&1 &
primary=$!
cleanup() {
	kill -INT "$primary" 2>/dev/null || true
	wait "$primary" 2>/dev/null || true
	rm -rf "/var/run/dpdk/$prefix" /tmp/"$prefix".log "$json"
	for m in $(awk '$3 == "hugetlbfs" {print $2}' /proc/mounts); do rm -f "$m/${prefix}map_"*; done
}
json=$(mktemp)
trap cleanup EXIT
for _ in $(seq 50); do
	[ -S "/var/run/dpdk/$prefix/dpdk_telemetry.v2" ] && break
	sleep 0.1
done
[ -S "/var/run/dpdk/$prefix/dpdk_telemetry.v2" ] || { echo "check.bench: the lab primary did not start" >&2; exit 1; }

# One report first, so the numbers below are known to be of a healthy check.
"$GZ" check --prefix "$prefix" >&2 || { echo "check.bench: gzdoctor check did not pass on the lab primary" >&2; exit 1; }

hyperfine --style basic --warmup 3 --runs "${RUNS:-20}" -N --export-json "$json" \
	-n "gzdoctor check" "$GZ check -q --prefix $prefix" \
	-n "dpdk-devbind.py --status" "dpdk-devbind.py --status" \
	-n "dpdk-telemetry.py /ethdev/list" "sh -c 'echo /ethdev/list | dpdk-telemetry.py -f $prefix'" >&2

python3 - "$json" <<'EOF'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
gz = r["gzdoctor check"]
print(f"gzdoctor check (15 checks)      mean {gz['mean']*1000:7.1f} ms  ± {gz['stddev']*1000:.1f}")
ok = True
for name in ("dpdk-devbind.py --status", "dpdk-telemetry.py /ethdev/list"):
    o = r[name]
    ratio = gz["mean"] / o["mean"]
    ok = ok and ratio < 1
    print(f"{name:31s} mean {o['mean']*1000:7.1f} ms  ± {o['stddev']*1000:.1f}   ratio gzdoctor/{name.split()[0]} = {ratio:.2f}")
print("target (ratio < 1 against each):", "met" if ok else "NOT met")
EOF
