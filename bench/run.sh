#!/usr/bin/env bash
# pgsoftdelete benchmark (issues 6 and 12): pgbench -S at 1, 8 and 64 clients and an ORM-style three-table
# join with an outer join (simple protocol, literals varying) against direct PostgreSQL, PgBouncer (session
# mode) and pgsoftdelete rewriting the pgbench tables, interleaved round by round; the proxies' CPU, context
# switches and system calls per transaction; engine micro-benchmarks; proxy RSS with idle client
# connections. One command, from a clean clone, as root or not:
#
#   bench/run.sh            full: 3 rounds of 10 s per run (about 30 minutes on 2 cores)
#   bench/run.sh --quick    a first look: 1 round of 3 s
#   bench/run.sh --unix-only --rounds 5 --duration 5
#                           only the Unix-socket comparison (TCP vs Unix-socket upstream, both proxies)
#
# Options: --rounds N, --duration S (seconds per pgbench run), --idle N (idle connections, default 500),
#          --skip-build (use build-bench/ as it is), --keep (keep the temporary folder and its logs),
#          --hold (set everything up, print the ports, and wait for Ctrl-C instead of measuring: to profile).
# Everything it starts is stopped on exit, failure and Ctrl-C included. See bench/README.md.
set -euo pipefail

ARGS="$*"
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$ROOT/build-bench
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
PY=/usr/bin/python3
SCRIPTS=$ROOT/bench/scripts

ROUNDS=3 DURATION=10 IDLE=500 QUICK=0 SKIP_BUILD=0 KEEP=0 HOLD=0 UNIX_ONLY=0
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1; ROUNDS=1; DURATION=3 ;;
    --rounds) ROUNDS=${2:?--rounds N}; shift ;;
    --duration) DURATION=${2:?--duration SECONDS}; shift ;;
    --idle) IDLE=${2:?--idle N}; shift ;;
    --skip-build) SKIP_BUILD=1 ;;
    --keep) KEEP=1 ;;
    --hold) HOLD=1 ;;
    --unix-only) UNIX_ONLY=1 ;;
    -h|--help) sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done

say() { printf '%s\n' "-- $*" >&2; }
die() { printf 'run.sh: %s\n' "$*" >&2; exit 1; }

sudo=()
[ "$(id -u)" = 0 ] || sudo=(sudo)
# PostgreSQL and PgBouncer refuse to run as root: as root they run as `postgres`, in folders it owns.
as_owner() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

