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
	if ! go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" -fuzzminimizetime "$minimize" "$pkg"; then
		status=1
	fi
done < <(grep -rEn --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*\(' . | grep -v '/testdata/' || true)
exit $status
