#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test: unit tests, then integration tests
# against a real PostgreSQL 15 that the tests start and stop themselves.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
ctest --test-dir build --output-on-failure --timeout 900
