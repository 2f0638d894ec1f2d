// The rewrite cache: statements differing only in literals share a plan; anything else does not.
#include <doctest/doctest.h>

#include <string>
#include <thread>
#include <vector>

#include "rules/rewrite_cache.hpp"
#include "test_support.hpp"

namespace pgsoftdelete::test {

TEST_CASE("cache: a hit for different literals gives the slow path's answer") {
  rules::Engine engine(standard_rules());
  struct Pair {
    const char* first;
    const char* second;
  };
  const Pair pairs[] = {
      {"SELECT * FROM humans h WHERE h.id = 1 AND h.name = 'a'", "SELECT * FROM humans h WHERE h.id = 22 AND h.name = 'it''s'"},
      {"DELETE FROM humans WHERE id = 1", "DELETE  FROM humans\nWHERE id = /* c */ 99999"},
      {"UPDATE aliens a SET name = 'x' FROM humans h WHERE h.id = a.human_id AND h.id = 3 RETURNING a.id",
       "UPDATE aliens a SET name = $$y$$ FROM humans h WHERE h.id = a.human_id AND h.id = 4 RETURNING a.id"},
      {"SELECT * FROM planets p LEFT JOIN humans h ON h.planet_id = p.id WHERE p.name = 'earth' LIMIT 10",
       "SELECT * FROM planets p LEFT JOIN humans h ON h.planet_id = p.id WHERE p.name = E'mars\\n' LIMIT 20"},
      {"COPY humans (id, name) TO STDOUT", "COPY humans (id, name) TO STDOUT"},
  };
  for (const auto& p : pairs) {
    std::string first = p.first, second = p.second;
    CAPTURE(first);
    CAPTURE(second);
    auto before = engine.stats();
    auto a = engine.rewrite(p.first, {}, "app");
    auto b = engine.rewrite(p.second, {}, "app");
    auto after = engine.stats();
    REQUIRE(a);
    REQUIRE(b);
    CHECK(after.parsed == before.parsed + 1);
    CHECK(after.cache_hits == before.cache_hits + 1);
    auto slow = rewrite_slow(p.second);
    REQUIRE(slow);
    CHECK(b->sql == slow->sql);
    CHECK(b->statements.size() == slow->statements.size());
    if (!b->statements.empty()) CHECK(b->statements[0].delete_to_update == slow->statements[0].delete_to_update);
  }
}

TEST_CASE("cache: different structure, hints or rules never share a plan") {
  rules::Engine engine(standard_rules());
  REQUIRE(engine.rewrite("SELECT * FROM humans WHERE id = 1", {}, "app"));
  auto parsed = engine.stats().parsed;
  REQUIRE(engine.rewrite("SELECT * FROM humans WHERE id = 1 OR id = 2", {}, "app"));
  CHECK(engine.stats().parsed == parsed + 1);
  REQUIRE(engine.rewrite("SELECT * FROM humans WHERE iD = 1", {}, "app"));
  CHECK(engine.stats().parsed == parsed + 2);
  rules::Hints skip;
  skip.skip = *rules::parse_table_set("humans");
  auto hinted = engine.rewrite("SELECT * FROM humans WHERE id = 1", skip, "app");
  REQUIRE(hinted);
  CHECK(hinted->unchanged);
  CHECK(engine.stats().parsed == parsed + 3);
  // Statements with hint comments are never cached.
  REQUIRE(engine.rewrite("/* pgsoftdelete: skip=humans */ SELECT * FROM humans WHERE id = 1", {}, "app"));
  REQUIRE(engine.rewrite("/* pgsoftdelete: skip=humans */ SELECT * FROM humans WHERE id = 1", {}, "app"));
  CHECK(engine.stats().parsed == parsed + 5);
  // The same key text with a different hint user must not reuse a permitted plan.
  auto strict = rules_from("[hints]\nskip_users = [\"admin\"]\n[[table]]\nname = \"humans\"\n");
  rules::Engine e2(strict);
  REQUIRE(e2.rewrite("SELECT * FROM humans", skip, "admin"));
  auto denied = e2.rewrite("SELECT * FROM humans", skip, "app");
  REQUIRE_FALSE(denied);
  CHECK(denied.error().sqlstate == "42501");
}

TEST_CASE("cache: DO blocks are never served from the cache") {
  rules::Engine engine(standard_rules());
  auto harmless = engine.rewrite("DO $$BEGIN DELETE FROM planets; END$$", {}, "app");
  REQUIRE(harmless);
  CHECK(harmless->unchanged);
  auto harmful = engine.rewrite("DO $$BEGIN DELETE FROM humans; END$$", {}, "app");
  REQUIRE_FALSE(harmful);
  CHECK(harmful.error().sqlstate == "0A000");
}

TEST_CASE("cache: errors are not cached, and the cache is bounded") {
  rules::Engine engine(standard_rules(), rules::EngineOptions{.cache_capacity = 32});
  for (int i = 0; i < 2; ++i) {
    auto r = engine.rewrite("SELECT h.ctid FROM humans h FULL JOIN humans g ON true WHERE h.id = 1", {}, "app");
    REQUIRE_FALSE(r);
    CHECK(r.error().sqlstate == "0A000");
  }
  CHECK(engine.stats().cache_hits == 0);
  for (int i = 0; i < 200; ++i) {
    std::string sql = "SELECT c" + std::to_string(i) + " FROM humans";
    REQUIRE(engine.rewrite(sql, {}, "app"));
  }
  // Earliest entries were evicted: rewriting the first again parses it.
  auto parsed = engine.stats().parsed;
  REQUIRE(engine.rewrite("SELECT c0 FROM humans", {}, "app"));
  CHECK(engine.stats().parsed == parsed + 1);
}

TEST_CASE("cache: concurrent use") {
  rules::Engine engine(standard_rules(), rules::EngineOptions{.cache_capacity = 64});
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 300; ++i) {
        std::string sql = "SELECT * FROM humans h JOIN aliens a ON a.human_id = h.id WHERE h.id = " + std::to_string(i) +
                          " AND a.name = 'n" + std::to_string(t) + "' AND x" + std::to_string(i % 70) + " = 1";
        auto r = engine.rewrite(sql, {}, "app");
        auto expected_prefix = std::string("SELECT * FROM humans h JOIN aliens a ON a.human_id = h.id WHERE (h.id = ");
        if (!r || !r->sql.starts_with(expected_prefix) ||
            !r->sql.ends_with(std::to_string(i % 70) + " = 1) AND NOT h.is_deleted AND a.deleted_at IS NULL"))
          ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(failures == 0);
  CHECK(engine.stats().cache_hits > 0);
}

}  // namespace pgsoftdelete::test

