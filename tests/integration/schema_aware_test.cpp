// The engine resolves tables as PostgreSQL does (issue: schema-aware engine): partitions and
// inheritance children of rule tables are rule tables, foreign-key actions that would reach rule
// tables are refused, unqualified names follow the session's search_path, DDL that would end a
// rule is refused, statements whose reading an earlier statement may change wait for it, and
// built-in functions that read tables by name or run SQL text are rewritten or refused.
#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "softdelete_support.hpp"

using namespace pgsoftdelete::test;

namespace {

constexpr const char* schema_sql = R"(
DROP SCHEMA IF EXISTS other CASCADE;
DROP TABLE IF EXISTS ph, ip, rp, sq, people, worlds, galaxies, moons CASCADE;
DROP ROLE IF EXISTS pathuser;
CREATE TABLE ph (id int, name text, is_deleted boolean NOT NULL DEFAULT false) PARTITION BY RANGE (id);
CREATE TABLE ph_1 PARTITION OF ph FOR VALUES FROM (0) TO (100);
CREATE TABLE ph_2 PARTITION OF ph FOR VALUES FROM (100) TO (200) PARTITION BY RANGE (id);
CREATE TABLE ph_2a PARTITION OF ph_2 FOR VALUES FROM (100) TO (150);
INSERT INTO ph VALUES (1, 'a', false), (2, 'b', true), (120, 'c', true), (130, 'd', false);
CREATE TABLE ip (id int, name text, is_deleted boolean NOT NULL DEFAULT false);
CREATE TABLE ic () INHERITS (ip);
INSERT INTO ic VALUES (1, 'x', false), (2, 'y', true);
CREATE TABLE rp (id int, name text, is_deleted boolean NOT NULL DEFAULT false);
CREATE TABLE rc () INHERITS (rp);
INSERT INTO rc VALUES (1, 'p', false), (2, 'q', true);
CREATE TABLE galaxies (id int PRIMARY KEY);
CREATE TABLE worlds (id int PRIMARY KEY, name text, galaxy_id int REFERENCES galaxies ON DELETE CASCADE);
CREATE TABLE people (id int PRIMARY KEY, name text,
                     world_id int CONSTRAINT people_world REFERENCES worlds ON DELETE CASCADE ON UPDATE CASCADE,
                     is_deleted boolean NOT NULL DEFAULT false);
CREATE TABLE moons (id int PRIMARY KEY, world_id int REFERENCES worlds ON DELETE RESTRICT);
INSERT INTO galaxies VALUES (1), (2);
INSERT INTO worlds VALUES (1, 'earth', 1), (2, 'mars', 2), (3, 'venus', NULL);
INSERT INTO people VALUES (1, 'alive', 1, false), (2, 'gone', 1, true), (3, 'red', 2, true);
CREATE SCHEMA other;
CREATE TABLE public.sq (id int, name text, is_deleted boolean NOT NULL DEFAULT false);
CREATE TABLE other.sq (id int, name text);
INSERT INTO public.sq VALUES (1, 'public live', false), (2, 'public deleted', true);
INSERT INTO other.sq VALUES (1, 'other one'), (2, 'other two'), (3, 'other three');
CREATE ROLE pathuser LOGIN SUPERUSER;
ALTER ROLE pathuser SET search_path = other, public;
)";

std::filesystem::path rules_file(const std::string& policy) {
  const auto dir = std::filesystem::temp_directory_path() / "pgsd-schema-aware";
  std::filesystem::create_directories(dir);
  const auto file = dir / ("rules-" + std::to_string(std::hash<std::string>{}(policy)) + ".toml");
  std::ofstream(file) << policy << "\n[hints]\nskip_users = [\"*\"]\n\n"
                      << "[[table]]\nname = \"ph\"\n\n[[table]]\nname = \"ip\"\n\n[[table]]\nname = \"rc\"\n\n"
                      << "[[table]]\nname = \"people\"\n\n[[table]]\nname = \"public.sq\"\n\n"
                      << "[[table]]\nname = \"humans\"\n";
  return file;
}

ProxyProcess& schema_proxy() {
  static ProxyProcess p({"--upstream", cluster().endpoint(), "--rules", rules_file("").string(), "--log-level", "debug"});
  return p;
}

