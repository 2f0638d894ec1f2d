"""psycopg 3 through the proxy: reads, joins, DELETE counts, server-side prepared statements across
hint changes, pipeline mode, and a refusal."""
import psycopg
import psycopg.errors

from common import PROXY_DSN, check, check_soft_deleted, direct, equal, reset_seed

JOIN = "SELECT h.name, a.name FROM humans h JOIN aliens a ON a.human_id = h.id ORDER BY h.id"
LEFT_JOIN_HUMANS = "SELECT h.name, a.name FROM humans h LEFT JOIN aliens a ON a.human_id = h.id ORDER BY h.id, a.id"
LEFT_JOIN_ALIENS = "SELECT a.name, h.name FROM aliens a LEFT JOIN humans h ON h.id = a.human_id ORDER BY a.id"


def count(conn, sql="SELECT count(*) FROM humans", params=None, **kw):
    return conn.execute(sql, params, **kw).fetchone()[0]


def reads(conn):
    equal(count(conn), 3, "psycopg: humans through the proxy")
    equal(count(conn, "SELECT count(*) FROM aliens"), 3, "psycopg: aliens through the proxy")
    equal([r[0] for r in conn.execute("SELECT name FROM humans ORDER BY id")], ["Ada", "Grace", "Edsger"],
          "psycopg: live humans")
    # Parameters (extended protocol).
    equal(count(conn, "SELECT count(*) FROM humans WHERE id >= %s", (2,)), 2, "psycopg: humans with id >= 2")
    equal(conn.execute(JOIN).fetchall(), [("Ada", "Zorg")], "psycopg: JOIN")
    equal(conn.execute(LEFT_JOIN_HUMANS).fetchall(), [("Ada", "Zorg"), ("Grace", None), ("Edsger", None)],
          "psycopg: humans LEFT JOIN aliens (Xel, Mork deleted)")
    equal(conn.execute(LEFT_JOIN_ALIENS).fetchall(), [("Zorg", "Ada"), ("Quux", None), ("Blip", None)],
          "psycopg: aliens LEFT JOIN humans (Alan deleted)")
    # Hints in a comment: the plain form and the sqlcommenter form (with parameters psycopg reads
    # % as a placeholder, so the percent-encoded comma is written %%2C).
    equal(count(conn, "/* pgsoftdelete: skip=humans */ SELECT count(*) FROM humans"), 5, "psycopg: skip comment")
    equal(count(conn, "SELECT count(*) FROM humans -- pgsoftdelete: only_deleted=humans"), 2,
          "psycopg: only_deleted line comment")
    equal(count(conn, "SELECT count(*) FROM humans h JOIN aliens a ON a.human_id = h.id "
                      "WHERE h.id > %s /*pgsoftdelete.skip='humans%%2Caliens'*/", (0,)), 4,
          "psycopg: sqlcommenter skip of both tables, with a parameter")


def deletes(conn):
    cur = conn.execute("DELETE FROM humans WHERE id = %s", (1,))
    equal(cur.rowcount, 1, "psycopg: DELETE rowcount")
    equal(cur.statusmessage, "DELETE 1", "psycopg: DELETE status")
    check_soft_deleted("humans", 1)
    cur = conn.execute("DELETE FROM humans WHERE id = 1")  # already deleted: 0 rows
    equal(cur.rowcount, 0, "psycopg: DELETE of a deleted row")
    # executemany (pipelined Executes): 2 and 4 live, 3 already deleted.
    cur = conn.cursor()
    cur.executemany("DELETE FROM humans WHERE id = %s", [(2,), (3,), (4,)])
    equal(cur.rowcount, 2, "psycopg: executemany DELETE total rowcount")
    equal(count(conn), 0, "psycopg: no live humans left")
    cur = conn.execute("DELETE FROM aliens WHERE id IN (2, 3) RETURNING id, is_deleted")
    equal((cur.rowcount, cur.fetchall()), (1, [(3, True)]), "psycopg: DELETE … RETURNING (the row after the soft delete)")
    # Undelete: UPDATE under only_deleted touches deleted rows only.
    cur = conn.execute("/* pgsoftdelete: only_deleted=humans */ UPDATE humans SET is_deleted = false WHERE id IN (1, 3)")
    equal(cur.rowcount, 2, "psycopg: undelete under only_deleted")
    equal(count(conn), 2, "psycopg: Ada and Alan are back")
    # Purge: a real DELETE of a deleted row needs skip and hard_delete.
    cur = conn.execute("DELETE FROM humans WHERE id = %s -- pgsoftdelete: skip=humans hard_delete=humans", (5,))
    equal(cur.rowcount, 1, "psycopg: hard delete rowcount")
    equal(direct("SELECT count(*) FROM humans WHERE id = 5")[0][0], 0, "direct: Barbara really deleted")
    direct("INSERT INTO humans VALUES (5, 'Barbara', true)")
    equal(direct("SELECT count(*) FROM humans")[0][0], 5, "direct: all 5 humans still there")


