"""asyncpg through the proxy: reads, joins, DELETE status strings, its statement cache and named
prepared statements across hint changes, type introspection and codecs, and a refusal."""
import asyncio
import io
import json

import asyncpg

from common import DB, HOST, PORT, USER, check, check_soft_deleted, direct, equal, reset_seed


async def connect(**kw):
    return await asyncpg.connect(host=HOST, port=PORT, user=USER, database=DB, **kw)


async def reads(conn):
    equal(await conn.fetchval("SELECT count(*) FROM humans"), 3, "asyncpg: humans through the proxy")
    equal(await conn.fetchval("SELECT count(*) FROM aliens"), 3, "asyncpg: aliens through the proxy")
    equal(await conn.fetchval("SELECT count(*) FROM humans WHERE id >= $1", 2), 2, "asyncpg: with a parameter")
    rows = await conn.fetch("SELECT h.name AS h, a.name AS a FROM humans h JOIN aliens a ON a.human_id = h.id")
    equal([tuple(r) for r in rows], [("Ada", "Zorg")], "asyncpg: JOIN")
    rows = await conn.fetch("SELECT a.name, h.name FROM aliens a LEFT JOIN humans h ON h.id = a.human_id ORDER BY a.id")
    equal([tuple(r) for r in rows], [("Zorg", "Ada"), ("Quux", None), ("Blip", None)],
          "asyncpg: aliens LEFT JOIN humans (Alan deleted)")
    rows = await conn.fetch("SELECT h.name, a.name FROM humans h LEFT JOIN aliens a ON a.human_id = h.id ORDER BY h.id")
    equal([tuple(r) for r in rows], [("Ada", "Zorg"), ("Grace", None), ("Edsger", None)],
          "asyncpg: humans LEFT JOIN aliens (Xel, Mork deleted)")
    equal(await conn.fetchval("/* pgsoftdelete: skip=humans */ SELECT count(*) FROM humans"), 5,
          "asyncpg: skip comment")
    # asyncpg has no client-side placeholders: the sqlcommenter value is written as is.
    equal(await conn.fetchval("SELECT count(*) FROM humans, aliens WHERE humans.id > $1 "
                              "/*pgsoftdelete.skip='humans%2Caliens'*/", 0), 25,
          "asyncpg: sqlcommenter skip of both tables")


async def deletes(conn):
    equal(await conn.execute("DELETE FROM humans WHERE id = $1", 1), "DELETE 1", "asyncpg: DELETE status (extended)")
    check_soft_deleted("humans", 1)
    equal(await conn.execute("DELETE FROM humans WHERE id = 2"), "DELETE 1", "asyncpg: DELETE status (simple)")
    check_soft_deleted("humans", 2)
    equal(await conn.execute("DELETE FROM humans WHERE id = $1", 2), "DELETE 0", "asyncpg: DELETE of a deleted row")
    await conn.executemany("DELETE FROM humans WHERE id = $1", [(1,), (4,)])  # returns no count
    check_soft_deleted("humans", 4)
    equal(await conn.execute("DELETE FROM humans; DELETE FROM aliens"), "DELETE 3",
          "asyncpg: multi-statement DELETE (status of the last)")
    equal(direct("SELECT count(*) FROM aliens WHERE is_deleted")[0][0], 5, "direct: every alien soft-deleted")
    equal(direct("SELECT count(*) FROM humans")[0][0], 5, "direct: all 5 humans still there")


async def statement_cache(conn):
    sql = "SELECT count(*) FROM humans"
    equal(await conn.fetchval(sql), 3, "asyncpg cached statement: before SET")
    cached = len(conn._stmt_cache)  # asyncpg's own LRU cache of prepared statements
    await conn.execute("SET pgsoftdelete.skip = 'humans'")
    equal(await conn.fetchval(sql), 5, "asyncpg cached statement: after SET pgsoftdelete.skip = 'humans'")
    await conn.execute("RESET pgsoftdelete.skip")
    equal(await conn.fetchval(sql), 3, "asyncpg cached statement: after RESET")
    equal(len(conn._stmt_cache), cached, "asyncpg: the same cached statement was reused")


async def other_paths(conn):
    """SET LOCAL with a cached statement, a hint in a prepared statement's text, COPY, startup hints."""
    sql = "SELECT count(*) FROM humans"
    async with conn.transaction():
        await conn.execute("SET LOCAL pgsoftdelete.only_deleted = 'humans'")
        equal(await conn.fetchval(sql), 2, "asyncpg: cached statement under SET LOCAL only_deleted")
    equal(await conn.fetchval(sql), 3, "asyncpg: cached statement after the transaction")
    stmt = await conn.prepare("SELECT count(*) FROM humans -- pgsoftdelete: skip=humans")
    equal(await stmt.fetchval(), 5, "asyncpg: hint in a prepared statement's text")
    await conn.execute("SET pgsoftdelete.only_deleted = 'humans'")
    equal(await stmt.fetchval(), 2, "asyncpg: session only_deleted wins over the statement's skip")
    await conn.execute("RESET pgsoftdelete.only_deleted")
    equal(await stmt.fetchval(), 5, "asyncpg: hint in a prepared statement's text, again")
    out = io.BytesIO()
    await conn.copy_from_table("humans", columns=["name"], output=out)
    equal(sorted(out.getvalue().decode().split()), ["Ada", "Edsger", "Grace"], "asyncpg: copy_from_table")
    skipping = await connect(server_settings={"pgsoftdelete.skip": "*"})
    try:
        equal(await skipping.fetchval("SELECT count(*) FROM aliens"), 5, "asyncpg: server_settings hint")
    finally:
        await skipping.close()


