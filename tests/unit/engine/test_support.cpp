// Shared fixtures for the engine tests.
#include "test_support.hpp"

#include <doctest/doctest.h>

#include "parser/parse.hpp"

namespace pgsoftdelete::test {

const char* const standard_rules_toml = R"(
[[table]]
name = "humans"

[[table]]
name = "aliens"
column = "deleted_at"
kind = "timestamp"

[[table]]
name = 'public."Robots"'
)";

std::shared_ptr<const rules::RuleSet> rules_from(std::string_view toml) {
  auto r = rules::load_rules_from_string(toml, "test.toml");
  REQUIRE_MESSAGE(r.has_value(), (r ? std::string() : r.error().to_string()));
  return *r;
}

std::shared_ptr<const rules::RuleSet> standard_rules() {
  static auto rules = rules_from(standard_rules_toml);
  return rules;
}

std::string normalised(std::string_view sql) {
  auto n = parser::normalise(sql);
  return n ? *n : "<error: " + n.error().message + ">";
}

std::expected<rules::RewriteResult, parser::Error> rewrite_slow(std::string_view sql, const rules::Hints& hints,
                                                                std::string_view user) {
  // Both ways of locating splices (our lexer's atoms, PostgreSQL's scanner) must give the same answer.
  static rules::Engine engine(standard_rules(), rules::EngineOptions{.cache_capacity = 0, .fast_path = false, .lexer_tokens = true});
  static rules::Engine scanner_engine(standard_rules(), rules::EngineOptions{.cache_capacity = 0, .fast_path = false, .lexer_tokens = false});
  auto r = engine.rewrite(sql, hints, user);
  auto s = scanner_engine.rewrite(sql, hints, user);
  CHECK(r.has_value() == s.has_value());
  if (r && s) CHECK(r->sql == s->sql);
  if (!r && !s) CHECK(r.error() == s.error());
  return r;
}

}  // namespace pgsoftdelete::test