Conn fresh(const std::string& user = "postgres", const std::string& extra = "") {
  cluster().sql(schema_sql);
  Conn c(schema_proxy().conninfo(user, extra));
  REQUIRE_MESSAGE(c.ok(), c.error());
  return c;
}

/// Every value of the first column, joined with ','.
std::string column(const Result& r) {
  std::string out;
  for (int i = 0; i < r.rows(); ++i) out += (i ? "," : "") + r.value(i);
  return out;
}

}  // namespace

TEST_CASE("partitions and inheritance children of a rule table are rule tables") {
  auto c = fresh();
  SUBCASE("reading a partition, a sub-partition, a child") {
    CHECK(column(c.exec("SELECT name FROM ph_1 ORDER BY id")) == "a");
    CHECK(column(c.exec("SELECT name FROM ph_2a ORDER BY id")) == "d");
    CHECK(column(c.exec("SELECT name FROM public.ph_2 p ORDER BY id")) == "d");
    CHECK(column(c.exec("SELECT name FROM ic ORDER BY id")) == "x");
    CHECK(column(c.exec("SELECT ph_1.name FROM ph_1 JOIN ic USING (id)")) == "a");
    CHECK(c.exec_params("SELECT count(*) FROM ph_1 WHERE id > $1", {"0"}).value() == "1");
  }
  SUBCASE("DELETE from a partition is a soft delete of its live rows") {
    auto r = c.exec("DELETE FROM ph_1 WHERE id IN (1, 2)");
    CHECK(r.tag() == "DELETE 1");
    CHECK(direct("SELECT count(*) FROM ph_1") == "2");
    CHECK(direct("SELECT bool_and(is_deleted) FROM ph_1") == "t");
    CHECK(c.exec("DELETE FROM ic").tag() == "DELETE 1");
    CHECK(direct("SELECT count(*) FROM ic") == "2");
  }
  SUBCASE("UPDATE of a partition sees live rows only") {
    CHECK(c.exec("UPDATE ph_2a SET name = 'z'").tag() == "UPDATE 1");
    CHECK(direct("SELECT name FROM ph_2a WHERE id = 120") == "c");
  }
  SUBCASE("TRUNCATE of a partition or child is the rule table's policy") {
    CHECK(c.exec("TRUNCATE ph_1").sqlstate() == "0A000");
    CHECK(c.exec("TRUNCATE ic").sqlstate() == "0A000");
    CHECK(direct("SELECT count(*) FROM ph") == "4");
  }
  SUBCASE("a parent without a rule of its own reaches its rule-table child: refused unless ONLY") {
    auto r = c.exec("SELECT name FROM rp");
    CHECK(r.sqlstate() == "0A000");
    CHECK(r.error().find("rc") != std::string::npos);
    CHECK(c.exec("DELETE FROM rp").sqlstate() == "0A000");
    CHECK(c.exec("SELECT count(*) FROM ONLY rp").value() == "0");
    CHECK(column(c.exec("SELECT name FROM rc")) == "p");
    CHECK(direct("SELECT count(*) FROM rc") == "2");
  }
  SUBCASE("a partition created through the proxy is a rule table from the next statement on") {
    REQUIRE(c.exec("CREATE TABLE ph_3 PARTITION OF ph FOR VALUES FROM (200) TO (300)").ok());
    REQUIRE(c.exec("INSERT INTO ph_3 VALUES (201, 'new deleted', true), (202, 'new live', false)").ok());
    CHECK(column(c.exec("SELECT name FROM ph_3")) == "new live");
    REQUIRE(c.exec("CREATE TABLE ic2 () INHERITS (ip)").ok());
    REQUIRE(c.exec("INSERT INTO ic2 VALUES (5, 'child deleted', true)").ok());
    CHECK(c.exec("SELECT count(*) FROM ic2").value() == "0");
  }
  SUBCASE("a partition created on the server directly: seen once a statement names it") {
    CHECK(column(c.exec("SELECT name FROM ph_1")) == "a");  // the session has read the catalog
    cluster().sql("CREATE TABLE ph_4 PARTITION OF ph FOR VALUES FROM (400) TO (500);"
                  "INSERT INTO ph_4 VALUES (401, 'direct deleted', true), (402, 'direct live', false);"
                  "CREATE TABLE ph_5 PARTITION OF ph FOR VALUES FROM (500) TO (600);"
                  "INSERT INTO ph_5 VALUES (501, 'five deleted', true), (502, 'five live', false);");
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    CHECK(column(c.exec("SELECT name FROM (SELECT 1) x, ph_5")) == "five live");  // after a comma
    CHECK(column(c.exec("SELECT name FROM ph_4")) == "direct live");
    Conn other(schema_proxy().conninfo());
    CHECK(column(other.exec("SELECT name FROM ph_4")) == "direct live");
  }
}

