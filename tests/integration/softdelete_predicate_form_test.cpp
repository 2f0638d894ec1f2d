// What filtering a rule table in place (a predicate, not a subquery) keeps of the table itself, through the
// proxy against a real server: the row type of whole-row references, the table OID and column number in
// RowDescription, the alias in the plan (what pg_hint_plan hints name), auto-updatable views created through
// the proxy, and tables of the same name in two schemas in one statement.
#include <doctest/doctest.h>

#include "softdelete_support.hpp"

using namespace pgsoftdelete::test;

TEST_CASE("predicate form: whole-row references keep the table's row type") {
  auto c = seeded_connection();
  auto r = c.exec("SELECT pg_typeof(h)::text, h::text FROM humans h ORDER BY h.id");
  REQUIRE_MESSAGE(r.ok(), r.error());
  REQUIRE(r.rows() == 3);  // the live ones
  CHECK(r.value(0, 0) == "humans");
  CHECK(r.value(0, 1) == "(1,Ada,f)");
  CHECK(r.value(2, 1) == "(4,Edsger,f)");
  // A function taking the row type accepts it.
  CHECK(c.exec("CREATE OR REPLACE FUNCTION pgsd_name_of(humans) RETURNS text LANGUAGE sql AS 'SELECT $1.name'").ok());
  CHECK(c.scalar("SELECT string_agg(pgsd_name_of(h), ',' ORDER BY h.id) FROM humans h") == "Ada,Grace,Edsger");
  CHECK(c.exec("DROP FUNCTION pgsd_name_of(humans)").ok());
}

TEST_CASE("predicate form: RowDescription names the table and column, in both protocols") {
  auto c = seeded_connection();
  const std::string oid = direct("SELECT 'humans'::regclass::oid");
  const std::string attnum = direct("SELECT attnum FROM pg_attribute WHERE attrelid = 'humans'::regclass AND attname = 'name'");
  auto simple = c.exec("SELECT h.name FROM humans h WHERE h.id = 1");
  REQUIRE(simple.ok());
  CHECK(std::to_string(PQftable(simple.get(), 0)) == oid);
  CHECK(std::to_string(PQftablecol(simple.get(), 0)) == attnum);
  const char* params[] = {"2"};
  Result extended(PQexecParams(c.get(), "SELECT name FROM humans WHERE id = $1", 1, nullptr, params, nullptr, nullptr, 0));
  REQUIRE(extended.ok());
  CHECK(extended.value() == "Grace");
  CHECK(std::to_string(PQftable(extended.get(), 0)) == oid);
  CHECK(std::to_string(PQftablecol(extended.get(), 0)) == attnum);
}

TEST_CASE("predicate form: the plan scans the table under the client's alias (what pg_hint_plan hints name)") {
  auto c = seeded_connection();
  auto r = c.exec("/*+ SeqScan(h) */ EXPLAIN (COSTS OFF) SELECT * FROM humans h WHERE h.id = 1");
  REQUIRE(r.ok());
  std::string plan;
  for (int i = 0; i < r.rows(); ++i) plan += r.value(i) + "\n";
  CAPTURE(plan);
  CHECK(plan.find("on humans h") != std::string::npos);
  CHECK(plan.find("Filter: (NOT is_deleted)") != std::string::npos);  // on the table's own scan
  CHECK(plan.find("Subquery Scan") == std::string::npos);
}

TEST_CASE("predicate form: a view created through the proxy stays auto-updatable") {
  auto c = seeded_connection();
  REQUIRE(c.exec("DROP VIEW IF EXISTS live_humans").ok());
  auto created = c.exec("CREATE VIEW live_humans AS SELECT id, name FROM humans");
  REQUIRE_MESSAGE(created.ok(), created.error());
  CHECK(direct("SELECT is_insertable_into || is_updatable FROM information_schema.views WHERE table_name = 'live_humans'") ==
        "YESYES");
  // The view shows live rows even to a client that bypasses the proxy.
  CHECK(direct("SELECT string_agg(name, ',' ORDER BY id) FROM live_humans") == "Ada,Grace,Edsger");
  // INSERT through the view, through the proxy: it lands in humans.
  auto inserted = c.exec("INSERT INTO live_humans (id, name) VALUES (9, 'Margaret')");
  CHECK_MESSAGE(inserted.ok(), inserted.error());
  CHECK(direct("SELECT name FROM humans WHERE id = 9") == "Margaret");
  // UPDATE of the view on the server (the proxy refuses DML through views it cannot see into).
  Conn server(cluster().conninfo());
  CHECK(server.exec("UPDATE live_humans SET name = 'Maggie' WHERE id = 9").ok());
  CHECK(direct("SELECT name FROM humans WHERE id = 9") == "Maggie");
  CHECK(server.exec("UPDATE live_humans SET name = 'ghost' WHERE id = 3").tag() == "UPDATE 0");  // deleted: not in it
  CHECK(c.exec("DROP VIEW live_humans").ok());
}

TEST_CASE("predicate form: tables of one name in two schemas, unaliased, in one statement") {
  auto c = seeded_connection();
  Conn server(cluster().conninfo());
  REQUIRE(server.exec("DROP SCHEMA IF EXISTS other CASCADE; CREATE SCHEMA other;"
                      "CREATE TABLE other.humans (id int, is_deleted boolean NOT NULL DEFAULT false);"
                      "INSERT INTO other.humans VALUES (1, false), (2, true), (4, false), (5, false);"
                      "CREATE TABLE other.ships (id int, name text);"
                      "INSERT INTO other.ships VALUES (1, 'Ark'), (2, 'Bark'), (3, 'Cog');")
              .ok());
  // The rule `humans` names the table in every schema: both are filtered, each by its own name.
  auto both = c.exec("SELECT string_agg(id::text, ',' ORDER BY id) FROM public.humans JOIN other.humans USING (id)");
  REQUIRE_MESSAGE(both.ok(), both.error());
  CHECK(both.value() == "1,4");
  auto mixed = c.exec("SELECT string_agg(public.humans.name || '/' || other.ships.name, ',' ORDER BY id) "
                      "FROM public.humans JOIN other.ships USING (id)");
  REQUIRE_MESSAGE(mixed.ok(), mixed.error());
  CHECK(mixed.value() == "Ada/Ark,Grace/Bark");  // Alan (3) is deleted; other.ships is no rule table
  REQUIRE(server.exec("DROP SCHEMA other CASCADE").ok());
}
