// The doctor's check of code and roles that read rule tables on the server, where the proxy's
// filter does not apply: views, materialized views, rewrite rules, functions and procedures,
// triggers, and roles that can read pg_stats.
#include <set>
#include <utility>

#include "ops/doctor.hpp"

namespace pgsoftdelete::proxy::doctor {

namespace {

// pg_trigger.tgtype bits (PostgreSQL's catalog/pg_trigger.h).
constexpr int trigger_delete = 1 << 3;

void check_dependent(const Context& cx, const Dependent& d, std::vector<Finding>& out) {
  const int t = cx.table_index(d.table);
  if (t < 0 || cx.rule_of[t] == nullptr) return;
  const auto i = static_cast<std::size_t>(t);
  const auto& rule = *cx.rule_of[i];
  const auto& table = cx.snapshot.tables[i].sql;
  const std::string live = rule.live_predicate("");
  switch (d.kind) {
    case 'v': {
      // A view created through the proxy has the live-rows condition in its definition.
      if (text_filters_live(d.definition, rule)) return;
      auto f = cx.finding(i, "view_unfiltered", Severity::warning,
                          "view " + d.sql + " reads " + table + " without " + live +
                              " in its definition: whoever reads the view sees deleted rows, through the proxy "
                              "too. Run the fix through the proxy, which adds the condition");
      f.fix = "CREATE OR REPLACE VIEW " + d.sql + " AS\n" + d.definition;
      out.push_back(std::move(f));
      return;
    }
    case 'm':
      if (text_filters_live(d.definition, rule)) return;
      out.push_back(cx.finding(i, "matview_unfiltered", Severity::warning,
                               "materialized view " + d.sql + " reads " + table + " without " + live +
                                   " in its definition: it holds deleted rows. Create it again through the proxy "
                                   "(DROP, then CREATE MATERIALIZED VIEW with the same query, its indexes and "
                                   "grants)"));
      return;
    default:
      out.push_back(cx.finding(i, "rewrite_rule", Severity::warning,
                               "rule " + d.sql + " reads or acts on " + table +
                                   ": the server runs its actions unfiltered, and a DELETE the proxy rewrote is an "
                                   "UPDATE (ON DELETE rules do not fire for soft deletes). Definition: " +
                                   d.definition));
  }
}

}  // namespace

void check_readers(const Context& cx, std::vector<Finding>& out) {
  const auto& tables = cx.snapshot.tables;
  for (const auto& d : cx.snapshot.dependents) check_dependent(cx, d, out);

  // Functions name tables in text PostgreSQL only parses when they run: a whole-word search.
  for (const auto& fn : cx.snapshot.functions) {
    std::set<std::string> seen;  // one finding per function and table
    for (std::size_t i = 0; i < tables.size(); ++i) {
      const auto* rule = cx.rule_of[i];
      if (rule == nullptr || !mentions_word(fn.source, tables[i].name) || !seen.insert(tables[i].sql).second) continue;
      if (text_filters_live(fn.source, *rule)) continue;
      out.push_back(cx.finding(i, "function_reads_table", Severity::warning,
                               std::string(fn.kind == 'p' ? "procedure " : "function ") + fn.sql + " names " +
                                   tables[i].name + " in its body (a textual match) and nowhere " +
                                   rule->live_predicate("") +
                                   ": its queries run on the server, unfiltered. Filter them, or grant it only to "
                                   "roles that may see deleted rows"));
    }
  }

  for (const auto& tg : cx.snapshot.triggers) {
    const int t = cx.table_index(tg.table);
    if (t < 0 || cx.rule_of[t] == nullptr) continue;
    const auto i = static_cast<std::size_t>(t);
    if (tg.type & trigger_delete)
      out.push_back(cx.finding(i, "trigger_on_table", Severity::warning,
                               "trigger " + tg.name + " on " + tables[i].sql + " fires on DELETE: a soft delete "
                               "through the proxy is an UPDATE, so it does not fire (UPDATE triggers do). What " +
                                   tg.function_sql + " reads is not filtered"));
    else
      out.push_back(cx.finding(i, "trigger_on_table", Severity::info,
                               "trigger " + tg.name + " on " + tables[i].sql + " runs " + tg.function_sql +
                                   " on the server: what it reads is not filtered (deleted rows included), and a "
                                   "soft delete fires its UPDATE triggers"));
  }

  for (const auto& r : cx.snapshot.readers) {
    const int t = cx.table_index(r.table);
    if (t < 0 || cx.rule_of[t] == nullptr || r.roles.empty()) continue;
    std::string roles;
    for (const auto& role : r.roles) roles += (roles.empty() ? "" : ", ") + role;
    out.push_back(cx.finding(static_cast<std::size_t>(t), "pg_stats_readable", Severity::info,
                             "roles that can read the pg_stats rows of " + tables[t].sql + ": " + roles +
                                 ". pg_stats shows each column's most common values and histogram over all rows, "
                                 "deleted ones included, to roles with SELECT on the column (checked: SELECT on "
                                 "the table or any of its columns, owner, superusers and pg_ roles left out, "
                                 "row-level security not considered)"));
  }
}

}  // namespace pgsoftdelete::proxy::doctor
