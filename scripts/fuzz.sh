#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz/ in build-fuzz/ (clang-16, ASan + UBSan) and runs each for a
# number of seconds from its seed corpus. Exits non-zero if a target crashed, leaked or timed out.
#   scripts/fuzz.sh [SECONDS [TARGET...]]     e.g. scripts/fuzz.sh 20   or   scripts/fuzz.sh 600 fuzz_engine
# SECONDS defaults to 60, TARGETs to all six (fuzz_client_stream fuzz_server_stream fuzz_startup fuzz_scram
# fuzz_engine fuzz_catalog_answer).
# The working corpus is build-fuzz/corpus-<target>, kept between runs: seeded from tests/fuzz/corpus/<target>
# (which stays as it is) and from the reproducers in tests/fuzz/crashes/<target>, so those are replayed at
# every start. New crash reproducers go to build-fuzz/artifacts-<target>/, logs to build-fuzz/fuzz-<target>.log.
# FUZZ_JOBS: targets run at once (default: the number of cores).
set -euo pipefail
cd "$(dirname "$0")/.."

all_targets=(fuzz_client_stream fuzz_server_stream fuzz_startup fuzz_scram fuzz_engine fuzz_catalog_answer)
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=("${all_targets[@]}")
case "$seconds" in '' | *[!0-9]* | 0) echo "usage: $0 [SECONDS [TARGET...]] (SECONDS >= 1)" >&2; exit 2 ;; esac
for t in "${targets[@]}"; do
  [[ " ${all_targets[*]} " == *" $t "* ]] || { echo "unknown target: $t (one of: ${all_targets[*]})" >&2; exit 2; }
done

# What the build needs, installed when missing (Debian 12 packages), as scripts/install-deps.sh does.
packages=(clang-16 libfuzzer-16-dev libclang-rt-16-dev llvm-16 cmake ninja-build pkg-config
          libfmt-dev libtomlplusplus-dev libpg-query-dev protobuf-compiler libprotobuf-dev libssl-dev)
scripts/apt-install.sh "${packages[@]}"

jobs=${FUZZ_JOBS:-$(nproc)}
build_start=$SECONDS
mkdir -p build-fuzz
if ! { cmake -S tests/fuzz -B build-fuzz -G Ninja -DCMAKE_C_COMPILER=clang-16 -DCMAKE_CXX_COMPILER=clang++-16 &&
       cmake --build build-fuzz -j "$jobs" --target "${targets[@]}"; } >build-fuzz/build.log 2>&1; then
  tail -n 40 build-fuzz/build.log >&2
  echo "fuzz build failed (build-fuzz/build.log)" >&2
  exit 1
fi
echo "built ${targets[*]} in $((SECONDS - build_start)) s"

# Longest input per target: a few messages for the streams, one or two packets for startup, two SCRAM
# messages (PostgreSQL's clients send well under 1 KB), a statement
# for the engine (parsed several times per input: longer ones only slow it down).
max_len() {
  case "$1" in
    fuzz_client_stream | fuzz_server_stream) echo 4096 ;;
    fuzz_startup | fuzz_scram) echo 1024 ;;
    fuzz_engine) echo 2048 ;;
    fuzz_catalog_answer) echo 4096 ;;
  esac
}
dict() {
  case "$1" in
    fuzz_engine) echo tests/fuzz/fuzz_engine.dict ;;
    *) echo tests/fuzz/protocol.dict ;;
  esac
}

# llvm-16's symbolizer turns the addresses of a report into functions, files and lines.
export ASAN_SYMBOLIZER_PATH=/usr/lib/llvm-16/bin/llvm-symbolizer
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}

run_target() {
  local t=$1 corpus=build-fuzz/corpus-$1 artifacts=build-fuzz/artifacts-$1/
  mkdir -p "$corpus" "$artifacts"
  cp -n tests/fuzz/corpus/"$t"/* "$corpus"/ 2>/dev/null || true
  cp -n tests/fuzz/crashes/"$t"/* "$corpus"/ 2>/dev/null || true  # bugs found before: replayed at start
  # -timeout: seconds one input may take; -rss_limit_mb: memory; leaks are reported (ASan's LeakSanitizer).
  "build-fuzz/$t" -max_total_time="$seconds" -max_len="$(max_len "$t")" -timeout=10 -rss_limit_mb=2048 \
    -dict="$(dict "$t")" -artifact_prefix="$artifacts" -print_final_stats=1 "$corpus" >"build-fuzz/fuzz-$t.log" 2>&1
}

# Run FUZZ_JOBS targets at a time, then report them in order.
declare -A pid status
running=()
for t in "${targets[@]}"; do
  if [ ${#running[@]} -ge "$jobs" ]; then
    wait "${pid[${running[0]}]}" && status[${running[0]}]=0 || status[${running[0]}]=$?
    running=("${running[@]:1}")
  fi
  run_target "$t" &
  pid[$t]=$!
  running+=("$t")
done
for t in "${running[@]}"; do
  wait "${pid[$t]}" && status[$t]=0 || status[$t]=$?
done

failed=0
for t in "${targets[@]}"; do
  log=build-fuzz/fuzz-$t.log
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  cov=$({ grep -a -o 'cov: [0-9]*' "$log" || true; } | tail -n 1 | cut -d' ' -f2)
  corpus=$(find "build-fuzz/corpus-$t" -type f | wc -l)
  if [ "${status[$t]}" = 0 ]; then
    echo "$t: ok, ${runs:-?} runs in ${seconds} s, coverage ${cov:-?} edges, corpus $corpus inputs"
  else
    failed=1
    what=$(grep -a -m1 -oE 'ERROR: (AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|libFuzzer): .*|FUZZ_CHECK failed: .*|fuzz_engine: .*|runtime error: .*' "$log" || true)
    artifact=$(sed -n 's/.*Test unit written to //p' "$log" | tail -n 1)
    echo "$t: FAILED (exit ${status[$t]}) after ${runs:-?} runs: ${what:-see $log}; reproducer: ${artifact:-none}; log: $log"
  fi
done
exit $failed
