"""Two clients of each driver at once through pgsoftdelete -> PgBouncer (transaction mode, one server
connection): psycopg 3 preparing every statement by name (prepare_threshold=0) and asyncpg with its
statement cache (named statements). Prints one line per driver: "<driver> ok" or "<driver> error <type>".
Usage: topology_pgbouncer_clients.py HOST PORT"""
import asyncio
import sys

import asyncpg
import psycopg

host, port = sys.argv[1], int(sys.argv[2])
dsn = f"host={host} port={port} user=postgres dbname=postgres"


def run_psycopg():
    try:
        a = psycopg.connect(dsn, autocommit=True, prepare_threshold=0)
        b = psycopg.connect(dsn, autocommit=True, prepare_threshold=0)
        for i in range(5):
            for c in (a, b):
                n = c.execute("SELECT count(*) FROM humans WHERE id > %s", (i,)).fetchone()[0]
                names = c.execute("SELECT name FROM humans WHERE id = %s", (2,)).fetchall()
                assert names == [("Grace",)], names
        print("psycopg ok", n)
    except Exception as e:  # noqa: BLE001 - reported to the test, which checks the outcome
        print("psycopg error", type(e).__name__, str(e).splitlines()[0])


async def run_asyncpg():
    try:
        a = await asyncpg.connect(host=host, port=port, user="postgres", database="postgres")
        b = await asyncpg.connect(host=host, port=port, user="postgres", database="postgres")
        for i in range(5):
            for c in (a, b):
                n = await c.fetchval("SELECT count(*) FROM humans WHERE id > $1", i)
                name = await c.fetchval("SELECT name FROM humans WHERE id = $1", 2)
                assert name == "Grace", name
        print("asyncpg ok", n)
    except Exception as e:  # noqa: BLE001
        print("asyncpg error", type(e).__name__, str(e).splitlines()[0])


run_psycopg()
asyncio.run(run_asyncpg())
