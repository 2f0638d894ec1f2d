#!/usr/bin/python3
"""Writes the seed corpora of the fuzz targets under tests/fuzz/corpus/<target>/ (the output is checked in;
run again after changing this script or the engine_integration statement lists):
  fuzz_engine:        one file per statement of tests/engine_integration/{read_queries,write_statements}.sql,
                      plus statements for the hint, setting and refusal paths;
  fuzz_client_stream: typed client message streams (Query, Parse/Bind/Describe/Execute/Sync, Close, COPY...);
  fuzz_server_stream: server answers (AuthenticationSASL, RowDescription, DataRow, CommandComplete, ...);
  fuzz_startup:       startup packets (StartupMessage with parameters, SSLRequest, GSSENCRequest, CancelRequest);
  fuzz_scram:         SCRAM-SHA-256 exchanges (client-first NUL client-final) with proofs for the password, salt and
                      server nonce fuzz_scram.cpp uses, and stored verifiers.
Usage: tests/fuzz/make_corpus.py   (removes and rewrites the four corpus folders)
"""
import base64
import hashlib
import hmac
import pathlib
import shutil
import struct

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CORPUS = HERE / "corpus"


def u16(v): return struct.pack(">H", v)
def u32(v): return struct.pack(">I", v & 0xFFFFFFFF)
def i32(v): return struct.pack(">i", v)
def cstr(s): return (s.encode() if isinstance(s, str) else s) + b"\0"
def msg(t, body=b""): return t.encode() + u32(len(body) + 4) + body


# ---- frontend messages -------------------------------------------------------------------------
def query(sql): return msg("Q", cstr(sql))
def parse(name, sql, types=()): return msg("P", cstr(name) + cstr(sql) + u16(len(types)) + b"".join(u32(t) for t in types))
def bind(portal, stmt, params=(), formats=(), result_formats=()):
    body = cstr(portal) + cstr(stmt) + u16(len(formats)) + b"".join(u16(f) for f in formats)
    body += u16(len(params))
    for p in params:
        body += u32(0xFFFFFFFF) if p is None else u32(len(p)) + p
    body += u16(len(result_formats)) + b"".join(u16(f) for f in result_formats)
    return msg("B", body)
def describe(target, name): return msg("D", target.encode() + cstr(name))
def execute(portal, rows=0): return msg("E", cstr(portal) + u32(rows))
def close(target, name): return msg("C", target.encode() + cstr(name))
def sync(): return msg("S")
def flush(): return msg("H")
def terminate(): return msg("X")
def copy_data(data): return msg("d", data)
def copy_done(): return msg("c")
def copy_fail(why): return msg("f", cstr(why))
def function_call(oid, args=()):
    body = u32(oid) + u16(0) + u16(len(args)) + b"".join(u32(len(a)) + a for a in args) + u16(0)
    return msg("F", body)
def password(p): return msg("p", cstr(p))
def sasl_initial(mech, data): return msg("p", cstr(mech) + u32(len(data)) + data)


# ---- backend messages --------------------------------------------------------------------------
def auth(code, extra=b""): return msg("R", u32(code) + extra)
def auth_sasl(*mechs): return auth(10, b"".join(cstr(m) for m in mechs) + b"\0")
def parameter_status(k, v): return msg("S", cstr(k) + cstr(v))
def backend_key(pid, key): return msg("K", u32(pid) + u32(key))
def ready(status="I"): return msg("Z", status.encode())
def row_description(*cols):
    body = u16(len(cols))
    for name, oid in cols:
        body += cstr(name) + u32(0) + u16(0) + u32(oid) + struct.pack(">h", -1) + i32(-1) + u16(0)
    return msg("T", body)
def data_row(*values):
    body = u16(len(values))
    for v in values:
        body += u32(0xFFFFFFFF) if v is None else u32(len(v)) + v.encode()
    return msg("D", body)
def command_complete(tag): return msg("C", cstr(tag))
def error_fields(t, **fields):
    body = b"".join(k.encode() + cstr(v) for k, v in fields.items())
    return msg(t, body + b"\0")