TEST_CASE("foreign-key actions that would delete or change rule-table rows are refused") {
  auto c = fresh();
  SUBCASE("ON DELETE CASCADE, directly and through a chain") {
    auto r = c.exec("DELETE FROM worlds WHERE id = 1");
    CHECK(r.sqlstate() == "0A000");
    CHECK(r.error().find("people_world") != std::string::npos);
    CHECK(c.exec("DELETE FROM galaxies WHERE id = 1").sqlstate() == "0A000");
    CHECK(c.exec_params("DELETE FROM worlds WHERE id = $1", {"2"}).sqlstate() == "0A000");
    CHECK(direct("SELECT count(*) FROM people") == "3");
    CHECK(direct("SELECT count(*) FROM worlds") == "3");
  }
  SUBCASE("TRUNCATE … CASCADE") {
    CHECK(c.exec("TRUNCATE worlds CASCADE").sqlstate() == "0A000");
    CHECK(c.exec("TRUNCATE galaxies CASCADE").sqlstate() == "0A000");
    CHECK(direct("SELECT count(*) FROM people") == "3");
  }
  SUBCASE("ON UPDATE CASCADE of a referenced column; other columns are free") {
    CHECK(c.exec("UPDATE worlds SET id = 10 WHERE id = 1").sqlstate() == "0A000");
    CHECK(direct("SELECT count(*) FROM people WHERE world_id = 1") == "2");
    CHECK(c.exec("UPDATE worlds SET name = 'terra' WHERE id = 1").tag() == "UPDATE 1");
  }
  SUBCASE("keys that do not reach a rule table, and rows nobody references") {
    CHECK(c.exec("DELETE FROM moons").tag() == "DELETE 0");
    CHECK(c.exec("DELETE FROM people WHERE id = 1").tag() == "DELETE 1");  // a soft delete fires no action
    CHECK(direct("SELECT count(*) FROM people") == "3");
  }
  SUBCASE("policy allow lets them run") {
    ProxyProcess allow({"--upstream", cluster().endpoint(), "--rules",
                        rules_file("[policy]\nforeign_key_actions = \"allow\"\n").string()});
    Conn a(allow.conninfo());
    CHECK(a.exec("DELETE FROM worlds WHERE id = 1").tag() == "DELETE 1");
    CHECK(direct("SELECT count(*) FROM people") == "1");
  }
}

