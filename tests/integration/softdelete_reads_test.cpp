// Reads through the proxy see only live rows, whatever the client: psql (simple protocol),
// libpq's extended protocol and psycopg2.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "softdelete_support.hpp"

using namespace pgsoftdelete::test;

namespace {

struct ReadCase {
  const char* name;
  const char* sql;
  const char* expected;  // rows joined by ';', columns by '|', as psql -A -t prints them
};

// Expected values are those of the seed with the soft-deleted rows removed.
const ReadCase read_cases[] = {
    {"plain table", "SELECT name FROM humans ORDER BY id", "Ada;Grace;Edsger"},
    {"alias and left join", "SELECT h.name, a.name FROM humans h LEFT JOIN aliens a ON a.human_id = h.id ORDER BY h.id, a.id",
     "Ada|Zorg;Grace|;Edsger|"},
    {"right join keeps its outer side", "SELECT count(*) FROM aliens a RIGHT JOIN humans h ON a.human_id = h.id", "3"},
    {"full join", "SELECT count(*) FROM aliens a FULL JOIN humans h ON a.human_id = h.id", "5"},
    {"IN subquery", "SELECT count(*) FROM aliens WHERE human_id IN (SELECT id FROM humans)", "1"},
    {"correlated EXISTS", "SELECT name FROM humans h WHERE EXISTS (SELECT 1 FROM aliens a WHERE a.human_id = h.id)", "Ada"},
    {"CTE", "WITH x AS (SELECT * FROM aliens) SELECT count(*) FROM x", "3"},
    {"scalar subquery in the select list", "SELECT (SELECT count(*) FROM humans), (SELECT count(*) FROM aliens)", "3|3"},
    {"schema-qualified", "SELECT count(*) FROM public.humans", "3"},
    {"set operation", "SELECT name FROM humans UNION ALL SELECT name FROM aliens ORDER BY 1", "Ada;Blip;Edsger;Grace;Quux;Zorg"},
};

std::string joined(const Result& r) {
  std::string out;
  for (int row = 0; row < r.rows(); ++row) {
    if (row > 0) out += ";";
    for (int col = 0; col < PQnfields(r.get()); ++col) {
      if (col > 0) out += "|";
      out += r.value(row, col);
    }
  }
  return out;
}

}  // namespace

TEST_CASE("psql sees only live rows") {
  reset_seed();
  for (const auto& c : read_cases) {
    CAPTURE(c.name);
    auto r = run_command(std::string(PGSD_PG_BIN) + "/psql \"" + rules_proxy().conninfo() + "\" -X -A -t -c \"" +
                         c.sql + "\"");
    CHECK(r.status == 0);
    std::string rows = r.output;
    if (!rows.empty() && rows.back() == '\n') rows.pop_back();
    for (auto& ch : rows)
      if (ch == '\n') ch = ';';
    CHECK(rows == c.expected);
  }
}

TEST_CASE("libpq's extended protocol sees only live rows") {
  auto conn = seeded_connection();
  for (const auto& c : read_cases) {
    CAPTURE(c.name);
    auto r = conn.exec_params(c.sql, {});
    REQUIRE(r.ok());
    CHECK(joined(r) == c.expected);
  }
  // With a parameter, as ORMs send it.
  auto r = conn.exec_params("SELECT count(*) FROM humans WHERE id > $1", {"1"});
  CHECK(r.value() == "2");
}

TEST_CASE("the same queries straight to the server see the deleted rows too") {
  reset_seed();
  Conn c(cluster().conninfo());
  CHECK(c.scalar("SELECT count(*) FROM humans") == "5");
  CHECK(c.scalar("SELECT count(*) FROM aliens") == "5");
}

TEST_CASE("psycopg2 sees only live rows and gets DELETE's row count") {
  reset_seed();
  const std::string script = R"(
import psycopg2, sys
conn = psycopg2.connect(sys.argv[1])
cur = conn.cursor()
cur.execute("SELECT h.name FROM humans h JOIN aliens a ON a.human_id = h.id WHERE h.id > %s ORDER BY 1", (0,))
print(",".join(r[0] for r in cur.fetchall()))
cur.execute("SELECT count(*) FROM (SELECT * FROM aliens WHERE human_id IS NOT NULL) s")
print(cur.fetchone()[0])
cur.execute("DELETE FROM humans WHERE name = %s", ("Grace",))
print(cur.rowcount, cur.statusmessage)
conn.commit()
cur.execute("SELECT count(*) FROM humans")
print(cur.fetchone()[0])
)";
  auto r = run_command("/usr/bin/python3 -c '" + script + "' '" + rules_proxy().conninfo() + "'");
  CHECK_MESSAGE(r.status == 0, r.output);
  CHECK(r.output == "Ada\n2\n1 DELETE 1\n2\n");
  CHECK(direct("SELECT is_deleted FROM humans WHERE name = 'Grace'") == "t");
}

TEST_CASE("the partial index on live rows serves the rewritten query") {
  auto c = seeded_connection();
  REQUIRE(c.exec("SET enable_seqscan = off").ok());
  auto r = c.exec("EXPLAIN SELECT id FROM humans WHERE name = 'Grace'");
  REQUIRE(r.ok());
  std::string plan;
  for (int i = 0; i < r.rows(); ++i) plan += r.value(i) + "\n";
  CAPTURE(plan);
  CHECK(plan.find("humans_live") != std::string::npos);
}

TEST_CASE("TABLESAMPLE samples the live rows only") {
  auto c = seeded_connection();
  CHECK(c.scalar("SELECT count(*) FROM humans TABLESAMPLE BERNOULLI (100)") == "3");
  CHECK(c.scalar("SELECT count(*) FROM humans AS h TABLESAMPLE SYSTEM (100) REPEATABLE (42) "
                 "JOIN aliens a ON a.human_id = h.id") == "1");  // Zorg->Ada; Quux's Alan is deleted
  CHECK(c.scalar("SELECT string_agg(name, ',' ORDER BY name) FROM humans TABLESAMPLE BERNOULLI (100) "
                 "WHERE is_deleted") == "");
  CHECK(c.scalar("/* pgsoftdelete: skip=humans */ SELECT count(*) FROM humans TABLESAMPLE BERNOULLI (100)") == "5");
}

TEST_CASE("a rule table with a 63-byte name stays filtered under a longer spelling") {
  const std::string name(63, 'l');
  cluster().sql("DROP TABLE IF EXISTS " + name + "; CREATE TABLE " + name +
                " (id int, is_deleted boolean NOT NULL DEFAULT false); INSERT INTO " + name +
                " VALUES (1, false), (2, true)");
  const auto rules = std::filesystem::temp_directory_path() / "pgsd-long-name.toml";
  std::ofstream(rules) << "[[table]]\nname = \"" << name << "\"\n";
  ProxyProcess p({"--upstream", cluster().endpoint(), "--rules", rules.string()});
  Conn c(p.conninfo());
  REQUIRE(c.ok());
  for (const std::string& spelling : {name, name + "xyz", "\"" + name + "_and_more\""}) {
    CAPTURE(spelling);
    CHECK(c.scalar("SELECT count(*) FROM " + spelling) == "1");
  }
  CHECK(c.exec("DELETE FROM " + name + "xyz WHERE id = 1").tag() == "DELETE 1");
  Conn direct(cluster().conninfo());
  CHECK(direct.scalar("SELECT count(*) FROM " + name) == "2");  // soft: both rows still there
  std::filesystem::remove(rules);
}
