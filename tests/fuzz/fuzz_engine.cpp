// fuzz_engine: arbitrary bytes as the SQL text of a Query or Parse, through rules::Engine::rewrite.
// It must answer a rewrite, a pass-through or an error, never crash, and:
//  - never an internal error (XX000: "a bug in the engine", see parser/error.hpp and the robustness test);
//  - a rewritten text parses whenever the input does (parser::parse_json, the parser the engine uses);
//  - locating splices with the engine's own lexer or with PostgreSQL's scanner gives the same answer (as
//    tests/unit/engine/test_support.cpp checks);
//  - the production engine (fast path, rewrite cache) agrees with the slow path: on a miss, on a cache hit for
//    the same text, and on a cache hit for a text differing only in literal values; the fast path passes on
//    only what the slow path passes on unchanged (or calls a syntax error);
//  - the same with session hints and another user, which the cache key must tell apart.
// Each input gets a fresh production engine, so a finding never depends on earlier inputs.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "parser/json_tree.hpp"
#include "rules/engine.hpp"
#include "rules/resolved_rules.hpp"
#include "rules/load_rules.hpp"
#include "rules/sql_lexer.hpp"

namespace {

namespace rules = pgsoftdelete::rules;
namespace parser = pgsoftdelete::parser;
using Result = std::expected<rules::RewriteResult, parser::Error>;

/// tests/unit/engine's standard rules and tests/engine_integration/rules.toml together, plus hint users
/// (so that 42501 can happen) and MERGE allowed (so both policies are used).
constexpr const char* rules_toml = R"(
[policy]
merge = "allow"

[hints]
skip_users = ["admin", "app"]
hard_delete_users = ["admin"]

[[table]]
name = "humans"

[[table]]
name = "aliens"
column = "deleted_at"
kind = "timestamp"
on_delete_set = { deleted_by = "current_user" }

[[table]]
name = 'public."Robots"'

[[table]]
name = "public.ships"
)";

struct Fixture {
  std::shared_ptr<const rules::RuleSet> rule_set;
  std::unique_ptr<rules::Engine> slow;     ///< no fast path, no cache, our lexer's atoms
  std::unique_ptr<rules::Engine> scanner;  ///< no fast path, no cache, PostgreSQL's scanner
  rules::Hints session_hints;              ///< as after SET pgsoftdelete.* = …
  std::unique_ptr<rules::ResolvedRules> resolved;  ///< a small catalog: partitions, a second schema, keys
  rules::SearchPath path{.known = true, .schemas = {"pg_catalog", "public"}};
};

const Fixture& fixture() {
  static const Fixture f = [] {
    Fixture f;
    auto loaded = rules::load_rules_from_string(rules_toml, "fuzz_engine.toml");
    if (!loaded) std::fprintf(stderr, "%s\n", loaded.error().to_string().c_str());
    FUZZ_CHECK(loaded.has_value());
    f.rule_set = *loaded;
    f.slow = std::make_unique<rules::Engine>(
        f.rule_set, rules::EngineOptions{.cache_capacity = 0, .fast_path = false, .lexer_tokens = true});
    f.scanner = std::make_unique<rules::Engine>(
        f.rule_set, rules::EngineOptions{.cache_capacity = 0, .fast_path = false, .lexer_tokens = false});
    auto catalog = std::make_shared<rules::Catalog>();
    catalog->relations = {{1, "public", "humans", 'p', {}}, {2, "public", "humans_1", 'r', {1}},
                          {3, "public", "humans_2", 'p', {1}}, {4, "public", "h2a", 'r', {3}},
                          {5, "public", "planets", 'r', {}},  {6, "public", "ships", 'r', {}},
                          {7, "other", "ships", 'r', {}},     {8, "public", "aliens", 'r', {}},
                          {9, "public", "fleet", 'r', {}},    {10, "public", "Robots", 'r', {}}};
    // Keys a soft delete follows (cascade_plan): aliens -> humans CASCADE, ships -> aliens SET NULL,
    // Robots -> Robots CASCADE (a closure); planets is no rule table.
    catalog->foreign_keys = {{"humans_planet", 1, 5, 'c', 'c', {"id"}, {"planet_id"}},
                             {"aliens_human", 8, 1, 'c', 'a', {"id"}, {"human_id"}},
                             {"ships_captain", 6, 8, 'n', 'a', {"id"}, {"captain_id"}},
                             {"robots_parent", 10, 10, 'c', 'a', {"id"}, {"parent_id"}}};
    f.resolved = std::make_unique<rules::ResolvedRules>(f.rule_set, std::move(catalog));
    auto skip = rules::parse_table_set("public.ships");
    auto only_deleted = rules::parse_table_set("aliens");
    auto hard_delete = rules::parse_table_set("humans, \"Robots\"");
    FUZZ_CHECK(skip && only_deleted && hard_delete);
    f.session_hints.skip = *skip;
    f.session_hints.only_deleted = *only_deleted;
    f.session_hints.hard_delete = *hard_delete;
    return f;
  }();
  return f;
}

[[noreturn]] void fail(const char* what, std::string_view sql, const Result& a, const Result& b) {
  auto show = [](const Result& r) {
    if (!r) return "error " + r.error().sqlstate + " at " + std::to_string(r.error().position) + ": " + r.error().message;
    return r->unchanged ? std::string("unchanged") : "rewritten: " + r->sql;
  };
  std::fprintf(stderr, "fuzz_engine: %s\n  input: %.*s\n  first:  %s\n  second: %s\n", what,
               static_cast<int>(sql.size()), sql.data(), show(a).c_str(), show(b).c_str());
  std::abort();
}

