#!/usr/bin/env bash
# A throwaway PostgreSQL 15 in a folder, on loopback, for the demo and the tests.
#   tmp-postgres.sh start DIR PORT   initdb (if needed) and start; trust for local users
#   tmp-postgres.sh standby DIR PORT PRIMARY_PORT
#                                    a streaming standby of the server on PRIMARY_PORT (pg_basebackup)
#   tmp-postgres.sh promote DIR      promote a standby (waits until it is a primary)
#   tmp-postgres.sh stop DIR         stop it (immediate) if it runs
# PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user.
set -euo pipefail

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
cmd=${1:?usage: tmp-postgres.sh start|standby|promote|stop DIR ...}
dir=${2:?usage: tmp-postgres.sh start|standby|promote|stop DIR ...}

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
  start)
    port=${3:?usage: tmp-postgres.sh start DIR PORT}
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      as_owner "$PGBIN/initdb" -D "$dir/data" -U postgres -E UTF8 --locale=C.UTF-8 \
        --auth-local=trust --auth-host=trust --no-sync >"$dir/initdb.log" 2>&1 ||
        { cat "$dir/initdb.log" >&2; exit 1; }
      cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
password_encryption = 'scram-sha-256'
CONF
    fi
    as_owner "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -o "-p $port" -w -t 60 start >/dev/null ||
      { cat "$dir/postgres.log" >&2; exit 1; }
    ;;
  standby)
    port=${3:?usage: tmp-postgres.sh standby DIR PORT PRIMARY_PORT}
    primary=${4:?usage: tmp-postgres.sh standby DIR PORT PRIMARY_PORT}
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    as_owner "$PGBIN/pg_basebackup" -h 127.0.0.1 -p "$primary" -U postgres -D "$dir/data" -R -X stream \
      --no-sync >"$dir/basebackup.log" 2>&1 || { cat "$dir/basebackup.log" >&2; exit 1; }
    cat >>"$dir/data/postgresql.conf" <<CONF
port = $port
unix_socket_directories = '$dir'
CONF
    as_owner "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -o "-p $port" -w -t 60 start >/dev/null ||
      { cat "$dir/postgres.log" >&2; exit 1; }
    ;;
  promote)
    as_owner "$PGBIN/pg_ctl" -D "$dir/data" -w -t 60 promote >/dev/null
    ;;
  stop)
    if [ -f "$dir/data/postmaster.pid" ]; then
      as_owner "$PGBIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    ;;
  *)
    echo "tmp-postgres.sh: unknown command $cmd" >&2
    exit 2
    ;;
esac
