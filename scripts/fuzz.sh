#!/usr/bin/env bash
# Runs every Go fuzz target in the module for a short, bounded time
# (FUZZTIME, default 10s each), on top of its seed corpus.
#
# Each new interesting input is minimised for at most FUZZMINIMIZETIME
# (default 1s; Go's default is 60s). A minimisation does not count as
# executions, so with Go's default a 10 s run could spend most of its time
# minimising and print "execs: N (0/sec)" lines: the run's figures then
# describe the minimiser, not the fuzzing. Seeds stay small (specpatch's
# TestFuzzSeedsAreSmall) so that 1 s is enough to minimise.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-10s}
minimize=${FUZZMINIMIZETIME:-1s}
status=0
while IFS= read -r line; do
	file=${line%%:*}
	name=$(sed -E 's/^.*func (Fuzz[A-Za-z0-9_]*)\(.*/\1/' <<<"$line")
	pkg=./$(dirname "$file")
	echo "fuzz: $pkg $name ($fuzztime, minimising at most $minimize per input)"
	corpus="$pkg/testdata/fuzz/$name"
	before=$({ find "$corpus" -type f 2>/dev/null || true; } | wc -l)
	log=$(mktemp)
	if ! go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" -fuzzminimizetime "$minimize" "$pkg" 2>&1 | tee "$log"; then
		after=$({ find "$corpus" -type f 2>/dev/null || true; } | wc -l)
		# Go 1.26's fuzz coordinator can report its own -fuzztime deadline
		# as a failure of the target (golang/go#75804, fixed in Go 1.27):
		# "context deadline exceeded" with no failing input written. Only
		# that exact shape is forgiven; a written input always fails.
		if [ "$after" -eq "$before" ] && grep -qx '    context deadline exceeded' "$log" &&
			! grep -q 'Failing input written' "$log"; then
			echo "fuzz: $name: Go's fuzz coordinator reported its own -fuzztime deadline (golang/go#75804); no failing input was written: not a finding"
		else
			status=1
		fi
	fi
	rm -f "$log"
done < <(grep -rEn --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*\(' . | grep -v '/testdata/' || true)
exit $status
