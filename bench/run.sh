#!/usr/bin/env bash
# Runs every side-by-side benchmark script in bench/ (bench/*.bench.sh).
# Each prints gzdoctor's figure, the reference tool's, and their ratio.
set -uo pipefail
cd "$(dirname "$0")/.."
export GZDOCTOR="$PWD/bin/gzdoctor"
status=0
shopt -s nullglob
for b in bench/*.bench.sh; do
	echo "== $b"
	if ! "$b"; then
		echo "!! $b failed"
		status=1
	fi
done
exit $status
