#!/usr/bin/env bash
# Runs `swift test` with the given arguments and keeps its exit status. On a failure it prints the failing tests'
# issue lines again at the very end: a CI log is often read from its tail, where a long run's failures, printed
# minutes earlier among thousands of lines, would not show.
#   scripts/swift-test.sh [SWIFT TEST ARGUMENTS...]
set -uo pipefail
log=$(mktemp /tmp/ciclo-swift-test.XXXXXX)
trap 'rm -f "$log"' EXIT
# SWIFT may be a command with arguments (`xcrun swift`): split on purpose.
# shellcheck disable=SC2086
${SWIFT:-swift} test "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
if [ "$status" != 0 ]; then
    echo
    echo "=== swift test failed (exit $status); its failures again:"
    grep -E "✘|error:|Fatal error|Expectation failed|recorded an issue|Caught error" "$log" | cut -c1-600 | tail -80
fi
exit "$status"