TEST_CASE("a soft delete that cannot follow a plain table's ON DELETE action is refused, naming the key") {
  auto c = fresh();
  // Made through the proxy, so that its catalog knows the keys from the next statement on.
  cluster().sql("DROP TABLE IF EXISTS humans, visits CASCADE");  // the proxy refuses DROP of a rule table
  REQUIRE(c.exec("CREATE TABLE humans (id int PRIMARY KEY, is_deleted boolean NOT NULL DEFAULT false)").ok());
  REQUIRE(c.exec("CREATE TABLE visits (human_id int CONSTRAINT visits_human REFERENCES humans ON DELETE CASCADE)").ok());
  REQUIRE(c.exec("INSERT INTO humans VALUES (1), (2), (3)").ok());
  REQUIRE(c.exec("INSERT INTO visits VALUES (1), (2)").ok());
  SUBCASE("ON DELETE CASCADE: refused, nothing changed") {
    auto r = c.exec("DELETE FROM humans WHERE id = 1");
    CHECK(r.sqlstate() == "0A000");
    CHECK(r.error().find("visits_human") != std::string::npos);
    CHECK(r.error().find("public.visits") != std::string::npos);
    CHECK(c.exec_params("DELETE FROM humans WHERE id = $1", {"2"}).sqlstate() == "0A000");
    CHECK(direct("SELECT count(*) FROM humans WHERE NOT is_deleted") == "3");
    CHECK(direct("SELECT count(*) FROM visits") == "2");
  }
  SUBCASE("ON DELETE SET NULL: refused") {
    REQUIRE(c.exec("ALTER TABLE visits DROP CONSTRAINT visits_human").ok());
    REQUIRE(c.exec("ALTER TABLE visits ADD CONSTRAINT visits_human FOREIGN KEY (human_id) REFERENCES humans "
                   "ON DELETE SET NULL")
                .ok());
    auto r = c.exec("DELETE FROM humans WHERE id = 1");
    CHECK(r.sqlstate() == "0A000");
    CHECK(r.error().find("SET NULL") != std::string::npos);
  }
  SUBCASE("RESTRICT and NO ACTION: the soft delete runs") {
    REQUIRE(c.exec("ALTER TABLE visits DROP CONSTRAINT visits_human").ok());
    REQUIRE(c.exec("ALTER TABLE visits ADD CONSTRAINT visits_human FOREIGN KEY (human_id) REFERENCES humans "
                   "ON DELETE RESTRICT")
                .ok());
    CHECK(c.exec("DELETE FROM humans WHERE id = 1").tag() == "DELETE 1");
    CHECK(direct("SELECT count(*) FROM humans WHERE is_deleted") == "1");
  }
  SUBCASE("policy allow: a soft delete that leaves the plain table's rows as they are") {
    ProxyProcess allow({"--upstream", cluster().endpoint(), "--rules",
                        rules_file("[policy]\nforeign_key_actions = \"allow\"\n").string()});
    Conn a(allow.conninfo());
    CHECK(a.exec("DELETE FROM humans WHERE id = 1").tag() == "DELETE 1");
    CHECK(direct("SELECT count(*) FROM humans WHERE is_deleted") == "1");
    CHECK(direct("SELECT count(*) FROM visits") == "2");
  }
  cluster().sql("DROP TABLE IF EXISTS visits, humans CASCADE");
}

TEST_CASE("unqualified names follow the session's search_path") {
  SUBCASE("SET, RESET, SET LOCAL") {
    auto c = fresh();
    CHECK(column(c.exec("SELECT name FROM sq ORDER BY id")) == "public live");
    REQUIRE(c.exec("SET search_path = other").ok());
    CHECK(c.exec("SELECT count(*) FROM sq").value() == "3");
    CHECK(c.exec_params("SELECT count(*) FROM sq WHERE id > $1", {"0"}).value() == "3");
    CHECK(column(c.exec("SELECT name FROM public.sq")) == "public live");
    REQUIRE(c.exec("RESET search_path").ok());
    CHECK(c.exec("SELECT count(*) FROM sq").value() == "1");
    REQUIRE(c.exec("BEGIN").ok());
    REQUIRE(c.exec("SET LOCAL search_path = other").ok());
    CHECK(c.exec("SELECT count(*) FROM sq").value() == "3");
    REQUIRE(c.exec("COMMIT").ok());
    CHECK(c.exec("SELECT count(*) FROM sq").value() == "1");
    REQUIRE(c.exec("BEGIN").ok());
    REQUIRE(c.exec("SET search_path = other").ok());
    REQUIRE(c.exec("ROLLBACK").ok());
    CHECK(c.exec("SELECT count(*) FROM sq").value() == "1");
    REQUIRE(c.exec("SELECT set_config('search_path', 'other', false)").ok());
    CHECK(c.exec("SELECT count(*) FROM sq").value() == "3");
  }
  SUBCASE("from the startup packet") {
    auto c = fresh("postgres", "options='-c search_path=other'");
    CHECK(c.exec("SELECT count(*) FROM sq").value() == "3");
  }
  SUBCASE("the role's default") {
    auto c = fresh("pathuser");
    CHECK(c.exec("SELECT count(*) FROM sq").value() == "3");
    CHECK(c.exec("SELECT count(*) FROM public.sq").value() == "1");
  }
  SUBCASE("pipelined behind the SET") {
    auto c = fresh();
    auto seen = pipeline(c, {"SET search_path = other", "SELECT count(*) FROM sq"});
    CHECK(seen == std::vector<std::string>{"SET", "SELECT 1", "sync"});
    CHECK(c.exec("SELECT count(*) FROM sq").value() == "3");
  }
}

