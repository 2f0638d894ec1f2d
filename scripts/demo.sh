#!/usr/bin/env bash
# The main job, on one machine: installs what is missing, builds, starts a throwaway
# PostgreSQL 15 in a temporary folder with demo tables, and pgsoftdelete in front of it.
# Ctrl-C (or a TERM to the script) stops both and removes the folder.
#   PG_PORT (default 54329) and PROXY_PORT (default 6432) choose the ports.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh

pg_port=${PG_PORT:-54329}
proxy_port=${PROXY_PORT:-6432}
dir=$(mktemp -d /tmp/pgsd-demo-XXXXXX)
proxy_pid=""
# Ctrl-C or a TERM to this script stops the proxy (gracefully), then PostgreSQL, then removes the folder.
cleanup() {
  if [ -n "$proxy_pid" ]; then
    kill "$proxy_pid" 2>/dev/null || true
    wait "$proxy_pid" 2>/dev/null || true
  fi
  scripts/tmp-postgres.sh stop "$dir"
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

scripts/tmp-postgres.sh start "$dir" "$pg_port"
/usr/lib/postgresql/15/bin/psql -X -q -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -f conf/demo.sql

cat <<MSG

PostgreSQL 15 runs on 127.0.0.1:$pg_port (folder $dir); pgsoftdelete listens on 127.0.0.1:$proxy_port.
Connect through the proxy with:

  psql "host=127.0.0.1 port=$proxy_port user=postgres dbname=postgres"

Ctrl-C stops both.
MSG
build/proxy/pgsoftdelete --config conf/demo.toml --listen "127.0.0.1:$proxy_port" --upstream "127.0.0.1:$pg_port" &
proxy_pid=$!
wait "$proxy_pid"
