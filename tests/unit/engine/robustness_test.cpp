// Robustness: mangled statements and random bytes never crash the engine, and valid statements never hit
// an internal error (XX000): every answer is a rewrite (valid SQL), an unchanged pass-through or a SQLSTATE.
#include <doctest/doctest.h>

#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "parser/json_tree.hpp"
#include "rules/sql_lexer.hpp"
#include "test_support.hpp"

namespace pgsoftdelete::test {
namespace {

std::vector<std::string> corpus() {
  std::vector<std::string> out;
  for (const char* file : {"read_queries.sql", "write_statements.sql"}) {
    std::ifstream in(std::string(PGSD_SOURCE_DIR) + "/tests/engine_integration/" + file);
    for (std::string line; std::getline(in, line);)
      if (!line.empty() && !line.starts_with("--")) out.push_back(line);
  }
  return out;
}

}  // namespace

TEST_CASE("robustness: mangled statements") {
  rules::Engine engine(standard_rules());
  std::mt19937 rng(12345);
  const std::string pieces[] = {"(", ")", "'", "\"", "$$", "--", "/*", "*/", ";", " humans ", " FROM ", "U&\"", ",", "."};
  int internal_errors = 0, runs = 0;
  for (const auto& sql : corpus()) {
    for (int k = 0; k < 6; ++k) {
      std::string s = sql;
      std::uniform_int_distribution<std::size_t> pos(0, s.size());
      switch (k % 3) {
        case 0: s = s.substr(0, pos(rng)); break;                                   // truncation
        case 1: s.insert(pos(rng), pieces[rng() % std::size(pieces)]); break;        // insertion
        case 2: if (!s.empty()) s.erase(pos(rng) % s.size(), 1 + rng() % 5); break;  // deletion
      }
      auto r = engine.rewrite(s, {}, "app");
      ++runs;
      if (!r && r.error().sqlstate == "XX000") {
        ++internal_errors;
        MESSAGE("internal error for: " << s << " -> " << r.error().message);
      }
      if (r && !r->unchanged) {
        auto reparsed = parser::parse_json(r->sql);  // a rewrite is always valid SQL
        CHECK_MESSAGE(reparsed.has_value(), s << " -> " << r->sql);
      }
    }
  }
  CHECK(runs > 1000);
  CHECK(internal_errors == 0);
}

TEST_CASE("robustness: random bytes") {
  rules::Engine engine(standard_rules());
  std::mt19937 rng(777);
  for (int i = 0; i < 2000; ++i) {
    std::string s(rng() % 64, '\0');
    for (auto& c : s) c = static_cast<char>(rng() % 96 + 32);
    if (i % 3 == 0) s = "SELECT * FROM humans WHERE " + s;
    auto r = engine.rewrite(s, {}, "app");
    if (!r) CHECK(r.error().sqlstate != "XX000");
    parser::JsonTree t;
    (void)t.parse(s);
  }
}

}  // namespace pgsoftdelete::test