TEST_CASE("DDL that would end a rule or undelete rows is refused; migrations pass") {
  auto c = fresh();
  const std::vector<std::string> refused = {
      "ALTER TABLE people RENAME TO people_renamed",
      "ALTER TABLE people RENAME COLUMN is_deleted TO gone",
      "ALTER TABLE people ALTER COLUMN is_deleted TYPE boolean USING false",
      "ALTER TABLE people DROP COLUMN is_deleted",
      "ALTER TABLE people SET SCHEMA other",
      "DROP TABLE people",
      "DROP TABLE IF EXISTS worlds, people CASCADE",
      "DROP TABLE ph_1",
      "ALTER TABLE ph DETACH PARTITION ph_1",
      "ALTER TABLE ic NO INHERIT ip",
      "DROP TABLE rp CASCADE",
  };
  for (const auto& sql : refused) {
    CAPTURE(sql);
    CHECK(c.exec(sql).sqlstate() == "0A000");
  }
  CHECK(direct("SELECT count(*) FROM people") == "3");
  CHECK(direct("SELECT count(*) FROM ph_1") == "2");
  CHECK(c.exec("ALTER TABLE people ADD COLUMN note text").ok());
  CHECK(c.exec("CREATE INDEX ON people (world_id)").ok());
  CHECK(c.exec("ALTER TABLE people RENAME COLUMN note TO remark").ok());
  CHECK(c.exec("ALTER TABLE people ADD CONSTRAINT name_set CHECK (name <> '')").ok());
  CHECK(c.exec("SELECT count(*) FROM people").value() == "1");

  ProxyProcess allow({"--upstream", cluster().endpoint(), "--rules", rules_file("[policy]\nddl = \"allow\"\n").string()});
  Conn a(allow.conninfo());
  CHECK(a.exec("ALTER TABLE people RENAME COLUMN is_deleted TO gone").ok());
}

TEST_CASE("a statement whose reading an earlier one may change waits for its answer") {
  auto c = fresh();
  // The DO block turns standard_conforming_strings off where no text pattern sees it; the SELECT
  // behind it, in the same pipeline, reads a deleted name when backslashes escape quotes.
  auto seen = pipeline(c, {"DO $$BEGIN EXECUTE 'SET standard_' || 'conforming_strings = off'; END$$",
                           "SELECT 'a\\' AS x, $$' , name FROM people --$$"});
  REQUIRE(seen.size() == 3);
  CHECK(seen[0] == "DO");
  CHECK(seen[1] == "error 0A000");
  // The refusal failed the batch: its implicit transaction, the DO's SET included, rolled back.
  CHECK(c.exec("SHOW standard_conforming_strings").value() == "on");
  auto encoding = pipeline(c, {"DO $$BEGIN EXECUTE 'SET client_' || 'encoding = SJIS'; END$$",
                               "SELECT 'é' AS x, name FROM people"});
  REQUIRE(encoding.size() == 3);
  CHECK(encoding[0] == "DO");
  CHECK(encoding[1] == "error 0A000");
}

TEST_CASE("built-in functions that read a table by name or run SQL text") {
  auto c = fresh();
  auto xml = c.exec("SELECT query_to_xml('select name from people', true, false, '')");
  REQUIRE(xml.ok());
  CHECK(xml.value().find("alive") != std::string::npos);
  CHECK(xml.value().find("gone") == std::string::npos);
  auto nested = c.exec("SELECT query_to_xml_and_xmlschema('select name from ph_1 p', true, false, '')");
  REQUIRE(nested.ok());
  CHECK(nested.value().find(">b<") == std::string::npos);
  CHECK(c.exec("SELECT table_to_xml('people', true, false, '')").sqlstate() == "0A000");
  CHECK(c.exec("SELECT table_to_xmlschema('public.ph_1', true, false, '')").sqlstate() == "0A000");
  CHECK(c.exec("SELECT table_to_xml('worlds', true, false, '')").ok());
  CHECK(c.exec_params("SELECT query_to_xml($1, true, false, '')", {"select * from people"}).sqlstate() == "0A000");
  CHECK(c.exec("SELECT schema_to_xml('public', true, false, '')").sqlstate() == "0A000");
  CHECK(c.exec("SELECT database_to_xml(true, false, '')").sqlstate() == "0A000");
  CHECK(c.exec("SELECT query_to_xml('select 1 as one', true, false, '')").ok());
}

