// The SQL of a followed cascade; see cascade_sql.hpp.
#include "rules/cascade_sql.hpp"

#include <algorithm>
#include <vector>

#include "rules/identifier.hpp"

namespace pgsoftdelete::rules {

namespace {

constexpr std::string_view alias = "__pgsd_t";

std::string table_sql(const CatalogRelation& r) {
  // A key declared on a partitioned table covers its partitions; one on a plain table only that
  // table's own rows (inheritance children do not inherit foreign keys): ONLY, as the key sees it.
  return (r.kind == 'p' ? "" : "ONLY ") + quote_identifier(r.schema) + "." + quote_identifier(r.name);
}

/// `q."a", q."b"` (qualifier empty: the names alone).
std::string column_list(const std::vector<std::string>& columns, std::string_view qualifier) {
  std::string out;
  for (const auto& c : columns) {
    if (!out.empty()) out += ", ";
    if (!qualifier.empty()) out.append(qualifier).push_back('.');
    out += quote_identifier(c);
  }
  return out;
}

/// The CTEs holding a node's deleted rows.
std::vector<std::string> deleted_sets(const CascadePlan& plan, std::size_t node) {
  if (node != 0) return {"__pgsd_" + std::to_string(node)};
  std::vector<std::string> out{std::string(cascade_rows_cte)};
  if (!plan.nodes[0].self_keys.empty()) out.emplace_back("__pgsd_0");
  return out;
}

/// `(t."fk") IN (SELECT "id" FROM set1) OR …`: rows of `alias` that reference a deleted row through `key`.
std::string references(const CascadePlan& plan, const CascadePlan::Source& source, std::string_view qualifier) {
  std::string out;
  for (const auto& set : deleted_sets(plan, source.node)) {
    if (!out.empty()) out += " OR ";
    out += "(" + column_list(source.key->referencing_columns, qualifier) + ") IN (SELECT " +
           column_list(source.key->referenced_columns, "") + " FROM " + set + ")";
  }
  return out;
}

/// The target's rows (__pgsd_rows) left out: the final UPDATE deletes them, and a row must not be
/// updated by two sub-statements of one statement.
std::string not_target_rows(std::string_view qualifier) {
  return "NOT ((" + std::string(qualifier) + ".tableoid, " + std::string(qualifier) +
         ".ctid) IN (SELECT __pgsd_tableoid, __pgsd_ctid FROM " + std::string(cascade_rows_cte) + "))";
}

/// The rows a node's self-referencing keys reach from `seed` (a condition on `alias`), down any depth,
/// as a CTE body: WITH RECURSIVE over live rows (UNION: a cycle in the data ends).
std::string closure(const CascadePlan::Node& node, const CatalogRelation& table, const std::string& seed,
                    const std::vector<std::string>& columns) {
  const std::string live = node.rule->live_predicate(alias);
  std::string join;
  for (const auto* key : node.self_keys) {
    if (!join.empty()) join += " OR ";
    join += "(" + column_list(key->referencing_columns, alias) + ") = (" + column_list(key->referenced_columns, "w") + ")";
  }
  return "WITH RECURSIVE w AS (SELECT " + column_list(columns, alias) + " FROM " + table_sql(table) + " AS " +
         std::string(alias) + " WHERE " + live + " AND (" + seed + ") UNION SELECT " + column_list(columns, alias) +
         " FROM " + table_sql(table) + " AS " + std::string(alias) + " JOIN w ON " + join + " WHERE " + live +
         ") SELECT * FROM w";
}

}  // namespace

std::string cascade_rows_select(const CascadePlan& plan, std::string_view qualifier, bool restore) {
  const std::string q(qualifier);
  std::string out = q + ".tableoid AS __pgsd_tableoid, " + q + ".ctid AS __pgsd_ctid";
  if (restore) out += ", " + q + "." + quote_identifier(plan.nodes[0].rule->column) + " AS __pgsd_at";
  if (!plan.nodes[0].columns.empty()) out += ", " + column_list(plan.nodes[0].columns, qualifier);
  return out;
}

std::string cascade_identity(const CascadePlan& plan, std::string_view qualifier) {
  const std::string q(qualifier);
  std::string out = "(" + q + ".tableoid, " + q + ".ctid) IN (SELECT __pgsd_tableoid, __pgsd_ctid FROM " +
                    std::string(cascade_rows_cte) + ")";
  if (!plan.nodes[0].unique.empty())
    out += " OR (" + q + ".tableoid, " + column_list(plan.nodes[0].unique, qualifier) +
           ") IN (SELECT __pgsd_tableoid, " + column_list(plan.nodes[0].unique, "") + " FROM " +
           std::string(cascade_rows_cte) + ")";
  return "(" + out + ")";
}

std::string cascade_steps(const CascadePlan& plan) {
  std::string out;
  const std::string a(alias);
  for (std::size_t n = 0; n < plan.nodes.size(); ++n) {
    const auto& node = plan.nodes[n];
    const std::string name = "__pgsd_" + std::to_string(n);
    const std::string returning = node.columns.empty() ? "" : " RETURNING " + column_list(node.columns, alias);
    if (node.self_keys.empty()) {
      if (n == 0) continue;  // the final UPDATE
      std::string cond;
      for (const auto& s : node.sources) cond += (cond.empty() ? "" : " OR ") + references(plan, s, alias);
      out += ", " + name + " AS (UPDATE " + table_sql(*node.table) + " AS " + a + " SET " +
             node.rule->delete_assignments() + " WHERE " + node.rule->live_predicate(alias) + " AND (" + cond + ")" +
             returning + ")";
      continue;
    }
    // Self-referencing keys: the closure first, then one UPDATE of the table the keys are declared on.
    const CatalogRelation& table = *node.closure_table;
    std::vector<std::string> columns = node.columns;
    for (const auto* key : node.self_keys)
      for (const auto& c : key->referenced_columns)
        if (std::find(columns.begin(), columns.end(), c) == columns.end()) columns.push_back(c);
    std::string seed;
    if (n == 0) {  // the rows referencing __pgsd_rows (__pgsd_0 is what this builds)
      for (const auto* key : node.self_keys)
        seed += (seed.empty() ? "" : " OR ") + std::string("(") + column_list(key->referencing_columns, alias) +
                ") IN (SELECT " + column_list(key->referenced_columns, "") + " FROM " + std::string(cascade_rows_cte) +
                ")";
    } else {
      for (const auto& s : node.sources) seed += (seed.empty() ? "" : " OR ") + references(plan, s, alias);
    }
    const auto& unique = node.self_keys.front()->referenced_columns;
    out += ", " + name + "_w AS (" + closure(node, table, seed, columns) + ")";
    out += ", " + name + " AS (UPDATE " + table_sql(table) + " AS " + a + " SET " + node.rule->delete_assignments() +
           " WHERE " + node.rule->live_predicate(alias) + " AND (" + column_list(unique, alias) + ") IN (SELECT " +
           column_list(unique, "") + " FROM " + name + "_w)" + (n == 0 ? " AND " + not_target_rows(alias) : "") +
           returning + ")";
  }
  for (std::size_t j = 0; j < plan.sets.size(); ++j) {
    const auto& set = plan.sets[j];
    const auto& key = *set.source.key;
    const auto& columns = key.set_columns.empty() ? key.referencing_columns : key.set_columns;
    std::string assignments;
    for (const auto& c : columns)
      assignments += (assignments.empty() ? "" : ", ") + quote_identifier(c) + (key.on_delete == 'n' ? " = NULL" : " = DEFAULT");
    out += ", __pgsd_s" + std::to_string(j) + " AS (UPDATE " + table_sql(*set.table) + " AS " + a + " SET " +
           assignments + " WHERE " + set.rule->live_predicate(alias) + " AND (" + references(plan, set.source, alias) +
           ")" + (set.overlaps_target ? " AND " + not_target_rows(alias) : "") + ")";
  }
  return out;
}

std::string restore_steps(const CascadePlan& plan, std::string& problem) {
  std::string out;
  const std::string a(alias);
  std::vector<bool> restored(plan.nodes.size(), false);
  restored[0] = true;
  if (!plan.nodes[0].self_keys.empty()) problem = "its rows reference rows of their own table";
  for (std::size_t n = 1; n < plan.nodes.size() && problem.empty(); ++n) {
    const auto& node = plan.nodes[n];
    if (node.rule->kind != DeletedKind::timestamp) continue;
    std::size_t from = 0, count = 0;
    for (const auto& s : node.sources)
      if (restored[s.node]) {
        from = s.node;
        ++count;
      }
    if (count == 0) continue;
    if (count > 1 || node.sources.size() > 1 || !node.self_keys.empty()) {
      problem = node.table->schema + "." + node.table->name + " is reached by more than one foreign key";
      break;
    }
    restored[n] = true;
    const auto& key = *node.sources[0].key;
    const std::string set = from == 0 ? std::string(cascade_rows_cte) : "__pgsd_" + std::to_string(from);
    const std::string col = quote_identifier(node.rule->column);
    std::string returning = " RETURNING __pgsd_s.__pgsd_at";
    if (!node.columns.empty()) returning += ", " + column_list(node.columns, alias);
    // Through a join, not IN: the parent's own time comes with its key, and goes on to the grandchildren.
    out += ", __pgsd_" + std::to_string(n) + " AS (UPDATE " + table_sql(*node.table) + " AS " + a + " SET " + col +
           " = NULL FROM " + set + " AS __pgsd_s WHERE (" + column_list(key.referencing_columns, alias) + ") = (" +
           column_list(key.referenced_columns, "__pgsd_s") + ") AND " + a + "." + col + " = __pgsd_s.__pgsd_at" +
           returning + ")";
  }
  return problem.empty() ? out : std::string();
}

}  // namespace pgsoftdelete::rules
