#!/usr/bin/env bash
# Python clients through the proxy: psycopg 3, asyncpg, SQLAlchemy 1.4 and Django 3.2 (both on
# psycopg2). Needs PGSD_HOST, PGSD_PORT (the proxy), PGSD_DIRECT_PORT (the server, to see what
# really happened), PGSD_USER, PGSD_DB; the seed tables humans and aliens as the integration tests
# create them. Prints "PASS <n> checks" when every check held, exits non-zero otherwise.
# Arguments, optional: the check modules to run (check_psycopg check_asyncpg check_sqlalchemy
# check_django recipes_in_sync).
set -euo pipefail
cd "$(dirname "$0")"
: "${PGSD_PORT:?the proxy port}" "${PGSD_DIRECT_PORT:?the server port}"

# Debian's packages (install.sh) are for /usr/bin/python3, not for whatever python3 is first on PATH.
python=/usr/bin/python3
export PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
if ! "$python" - <<'PY'
import sys
try:
    import asyncpg, django, psycopg, psycopg2, sqlalchemy
except ImportError as e:
    sys.exit(f"{e}: run tests/clients/python/install.sh")
print(f"python {sys.version.split()[0]}, psycopg {psycopg.__version__} (libpq {psycopg.pq.version()}), "
      f"asyncpg {asyncpg.__version__}, SQLAlchemy {sqlalchemy.__version__}, Django {django.get_version()}, "
      f"psycopg2 {psycopg2.__version__.split()[0]}")
PY
then
  exit 1
fi
start=$(date +%s%N)
status=0
"$python" main.py "$@" || status=$?
echo "python client checks took $(( ($(date +%s%N) - start) / 1000000 )) ms"
exit "$status"