TEST_CASE("when the catalog cannot be read, statements on rule tables are refused, others run") {
  cluster().sql(schema_sql);
  cluster().sql("DROP ROLE IF EXISTS blind; CREATE ROLE blind LOGIN; GRANT SELECT ON ALL TABLES IN SCHEMA public TO blind;"
                "REVOKE SELECT ON pg_catalog.pg_inherits FROM PUBLIC;");
  struct Regrant {
    ~Regrant() { cluster().sql("GRANT SELECT ON pg_catalog.pg_inherits TO PUBLIC"); }
  } regrant;
  ProxyProcess own({"--upstream", cluster().endpoint(), "--rules", rules_file("").string()});  // nothing cached yet
  Conn c(own.conninfo("blind"));
  REQUIRE_MESSAGE(c.ok(), c.error());
  auto r = c.exec("SELECT name FROM ph_1");
  CHECK(r.sqlstate() == "0A000");
  CHECK(r.error().find("catalog") != std::string::npos);
  CHECK(r.error().find("permission denied") != std::string::npos);
  // Any table might be a partition of a rule table: named tables are refused, the rest runs.
  CHECK(c.exec("SELECT name FROM worlds WHERE id = 1").sqlstate() == "0A000");
  CHECK(c.exec("SELECT 1 + 1").value() == "2");
  CHECK(c.exec("SELECT count(*) > 0 FROM pg_catalog.pg_class").value() == "t");
  CHECK(own.log().find("could not read the catalog") != std::string::npos);
}

TEST_CASE("review: the catalog read resists the client's search_path and transaction") {
  SUBCASE("operators of the client's own schema ahead of pg_catalog") {
    auto c = fresh();
    REQUIRE(c.exec("CREATE SCHEMA evil").ok());
    REQUIRE(c.exec("CREATE FUNCTION evil.f(\"char\", \"char\") RETURNS bool LANGUAGE sql AS 'SELECT false'").ok());
    REQUIRE(c.exec("CREATE OPERATOR evil.= (leftarg = \"char\", rightarg = \"char\", function = evil.f)").ok());
    REQUIRE(c.exec("CREATE FUNCTION evil.g(oid, oid) RETURNS bool LANGUAGE sql AS 'SELECT false'").ok());
    REQUIRE(c.exec("CREATE OPERATOR evil.= (leftarg = oid, rightarg = oid, function = evil.g)").ok());
    REQUIRE(c.exec("SET search_path = evil, pg_catalog, public").ok());
    REQUIRE(c.exec("CREATE TABLE evil.t (x int)").ok());  // DDL: the catalog is read again under that path
    CHECK(c.exec("SELECT count(*) FROM public.worlds").value() == "3");
    Conn other(schema_proxy().conninfo());
    CHECK(other.exec("DELETE FROM worlds WHERE id = 1").sqlstate() == "0A000");
    CHECK(column(other.exec("SELECT name FROM ph_1")) == "a");
  }
  SUBCASE("a read inside a transaction serves that session alone") {
    auto a = fresh();
    REQUIRE(a.exec("BEGIN").ok());
    REQUIRE(a.exec("ALTER TABLE people DROP CONSTRAINT people_world").ok());
    REQUIRE(a.exec("SELECT count(*) FROM people").ok());
    Conn b(schema_proxy().conninfo());
    CHECK(b.exec("DELETE FROM worlds WHERE id = 3").sqlstate() == "0A000");
    REQUIRE(a.exec("ROLLBACK").ok());
    CHECK(direct("SELECT count(*) FROM worlds") == "3");
  }
}

