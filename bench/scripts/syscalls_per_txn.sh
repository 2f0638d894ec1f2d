#!/usr/bin/env bash
# System calls, context switches and CPU time per pgbench transaction of one process (pgsoftdelete or
# PgBouncer), with perf stat. Use it against `bench/run.sh --hold`, which prints the ports and the proxy's pid.
#   bench/scripts/syscalls_per_txn.sh PID PORT [MODE [CLIENTS [SECONDS]]]   (defaults: prepared 8 5)
# Needs perf (Debian: linux-perf) and permission to trace PID (root, or kernel.perf_event_paranoid <= 1).
set -euo pipefail
pid=${1:?usage: syscalls_per_txn.sh PID PORT [MODE [CLIENTS [SECONDS]]]}
port=${2:?usage: syscalls_per_txn.sh PID PORT [MODE [CLIENTS [SECONDS]]]}
mode=${3:-prepared} clients=${4:-8} secs=${5:-5}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
jobs=1
[ "$clients" -gt 1 ] && jobs=2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

events=raw_syscalls:sys_enter,syscalls:sys_enter_recvfrom,syscalls:sys_enter_sendto,syscalls:sys_enter_sendmsg
events=$events,syscalls:sys_enter_epoll_wait,syscalls:sys_enter_futex,context-switches,task-clock
perf stat -x, -e "$events" -p "$pid" -o "$tmp/perf.csv" &
perf_pid=$!
sleep 0.3
"$PGBIN/pgbench" -S -n -M "$mode" -c "$clients" -j "$jobs" -T "$secs" -h 127.0.0.1 -p "$port" -U postgres bench \
  >"$tmp/pgbench.out" 2>&1
kill -INT "$perf_pid"
wait "$perf_pid" || true
n=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$tmp/pgbench.out")
echo "pid $pid, -M $mode -c $clients, $n transactions, $(grep '^tps' "$tmp/pgbench.out")"
awk -F, -v n="$n" '
  $3 == "task-clock" { printf "  %-32s %8.1f us\n", "CPU per transaction", $1 * 1000 / n; next }
  $3 != "" && $1 ~ /^[0-9.]+$/ { printf "  %-32s %8.2f\n", $3 " per transaction", $1 / n }' "$tmp/perf.csv"
