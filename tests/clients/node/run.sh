#!/usr/bin/env bash
# Client matrix, JavaScript: node-postgres (+ pg-cursor), knex and Sequelize through the proxy.
# Env (set by tests/integration/client_matrix_test.cpp): PGSD_HOST, PGSD_PORT (the proxy),
# PGSD_DIRECT_PORT (the server itself), PGSD_USER, PGSD_DB.
# Prints "PASS <n> checks" at the end only when every test passed; exits non-zero otherwise.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

: "${PGSD_PORT:?PGSD_PORT (the proxy port) is not set}"
: "${PGSD_DIRECT_PORT:?PGSD_DIRECT_PORT (the server port) is not set}"
export PGSD_HOST="${PGSD_HOST:-127.0.0.1}" PGSD_USER="${PGSD_USER:-postgres}" PGSD_DB="${PGSD_DB:-postgres}"

if ! command -v node >/dev/null 2>&1; then
  echo "FAIL: node not found" >&2
  exit 1
fi
bash ./install.sh || { echo "FAIL: npm dependencies could not be installed" >&2; exit 1; }

node -e '
const v = (m) => JSON.parse(require("fs").readFileSync(`node_modules/${m}/package.json`, "utf8")).version;
console.log(`node ${process.version}, pg ${v("pg")}, pg-cursor ${v("pg-cursor")}, knex ${v("knex")}, sequelize ${v("sequelize")}`);
' || exit 1

tap="$(mktemp)"
trap 'rm -f "$tap"' EXIT
# Files one after the other: the tests share the seed tables. The spec report goes to the terminal,
# a TAP copy to a file for the summary. `timeout` bounds a hang (each test also has its own).
timeout 120 node --test --test-concurrency=1 --test-timeout=20000 \
  --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination="$tap" \
  test/pg.test.js test/knex.test.js test/sequelize.test.js
status=$?

pass=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$tap" | tail -1)
fail=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$tap" | tail -1)
if [[ $status -eq 0 && -n "$pass" && "$pass" -gt 0 && "${fail:-1}" -eq 0 ]]; then
  echo "PASS ${pass} checks"
  exit 0
fi
echo "FAIL: node --test exited ${status} (pass ${pass:-?}, fail ${fail:-?})"
exit 1