def error(sqlstate, message, **more): return error_fields("E", S="ERROR", V="ERROR", C=sqlstate, M=message, **more)
def notice(message): return error_fields("N", S="NOTICE", V="NOTICE", C="00000", M=message)
def parse_complete(): return msg("1")
def bind_complete(): return msg("2")
def close_complete(): return msg("3")
def no_data(): return msg("n")
def empty_query(): return msg("I")
def portal_suspended(): return msg("s")
def parameter_description(*oids): return msg("t", u16(len(oids)) + b"".join(u32(o) for o in oids))
def copy_in_response(cols): return msg("G", b"\0" + u16(cols) + b"".join(u16(0) for _ in range(cols)))
def copy_out_response(cols): return msg("H", b"\0" + u16(cols) + b"".join(u16(0) for _ in range(cols)))
def notification(pid, channel, payload): return msg("A", u32(pid) + cstr(channel) + cstr(payload))


# ---- startup packets ---------------------------------------------------------------------------
def startup(params, protocol=196608):
    body = i32(protocol) + b"".join(cstr(k) + cstr(v) for k, v in params) + b"\0"
    return u32(len(body) + 4) + body
SSL_REQUEST = u32(8) + i32(80877103)
GSSENC_REQUEST = u32(8) + i32(80877104)
def cancel(pid, key): return u32(16) + i32(80877102) + u32(pid) + u32(key)


def client_streams():
    yield "query", query("SELECT * FROM humans WHERE id = 1")
    yield "query-multi", query("BEGIN; DELETE FROM humans WHERE id = 2; COMMIT")
    yield "query-set-hint", query("SET pgsoftdelete.skip = 'humans'") + query("SELECT count(*) FROM humans")
    yield "query-empty", query("")
    yield "extended-select", (parse("", "SELECT name FROM humans WHERE id = $1", [23]) +
                              bind("", "", [b"7"]) + describe("P", "") + execute("", 0) + sync())
    yield "extended-named", (parse("s1", "DELETE FROM aliens WHERE id = $1 RETURNING id", [20]) +
                             describe("S", "s1") + sync() + bind("p1", "s1", [b"\0\0\0\0\0\0\0\x05"], [1], [1]) +
                             execute("p1", 10) + execute("p1", 0) + close("P", "p1") + close("S", "s1") + sync())
    yield "extended-null-param", (parse("", "UPDATE humans SET name = $1 WHERE id = $2") +
                                  bind("", "", [None, b"3"]) + execute("") + sync())
    yield "extended-flush", parse("q", "SELECT 1") + flush() + bind("", "q") + execute("") + flush() + sync()
    yield "close-statement", close("S", "s1") + sync()
    yield "close-portal", close("P", "") + sync()
    yield "copy-in", (query("COPY humans (id, name) FROM STDIN") + copy_data(b"1\tann\n") +
                      copy_data(b"2\tbob\n") + copy_done())
    yield "copy-fail", query("COPY aliens FROM STDIN") + copy_data(b"x") + copy_fail("client gave up")
    yield "function-call", function_call(1598, [b"abc"]) + sync()
    yield "terminate", query("SELECT 1") + terminate()
    yield "password-then-query", password("secret") + query("TABLE ships")
    yield "sasl-initial", sasl_initial("SCRAM-SHA-256", b"n,,n=,r=abcdefghijkl") + query("SELECT 1")
    yield "sasl-login", (sasl_initial("SCRAM-SHA-256", b"n,,n=,r=abcdefghijkl") +
                         msg("p", b"c=biws,r=abcdefghijklSERVER,p=" + b"A" * 43 + b"=") +
                         parse("", "SELECT * FROM humans") + bind("", "") + execute("") + sync())
    yield "large-datarow-like", copy_data(b"x" * 600) + query("SELECT 2")
    yield "prepare-execute-sql", query("PREPARE d AS DELETE FROM humans WHERE id = $1") + query("EXECUTE d(4)")