namespace pgsoftdelete::test {

TEST_CASE("cache: long strings are not cached") {
  rules::Engine engine(standard_rules(), rules::EngineOptions{.cache_max_sql = 100});
  std::string sql = "SELECT * FROM humans WHERE name IN ('" + std::string(200, 'x') + "')";
  REQUIRE(engine.rewrite(sql, {}, "app"));
  REQUIRE(engine.rewrite(sql, {}, "app"));
  CHECK(engine.stats().cache_hits == 0);
  CHECK(engine.stats().parsed == 2);
}

}  // namespace pgsoftdelete::test

namespace pgsoftdelete::test {

TEST_CASE("cache: a statement with a hint comment anywhere never shares a plan with one without") {
  rules::Engine engine(standard_rules());
  const char* plain = "SELECT * FROM humans h WHERE h.id = 1";
  const char* hinted[] = {
      "SELECT * FROM humans h WHERE h.id = 2 /* pgsoftdelete: skip=humans */",
      "SELECT /* pgsoftdelete: skip=humans */ * FROM humans h WHERE h.id = 3",
      "SELECT * FROM humans h WHERE h.id = 4; /*pgsoftdelete.skip='humans'*/",
      "SELECT * FROM humans h WHERE h.id = 5 -- pgsoftdelete: skip=humans",
  };
  for (int round = 0; round < 2; ++round) {  // the plain plan cached before and after
    auto p = engine.rewrite(plain, {}, "app");
    REQUIRE(p);
    CHECK_FALSE(p->unchanged);
    for (const char* sql : hinted) {
      CAPTURE(sql);
      auto h = engine.rewrite(sql, {}, "app");
      REQUIRE(h);
      CHECK(h->unchanged);  // skip: left unfiltered
    }
  }
}

}  // namespace pgsoftdelete::test
