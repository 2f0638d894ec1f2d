#!/usr/bin/env bash
# Configures and builds pgsoftdelete in build/ (Release with debug info, Ninja); with --sanitize,
# in build-asan/ with AddressSanitizer and UndefinedBehaviorSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=build
options=()
if [ "${1:-}" = "--sanitize" ]; then
  dir=build-asan
  options=(-DPGSD_SANITIZE=ON)
fi
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "${options[@]}" >/dev/null
cmake --build "$dir" -j "$(nproc)"
