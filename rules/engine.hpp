// The engine the proxy calls: SQL text + session hints + user -> the text to forward (or an error).
// Combines the fast path (no parse for statements that cannot touch a rule table), the rewrite cache and
// the rewriter. Thread-safe; one Engine per RuleSet version.
#pragma once

#include <cstddef>
#include <expected>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "parser/error.hpp"
#include "rules/hints.hpp"
#include "rules/resolved_rules.hpp"
#include "rules/rewriter.hpp"
#include "rules/rule_set.hpp"

namespace pgsoftdelete::rules {

class RewriteCache;

/// What to send upstream for one client SQL string.
struct RewriteResult {
  /// True: forward the client's bytes exactly as they are (`sql` is empty).
  bool unchanged = true;
  /// When !unchanged: the statement(s) to send instead.
  std::string sql;
  /// One entry per statement of the string, in order, whenever the string was parsed (or served from the
  /// cache). Empty when the fast path decided that no statement touches a rule table or a pgsoftdelete
  /// hint/setting: then no statement needs any special handling.
  std::vector<StatementInfo> statements;
  /// A table name the catalog does not know was decided by name alone: the catalog may be stale.
  bool unknown_relation = false;
};

/// Where a session's statements are resolved: its database's catalog and its search_path. Without
/// a catalog, table names decide alone (an unqualified name may be any schema's rule table).
struct Scope {
  const ResolvedRules* resolved = nullptr;  ///< must have been built from this engine's rules
  const SearchPath* search_path = nullptr;  ///< null: unknown
};

/// Counters, for metrics and tests.
struct EngineStats {
  std::size_t fast_path = 0;   ///< strings answered by the fast path
  std::size_t cache_hits = 0;  ///< strings answered from the cache
  std::size_t parsed = 0;      ///< strings parsed and rewritten
};

/// Tuning knobs.
struct EngineOptions {
  std::size_t cache_capacity = 4096;  ///< total cached plans (0 disables the cache)
  std::size_t cache_max_sql = 16384;  ///< longer strings are not cached (bounds the cache's memory)
  bool fast_path = true;              ///< false: parse everything (for tests)
  bool lexer_tokens = true;           ///< false: always locate splices with PostgreSQL's scanner (for tests)
};

/// The rewriting engine for one RuleSet. Thread-safe: call rewrite() from any number of threads.
class Engine {
 public:
  explicit Engine(std::shared_ptr<const RuleSet> rules, EngineOptions options = {});
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  /// Rewrites one Query/Parse string. `session_hints` are the session's SET pgsoftdelete.* values as the proxy
  /// tracks them; `user` is the session's database user (for the hint permission checks: 42501).
  /// Errors: 42601 (syntax, PostgreSQL's message and cursor position), 0A000 (rule table used in a way that
  /// cannot be rewritten safely, or TRUNCATE/MERGE rejected by policy), 42501, 22023 (malformed hint).
  std::expected<RewriteResult, parser::Error> rewrite(std::string_view sql, const Hints& session_hints,
                                                      std::string_view user, const Scope& scope = {}) const;

  /// The rules this engine applies.
  const RuleSet& rules() const { return *rules_; }
  std::shared_ptr<const RuleSet> rules_ptr() const { return rules_; }
  /// A snapshot of the counters.
  EngineStats stats() const;

 private:
  std::shared_ptr<const RuleSet> rules_;
  EngineOptions options_;
  std::unique_ptr<RewriteCache> cache_;
};

}  // namespace pgsoftdelete::rules
