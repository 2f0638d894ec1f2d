#!/usr/bin/env bash
# What reading the catalog at login costs: pgbench -C -S (a new connection per transaction) through
# pgsoftdelete with the catalog already known (the usual login), with the catalog read at every
# login (catalog_refresh_interval_ms = 1), and, given a second binary, through that one (e.g. a build
# from before the catalog existed), interleaved round by round; connections per second, medians.
#
#   bench/login_cost.sh [--rounds N] [--duration S] [--other PATH_TO_OLD_pgsoftdelete]
#
# Uses build-bench/proxy/pgsoftdelete (bench/run.sh builds it) or build/proxy/pgsoftdelete.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
ROUNDS=5 DURATION=5 OTHER=""
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS=${2:?}; shift ;;
    --duration) DURATION=${2:?}; shift ;;
    --other) OTHER=${2:?}; shift ;;
    *) echo "login_cost.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
PROXY=$ROOT/build-bench/proxy/pgsoftdelete
[ -x "$PROXY" ] || PROXY=$ROOT/build/proxy/pgsoftdelete
[ -x "$PROXY" ] || { echo "login_cost.sh: build the proxy first (scripts/build.sh)" >&2; exit 1; }

as_owner() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
free_port() { /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
WORK=$(mktemp -d /tmp/pgsd-login.XXXXXX)
[ "$(id -u)" = 0 ] && chown postgres: "$WORK"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  "$ROOT/scripts/tmp-postgres.sh" stop "$WORK/pg" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

PGPORT=$(free_port)
"$ROOT/scripts/tmp-postgres.sh" start "$WORK/pg" "$PGPORT" >/dev/null
PSQL=(as_owner "$PGBIN/psql" -h 127.0.0.1 -U postgres -X -q -v ON_ERROR_STOP=1)
"${PSQL[@]}" -p "$PGPORT" -d postgres -c "CREATE DATABASE bench"
as_owner "$PGBIN/pgbench" -h 127.0.0.1 -p "$PGPORT" -U postgres -i -s 1 -q bench >/dev/null 2>&1
"${PSQL[@]}" -p "$PGPORT" -d bench -c "ALTER TABLE pgbench_accounts ADD COLUMN is_deleted boolean NOT NULL DEFAULT false"
printf '[[table]]\nname = "pgbench_accounts"\n' >"$WORK/rules.toml"
chmod a+r "$WORK/rules.toml"

start_proxy() {  # name binary extra-config
  local port
  port=$(free_port)
  printf 'listen = "127.0.0.1:%s"\nupstream = "127.0.0.1:%s"\nrules = "%s"\nlog_level = "warn"\n%s\n' \
    "$port" "$PGPORT" "$WORK/rules.toml" "$3" >"$WORK/$1.toml"
  "$2" --config "$WORK/$1.toml" >"$WORK/$1.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 50); do as_owner "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$port" && break; sleep 0.1; done
  echo "$port"
}
declare -A PORTS
PORTS[known]=$(start_proxy known "$PROXY" "")
PORTS[read_each_login]=$(start_proxy read_each_login "$PROXY" "catalog_refresh_interval_ms = 1")
NAMES=(known read_each_login)
if [ -n "$OTHER" ]; then PORTS[other]=$(start_proxy other "$OTHER" ""); NAMES+=(other); fi
PORTS[direct]=$PGPORT
NAMES+=(direct)

declare -A RESULTS
for r in $(seq "$ROUNDS"); do
  for n in "${NAMES[@]}"; do
    tps=$(as_owner "$PGBIN/pgbench" -h 127.0.0.1 -p "${PORTS[$n]}" -U postgres -C -S -c 2 -j 2 -T "$DURATION" bench 2>/dev/null |
          sed -n 's/^tps = \([0-9.]*\).*/\1/p')
    RESULTS[$n]+="$tps "
    echo "round $r $n: $tps connections/s" >&2
  done
done
for n in "${NAMES[@]}"; do
  printf '%-16s median %s connections/s (%s)\n' "$n" \
    "$(printf '%s\n' ${RESULTS[$n]} | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')" "${RESULTS[$n]% }"
done
