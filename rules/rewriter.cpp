// plan_rewrite: per statement, its hints (session + its comments), its hint setting, and the walker's edits.
#include "rules/rewriter.hpp"

#include <algorithm>
#include <array>

#include "parser/scan.hpp"
#include "rules/hint_setting.hpp"
#include "rules/identifier.hpp"
#include "rules/walker.hpp"

namespace pgsoftdelete::rules {
namespace {

using parser::JsonTree;
using NodeId = Walker::NodeId;

// Statements that read or write rows: a rule table anywhere we do not understand is an error there.
// Other statements (DDL, LOCK, GRANT, VACUUM…) may name rule tables freely.
bool is_strict(std::string_view stmt_type) {
  static constexpr std::array<std::string_view, 12> strict = {
      "SelectStmt", "InsertStmt",        "UpdateStmt", "DeleteStmt",         "MergeStmt", "ExplainStmt",
      "PrepareStmt", "DeclareCursorStmt", "CopyStmt",   "CreateTableAsStmt", "ViewStmt",  "TruncateStmt"};
  return std::find(strict.begin(), strict.end(), stmt_type) != strict.end();
}

/// A SET/RESET earlier in the same string applies to the statements after it, as on the server.
/// RESET goes back to no hint rather than to the session's startup value, which only the proxy
/// knows: that errs on the side of filtering.
void apply_setting(Hints& hints, const HintSetting& s) {
  if (s.action == HintSetting::Action::reset_all) {
    hints = Hints{};
    return;
  }
  TableSet& field = s.kind == HintKind::skip           ? hints.skip
                    : s.kind == HintKind::only_deleted ? hints.only_deleted
                                                       : hints.hard_delete;
  field = s.action == HintSetting::Action::set ? s.value : TableSet{};
}

/// DDL after which the catalog may say something else about rule tables.
bool is_catalog_change(std::string_view stmt_type) {
  static constexpr std::array<std::string_view, 11> ddl = {
      "CreateStmt", "CreateTableAsStmt", "AlterTableStmt", "DropStmt", "RenameStmt", "AlterObjectSchemaStmt",
      "CreateSchemaStmt", "ViewStmt", "CreateForeignTableStmt", "AlterTableMoveAllStmt", "DropOwnedStmt"};
  return std::find(ddl.begin(), ddl.end(), stmt_type) != ddl.end();
}

/// Statements after which the search_path may differ: any mention of it (SET, RESET, set_config),
/// RESET ALL, DISCARD, SET ROLE (for $user) and DO blocks (their code may do anything).
bool may_change_search_path(std::string_view stmt_type, std::string_view text) {
  if (stmt_type == "DoStmt" || stmt_type == "DiscardStmt") return true;
  for (std::size_t i = 0; i + 10 <= text.size(); ++i)  // set_config's name may be built, not written
    if (starts_with_folded(text.substr(i), "search_path") || starts_with_folded(text.substr(i), "set_config"))
      return true;
  if (stmt_type == "VariableSetStmt")
    for (std::size_t i = 0; i + 4 <= text.size(); ++i)
      if (starts_with_folded(text.substr(i), "role") || starts_with_folded(text.substr(i), "all") ||
          starts_with_folded(text.substr(i), "session"))
        return true;
  return false;
}

}  // namespace

std::expected<RewritePlan, parser::Error> plan_rewrite(std::string_view sql, const JsonTree& tree,
                                                       const std::vector<SqlToken>& tokens, const RuleSet& rules,
                                                       const Hints& session_hints, std::string_view user,
                                                       const ResolvedRules* resolved, const SearchPath& path) {
  RewritePlan plan;
  Hints running = session_hints;  // the session's hints as this string's own SETs change them
  SearchPath running_path = path;  // unknown after a statement that may change it
  bool catalog_changed = false;    // DDL earlier in the string: the catalog we resolve with is old
  std::size_t tok = 0;  // first token not yet attributed to a statement
  TokenNesting nesting(tokens);
  NodeId stmts = tree.get(tree.root(), "stmts");
  for (NodeId raw = stmts ? tree.node(stmts).first : 0; raw != 0; raw = tree.node(raw).next) {
    NodeId stmt = tree.get(raw, "stmt");
    std::string_view stmt_type = stmt && tree.node(stmt).first ? tree.node(tree.node(stmt).first).key : "";
    StatementInfo info;
    // This statement's tokens: up to and including its terminating ';' and, for the last
    // statement, the comments after it (ORMs and sqlcommenter append theirs after a final ';').
    auto location = tree.number(raw, "stmt_location");
    auto length = tree.number(raw, "stmt_len");
    const bool last = tree.node(raw).next == 0;
    std::size_t end = length > 0 && !last ? static_cast<std::size_t>(location + length) : sql.size();
    std::size_t stop = tok;
    while (stop < tokens.size() && static_cast<std::size_t>(tokens[stop].start) < end) ++stop;
    if (stop < tokens.size() && tokens[stop].kind == Tok::semicolon) ++stop;
    // Hints from every comment of the statement, wherever it stands (before, inside, after);
    // several combine.
    Hints hints = running;
    bool statement_hints = false;
    for (; tok < stop; ++tok) {
      if (tokens[tok].kind != Tok::comment) continue;
      auto comment = sql.substr(static_cast<std::size_t>(tokens[tok].start),
                                static_cast<std::size_t>(tokens[tok].end - tokens[tok].start));
      auto h = parse_hint_comment(comment);
      if (!h) return std::unexpected(h.error());
      if (*h) {
        hints.merge(**h);
        statement_hints = true;
      }
    }
    if (statement_hints) plan.cacheable = false;
    auto setting = hint_setting_of(tree, stmt, rules, user);
    if (!setting) return std::unexpected(setting.error());
    if (*setting) {
      info.hint_setting = **setting;
      plan.cacheable = false;
      apply_setting(running, **setting);
      hints = running;  // hints.merge above only added the statement's own comment hints
    }
    // After DDL in the same string the catalog is not what the server will see: a statement that
    // reads or writes rows is refused rather than resolved against the old one.
    if (catalog_changed && resolved != nullptr && is_strict(stmt_type))
      return std::unexpected(parser::not_supported(
          "pgsoftdelete: a statement that reads or writes rows after DDL in the same query string; send the DDL "
          "as a query of its own, so that the proxy reads the catalog it makes"));
    // A transaction end or rollback may take back a search_path set earlier in the transaction.
    if (stmt_type == "TransactionStmt") running_path = SearchPath{};
    Walker walker(sql, tree, tokens, nesting, rules, hints, user, is_strict(stmt_type), resolved, running_path);
    if (stmt_type == "DeleteStmt") walker.top_delete = tree.get(stmt, "DeleteStmt");
    NodeId prepare = tree.get(stmt, "PrepareStmt");
    if (prepare) walker.top_delete = tree.get(tree.get(prepare, "query"), "DeleteStmt");
    walker.cascade_target = walker.top_delete;
    walker.restore_target = tree.get(stmt, "UpdateStmt");
    if (prepare) walker.restore_target = tree.get(tree.get(prepare, "query"), "UpdateStmt");
    if (NodeId explain = tree.get(stmt, "ExplainStmt")) {
      walker.cascade_target = tree.get(tree.get(explain, "query"), "DeleteStmt");
      walker.restore_target = tree.get(tree.get(explain, "query"), "UpdateStmt");
    }
    walker.run(stmt);
    if (walker.error) return std::unexpected(*walker.error);
    plan.unknown_relation = plan.unknown_relation || walker.unknown_relation;
    info.changes_catalog = is_catalog_change(stmt_type);
    catalog_changed = catalog_changed || info.changes_catalog;
    const std::size_t text_end = std::min(end, sql.size());
    const std::size_t text_begin = std::min(static_cast<std::size_t>(location), text_end);
    info.changes_search_path = may_change_search_path(stmt_type, sql.substr(text_begin, text_end - text_begin));
    if (info.changes_search_path) {
      running_path = SearchPath{};
      plan.cacheable = false;
    }
    if (walker.delete_to_update) {
      if (prepare) info.prepared_delete_to_update = tree.string(prepare, "name");
      else info.delete_to_update = true;
    }
    for (auto& e : walker.edits) plan.edits.push_back(std::move(e));
    plan.statements.push_back(std::move(info));
  }
  return plan;
}

std::expected<std::optional<std::string>, parser::Error> rewrite_nested_sql(std::string_view sql, const RuleSet& rules,
                                                                            const Hints& hints, std::string_view user,
                                                                            const ResolvedRules* resolved,
                                                                            const SearchPath& path) {
  auto tree = parser::parse_json(sql);
  if (!tree) return std::unexpected(tree.error());
  auto scanned = parser::scan(sql);
  if (!scanned) return std::unexpected(scanned.error());
  const auto tokens = tokens_from_scan(*scanned);
  auto plan = plan_rewrite(sql, *tree, tokens, rules, hints, user, resolved, path);
  if (!plan) return std::unexpected(plan.error());
  for (const auto& s : plan->statements)
    if (s.hint_setting || s.changes_catalog)
      return std::unexpected(parser::not_supported("pgsoftdelete: SQL text run by a function may only read"));
  if (plan->edits.empty()) return std::optional<std::string>{};
  auto text = apply_edits(sql, std::move(plan->edits));
  if (!text) return std::unexpected(text.error());
  return std::optional<std::string>(std::move(*text));
}

}  // namespace pgsoftdelete::rules
