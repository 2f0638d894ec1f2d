"""Shared pieces of the Python client checks: where the proxy and the server are, a check counter,
and direct (unproxied) access to the server to see what really happened."""
import os
import sys
import traceback

import psycopg

HOST = os.environ.get("PGSD_HOST", "127.0.0.1")
PORT = int(os.environ.get("PGSD_PORT", "6432"))
DIRECT_PORT = int(os.environ.get("PGSD_DIRECT_PORT", "5432"))
USER = os.environ.get("PGSD_USER", "postgres")
DB = os.environ.get("PGSD_DB", "postgres")

PROXY_DSN = f"host={HOST} port={PORT} user={USER} dbname={DB}"
DIRECT_DSN = f"host={HOST} port={DIRECT_PORT} user={USER} dbname={DB}"

# The seed (see the task): ids of the soft-deleted rows.
DELETED_HUMANS = (3, 5)
DELETED_ALIENS = (2, 5)

checks = 0
failures = []


def check(cond, message):
    """An assertion that is counted. `message` says what was expected and what was seen."""
    global checks
    checks += 1
    if not cond:
        raise AssertionError(message)


def equal(seen, expected, what):
    check(seen == expected, f"{what}: expected {expected!r}, got {seen!r}")


def run_section(name, fn):
    """Runs one library's checks; a failure is recorded and the next section still runs."""
    before = checks
    try:
        fn()
    except Exception:  # noqa: BLE001 - every failure is reported, whatever its kind
        failures.append(name)
        print(f"FAIL {name} (after {checks - before} checks):")
        traceback.print_exc(file=sys.stdout)
        return
    print(f"ok   {name}: {checks - before} checks", flush=True)


def direct(sql, params=None):
    """Rows of `sql` run on the server itself, bypassing the proxy."""
    with psycopg.connect(DIRECT_DSN, autocommit=True) as c:
        cur = c.execute(sql, params)
        return cur.fetchall() if cur.description else cur.rowcount


def reset_seed():
    """Puts the deletion flags back as seeded (the checks only ever soft-delete)."""
    direct("UPDATE humans SET is_deleted = id IN (3, 5); UPDATE aliens SET is_deleted = id IN (2, 5)")
    equal(direct("SELECT count(*) FROM humans WHERE NOT is_deleted")[0][0], 3, "seed: live humans")


def check_soft_deleted(table, row_id):
    """The row is still there on the server, marked deleted."""
    rows = direct(f"SELECT is_deleted FROM {table} WHERE id = %s", (row_id,))
    equal(rows, [(True,)], f"direct: {table} id {row_id} kept with is_deleted = true")