async def named_prepared(conn):
    stmt = await conn.prepare("SELECT name FROM humans WHERE id > $1 ORDER BY id")
    for _ in range(3):
        equal([r[0] for r in await stmt.fetch(0)], ["Ada", "Grace", "Edsger"], "asyncpg prepared: live humans")
    equal(await stmt.fetchval(3), "Edsger", "asyncpg prepared: fetchval")
    await conn.execute("SET pgsoftdelete.skip = '*'")
    equal(len(await stmt.fetch(0)), 5, "asyncpg prepared: after SET")
    await conn.execute("RESET pgsoftdelete.skip")
    equal(len(await stmt.fetch(0)), 3, "asyncpg prepared: after RESET")
    delete = await conn.prepare("DELETE FROM aliens WHERE id = $1")
    statuses = []
    for alien_id in (1, 2, 3):  # 2 is already deleted
        await delete.fetch(alien_id)
        statuses.append(delete.get_statusmsg())
    equal(statuses, ["DELETE 1", "DELETE 0", "DELETE 1"], "asyncpg prepared DELETE: status of each execution")
    equal(await conn.fetchval("SELECT count(*) FROM aliens"), 1, "asyncpg prepared DELETE: one alien left")
    check_soft_deleted("aliens", 3)
    # In a transaction, with a server-side cursor over a prepared statement.
    async with conn.transaction():
        names = [r["name"] async for r in conn.cursor("SELECT name FROM humans ORDER BY id", prefetch=1)]
    equal(names, ["Ada", "Grace", "Edsger"], "asyncpg: cursor iteration")
    # A DELETE … RETURNING portal executed one row at a time (row-limited Executes).
    async with conn.transaction():
        ids = [r["id"] async for r in conn.cursor("DELETE FROM humans WHERE id > $1 RETURNING id", 1, prefetch=1)]
    equal(sorted(ids), [2, 4], "asyncpg: DELETE … RETURNING through a cursor, one row per fetch")
    check_soft_deleted("humans", 2)
    check_soft_deleted("humans", 4)


async def introspection(conn):
    # Types asyncpg does not know are looked up with its introspection query (through the proxy).
    row = await conn.fetchrow("SELECT name, 'sad'::py_mood AS mood, (id, name)::py_pair AS pair, "
                              "ARRAY['happy'::py_mood] AS moods FROM humans WHERE id = 4")
    equal(tuple(row), ("Edsger", "sad", (4, "Edsger"), ["happy"]), "asyncpg: enum, composite and array introspected")
    rows = await conn.fetch("SELECT id, mood FROM py_moods ORDER BY id")
    equal([tuple(r) for r in rows], [(1, "happy"), (2, "sad")], "asyncpg: enum column")
    await conn.set_type_codec("json", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
    doc = await conn.fetchval("SELECT json_agg(h ORDER BY h.id) FROM humans h")
    equal([h["name"] for h in doc], ["Ada", "Grace", "Edsger"], "asyncpg: json codec over filtered rows")
    equal(await conn.fetchval("SELECT $1::json", {"a": 1}), {"a": 1}, "asyncpg: json codec both ways")


async def refusal(conn):
    try:
        await conn.execute("TRUNCATE humans")
        check(False, "asyncpg: TRUNCATE humans was not refused")
    except asyncpg.exceptions.FeatureNotSupportedError as e:
        equal(e.sqlstate, "0A000", "asyncpg: TRUNCATE SQLSTATE")
    equal(await conn.fetchval("SELECT count(*) FROM humans"), 3, "asyncpg: the connection answers after the refusal")
    try:
        async with conn.transaction():
            await conn.execute("TRUNCATE aliens")
        check(False, "asyncpg: TRUNCATE aliens was not refused")
    except asyncpg.exceptions.FeatureNotSupportedError as e:
        equal(e.sqlstate, "0A000", "asyncpg: TRUNCATE SQLSTATE in a transaction")
    equal(await conn.fetchval("SELECT count(*) FROM aliens"), 3, "asyncpg: the connection answers after the rollback")
    equal(direct("SELECT count(*) FROM humans")[0][0], 5, "direct: TRUNCATE did nothing")
    # Refused while asyncpg prepares it (Parse/Describe), with a parameter.
    try:
        await conn.fetch("SELECT h.xmin FROM humans h FULL JOIN humans g ON g.id = h.id WHERE h.id > $1", 0)
        check(False, "asyncpg: a system column of humans was not refused")
    except asyncpg.exceptions.FeatureNotSupportedError as e:
        equal(e.sqlstate, "0A000", "asyncpg: system column refused at prepare")
    equal(await conn.fetchval("SELECT count(*) FROM humans WHERE id > $1", 0), 3,
          "asyncpg: a prepared query answers after the refusal")


async def main():
    reset_seed()
    direct("DROP TABLE IF EXISTS py_moods; DROP TYPE IF EXISTS py_mood, py_pair;"
           "CREATE TYPE py_mood AS ENUM ('happy', 'sad'); CREATE TYPE py_pair AS (id int, name text);"
           "CREATE TABLE py_moods (id int, mood py_mood); INSERT INTO py_moods VALUES (1, 'happy'), (2, 'sad')")
    conn = await connect()
    try:
        await reads(conn)
        await introspection(conn)
        await statement_cache(conn)
        await other_paths(conn)
        await refusal(conn)
        await deletes(conn)
        reset_seed()
        await named_prepared(conn)
    finally:
        await conn.close()
        direct("DROP TABLE py_moods; DROP TYPE py_mood, py_pair")


def run():
    asyncio.run(main())