def server_streams():
    yield "auth-sasl-plus", auth_sasl("SCRAM-SHA-256-PLUS", "SCRAM-SHA-256")
    yield "auth-sasl-plus-last", auth_sasl("SCRAM-SHA-256", "SCRAM-SHA-256-PLUS")
    yield "auth-sasl-plain", auth_sasl("SCRAM-SHA-256")
    yield "auth-sasl-continue-final", (auth(11, b"r=abc,s=c2FsdA==,i=4096") + auth(12, b"v=c2lnbmF0dXJl") + auth(0))
    yield "auth-md5", auth(5, b"\x01\x02\x03\x04")
    yield "auth-cleartext", auth(3)
    yield "login", (auth(0) + parameter_status("server_version", "15.5") + parameter_status("client_encoding", "UTF8") +
                    parameter_status("standard_conforming_strings", "on") + backend_key(4242, 0xDEADBEEF) + ready())
    yield "select-result", (row_description(("id", 23), ("name", 25)) + data_row("1", "ann") + data_row("2", None) +
                            command_complete("SELECT 2") + ready())
    yield "delete-as-update", command_complete("UPDATE 3") + ready("T")
    yield "insert-tag", command_complete("INSERT 0 1") + ready()
    yield "error", (error("42601", 'syntax error at or near "FORM"', P="10", F="scan.l", L="1145", R="scanner_yyerror") +
                    ready("E"))
    yield "notice-then-ok", notice("there is no transaction in progress") + command_complete("COMMIT") + ready()
    yield "extended-answers", (parse_complete() + bind_complete() + parameter_description(23) +
                               row_description(("id", 23)) + data_row("5") + portal_suspended() +
                               close_complete() + no_data() + ready())
    yield "empty-query", empty_query() + ready()
    yield "copy-in", copy_in_response(2) + command_complete("COPY 2") + ready()
    yield "copy-out", (copy_out_response(1) + msg("d", b"1\n") + msg("c") + command_complete("COPY 1") + ready())
    yield "notification", notification(99, "chan", "payload") + ready()
    yield "fatal", error_fields("E", S="FATAL", V="FATAL", C="57P01", M="terminating connection")
    yield "big-datarow", row_description(("blob", 17)) + data_row("z" * 2000) + command_complete("SELECT 1") + ready()
    yield "discard-all", command_complete("DISCARD ALL") + command_complete("DEALLOCATE ALL") + ready()
    yield "transaction", (command_complete("BEGIN") + ready("T") + command_complete("SAVEPOINT") + ready("T") +
                          command_complete("ROLLBACK") + ready())


def startup_packets():
    yield "startup-user-db", startup([("user", "app"), ("database", "demo")])
    yield "startup-app-name", startup([("user", "app"), ("database", "demo"), ("application_name", "psql"),
                                       ("client_encoding", "UTF8"), ("DateStyle", "ISO")])
    yield "startup-options-hint", startup([("user", "admin"), ("options", "-c pgsoftdelete.skip=humans")])
    yield "startup-options-many", startup([("user", "app"), ("options",
                                           r"-c search_path=public --pgsoftdelete.only-deleted=aliens -cpgsoftdelete.hard_delete=*\ ")])
    yield "startup-param-hint", startup([("user", "admin"), ("pgsoftdelete.hard_delete", "humans, public.ships")])
    yield "startup-replication", startup([("user", "rep"), ("replication", "database")])
    yield "startup-protocol-3-1", startup([("user", "app"), ("_pq_.extension", "x")], protocol=196609)
    yield "startup-empty", startup([])
    yield "ssl-then-startup", SSL_REQUEST + startup([("user", "app")])
    yield "gssenc-then-ssl-then-startup", GSSENC_REQUEST + SSL_REQUEST + startup([("user", "app"), ("database", "x")])
    yield "ssl-request", SSL_REQUEST
    yield "cancel", cancel(4242, 0xDEADBEEF)
    yield "protocol-2", startup([("user", "app")], protocol=131072)


# fuzz_scram.cpp's server: password "pencil", this salt, 4096 iterations, this server nonce.
SCRAM_PASSWORD, SCRAM_SALT, SCRAM_ITERATIONS, SCRAM_SERVER_NONCE = b"pencil", b"fuzz-salt-16byte", 4096, "fuzzServerNonce"


def b64(raw): return base64.b64encode(raw).decode()


def scram_keys(password=SCRAM_PASSWORD, salt=SCRAM_SALT, iterations=SCRAM_ITERATIONS):
    salted = hashlib.pbkdf2_hmac("sha256", password, salt, iterations)
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    return client_key, hashlib.sha256(client_key).digest(), hmac.new(salted, b"Server Key", "sha256").digest()


def scram_exchange(gs2="n,,", user="", client_nonce="rOprNGfwEbeRWgbNEkqO", extensions="", proof_ok=True):
    """client-first-message NUL client-final-message, as a client logging in with the right password sends them."""
    client_key, stored_key, _ = scram_keys()
    first_bare = f"n={user},r={client_nonce}"
    server_first = f"r={client_nonce}{SCRAM_SERVER_NONCE},s={b64(SCRAM_SALT)},i={SCRAM_ITERATIONS}"
    final_without_proof = f"c={b64(gs2.encode())},r={client_nonce}{SCRAM_SERVER_NONCE}{extensions}"
    auth_message = f"{first_bare},{server_first},{final_without_proof}".encode()
    signature = hmac.new(stored_key, auth_message, "sha256").digest()
    proof = bytes(a ^ b for a, b in zip(client_key, signature))
    if not proof_ok:
        proof = bytes([proof[0] ^ 1]) + proof[1:]
    return f"{gs2}{first_bare}".encode() + b"\0" + f"{final_without_proof},p={b64(proof)}".encode()


