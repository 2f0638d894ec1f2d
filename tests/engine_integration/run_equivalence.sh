#!/usr/bin/env bash
# Starts a throwaway PostgreSQL 15 in a temporary folder, loads the test data three times (database "live" keeps
# the soft-deleted rows, "clean" has them removed, "deleted" has only them) and runs the equivalence test binary
# given as $1.
set -euo pipefail

BIN=$1
HERE=$(cd "$(dirname "$0")" && pwd)
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
TMP=$(mktemp -d /tmp/pgsd-equivalence.XXXXXX)

# PostgreSQL refuses to run as root: use the postgres user then.
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
if [ "$(id -u)" = 0 ]; then chown postgres "$TMP"; fi
cleanup() {
  as_pg "$PGBIN/pg_ctl" -D "$TMP/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$TMP"
}
trap cleanup EXIT

PORT=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
as_pg "$PGBIN/initdb" -D "$TMP/data" -A trust -U postgres >"$TMP/initdb.log" 2>&1 || { cat "$TMP/initdb.log"; exit 1; }
as_pg "$PGBIN/pg_ctl" -D "$TMP/data" -w -l "$TMP/data/server.log" \
  -o "-p $PORT -k $TMP -c listen_addresses='' -c fsync=off" start >/dev/null
psql() { as_pg "$PGBIN/psql" -h "$TMP" -p "$PORT" -U postgres -X -q -v ON_ERROR_STOP=1 "$@"; }

psql -d postgres -c "CREATE DATABASE live"
psql -d live <"$HERE/schema.sql"
psql -d postgres -c "CREATE DATABASE clean TEMPLATE live"
psql -d clean -c "DELETE FROM humans WHERE is_deleted; DELETE FROM aliens WHERE deleted_at IS NOT NULL;
                  DELETE FROM ships WHERE is_deleted; DELETE FROM fleet WHERE is_deleted; DELETE FROM badges WHERE is_deleted;
                  DELETE FROM crew WHERE is_deleted; DELETE FROM lllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllll WHERE is_deleted;
                  DELETE FROM members WHERE is_deleted;
                  DELETE FROM pins WHERE is_deleted; DELETE FROM reactions WHERE is_deleted; DELETE FROM drafts WHERE deleted_at IS NOT NULL;
                  DELETE FROM comments WHERE is_deleted; DELETE FROM posts WHERE is_deleted; DELETE FROM authors WHERE is_deleted;
                  DELETE FROM staff WHERE is_deleted; DELETE FROM slugs WHERE is_deleted;
                  DELETE FROM tasks WHERE is_deleted; DELETE FROM reviews WHERE is_deleted;
                  DELETE FROM kin_refs WHERE is_deleted; DELETE FROM kin_parent WHERE is_deleted;
                  DELETE FROM zone_refs WHERE is_deleted; DELETE FROM zones WHERE is_deleted; DROP INDEX members_live_email, aliens_live_name;
                  CREATE UNIQUE INDEX members_email ON members (email); CREATE UNIQUE INDEX aliens_name ON aliens (name); ANALYZE"
# Only the soft-deleted rows: what the only_deleted hint must show (the foreign-key tables are not read there).
psql -d postgres -c "CREATE DATABASE deleted TEMPLATE live"
psql -d deleted -c "DELETE FROM humans WHERE NOT is_deleted; DELETE FROM aliens WHERE deleted_at IS NULL;
                    DELETE FROM ships WHERE NOT is_deleted; DELETE FROM fleet WHERE NOT is_deleted; DELETE FROM badges WHERE NOT is_deleted;
                    DELETE FROM crew WHERE NOT is_deleted; DELETE FROM lllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllll WHERE NOT is_deleted;
                    DELETE FROM members WHERE NOT is_deleted; ANALYZE"

"$BIN" "$HERE/rules.toml" "$HERE/read_queries.sql" "$HERE/write_statements.sql" \
  "host=$TMP port=$PORT user=postgres dbname=live" "host=$TMP port=$PORT user=postgres dbname=clean" \
  "host=$TMP port=$PORT user=postgres dbname=deleted"
