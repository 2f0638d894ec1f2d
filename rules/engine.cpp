// Engine::rewrite: fast path, then cache, then parse + plan + splice.
#include "rules/engine.hpp"

#include "parser/json_tree.hpp"
#include "parser/scan.hpp"
#include "rules/rewrite_cache.hpp"
#include "rules/sql_lexer.hpp"
#include "rules/splice.hpp"
#include "rules/sql_tokens.hpp"

namespace pgsoftdelete::rules {

Engine::Engine(std::shared_ptr<const RuleSet> rules, EngineOptions options)
    : rules_(std::move(rules)), options_(options), cache_(std::make_unique<RewriteCache>(options.cache_capacity)) {}

Engine::~Engine() = default;

EngineStats Engine::stats() const { return cache_->stats(); }

std::expected<RewriteResult, parser::Error> Engine::rewrite(std::string_view sql, const Hints& session_hints,
                                                            std::string_view user, const Scope& scope) const {
  // A catalog built for other rules (a reload between two statements) would misresolve: names decide.
  const ResolvedRules* resolved = scope.resolved != nullptr && &scope.resolved->rules() == rules_.get() ? scope.resolved : nullptr;
  static const SearchPath unknown_path;
  const SearchPath& path = scope.search_path != nullptr ? *scope.search_path : unknown_path;
  thread_local LexResult lexed;
  lex_sql(sql, *rules_, lexed, resolved);
  if (options_.fast_path && lexed.certainly_untouched()) {
    cache_->count_fast_path();
    return RewriteResult{};
  }
  thread_local std::string key;  // reused: no allocation per statement for the key
  const bool keyed = lexed.cacheable() && options_.cache_capacity > 0 && sql.size() <= options_.cache_max_sql;
  if (keyed) {
    std::string path_key;
    if (resolved != nullptr && resolved->search_path_matters()) path_key = resolved->fingerprint_text() + path.key();
    cache_key(lexed, sql, *rules_, session_hints, user,
              path_key.empty() && resolved != nullptr ? std::string_view(resolved->fingerprint_text())
                                                      : std::string_view(path_key),
              key);
    if (auto hit = cache_->find(key)) {
      RewriteResult r;
      r.statements = hit->statements;
      r.unknown_relation = hit->unknown_relation;
      if (hit->edits.empty()) return r;
      auto text = hit->apply(sql, lexed);
      if (!text) return std::unexpected(text.error());
      r.unchanged = false;
      r.sql = std::move(*text);
      return r;
    }
  }
  auto tree = parser::parse_json(sql);
  if (!tree) return std::unexpected(tree.error());
  // Our own atoms match PostgreSQL's tokens unless the lexer had doubts; hint comments need the real scanner.
  thread_local std::vector<SqlToken> tokens;
  if (lexed.uncertain || lexed.mentions_pgsoftdelete || !options_.lexer_tokens) {
    auto scanned = parser::scan(sql);
    if (!scanned) return std::unexpected(scanned.error());
    tokens = tokens_from_scan(*scanned);
  } else {
    tokens_from_atoms(sql, lexed, tokens);
  }
  auto plan = plan_rewrite(sql, *tree, tokens, *rules_, session_hints, user, resolved, path);
  if (!plan) return std::unexpected(plan.error());
  cache_->count_parsed();
  if (keyed && plan->cacheable) cache_->insert(key, CachedPlan::from(*plan, lexed));
  RewriteResult r;
  r.statements = std::move(plan->statements);
  r.unknown_relation = plan->unknown_relation;
  if (!plan->edits.empty()) {
    auto text = apply_edits(sql, std::move(plan->edits));
    if (!text) return std::unexpected(text.error());
    r.unchanged = false;
    r.sql = std::move(*text);
  }
  return r;
}

}  // namespace pgsoftdelete::rules
