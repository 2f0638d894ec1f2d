// The Engine facade: fast path, byte-for-byte unchanged results, and agreement of all three paths.
#include <doctest/doctest.h>

#include <string>

#include "test_support.hpp"

namespace pgsoftdelete::test {

TEST_CASE("engine: the fast path answers without parsing") {
  rules::Engine engine(standard_rules());
  auto r = engine.rewrite("SELECT * FROM planets WHERE name = 'humans'", {}, "app");
  REQUIRE(r);
  CHECK(r->unchanged);
  CHECK(r->sql.empty());
  CHECK(r->statements.empty());
  CHECK(engine.stats().fast_path == 1);
  CHECK(engine.stats().parsed == 0);
  // Even invalid SQL: the server reports the error itself.
  auto bad = engine.rewrite("SELEC 1", {}, "app");
  REQUIRE(bad);
  CHECK(bad->unchanged);
}

TEST_CASE("engine: SET pgsoftdelete.* is never skipped by the fast path") {
  rules::Engine engine(standard_rules());
  auto r = engine.rewrite("SET pgsoftdelete.skip = 'humans'", {}, "app");
  REQUIRE(r);
  CHECK(r->unchanged);
  REQUIRE(r->statements.size() == 1);
  CHECK(r->statements[0].hint_setting.has_value());
  CHECK(engine.stats().fast_path == 0);
}

TEST_CASE("engine: RESET ALL and DISCARD ALL are never skipped by the fast path") {
  rules::Engine engine(standard_rules());
  for (const char* sql : {"RESET ALL", "reset all", "DISCARD ALL", "SELECT 1; RESET ALL"}) {
    std::string s = sql;
    CAPTURE(s);
    auto r = engine.rewrite(sql, {}, "app");
    REQUIRE(r);
    CHECK(r->unchanged);
    REQUIRE_FALSE(r->statements.empty());
    CHECK(r->statements.back().hint_setting.has_value());
    CHECK(r->statements.back().hint_setting->action == rules::HintSetting::Action::reset_all);
  }
  CHECK(engine.stats().fast_path == 0);
}

TEST_CASE("engine: fast path, cache and slow path agree") {
  rules::Engine engine(standard_rules());
  const char* corpus[] = {
      "SELECT 1",
      "SELECT * FROM humans",
      "SELECT * FROM humans WHERE id = 5",
      "SELECT * FROM humans WHERE id = 6",
      "select * from planets p left join humans h on h.planet_id = p.id where p.id in (1, 2, 3)",
      "select * from planets p left join humans h on h.planet_id = p.id where p.id in (4, 5, 6)",
      "DELETE FROM aliens WHERE name = 'x' RETURNING id",
      "DELETE FROM aliens WHERE name = 'y' RETURNING id",
      "WITH x AS (SELECT * FROM humans WHERE name LIKE 'a%') SELECT count(*) FROM x",
      "WITH x AS (SELECT * FROM humans WHERE name LIKE 'b%') SELECT count(*) FROM x",
      "SELECT * FROM \"Robots\" WHERE id = 1",
      "SELECT * FROM \"Robots\" WHERE id = 2",
  };
  for (int round = 0; round < 2; ++round) {
    for (const char* sql : corpus) {
      std::string s = sql;
      CAPTURE(s);
      CAPTURE(round);
      auto fast = engine.rewrite(sql, {}, "app");
      auto slow = rewrite_slow(sql);
      REQUIRE(fast);
      REQUIRE(slow);
      CHECK(fast->unchanged == slow->unchanged);
      CHECK(fast->sql == slow->sql);
    }
  }
  CHECK(engine.stats().cache_hits >= 10);
}

}  // namespace pgsoftdelete::test

#include <fstream>

namespace pgsoftdelete::test {

TEST_CASE("engine: the integration corpus agrees across lexer/scanner tokens and cache hits") {
  auto rules = rules_from(R"(
[[table]]
name = "humans"
[[table]]
name = "aliens"
column = "deleted_at"
kind = "timestamp"
[[table]]
name = "public.ships"
)");
  rules::Engine atoms(rules, rules::EngineOptions{});
  rules::Engine scanner(rules, rules::EngineOptions{.cache_capacity = 0, .fast_path = false, .lexer_tokens = false});
  int checked = 0;
  for (const char* file : {"read_queries.sql", "write_statements.sql"}) {
    std::ifstream in(std::string(PGSD_SOURCE_DIR) + "/tests/engine_integration/" + file);
    REQUIRE(in);
    for (std::string line; std::getline(in, line);) {
      if (line.empty() || line.starts_with("--")) continue;
      CAPTURE(line);
      auto expected = scanner.rewrite(line, {}, "app");
      REQUIRE_MESSAGE(expected, (expected ? "" : expected.error().message));
      for (int round = 0; round < 2; ++round) {  // the second round is served from the cache where cacheable
        auto got = atoms.rewrite(line, {}, "app");
        REQUIRE(got);
        CHECK(got->unchanged == expected->unchanged);
        CHECK(got->sql == expected->sql);
      }
      ++checked;
    }
  }
  CHECK(checked > 170);
  CHECK(atoms.stats().cache_hits > 150);
}

}  // namespace pgsoftdelete::test

namespace pgsoftdelete::test {

TEST_CASE("engine: names longer than 63 bytes are read as the server truncates them") {
  const std::string name63(63, 'h');
  const std::string name62_e = std::string(62, 'a') + "\xc3\xa9";  // 64 bytes: the cut falls inside é
  rules::Engine engine(rules_from("[[table]]\nname = \"" + name63 + "\"\n\n[[table]]\nname = '\"" + std::string(62, 'a') +
                                  "\"'\n\n[[table]]\nname = \"" + std::string(70, 'z') + "\"\n"));
  struct Case {
    const char* name;
    std::string sql;
  };
  const Case cases[] = {
      {"exact", "SELECT * FROM " + name63},
      {"longer, unquoted (the fast path once let it pass)", "SELECT * FROM " + name63 + "xyz"},
      {"longer, quoted", "SELECT * FROM \"" + name63 + "xyz\" t"},
      {"longer in a join", "SELECT 1 FROM planets p JOIN " + name63 + "_suffix h ON true"},
      {"cut before a multibyte character", "SELECT * FROM \"" + name62_e + "\""},
      {"a rule written longer than 63 bytes", "SELECT * FROM " + std::string(63, 'z')},
      {"a rule written longer than 63 bytes, referenced longer still", "SELECT * FROM " + std::string(80, 'z')},
  };
  for (const auto& c : cases) {
    const std::string name = c.name;
    CAPTURE(name);
    CAPTURE(c.sql);
    auto r = engine.rewrite(c.sql, {}, "app");
    REQUIRE(r);
    CHECK_FALSE(r->unchanged);
    CHECK(r->sql.find(".is_deleted") != std::string::npos);  // the predicate, qualified by the name as written
  }
  auto shorter = engine.rewrite("SELECT * FROM " + std::string(62, 'h'), {}, "app");
  REQUIRE(shorter);
  CHECK(shorter->unchanged);  // 62 bytes: another table
}

}  // namespace pgsoftdelete::test