def scram_inputs():
    yield "exchange", scram_exchange()
    yield "exchange-user-y", scram_exchange(gs2="y,,", user="app", client_nonce="fyko+d2lbbFgONRv9qkxdawL")
    yield "exchange-extension", scram_exchange(extensions=",x=extension")
    yield "exchange-wrong-proof", scram_exchange(proof_ok=False)
    yield "client-first-only", b"n,,n=,r=abcdefghijklmnop"
    yield "client-first-authzid", b"n,a=admin,n=,r=abc"
    yield "client-first-binding", b"p=tls-server-end-point,,n=,r=abc"
    _, stored_key, server_key = scram_keys()
    yield "verifier", f"SCRAM-SHA-256${SCRAM_ITERATIONS}:{b64(SCRAM_SALT)}${b64(stored_key)}:{b64(server_key)}".encode()
    yield "verifier-bad-key", f"SCRAM-SHA-256$4096:{b64(b'salt')}$AAAA:{b64(server_key)}".encode()


def engine_statements():
    for name in ("read_queries.sql", "write_statements.sql"):
        for line in (ROOT / "tests" / "engine_integration" / name).read_text().splitlines():
            if line and not line.startswith("--"):
                yield name.split("_")[0], line
    extras = [
        "/* pgsoftdelete: skip=humans */ SELECT * FROM humans",
        "-- pgsoftdelete: only_deleted=aliens\nSELECT * FROM aliens",
        "/* pgsoftdelete: hard_delete=* */ DELETE FROM humans WHERE id = 1",
        "SET pgsoftdelete.skip = 'humans, public.ships'",
        "SET LOCAL pgsoftdelete.only_deleted TO '*'",
        "RESET pgsoftdelete.hard_delete",
        "RESET ALL",
        "DISCARD ALL",
        "BEGIN; DELETE FROM aliens WHERE id = 3; SAVEPOINT a; ROLLBACK TO SAVEPOINT a; COMMIT",
        "PREPARE d(int) AS DELETE FROM humans WHERE id = $1",
        "EXECUTE d(4)",
        "DEALLOCATE d",
        "DELETE FROM public.\"Robots\" WHERE serial = 'R2' RETURNING *",
        "TRUNCATE humans",
        "MERGE INTO humans h USING aliens a ON a.human_id = h.id WHEN MATCHED THEN DELETE",
        "DO $$BEGIN DELETE FROM humans; END$$",
        "SELECT * FROM humans h JOIN aliens a ON a.human_id = h.id LEFT JOIN ships s ON s.owner_id = h.id",
        "COPY humans TO STDOUT",
        "COPY (SELECT * FROM aliens) TO STDOUT",
        "CREATE VIEW v AS SELECT * FROM humans",
        "SELECT U&\"\\0068umans\".id FROM U&\"\\0068umans\"",
        "SELECT * FROM humans WHERE name = E'it''s' AND id > 0x1F",
        "INSERT INTO humans (id, name) VALUES (1, 'a') ON CONFLICT (id) DO UPDATE SET name = excluded.name",
        "SELECT 1",
        "SELECT * FROM humans TABLESAMPLE SYSTEM (10)",
        "SELECT a.id FROM aliens a TABLESAMPLE BERNOULLI (50) REPEATABLE (42) WHERE a.id > 1",
        "SELECT * FROM humans h JOIN ships TABLESAMPLE SYSTEM (1) ON true",
        "SELECT /* pgsoftdelete: skip=humans */ count(*) FROM humans;",
        "DELETE FROM humans WHERE is_deleted -- pgsoftdelete: skip=humans hard_delete=humans",
        "SELECT count(*) AS count_1 FROM (SELECT /* pgsoftdelete: skip=* */ humans.id FROM humans) AS anon_1",
        "-- List humans\n-- pgsoftdelete: skip=humans\nSELECT count(*) FROM humans",
        "SELECT count(*) FROM humans /*pgsoftdelete.only_deleted='humans',traceparent='00-1-2-01'*/",
        "SELECT 1 FROM humans; SELECT 2 FROM humans /* pgsoftdelete: skip=humans */; SELECT 3 FROM humans",
        "SELECT count(*) FROM humans WHERE name <> '/* pgsoftdelete: skip=humans */'",
        "SELECT * FROM ONLY (humans)WHERE id = 1",
        "SELECT * FROM humans*JOIN ships ON true",
        "TABLE ONLY (humans)UNION TABLE ships",
        # Soft deletes that follow foreign keys (the fixture's catalog) and a restore.
        "WITH x AS (SELECT 1 AS id) DELETE FROM humans h USING x WHERE h.id = x.id RETURNING h.id",
        "DELETE FROM public.\"Robots\" r WHERE r.id IN (1, 2)",
        "EXPLAIN DELETE FROM aliens WHERE id = 1",
        "/* pgsoftdelete: only_deleted=aliens */ UPDATE aliens SET deleted_at = NULL WHERE id = 1 RETURNING id",
    ]
    for sql in extras:
        yield "extra", sql