def prepared(conn):
    sql = "SELECT count(*) FROM humans"
    equal(count(conn, sql, prepare=True), 3, "psycopg prepared: before SET")
    # psycopg names its statements _pg3_<n>; the server holds it (its text is the rewritten one).
    names = [r[0] for r in conn.execute("SELECT name FROM pg_prepared_statements WHERE name LIKE '\\_pg3\\_%'")]
    check(len(names) == 1, f"psycopg prepared: the server holds one prepared statement of psycopg's, got {names}")
    conn.execute("SET pgsoftdelete.skip = 'humans'")
    equal(count(conn, sql, prepare=True), 5, "psycopg prepared: after SET pgsoftdelete.skip = 'humans'")
    conn.execute("RESET pgsoftdelete.skip")
    equal(count(conn, sql, prepare=True), 3, "psycopg prepared: after RESET")
    # With a parameter and psycopg's automatic preparation (prepare_threshold).
    conn.prepare_threshold = 0
    sql = "SELECT count(*) FROM humans WHERE id > %s"
    equal(count(conn, sql, (0,)), 3, "psycopg auto-prepared: before SET")
    conn.execute("SET pgsoftdelete.skip = '*'")
    equal(count(conn, sql, (0,)), 5, "psycopg auto-prepared: after SET")
    conn.execute("RESET pgsoftdelete.skip")
    equal(count(conn, sql, (0,)), 3, "psycopg auto-prepared: after RESET")
    conn.prepare_threshold = 5


def pipeline(conn):
    with conn.pipeline():
        c1 = conn.execute("SELECT count(*) FROM humans")
        c2 = conn.execute("DELETE FROM humans WHERE id = %s", (2,))
        c3 = conn.execute("/* pgsoftdelete: skip=humans */ SELECT count(*) FROM humans")
        c4 = conn.execute("SELECT count(*) FROM humans WHERE id > %s -- pgsoftdelete: only_deleted=humans", (0,))
        c5 = conn.execute("DELETE FROM aliens WHERE id IN (1, 2)")
        c6 = conn.execute("SELECT count(*) FROM humans")
    conn.commit()
    equal(c1.fetchone()[0], 3, "psycopg pipeline: count before DELETE")
    equal((c2.rowcount, c2.statusmessage), (1, "DELETE 1"), "psycopg pipeline: DELETE count")
    equal(c3.fetchone()[0], 5, "psycopg pipeline: skip comment")
    equal(c4.fetchone()[0], 3, "psycopg pipeline: only_deleted comment (Alan, Barbara, Grace)")
    equal(c5.rowcount, 1, "psycopg pipeline: DELETE of a live and a deleted alien")
    equal(c6.fetchone()[0], 2, "psycopg pipeline: count after DELETE")
    # A SET pipelined ahead of a prepared statement: the statements behind it run under the new hints.
    sql = "SELECT count(*) FROM humans WHERE id > %s"
    with conn.pipeline():
        p1 = conn.execute(sql, (0,), prepare=True)
        conn.execute("SET pgsoftdelete.skip = 'humans'")
        p2 = conn.execute(sql, (0,), prepare=True)
        conn.execute("RESET pgsoftdelete.skip")
        p3 = conn.execute(sql, (0,), prepare=True)
    conn.commit()
    equal([p.fetchone()[0] for p in (p1, p2, p3)], [2, 5, 2], "psycopg pipeline: prepared statement around SET/RESET")
    check_soft_deleted("humans", 2)
    check_soft_deleted("aliens", 1)