# ---------------------------------------------------------------- packages
"$ROOT/scripts/install-deps.sh"
extra=()
for p in pgbouncer libbenchmark-dev python3-psycopg2 postgresql-contrib-15 procps iproute2; do
  # postgresql-contrib-15 is a virtual package provided by postgresql-15 (pg_prewarm): check the file.
  if [ "$p" = postgresql-contrib-15 ]; then
    [ -f /usr/share/postgresql/15/extension/pg_prewarm.control ] || extra+=(postgresql-15)
    continue
  fi
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || extra+=("$p")
done
if [ ${#extra[@]} -gt 0 ]; then
  say "installing: ${extra[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${extra[@]}" >/dev/null
  # Debian starts a pgbouncer service of its own when systemd runs; ours uses its own port and config.
fi

# ---------------------------------------------------------------- build
if [ "$SKIP_BUILD" = 0 ]; then
  say "building Release with -DPGSD_BUILD_BENCH=ON into $BUILD"
  cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DPGSD_BUILD_BENCH=ON >/dev/null
  ninja -C "$BUILD" -j2 pgsoftdelete >"$BUILD/bench-build-proxy.log" 2>&1 ||
    { tail -40 "$BUILD/bench-build-proxy.log" >&2; die "the proxy did not build"; }
  ENGINE_BUILD_NOTE=""
  ninja -C "$BUILD" -j2 pgsd_engine_bench pgsd_socket_bench >"$BUILD/bench-build-engine.log" 2>&1 ||
    ENGINE_BUILD_NOTE="the micro-benchmarks did not build (see $BUILD/bench-build-engine.log); skipped."
fi
PROXY=$BUILD/proxy/pgsoftdelete
ENGINE_BENCH=$BUILD/bench/pgsd_engine_bench
SOCKET_BENCH=$BUILD/bench/pgsd_socket_bench
[ -x "$PROXY" ] || die "no proxy binary at $PROXY"

# ---------------------------------------------------------------- temporary folder, cleanup
WORK=$(mktemp -d /tmp/pgsd-bench.XXXXXX)
chmod 755 "$WORK"
PGDIR=$WORK/pg
BDIR=$WORK/pgbouncer
mkdir -p "$BDIR"
[ "$(id -u)" = 0 ] && chown postgres: "$BDIR"
PIDS=()

cleanup() {
  local rc=$?
  set +e
  trap - EXIT INT TERM
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  [ -f "$BDIR/pgbouncer.pid" ] && kill "$(cat "$BDIR/pgbouncer.pid")" 2>/dev/null
  "$ROOT/scripts/tmp-postgres.sh" stop "$PGDIR"
  if [ "$rc" != 0 ]; then
    for log in "$PGDIR/postgres.log" "$BDIR/pgbouncer.log" "$WORK"/proxy*.log; do
      [ -s "$log" ] && { echo "---- tail of $log" >&2; tail -15 "$log" >&2; }
    done
  fi
  if [ "$KEEP" = 1 ]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Enough descriptors for 500 idle clients, each with its upstream connection.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PGPORT=$(free_port); BPORT=$(free_port); XPORT=$(free_port); DPORT=$(free_port); RPORT=$(free_port)
PSQL=("$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -U postgres)

wait_ready() {  # PORT PID-or-empty NAME
  for _ in $(seq 1 100); do
    "${PSQL[@]}" -p "$1" -d bench -tAc 'select 1' >/dev/null 2>&1 && return 0
    [ -n "$2" ] && ! kill -0 "$2" 2>/dev/null && die "$3 exited at start"
    sleep 0.1
  done
  die "$3 does not answer on port $1"
}

start_proxy() {  # PORT LOGLEVEL LOGFILE; sets PROXY_PID
  "$PROXY" --listen "127.0.0.1:$1" --upstream "127.0.0.1:$PGPORT" --rules "$WORK/rules.toml" \
    --log-level "$2" >"$3" 2>&1 &
  PROXY_PID=$!
  PIDS+=("$PROXY_PID")
  wait_ready "$1" "$PROXY_PID" pgsoftdelete
}

stop_proxy() {  # PID
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

# ---------------------------------------------------------------- machine
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
mem=$(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)
pgver=$("$PGBIN/postgres" --version)
bver=$(pgbouncer --version 2>/dev/null | head -1)
rev=$(cd "$ROOT" && GIT_OPTIONAL_LOCKS=0 git rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(cd "$ROOT" && GIT_OPTIONAL_LOCKS=0 git status --porcelain --untracked-files=no 2>/dev/null | wc -l)
[ "$dirty" != 0 ] && rev="$rev + uncommitted changes in $dirty file(s)"

# ---------------------------------------------------------------- micro-benchmarks (machine idle)
ENGINE_ARGS=(--engine-note "${ENGINE_BUILD_NOTE:-pgsd_engine_bench not found in $BUILD/bench; skipped.}")
if [ "$HOLD" = 0 ] && [ "$UNIX_ONLY" = 0 ] && [ -z "${ENGINE_BUILD_NOTE:-}" ] && [ -x "$ENGINE_BENCH" ]; then
  reps=10
  [ "$QUICK" = 1 ] && reps=3
  say "engine micro-benchmarks ($reps repetitions)"
  if "$ENGINE_BENCH" --benchmark_repetitions=$reps --benchmark_report_aggregates_only=true \
      --benchmark_out="$WORK/engine.json" --benchmark_out_format=json >"$WORK/engine.txt" 2>&1; then
    ENGINE_ARGS=(--engine "$WORK/engine.json")
  else
    ENGINE_ARGS=(--engine-note "pgsd_engine_bench failed: $(tail -3 "$WORK/engine.txt" | tr '\n' ' ')")
  fi
  # The kernel's floor for one hop (loopback send/receive, EAGAIN read, epoll calls), for the profile.
  if [ -x "$SOCKET_BENCH" ] && "$SOCKET_BENCH" --benchmark_repetitions=$reps --benchmark_report_aggregates_only=true \
      --benchmark_out="$WORK/socket.json" --benchmark_out_format=json >"$WORK/socket.txt" 2>&1; then
    ENGINE_ARGS+=(--engine "$WORK/socket.json")
  fi
fi

# ---------------------------------------------------------------- PostgreSQL 15, pgbench data
say "PostgreSQL 15 on port $PGPORT in $PGDIR"
"$ROOT/scripts/tmp-postgres.sh" start "$PGDIR" "$PGPORT"
# 500 idle connections through the proxy take 500 backends: raise max_connections (the helper sets 200),
# and keep the whole scale-10 data set in shared buffers. Restart to apply.
"${PSQL[@]}" -p "$PGPORT" -d postgres \
  -c "ALTER SYSTEM SET max_connections = 700" -c "ALTER SYSTEM SET shared_buffers = '512MB'"
"$ROOT/scripts/tmp-postgres.sh" stop "$PGDIR"
"$ROOT/scripts/tmp-postgres.sh" start "$PGDIR" "$PGPORT"
"${PSQL[@]}" -p "$PGPORT" -d postgres -c "CREATE DATABASE bench"
SCALE=10
say "pgbench -i -s $SCALE"
"$PGBIN/pgbench" -i -s "$SCALE" -q -h 127.0.0.1 -p "$PGPORT" -U postgres bench >"$WORK/pgbench-init.log" 2>&1 ||
  { cat "$WORK/pgbench-init.log" >&2; die "pgbench -i failed"; }
"${PSQL[@]}" -p "$PGPORT" -d bench >/dev/null <<'SQL'
ALTER TABLE pgbench_accounts ADD COLUMN is_deleted boolean NOT NULL DEFAULT false;
ALTER TABLE pgbench_branches ADD COLUMN is_deleted boolean NOT NULL DEFAULT false;
ALTER TABLE pgbench_tellers  ADD COLUMN is_deleted boolean NOT NULL DEFAULT false;
CREATE INDEX pgbench_accounts_live ON pgbench_accounts (aid) WHERE NOT is_deleted;
CREATE INDEX pgbench_branches_live ON pgbench_branches (bid) WHERE NOT is_deleted;
CREATE INDEX pgbench_tellers_live  ON pgbench_tellers  (tid) WHERE NOT is_deleted;
VACUUM ANALYZE;
CREATE EXTENSION pg_prewarm;
SELECT count(pg_prewarm(c)) FROM unnest(ARRAY['pgbench_accounts', 'pgbench_accounts_pkey', 'pgbench_accounts_live',
  'pgbench_branches', 'pgbench_branches_pkey', 'pgbench_branches_live',
  'pgbench_tellers', 'pgbench_tellers_pkey', 'pgbench_tellers_live']::regclass[]) AS c;
CHECKPOINT;
SQL
cat >"$WORK/rules.toml" <<'TOML'
[[table]]
name = "pgbench_accounts"
[[table]]
name = "pgbench_branches"
[[table]]
name = "pgbench_tellers"
TOML

# ---------------------------------------------------------------- PgBouncer, session mode
cat >"$BDIR/userlist.txt" <<'EOF'
"postgres" ""
EOF
cat >"$BDIR/pgbouncer.ini" <<EOF
[databases]
bench = host=127.0.0.1 port=$PGPORT dbname=bench
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $BPORT
unix_socket_dir =
auth_type = trust
auth_file = $BDIR/userlist.txt
pool_mode = session
max_client_conn = 1000
default_pool_size = 80
logfile = $BDIR/pgbouncer.log
pidfile = $BDIR/pgbouncer.pid
EOF
[ "$(id -u)" = 0 ] && chown postgres: "$BDIR"/*
say "PgBouncer (session mode) on port $BPORT"
as_owner pgbouncer -d -q "$BDIR/pgbouncer.ini"
wait_ready "$BPORT" "" pgbouncer

# ---------------------------------------------------------------- rewriting is active through the proxy
say "checking that pgsoftdelete rewrites"
start_proxy "$DPORT" debug "$WORK/proxy-debug.log"
"${PSQL[@]}" -p "$DPORT" -d bench -tAc "SELECT abalance FROM pgbench_accounts WHERE aid = 1" >/dev/null
stop_proxy "$PROXY_PID"
REWRITE_LINES=$(grep -A1 'rewrote:' "$WORK/proxy-debug.log" | grep -m1 'into:' | sed 's/^ *//' || true)

start_proxy "$XPORT" warn "$WORK/proxy.log"
BENCH_PROXY_PID=$PROXY_PID
"${PSQL[@]}" -p "$PGPORT" -d bench -c "UPDATE pgbench_accounts SET is_deleted = true WHERE aid = 1"
cat >"$WORK/check.sql" <<'EOF'
\set aid 1
SELECT count(*) AS n FROM pgbench_accounts WHERE aid = :aid \gset
\if :n != 0
SELECT 1 / 0 AS deleted_row_is_visible;
\endif
EOF
count_direct=$("${PSQL[@]}" -p "$PGPORT" -d bench -tAc "SELECT count(*) FROM pgbench_accounts WHERE aid = 1")
REWRITE_OK=1
CHECKS=("direct: the row marked deleted (aid 1) is visible ($count_direct row)")
for mode in simple extended prepared; do
  if "$PGBIN/pgbench" -n -t 1 -M "$mode" -f "$WORK/check.sql" -h 127.0.0.1 -p "$XPORT" -U postgres bench \
      >"$WORK/check-$mode.log" 2>&1; then
    CHECKS+=("pgsoftdelete, -M $mode: hidden")
  else
    CHECKS+=("pgsoftdelete, -M $mode: VISIBLE (rewriting not active)")
    REWRITE_OK=0
  fi
done
[ "$count_direct" = 1 ] || { REWRITE_OK=0; CHECKS+=("direct check failed: $count_direct rows"); }
plan_direct=$("${PSQL[@]}" -p "$PGPORT" -d bench -tAc "EXPLAIN SELECT abalance FROM pgbench_accounts WHERE aid = 2" | head -1 | sed 's/  (cost.*//')
plan_proxy=$("${PSQL[@]}" -p "$XPORT" -d bench -tAc "EXPLAIN SELECT abalance FROM pgbench_accounts WHERE aid = 2" | head -1 | sed 's/  (cost.*//')
"${PSQL[@]}" -p "$PGPORT" -d bench -c "UPDATE pgbench_accounts SET is_deleted = false WHERE aid = 1" -c "VACUUM pgbench_accounts"

# ---------------------------------------------------------------- pgbench rounds
# ---------------------------------------------------------------- where a difference would come from
# PgBouncer running the very SELECT pgsoftdelete sends (taken from its debug log) separates what the
# rewritten statement costs PostgreSQL from what each proxy's hop costs.
REWRITTEN=$(sed -n 's/^ *into: //p' "$WORK/proxy-debug.log" | head -1)
[[ "$REWRITTEN" == *"(aid = 1)"* ]] || die "unexpected rewrite of pgbench's SELECT: $REWRITTEN"
printf '\\set aid random(1, 100000 * %d)\n%s;\n' "$SCALE" "${REWRITTEN/(aid = 1)/(aid = :aid)}" >"$WORK/rewritten.sql"
# PostgreSQL's planning time for pgbench's SELECT as the client wrote it (direct) and as rewritten
# (the same statement through pgsoftdelete): median of 200 EXPLAIN (ANALYZE, SUMMARY).
planning_ms() {  # PORT
  for i in $(seq 1 200); do echo "EXPLAIN (ANALYZE, SUMMARY) SELECT abalance FROM pgbench_accounts WHERE aid = $i;"; done |
    "${PSQL[@]}" -p "$1" -d bench -tA | sed -n 's/^Planning Time: \([0-9.]*\) ms/\1/p' | sort -g |
    awk '{v[NR] = $1} END {print (NR ? v[int((NR + 1) / 2)] : "nan")}'
}
PLANNING="$(planning_ms "$PGPORT") $(planning_ms "$XPORT")"

# The second workload: what an ORM sends for a page that shows an account with its branch and, if any, a
# teller: an inner and an outer join over three rule tables, literals in the text (psycopg2, Django and
# node-postgres send it so: -M simple).
cat >"$WORK/join.sql" <<EOF
\set aid random(1, 100000 * $SCALE)
\set tid random(1, 10 * $SCALE)
SELECT a.aid, a.abalance, b.bbalance, t.tbalance FROM pgbench_accounts a JOIN pgbench_branches b ON b.bid = a.bid LEFT JOIN pgbench_tellers t ON t.bid = b.bid AND t.tid = :tid WHERE a.aid = :aid;
EOF

declare -A PORT=([direct]=$PGPORT [pgbouncer]=$BPORT [pgsoftdelete]=$XPORT [pgbouncer-rewritten]=$BPORT)
TARGETS=(direct pgbouncer pgsoftdelete pgbouncer-rewritten)
RESULTS=$WORK/results.tsv
: >"$RESULTS"

run_pgbench() {  # TARGET MODE CLIENTS SECONDS -> "tps latency_ms transactions"; MODE join: the join workload
  local j=1 out script=(-S) mode=$2
  [ "$3" -gt 1 ] && j=2
  [ "$1" = pgbouncer-rewritten ] && script=(-f "$WORK/rewritten.sql")
  [ "$2" = join ] && { script=(-f "$WORK/join.sql"); mode=simple; }
  out=$("$PGBIN/pgbench" "${script[@]}" -n -M "$mode" -c "$3" -j "$j" -T "$4" -h 127.0.0.1 -p "${PORT[$1]}" -U postgres \
    bench 2>&1) || { printf '%s\n' "$out" >&2; die "pgbench failed against $1 (-M $2 -c $3)"; }
  local tps lat n
  tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' <<<"$out" | head -1)
  lat=$(sed -n 's/^latency average = \([0-9.]*\) ms/\1/p' <<<"$out" | head -1)
  n=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' <<<"$out" | head -1)
  [ -n "$tps" ] && [ -n "$lat" ] && [ -n "$n" ] || { printf '%s\n' "$out" >&2; die "cannot read pgbench's output"; }
  echo "$tps $lat $n"
}

if [ "$HOLD" = 1 ]; then
  echo "holding: direct 127.0.0.1:$PGPORT, PgBouncer 127.0.0.1:$BPORT, pgsoftdelete 127.0.0.1:$XPORT" \
    "(pid $BENCH_PROXY_PID), database bench, user postgres; folder $WORK. Ctrl-C (or SIGTERM) to stop."
  while :; do sleep 3600 & PIDS+=($!); wait $! || true; done
fi

warm=3
[ "$QUICK" = 1 ] && warm=1
say "warm-up: ${warm} s per target"
for t in "${TARGETS[@]}"; do run_pgbench "$t" prepared 8 "$warm" >/dev/null; done
MAIN_ROUNDS=$ROUNDS
[ "$UNIX_ONLY" = 1 ] && MAIN_ROUNDS=0

# Our processes, for cpu_meter.py: this shell and its children (pgbench, pgsoftdelete), PostgreSQL, PgBouncer.
ROOTS=($$ "$(head -1 "$PGDIR/data/postmaster.pid")" "$(cat "$BDIR/pgbouncer.pid")")
GATE_WAIT=15
[ "$QUICK" = 1 ] && GATE_WAIT=2
total=$((ROUNDS * (3 * 3 * ${#TARGETS[@]} + 3)))
n=0
BOUNCER_PID=$(cat "$BDIR/pgbouncer.pid")
proxy_pid_of() { case "$1" in pgsoftdelete) echo "$BENCH_PROXY_PID" ;; pgbouncer*) echo "$BOUNCER_PID" ;; esac; }
# System calls of the proxy process during a run, with perf when it may trace it ("-" otherwise).
PERF=0
if command -v perf >/dev/null && perf stat -e raw_syscalls:sys_enter -p "$BENCH_PROXY_PID" -o /dev/null -- sleep 0.1 \
    >/dev/null 2>&1; then
  PERF=1
fi
measure_one() {  # TARGET MODE CLIENTS ROUND
  local t=$1 mode=$2 c=$3 r=$4
  # The machine may be shared: wait (a little) for it to be quiet, and measure what others use.
  before=$("$PY" "$SCRIPTS/cpu_meter.py" gate 10 "$GATE_WAIT" "${ROOTS[@]}")
  # The proxy's own CPU time, context switches and system calls during the run (none for direct).
  ppid=$(proxy_pid_of "$t")
  p1="- - -" sys="-" perf_pid=""
  [ -n "$ppid" ] && p1=$("$PY" "$SCRIPTS/cpu_meter.py" proc "$ppid")
  if [ -n "$ppid" ] && [ "$PERF" = 1 ]; then
    perf stat -x, -e raw_syscalls:sys_enter -p "$ppid" -o "$WORK/perf.csv" &
    perf_pid=$!
  fi
  s1=$("$PY" "$SCRIPTS/cpu_meter.py" snap "${ROOTS[@]}")
  res=$(run_pgbench "$t" "$mode" "$c" "$DURATION")
  s2=$("$PY" "$SCRIPTS/cpu_meter.py" snap "${ROOTS[@]}")
  p2="- - -"
  [ -n "$ppid" ] && p2=$("$PY" "$SCRIPTS/cpu_meter.py" proc "$ppid")
  if [ -n "$perf_pid" ]; then
    kill -INT "$perf_pid" 2>/dev/null; wait "$perf_pid" 2>/dev/null || true
    sys=$(awk -F, '$3 ~ /raw_syscalls/ && $1 ~ /^[0-9]+$/ {print $1}' "$WORK/perf.csv")
    [ -n "$sys" ] || sys="-"
  fi
  others=$("$PY" "$SCRIPTS/cpu_meter.py" diff "$s1" "$s2")
  read -r tps lat txns <<<"$res"
  echo "$r $mode $c $t $tps $lat $others $before $txns $p1 $p2 $sys" >>"$RESULTS"
  n=$((n + 1))
  say "[$n/$total] round $r  -M $mode  -c $c  $t: $tps tps, $lat ms (other processes: $others% of the CPUs)"
}
for r in $(seq 1 "$MAIN_ROUNDS"); do
  # The order of the targets rotates from round to round, so none always runs first or last.
  k=$(((r - 1) % ${#TARGETS[@]}))
  order=("${TARGETS[@]:k}" "${TARGETS[@]:0:k}")
  for mode in simple extended prepared; do
    for c in 1 8 64; do
      for t in "${order[@]}"; do measure_one "$t" "$mode" "$c" "$r"; done
    done
  done
  # The join workload: PgBouncer+rw has no rewritten text for it.
  for t in "${order[@]}"; do
    [ "$t" = pgbouncer-rewritten ] || measure_one "$t" join 8 "$r"
  done
done
proxy_alive=yes
kill -0 "$BENCH_PROXY_PID" 2>/dev/null || proxy_alive="NO: it exited during the runs"

# ---------------------------------------------------------------- allocations per transaction
# malloc calls of each proxy process per pgbench transaction (8 clients, 3 s per mode), counted with a
# perf uprobe on libc's malloc (root only; "-" where it cannot be placed). operator new calls malloc.
: >"$WORK/allocs.tsv"
LIBC=$(ldd "$PROXY" 2>/dev/null | sed -n 's/.*libc\.so\.6 => \([^ ]*\).*/\1/p')
if [ "$UNIX_ONLY" = 0 ] && [ "$PERF" = 1 ] && [ -n "$LIBC" ] && perf probe -q -x "$LIBC" -a pgsd_malloc=malloc >/dev/null 2>&1; then
  say "allocations per transaction (perf uprobe on malloc)"
  for t in pgsoftdelete pgbouncer; do
    for mode in simple extended prepared; do
      perf stat -x, -e probe_libc:pgsd_malloc -p "$(proxy_pid_of "$t")" -o "$WORK/allocs.csv" &
      perf_pid=$!
      sleep 0.3
      read -r _ _ txns <<<"$(run_pgbench "$t" "$mode" 8 3)"
      kill -INT "$perf_pid" 2>/dev/null; wait "$perf_pid" 2>/dev/null || true
      calls=$(awk -F, '$3 ~ /pgsd_malloc/ && $1 ~ /^[0-9]+$/ {print $1}' "$WORK/allocs.csv")
      echo "$t $mode ${calls:--} $txns" >>"$WORK/allocs.tsv"
    done
  done
  perf probe -q -d probe_libc:pgsd_malloc >/dev/null 2>&1 || true
fi

# ---------------------------------------------------------------- Unix-domain sockets (co-located)
# The same SELECT (pgbench -S, 8 clients) with each proxy reaching PostgreSQL over TCP and over its Unix
# socket, and pgsoftdelete with Unix sockets on both sides; interleaved round by round, order rotated.
say "Unix sockets: each proxy with a TCP and a Unix-socket upstream"
UPORT=$(free_port); UBPORT=$(free_port); UUPORT=$(free_port)
SOCKDIR=$WORK/sock
mkdir -p "$SOCKDIR"
chmod 777 "$SOCKDIR"
"$PROXY" --listen "127.0.0.1:$UPORT" --upstream "unix:$PGDIR/.s.PGSQL.$PGPORT" --rules "$WORK/rules.toml" \
  --log-level warn >"$WORK/proxy-unix.log" 2>&1 &
UNIX_PROXY_PID=$!; PIDS+=("$UNIX_PROXY_PID")
wait_ready "$UPORT" "$UNIX_PROXY_PID" "pgsoftdelete (Unix-socket upstream)"
"$PROXY" --listen "unix:$SOCKDIR/.s.PGSQL.$UUPORT" --upstream "unix:$PGDIR/.s.PGSQL.$PGPORT" --rules "$WORK/rules.toml" \
  --log-level warn >"$WORK/proxy-unix-both.log" 2>&1 &
BOTH_PROXY_PID=$!; PIDS+=("$BOTH_PROXY_PID")
for _ in $(seq 1 100); do [ -S "$SOCKDIR/.s.PGSQL.$UUPORT" ] && break; sleep 0.1; done
sed -e "s/^listen_port = .*/listen_port = $UBPORT/" -e "s|host=127.0.0.1 port=$PGPORT|host=$PGDIR port=$PGPORT|" \
  -e "s|pgbouncer.pid|pgbouncer-unix.pid|; s|pgbouncer.log|pgbouncer-unix.log|" "$BDIR/pgbouncer.ini" >"$BDIR/pgbouncer-unix.ini"
[ "$(id -u)" = 0 ] && chown postgres: "$BDIR"/*
as_owner pgbouncer -d -q "$BDIR/pgbouncer-unix.ini"
wait_ready "$UBPORT" "" "pgbouncer (Unix-socket upstream)"
declare -A UHOST=([pgsd-tcp]=127.0.0.1 [pgsd-unix]=127.0.0.1 [pgsd-unix-both]=$SOCKDIR [bouncer-tcp]=127.0.0.1 [bouncer-unix]=127.0.0.1)
declare -A UPORTS=([pgsd-tcp]=$XPORT [pgsd-unix]=$UPORT [pgsd-unix-both]=$UUPORT [bouncer-tcp]=$BPORT [bouncer-unix]=$UBPORT)
UTARGETS=(pgsd-tcp pgsd-unix pgsd-unix-both bouncer-tcp bouncer-unix)
: >"$WORK/unix.tsv"
for r in $(seq 1 "$ROUNDS"); do
  k=$(((r - 1) % ${#UTARGETS[@]}))
  order=("${UTARGETS[@]:k}" "${UTARGETS[@]:0:k}")
  for mode in simple prepared; do
    for t in "${order[@]}"; do
      out=$("$PGBIN/pgbench" -S -n -M "$mode" -c 8 -j 2 -T "$DURATION" -h "${UHOST[$t]}" -p "${UPORTS[$t]}" -U postgres bench 2>&1) ||
        { printf '%s\n' "$out" >&2; die "pgbench failed against $t"; }
      tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' <<<"$out" | head -1)
      echo "$r $mode $t $tps" >>"$WORK/unix.tsv"
      say "round $r  -M $mode  -c 8  $t: $tps tps"
    done
  done
done
kill "$(cat "$BDIR/pgbouncer-unix.pid")" 2>/dev/null || true
stop_proxy "$UNIX_PROXY_PID"
stop_proxy "$BOTH_PROXY_PID"

# ---------------------------------------------------------------- RSS with idle connections
: >"$WORK/rss-proxy.txt"
: >"$WORK/rss-bouncer.txt"
[ "$UNIX_ONLY" = 1 ] || {
say "RSS with $IDLE idle client connections (fresh pgsoftdelete; PgBouncer for reference)"
stop_proxy "$BENCH_PROXY_PID"
start_proxy "$RPORT" warn "$WORK/proxy-rss.log"
"$PY" "$SCRIPTS/idle_conns.py" "$PROXY_PID" "host=127.0.0.1 port=$RPORT user=postgres dbname=bench" "$IDLE" \
  >"$WORK/rss-proxy.txt" 2>"$WORK/rss-proxy.err" || { cat "$WORK/rss-proxy.err" >&2; : >"$WORK/rss-proxy.txt"; }
stop_proxy "$PROXY_PID"
"$PY" "$SCRIPTS/idle_conns.py" "$(cat "$BDIR/pgbouncer.pid")" "host=127.0.0.1 port=$BPORT user=postgres dbname=bench" \
  "$IDLE" --login-only >"$WORK/rss-bouncer.txt" 2>"$WORK/rss-bouncer.err" || { cat "$WORK/rss-bouncer.err" >&2; : >"$WORK/rss-bouncer.txt"; }
}

# ---------------------------------------------------------------- report
{
  echo "## pgsoftdelete benchmark"
  echo
  echo "- command: bench/run.sh${ARGS:+ $ARGS} (rounds: $ROUNDS, $DURATION s per pgbench run;" \
    "targets interleaved, order rotated per round)"
  echo "- machine: $(nproc) cores, $cpu, $mem; kernel $(uname -r)"
  echo "- $pgver; $bver; pgsoftdelete $rev (Release, $(nproc) I/O threads)"
  echo "- pgbench scale 10, \`pgbench -S -n -M MODE -c 1 -j 1\`, \`-c 8 -j 2\` and \`-c 64 -j 2\`, over TCP on" \
    "127.0.0.1; PgBouncer in session mode; data prewarmed in shared_buffers (512MB)"
  echo "- join workload (mode \`join\`): \`pgbench -n -M simple -c 8 -j 2 -f join.sql\`, literals varying:"
  echo "  \`$(tail -1 "$WORK/join.sql")\`"
  echo "- system calls per transaction: $([ "$PERF" = 1 ] && echo "perf stat -e raw_syscalls:sys_enter on the proxy process" || echo "not measured (perf cannot trace here)")"
  echo "- rewriting active through pgsoftdelete: $([ "$REWRITE_OK" = 1 ] && echo yes || echo '**NO**')"
  for line in "${CHECKS[@]}"; do echo "  - $line"; done
  [ -n "$REWRITE_LINES" ] && echo "  - debug log, pgbench's SELECT $REWRITE_LINES"
  echo "  - plan direct: \`$plan_direct\`; through pgsoftdelete: \`$plan_proxy\`"
  echo "- pgsoftdelete still running after the pgbench runs: $proxy_alive"
  echo
  [ "$UNIX_ONLY" = 1 ] || "$PY" "$SCRIPTS/report.py" "$RESULTS" "${ENGINE_ARGS[@]}" --planning "$PLANNING" --clock-ticks "$(getconf CLK_TCK)" \
    --rss "pgsoftdelete:$WORK/rss-proxy.txt" --rss "PgBouncer:$WORK/rss-bouncer.txt"
  if [ -s "$WORK/unix.tsv" ]; then
    echo
    echo "### Unix-domain sockets (pgbench -S, 8 clients; median TPS over $ROUNDS round(s) of $DURATION s, order rotated)"
    echo
    echo "pgsd-tcp: TCP both sides; pgsd-unix: TCP from pgbench, Unix socket to PostgreSQL; pgsd-unix-both: Unix"
    echo "sockets both sides; bouncer-*: PgBouncer (session mode) with a TCP or a Unix-socket upstream."
    echo
    echo "| mode | pgsd-tcp | pgsd-unix | pgsd-unix-both | bouncer-tcp | bouncer-unix | pgsd unix/tcp | pgsd both/tcp | bouncer unix/tcp |"
    echo "|---|---|---|---|---|---|---|---|---|"
    for mode in simple prepared; do
      # Ratios: the median of the per-round ratios (each round's runs side by side).
      awk -v m="$mode" '
        function median(list,   n, i, j, x, a) { n = split(list, a, " "); for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { x = a[i]; a[i] = a[j]; a[j] = x }
          return n ? (n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2) : 0 }
        $2 == m { v[$3] = v[$3] " " $4; t[$1, $3] = $4; rounds[$1] = 1 }
        END { for (r in rounds) { pu = pu " " t[r, "pgsd-unix"] / t[r, "pgsd-tcp"]; pb = pb " " t[r, "pgsd-unix-both"] / t[r, "pgsd-tcp"]
                                  bu = bu " " t[r, "bouncer-unix"] / t[r, "bouncer-tcp"] }
          printf "| %s | %.0f | %.0f | %.0f | %.0f | %.0f | %.2f | %.2f | %.2f |\n", m, median(v["pgsd-tcp"]), median(v["pgsd-unix"]),
            median(v["pgsd-unix-both"]), median(v["bouncer-tcp"]), median(v["bouncer-unix"]), median(pu), median(pb), median(bu) }' "$WORK/unix.tsv"
    done
  fi
  if [ -s "$WORK/allocs.tsv" ]; then
    echo
    echo "### Allocations per transaction (malloc calls of the proxy process, 8 clients, one 3 s run per mode)"
    echo
    echo "| proxy | simple | extended | prepared |"
    echo "|---|---|---|---|"
    for t in pgsoftdelete pgbouncer; do
      awk -v t="$t" '$1 == t { v[$2] = ($3 == "-" || $4 == 0) ? "-" : sprintf("%.2f", $3 / $4) }
        END { printf "| %s | %s | %s | %s |\n", t, v["simple"], v["extended"], v["prepared"] }' "$WORK/allocs.tsv"
    done
  fi
}
[ "$REWRITE_OK" = 1 ] || exit 3
