// The rewriter: parse tree + tokens + RuleSet + hints -> the text edits that add soft-delete semantics,
// or a fail-closed error. Knows nothing of caching or sessions.
#pragma once

#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "parser/error.hpp"
#include "parser/json_tree.hpp"
#include "rules/hints.hpp"
#include "rules/resolved_rules.hpp"
#include "rules/rule_set.hpp"
#include "rules/splice.hpp"
#include "rules/sql_tokens.hpp"

namespace pgsoftdelete::rules {

/// What the proxy needs to know about one statement of the string it forwards.
struct StatementInfo {
  /// The statement was a DELETE turned into an UPDATE: the proxy must answer "DELETE n" for its "UPDATE n".
  bool delete_to_update = false;
  /// For `PREPARE name AS DELETE …` turned into an UPDATE: the prepared statement's name, so the proxy can
  /// fix the tag of later `EXECUTE name` statements. Empty otherwise.
  std::string prepared_delete_to_update;
  /// Set when the statement is SET/SET LOCAL/RESET/RESET ALL/DISCARD ALL touching pgsoftdelete.* hints.
  std::optional<HintSetting> hint_setting;
  /// DDL that may change what the catalog says (tables, partitions, inheritance, foreign keys).
  bool changes_catalog = false;
  /// May change the search_path (SET/RESET of it, RESET ALL, DISCARD, a DO block, set_config…).
  bool changes_search_path = false;
};

/// The rewriter's answer for a whole (possibly multi-statement) string.
struct RewritePlan {
  std::vector<Edit> edits;                ///< empty: the text is forwarded unchanged
  std::vector<StatementInfo> statements;  ///< one per statement, in order
  bool cacheable = true;                  ///< false when the plan depends on more than the token structure
  bool unknown_relation = false;          ///< a table name the catalog does not know was decided by name
};

/// Computes the edits for `sql`, already parsed into `tree` (pg_query's JSON tree) and tokenised into `tokens`.
/// `session_hints` come from the proxy; leading hint comments of each statement add to them (comments are
/// only seen when `tokens` come from the PostgreSQL scanner). `user` is checked against the hint user lists.
/// `resolved` (may be null: names alone decide) and `path` resolve table names as the server does.
std::expected<RewritePlan, parser::Error> plan_rewrite(std::string_view sql, const parser::JsonTree& tree,
                                                       const std::vector<SqlToken>& tokens, const RuleSet& rules,
                                                       const Hints& session_hints, std::string_view user,
                                                       const ResolvedRules* resolved = nullptr,
                                                       const SearchPath& path = {});

/// SQL text that a statement hands to the server to run (query_to_xml's query), rewritten like a
/// statement: nullopt when it needs no change.
std::expected<std::optional<std::string>, parser::Error> rewrite_nested_sql(std::string_view sql, const RuleSet& rules,
                                                                            const Hints& hints, std::string_view user,
                                                                            const ResolvedRules* resolved,
                                                                            const SearchPath& path);

}  // namespace pgsoftdelete::rules