TEST_CASE("review: search_path changes the text does not spell") {
  auto c = fresh();
  REQUIRE(c.exec("SELECT set_config('search' || '_path', 'other', false)").ok());
  CHECK(c.exec("SELECT count(*) FROM sq").value() == "3");
  REQUIRE(c.exec("RESET search_path").ok());
  REQUIRE(c.exec("BEGIN").ok());
  REQUIRE(c.exec("SET LOCAL search_path = other").ok());
  CHECK(c.exec("COMMIT; SELECT count(*) FROM sq").value() == "1");
  REQUIRE(c.exec("SET search_path = other").ok());
  REQUIRE(c.exec("PREPARE q AS SELECT count(*) FROM sq").ok());
  REQUIRE(c.exec("RESET search_path").ok());
  CHECK(c.exec("EXECUTE q").sqlstate() == "0A000");
}

TEST_CASE("review: DDL and writes the proxy cannot follow are refused") {
  auto c = fresh();
  CHECK(c.exec("CREATE TABLE sup (name text); SELECT * FROM sup").sqlstate() == "0A000");
  REQUIRE(c.exec("CREATE TABLE sup (name text, id int, is_deleted boolean)").ok());
  CHECK(c.exec("ALTER TABLE ip INHERIT sup").sqlstate() == "0A000");
  CHECK(c.exec("ALTER INDEX people RENAME TO people2").sqlstate() == "0A000");
  CHECK(c.exec("DROP OWNED BY pathuser").sqlstate() == "0A000");
  CHECK(c.exec("DROP TABLE ph").sqlstate() == "0A000");
  REQUIRE(c.exec("CREATE TABLE free_part (id int, name text, is_deleted boolean NOT NULL DEFAULT false)").ok());
  REQUIRE(c.exec("CREATE TABLE plain_parent (id int, name text, is_deleted boolean NOT NULL DEFAULT false) "
                 "PARTITION BY RANGE (id)").ok());
  CHECK(c.exec("ALTER TABLE plain_parent ATTACH PARTITION ph_1 FOR VALUES FROM (0) TO (10)").sqlstate() == "0A000");
  CHECK(c.exec("INSERT INTO worlds VALUES (1, 'x') ON CONFLICT (id) DO UPDATE SET id = 12").sqlstate() == "0A000");
  CHECK(c.exec("INSERT INTO worlds VALUES (1, 'x') ON CONFLICT (id) DO UPDATE SET name = 'y'").ok());
  REQUIRE(c.exec("CREATE VIEW wv AS SELECT * FROM worlds").ok());
  CHECK(c.exec("DELETE FROM wv WHERE id = 2").sqlstate() == "0A000");
  CHECK(direct("SELECT count(*) FROM people") == "3");
  CHECK(direct("SELECT count(*) FROM worlds") == "3");
  CHECK(direct("SELECT count(*) FROM ph") == "4");
}

TEST_CASE("review: functions that run SQL text or read a table by a name we cannot read") {
  auto c = fresh();
  const std::string oid = direct("SELECT 'people'::regclass::oid");
  CHECK(c.exec("SELECT table_to_xml('" + oid + "', true, false, '')").sqlstate() == "0A000");
  CHECK(c.exec("SELECT table_to_xml(' people', true, false, '')").sqlstate() == "0A000");
  auto stat = c.exec("SELECT string_agg(word, ',') FROM ts_stat('SELECT to_tsvector(''simple'', name) FROM people')");
  REQUIRE(stat.ok());
  CHECK(stat.value().find("alive") != std::string::npos);
  CHECK(stat.value().find("gone") == std::string::npos);
  const std::string db = direct("SELECT current_database()");
  auto xml = c.exec("SELECT " + db + ".pg_catalog.query_to_xml('select name from people', true, false, '')");
  REQUIRE(xml.ok());
  CHECK(xml.value().find("gone") == std::string::npos);
}

TEST_CASE("review: the settings probe cannot fail on the client encoding") {
  auto c = fresh();
  REQUIRE(c.exec("CREATE SCHEMA U&\"\\0441\\0445\\0435\\043C\\0430\"").ok());
  REQUIRE(c.exec("SET search_path = U&\"\\0441\\0445\\0435\\043C\\0430\", public").ok());
  REQUIRE(c.exec("SET client_encoding = 'LATIN1'").ok());
  auto seen = pipeline(c, {"SELECT 1", "SELECT 'caf\xe9', count(*) FROM sq"});
  CHECK(seen == std::vector<std::string>{"SELECT 1", "SELECT 1", "sync"});
}
