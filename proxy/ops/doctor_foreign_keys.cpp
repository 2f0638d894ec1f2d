// The doctor's foreign-key check: for each key referencing a rule table, what a soft delete through
// the proxy does about its ON DELETE action (refuse, follow, or nothing it can enforce).
#include "ops/doctor.hpp"

#include <memory>

#include "rules/resolved_rules.hpp"

namespace pgsoftdelete::proxy::doctor {

namespace {

const char* action_name(char action) {
  switch (action) {
    case 'c': return "CASCADE";
    case 'n': return "SET NULL";
    case 'd': return "SET DEFAULT";
    case 'r': return "RESTRICT";
    default: return "NO ACTION";
  }
}

/// Actions that delete or change the referencing rows.
bool acts(char action) { return action == 'c' || action == 'n' || action == 'd'; }

}  // namespace

/// The proxy's own cascade plan for a soft delete of each rule table: where it would refuse the
/// statement because the keys cannot be followed in one (a cycle, two keys setting one table…).
void check_cascades(const Context& cx, std::vector<Finding>& out) {
  if (cx.rules.cascade() != rules::Cascade::foreign_keys) return;
  auto catalog = std::make_shared<rules::Catalog>();
  for (const auto& t : cx.snapshot.tables)
    catalog->relations.push_back({.oid = t.oid, .schema = t.schema, .name = t.name, .kind = t.kind, .parents = t.parents});
  for (const auto& k : cx.snapshot.foreign_keys) {
    rules::CatalogForeignKey key{k.name, k.referencing, k.referenced, k.on_delete, 'a', k.referenced_columns,
                                 k.referencing_columns, k.set_columns};
    key.derived = k.derived;
    catalog->foreign_keys.push_back(std::move(key));
  }
  // The RuleSet outlives this call: a non-owning pointer is enough.
  const rules::ResolvedRules resolved(std::shared_ptr<const rules::RuleSet>(std::shared_ptr<void>{}, &cx.rules), catalog);
  for (std::size_t t = 0; t < cx.snapshot.tables.size(); ++t) {
    if (cx.rule_of[t] == nullptr) continue;
    const auto plan = resolved.cascade_plan(cx.snapshot.tables[t].oid, true);
    if (plan.problem.empty()) continue;
    out.push_back(cx.finding(t, "fk_cascade_refused", Severity::error,
                             "the proxy refuses soft deletes of " + cx.snapshot.tables[t].sql +
                                 " (0A000): its foreign keys cannot be followed in one statement: " + plan.problem +
                                 ". Change the keys, or set [policy] cascade = \"off\""));
  }
}

void check_foreign_keys(const Context& cx, std::vector<Finding>& out) {
  const auto& tables = cx.snapshot.tables;
  check_cascades(cx, out);
  for (const auto& key : cx.snapshot.foreign_keys) {
    if (key.derived) continue;  // its parent key says it
    const int parent = cx.table_index(key.referenced);
    if (parent < 0 || cx.rule_of[parent] == nullptr) continue;
    const auto p = static_cast<std::size_t>(parent);
    const int child = cx.table_index(key.referencing);
    const std::string child_sql = child >= 0 ? tables[child].sql : "another table";
    const bool child_is_rule = child >= 0 && cx.rule_of[child] != nullptr;
    const std::string what = "foreign key " + key.name_sql + " from " + child_sql + " (ON DELETE " +
                             action_name(key.on_delete) + ")";
    const std::string& table = tables[p].sql;

    if (!acts(key.on_delete)) {
      out.push_back(cx.finding(
          p, "fk_restrict", Severity::warning,
          what + ": the proxy cannot enforce it. A soft delete of " + table + " is an UPDATE, so it succeeds while "
          "live rows of " + child_sql + " still point at the deleted row. Check for live children before deleting" +
              (child_is_rule ? ", or make the key ON DELETE CASCADE (the proxy follows it)" : "")));
    } else if (!child_is_rule) {
      const bool reject = cx.rules.foreign_key_policy() == rules::Policy::reject;
      out.push_back(cx.finding(
          p, "fk_action_plain_child", reject ? Severity::error : Severity::warning,
          what + ", and " + child_sql + " is no rule table: " +
              (reject ? "the proxy refuses every soft delete of " + table +
                            " (0A000): following the key would delete or change those rows for good, not "
                            "following it would leave them pointing at deleted rows. Add " + child_sql +
                            " to the rules file (the proxy then soft-deletes or updates its rows in the same "
                            "statement), or set [policy] foreign_key_actions = \"allow\""
                      : "with [policy] foreign_key_actions = \"allow\", soft deletes of " + table +
                            " leave its rows pointing at deleted rows. Add " + child_sql +
                            " to the rules file to have the proxy follow the key")));
    } else if (cx.rules.cascade() == rules::Cascade::foreign_keys) {
      out.push_back(cx.finding(p, "fk_action_rule_child", Severity::info,
                               what + ": the proxy follows it; a soft delete of " + table +
                                   " does the same to the matching live rows of " + child_sql +
                                   " in the same statement ([policy] cascade = \"foreign_keys\")"));
    } else {
      out.push_back(cx.finding(p, "fk_action_rule_child", Severity::warning,
                               what + ": not followed ([policy] cascade = \"off\"): a soft delete of " + table +
                                   " leaves the live rows of " + child_sql + " pointing at the deleted row"));
    }
  }
}

}  // namespace pgsoftdelete::proxy::doctor