def other_paths(conn):
    """COPY TO, a server-side (DECLARE) cursor, hints as startup options."""
    cur = conn.cursor()
    with cur.copy("COPY humans (name) TO STDOUT") as copy:
        names = sorted(b"".join(bytes(block) for block in copy).decode().split())
    equal(names, ["Ada", "Edsger", "Grace"], "psycopg: COPY humans TO STDOUT")
    with conn.transaction():
        with conn.cursor(name="named") as named:
            named.execute("SELECT name FROM humans ORDER BY id")
            equal([r[0] for r in named.fetchmany(10)], ["Ada", "Grace", "Edsger"], "psycopg: server-side cursor")
    with psycopg.connect(PROXY_DSN, options="-c pgsoftdelete.skip=humans", autocommit=True) as skipping:
        equal(count(skipping), 5, "psycopg: pgsoftdelete.skip as a startup option")
        equal(skipping.execute("SHOW pgsoftdelete.skip").fetchone()[0], "humans", "psycopg: SHOW pgsoftdelete.skip")


def refusal(conn):
    try:
        conn.execute("TRUNCATE humans")
        check(False, "psycopg: TRUNCATE humans was not refused")
    except psycopg.errors.FeatureNotSupported as e:
        equal(e.sqlstate, "0A000", "psycopg: TRUNCATE SQLSTATE")
    if not conn.autocommit:
        conn.rollback()
    equal(count(conn), 3, "psycopg: the connection answers after the refusal")
    equal(direct("SELECT count(*) FROM humans")[0][0], 5, "direct: TRUNCATE did nothing")
    try:
        conn.execute("SELECT count(*) FROM humans /* pgsoftdelete: skipp=humans */")
        check(False, "psycopg: a misspelt hint was accepted")
    except psycopg.errors.InvalidParameterValue as e:
        equal(e.sqlstate, "22023", "psycopg: misspelt hint SQLSTATE")
    if not conn.autocommit:
        conn.rollback()
    equal(count(conn), 3, "psycopg: the connection answers after the misspelt hint")


def pipeline_refusal(conn):
    """A refusal in a pipeline discards what follows until Sync; the connection goes on."""
    try:
        with conn.pipeline():
            conn.execute("SELECT 1")
            conn.execute("TRUNCATE aliens")
            conn.execute("DELETE FROM humans WHERE id = 4")
        check(False, "psycopg pipeline: TRUNCATE aliens was not refused")
    except psycopg.errors.FeatureNotSupported as e:
        equal(e.sqlstate, "0A000", "psycopg pipeline: TRUNCATE SQLSTATE")
    conn.rollback()
    equal(count(conn), 3, "psycopg pipeline: the DELETE after the refusal did not run")
    equal(direct("SELECT is_deleted FROM humans WHERE id = 4"), [(False,)], "direct: Edsger untouched")


def run():
    reset_seed()
    with psycopg.connect(PROXY_DSN, autocommit=True) as conn:
        reads(conn)
        deletes(conn)
    reset_seed()
    with psycopg.connect(PROXY_DSN, autocommit=True) as conn:
        prepared(conn)
        other_paths(conn)
        refusal(conn)
    reset_seed()
    with psycopg.connect(PROXY_DSN) as conn:  # a transaction per pipeline, committed by the block
        pipeline(conn)
    reset_seed()
    with psycopg.connect(PROXY_DSN) as conn:
        refusal(conn)
        pipeline_refusal(conn)
