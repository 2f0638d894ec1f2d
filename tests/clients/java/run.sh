#!/usr/bin/env bash
# pgjdbc through pgsoftdelete (see Main.java). Needs install.sh's packages and PGSD_HOST, PGSD_PORT,
# PGSD_DIRECT_PORT, PGSD_USER, PGSD_DB. Prints "PASS <n> checks" and exits 0 only when all held.
set -euo pipefail
cd "$(dirname "$0")"

jar=/usr/share/java/postgresql.jar
command -v java >/dev/null || { echo "missing java: run install.sh" >&2; exit 1; }
[ -f "$jar" ] || { echo "missing $jar: run install.sh" >&2; exit 1; }
echo "$(java -version 2>&1 | head -1); $(dpkg-query -W -f='${Package} ${Version}' libpostgresql-jdbc-java)"

# The source launcher compiles Main.java in memory: nothing is written.
exec timeout 120 java -Xshare:auto -XX:TieredStopAtLevel=1 -cp "$jar" Main.java
