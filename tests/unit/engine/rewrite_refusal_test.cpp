// Fail-closed rows: statements the engine must refuse (with the SQLSTATE) rather than forward unfiltered.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "test_support.hpp"

namespace pgsoftdelete::test {
namespace {

struct Refusal {
  const char* name;
  const char* sql;
  const char* sqlstate;
  const char* message_part;  // must appear in the message
};

const std::vector<Refusal> refusals = {
    {"syntax error", "SELECT * FRO humans", "42601", "syntax error at or near \"FRO\""},
    {"unterminated string", "SELECT 'abc FROM humans", "42601", "unterminated quoted string"},
    {"TRUNCATE", "TRUNCATE humans", "0A000", "TRUNCATE of soft-delete table humans"},
    {"TRUNCATE among others", "TRUNCATE planets, aliens", "0A000", "aliens"},
    {"MERGE into", "MERGE INTO humans h USING planets p ON h.planet_id = p.id WHEN MATCHED THEN DELETE", "0A000",
     "MERGE into soft-delete table humans"},
    {"TABLESAMPLE whose arguments read a rule table", "SELECT * FROM humans TABLESAMPLE SYSTEM ((SELECT count(*) FROM humans))",
     "0A000", "TABLESAMPLE arguments"},
    // A reference filtered in place keeps its system columns; one wrapped in a subquery (a FULL JOIN side) has none.
    {"system column beside a FULL JOIN", "SELECT ctid, * FROM humans FULL JOIN aliens USING (id)", "0A000", "system column ctid"},
    {"qualified system column of a FULL JOIN side", "SELECT h.xmin FROM humans h FULL JOIN aliens a ON true", "0A000",
     "system column xmin"},
    {"three-part column reference to a FULL JOIN side", "SELECT public.humans.id FROM public.humans FULL JOIN aliens ON true",
     "0A000", "schema-qualified column reference"},
    {"bad hint", "/* pgsoftdelete: skip humans */ SELECT * FROM humans", "22023", "pgsoftdelete hint"},
    {"unknown hint", "/* pgsoftdelete: show=humans */ SELECT * FROM humans", "22023", "unknown pgsoftdelete hint"},
    {"DO block naming a rule table", "DO $$BEGIN DELETE FROM humans; END$$", "0A000", "DO block"},
    {"DO block naming a rule table, quoted", "DO LANGUAGE plpgsql $x$BEGIN PERFORM 1 FROM \"humans\"; END$x$", "0A000", "DO block"},
    {"unknown setting", "SET pgsoftdelete.skp = 'humans'", "22023", "unrecognized pgsoftdelete setting"},
};

}  // namespace

TEST_CASE("refusals: fail closed with a SQLSTATE") {
  for (const auto& c : refusals) {
    std::string name = c.name, sql = c.sql;
    CAPTURE(name);
    CAPTURE(sql);
    auto r = rewrite_slow(c.sql);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().sqlstate == c.sqlstate);
    CAPTURE(r.error().message);
    CHECK(r.error().message.find(c.message_part) != std::string::npos);
  }
}

TEST_CASE("refusals: syntax errors carry the server's cursor position") {
  auto r = rewrite_slow("SELECT * FRO humans");
  REQUIRE_FALSE(r);
  CHECK(r.error().position == 10);  // as the server: caret under "FRO"
  auto t = rewrite_slow("SELECT 'é', ctid FROM humans FULL JOIN aliens ON true");
  REQUIRE_FALSE(t);
  CHECK(t.error().position == 13);  // characters, not bytes
}

TEST_CASE("refusals: TRUNCATE and MERGE allowed by policy") {
  auto rules = rules_from(R"(
[policy]
truncate = "allow"
merge = "allow"
[[table]]
name = "humans"
)");
  rules::Engine engine(rules);
  auto t = engine.rewrite("TRUNCATE humans", {}, "app");
  REQUIRE(t);
  CHECK(t->unchanged);
  auto m = engine.rewrite("MERGE INTO humans h USING planets p ON h.planet_id = p.id WHEN MATCHED THEN DELETE", {}, "app");
  REQUIRE(m);
  CHECK(m->unchanged);
}

}  // namespace pgsoftdelete::test