bool same_info(const rules::StatementInfo& a, const rules::StatementInfo& b) {
  if (a.delete_to_update != b.delete_to_update || a.prepared_delete_to_update != b.prepared_delete_to_update ||
      a.hint_setting.has_value() != b.hint_setting.has_value())
    return false;
  if (!a.hint_setting) return true;
  const auto &x = *a.hint_setting, &y = *b.hint_setting;
  return x.action == y.action && x.kind == y.kind && x.local == y.local && x.value.all == y.value.all &&
         x.value.to_string() == y.value.to_string();
}

bool same(const Result& a, const Result& b) {
  if (a.has_value() != b.has_value()) return false;
  if (!a) return a.error() == b.error();
  if (a->unchanged != b->unchanged || a->sql != b->sql || a->statements.size() != b->statements.size()) return false;
  for (std::size_t i = 0; i < a->statements.size(); ++i)
    if (!same_info(a->statements[i], b->statements[i])) return false;
  return true;
}

/// Properties of any single answer.
void check_answer(std::string_view sql, const Result& r) {
  if (!r) {
    if (r.error().sqlstate == parser::sqlstate::internal_error) fail("internal error (XX000)", sql, r, r);
    FUZZ_CHECK(r.error().sqlstate.size() == 5);
    FUZZ_CHECK(r.error().position >= 0 && static_cast<std::size_t>(r.error().position) <= sql.size() + 1);
    return;
  }
  if (r->unchanged) {
    FUZZ_CHECK(r->sql.empty());
    return;
  }
  if (!parser::parse_json(r->sql) && parser::parse_json(sql)) fail("the rewritten text does not parse", sql, r, r);
}

/// The production engine's answer `fast` against the slow path's `slow` for the same text, hints and user.
void check_production(std::string_view sql, const Result& fast, bool took_fast_path, const Result& slow) {
  if (took_fast_path) {
    FUZZ_CHECK(fast && fast->unchanged && fast->statements.empty());
    bool plain = slow && slow->unchanged;
    if (plain)
      for (const auto& s : slow->statements)
        plain = plain && !s.delete_to_update && s.prepared_delete_to_update.empty() && !s.hint_setting;
    if (!plain && !(!slow && slow.error().sqlstate == parser::sqlstate::syntax_error))
      fail("the fast path passed on what the slow path does not", sql, fast, slow);
    return;
  }
  if (!same(fast, slow)) fail("the production engine and the slow path disagree", sql, fast, slow);
}

/// `sql` with every integer and plain '…' string literal given another value: the same rewrite cache key.
std::string other_literals(std::string_view sql, const rules::LexResult& lexed) {
  std::string out;
  std::size_t at = 0;
  for (const auto& atom : lexed.atoms) {
    const std::string_view text = sql.substr(atom.start, atom.end - atom.start);
    const char* replacement = nullptr;
    if (atom.kind == rules::AtomKind::integer)
      replacement = text == "7" ? "12" : "7";
    else if (atom.kind == rules::AtomKind::string_literal && text.size() >= 2 && text.front() == '\'' &&
             text.back() == '\'')
      replacement = text == "'v'" ? "'other'" : "'v'";
    if (!replacement) continue;
    out.append(sql.substr(at, atom.start - at));
    out.append(replacement);
    at = atom.end;
  }
  out.append(sql.substr(at));
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // SQL text arrives NUL-terminated in Query and Parse: it never holds a NUL.
  if (std::memchr(data, 0, size) != nullptr) return -1;
  const std::string_view sql(reinterpret_cast<const char*>(data), size);
  const Fixture& f = fixture();
  const rules::Hints no_hints;

  const Result slow = f.slow->rewrite(sql, no_hints, "app");
  check_answer(sql, slow);
  const Result scanned = f.scanner->rewrite(sql, no_hints, "app");
  if (!same(slow, scanned)) fail("our lexer's atoms and PostgreSQL's scanner disagree", sql, slow, scanned);

  rules::Engine production(f.rule_set);
  auto run = [&](std::string_view text, const rules::Hints& hints, std::string_view user, const Result& reference) {
    const auto before = production.stats().fast_path;
    const Result r = production.rewrite(text, hints, user);
    check_production(text, r, production.stats().fast_path != before, reference);
  };
  run(sql, no_hints, "app", slow);  // a miss
  run(sql, no_hints, "app", slow);  // a cache hit when cacheable

  const Result hinted = f.slow->rewrite(sql, f.session_hints, "admin");
  check_answer(sql, hinted);
  run(sql, f.session_hints, "admin", hinted);
  const Result refused = f.slow->rewrite(sql, f.session_hints, "app");  // may not hard_delete: 42501
  check_answer(sql, refused);
  run(sql, f.session_hints, "app", refused);

  // Resolved through a catalog: the fast path must still never pass what the slow path changes.
  const rules::Scope scope{.resolved = f.resolved.get(), .search_path = &f.path};
  const Result slow_scoped = f.slow->rewrite(sql, no_hints, "app", scope);
  check_answer(sql, slow_scoped);
  rules::Engine scoped(f.rule_set);
  for (int pass = 0; pass < 2; ++pass) {  // a miss, then a cache hit when cacheable
    const auto before = scoped.stats().fast_path;
    const Result r = scoped.rewrite(sql, no_hints, "app", scope);
    check_production(sql, r, scoped.stats().fast_path != before, slow_scoped);
  }

  rules::LexResult lexed;
  rules::lex_sql(sql, *f.rule_set, lexed);
  if (lexed.cacheable()) {
    const std::string variant = other_literals(sql, lexed);
    if (variant != sql) {
      const Result slow_variant = f.slow->rewrite(variant, no_hints, "app");
      check_answer(variant, slow_variant);
      run(variant, no_hints, "app", slow_variant);  // served from the plan cached for `sql`
    }
  }
  return 0;
}
