#!/usr/bin/env bash
# Runs the module's fuzz targets, one at a time, each for a short fixed
# time: every func FuzzXxx in a _test.go file, so that a new target is run
# without being listed here.
#
#   test/fuzz.sh                       every target, 10s each (CI)
#   FUZZTIME=10m test/fuzz.sh FuzzLoad  one target, longer
#
# Plain `go test ./...` already runs each target's seed corpus (its f.Add
# inputs and testdata/fuzz/FuzzXxx/) as unit tests; this looks for new
# inputs. An input that fails is written to testdata/fuzz/FuzzXxx/ of the
# target's package: fix the code, and commit the input with the fix, under
# a name that says what it holds.
set -euo pipefail
cd "$(dirname "$0")/.."

fuzztime=${FUZZTIME:-10s}
only=${1:-}

# inputs counts the inputs in a corpus directory, 0 when there is none.
inputs() {
	if [ -d "$1" ]; then
		find "$1" -type f | wc -l
	else
		echo 0
	fi
}

log=$(mktemp)
trap 'rm -f "$log"' EXIT

failed=()
ran=0
while IFS=: read -r file _ decl; do
	name=${decl#func }
	name=${name%%(*}
	if [ -n "$only" ] && [ "$name" != "$only" ]; then
		continue
	fi
	dir=./$(dirname "$file")
	echo "--- $name ($dir, $fuzztime)"
	ran=$((ran + 1))
	corpus=$dir/testdata/fuzz/$name
	before=$(inputs "$corpus")
	# A failing input is minimized for a few seconds at most: it is
	# written whole otherwise, which is as good for a CI report.
	if go test -run '^$' -fuzz "^$name\$" -fuzztime "$fuzztime" -fuzzminimizetime 5s "$dir" 2>&1 | tee "$log"; then
		continue
	fi
	# Go 1.26's fuzzing coordinator may report its own -fuzztime deadline
	# as a failure, with no failing input (go.dev/issue/75804, fixed in Go
	# 1.27): a failure is one that wrote an input, or said something else.
	after=$(inputs "$corpus")
	if [ "$after" -eq "$before" ] && [ "$(grep -c '^    ' "$log")" -eq 1 ] && grep -qx '    context deadline exceeded' "$log"; then
		echo "--- $name: the -fuzztime deadline reported as a failure, no failing input (go.dev/issue/75804): not counted"
		continue
	fi
	failed+=("$name ($dir)")
done < <(grep -rn --include='*_test.go' --exclude-dir=.git -e '^func Fuzz[A-Za-z0-9_]*(' . | sed 's|^\./||' | sort)

if [ "$ran" -eq 0 ]; then
	echo "test/fuzz.sh: no fuzz target${only:+ named $only}" >&2
	exit 1
fi
if [ "${#failed[@]}" -gt 0 ]; then
	echo "test/fuzz.sh: ${#failed[@]} of $ran fuzz targets failed: ${failed[*]}" >&2
	exit 1
fi
echo "test/fuzz.sh: $ran fuzz targets ran $fuzztime each, none failed"
