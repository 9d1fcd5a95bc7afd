#!/usr/bin/env bash
# Sets up, builds and runs every test (the README's test command; .ci/run calls it).
#   scripts/test.sh                 all default tests + a short fuzzing run
#   KILN_FUZZ_SECONDS=0 scripts/test.sh    skip fuzzing
#   KILN_TEST_LABELS=slow scripts/test.sh  also run the tests labelled slow
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
scripts/setup.sh
cmake --preset release > /dev/null
cmake --build --preset release
# A short fuzzing run first, so the test summary is the last thing printed.
if [ "${KILN_FUZZ_SECONDS:-60}" != 0 ]; then
  scripts/fuzz.sh "${KILN_FUZZ_SECONDS:-60}"
fi
if [ -n "${KILN_TEST_LABELS:-}" ]; then
  ctest --preset release -j2 --timeout 900
else
  ctest --preset release -j2 --timeout 900 -LE slow
fi
