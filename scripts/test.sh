#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test: unit tests, then integration tests
# against a real PostgreSQL 15 that the tests start and stop themselves (drivers and ORMs of
# several languages included); then the same tests built with AddressSanitizer and
# UndefinedBehaviorSanitizer; then each fuzz target briefly (scripts/fuzz.sh for longer runs).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --clients
scripts/build.sh
ctest --test-dir build --output-on-failure --timeout 900

echo "== sanitizers: AddressSanitizer + UndefinedBehaviorSanitizer"
scripts/build.sh --sanitize
# Any finding aborts the process that made it (-fno-sanitize-recover), and so fails its test.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:quarantine_size_mb=16}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --test-dir build-asan --output-on-failure --timeout 1200 -E 'install_and_unit'

echo "== fuzzing: each target briefly"
scripts/fuzz.sh "${PGSD_FUZZ_SECONDS:-20}"