def write(folder, name, data):
    path = CORPUS / folder / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode())


def catalog_answers():
    """Request byte (1 catalog, 2 search_path), then DataRow bodies and 'C' (end of a result set) split by 0xFF."""
    def row(*values):
        body = u16(len(values))
        for v in values:
            body += u32(0xFFFFFFFF) if v is None else u32(len(v.encode())) + v.encode()
        return body
    def answer(request, *sets):
        pieces = []
        for rows in sets:
            pieces += [row(*r) for r in rows] + [b"C"]
        return bytes([request]) + b"\xff".join(pieces)
    h = lambda name: name.encode().hex()  # names come hex-encoded in UTF-8
    # relations: oid, schema, name, relkind, primary key (a JSON array, hex; NULL: none)
    relations = [("16384", h("public"), h("humans"), "p", h('["id","region"]')),
                 ("16390", h("public"), h("humans_1"), "r", h('["id","region"]')),
                 ("16400", h("other"), h("sq"), "r", None), ("16410", h("public"), h("planets"), "r", h('["id"]'))]
    inherits = [("16390", "16384")]
    # keys: one row per column pair: oid, name, conrelid, confrelid, deltype, updtype, referenced column,
    # referencing column, set by SET NULL/DEFAULT, derived
    keys = [("20000", h("humans_planet"), "16384", "16410", "c", "c", h("id"), h("planet_id"), "f", "f"),
            ("20001", h("humans_planet"), "16390", "16410", "c", "c", h("id"), h("planet_id"), "f", "t"),
            ("20002", h("sq_human"), "16400", "16384", "n", "a", h("id"), h("human_id"), "t", "f"),
            ("20002", h("sq_human"), "16400", "16384", "n", "a", h("region"), h("human_region"), "f", "f")]
    path = [(h("pg_catalog"),), (h("public"),)]
    yield "catalog-and-path", answer(3, relations, inherits, keys, path)
    yield "catalog", answer(1, relations, inherits, keys)
    yield "path", answer(2, path)
    yield "error", bytes([3]) + b"Epermission denied for table pg_inherits"
    yield "json-strings", b"\x00" + b'["pg_catalog","my schema","a\\"b","public"]'


def main():
    for target in ("fuzz_engine", "fuzz_client_stream", "fuzz_server_stream", "fuzz_startup", "fuzz_scram",
                   "fuzz_catalog_answer"):
        shutil.rmtree(CORPUS / target, ignore_errors=True)
        (CORPUS / target).mkdir(parents=True)
    counts = {}
    for kind, sql in engine_statements():
        counts[kind] = counts.get(kind, 0) + 1
        write("fuzz_engine", f"{kind}-{counts[kind]:03d}", sql)
    for target, seeds in (("fuzz_client_stream", client_streams()), ("fuzz_server_stream", server_streams()),
                          ("fuzz_startup", startup_packets()), ("fuzz_scram", scram_inputs()),
                          ("fuzz_catalog_answer", catalog_answers())):
        for name, data in seeds:
            write(target, name, data)
    total = sum(p.stat().st_size for p in CORPUS.rglob("*") if p.is_file())
    for target in sorted(p.name for p in CORPUS.iterdir()):
        print(f"{target}: {len(list((CORPUS / target).iterdir()))} files")
    print(f"total: {total} bytes")


if __name__ == "__main__":
    main()
