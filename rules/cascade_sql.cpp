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

/// The columns of a step's RETURNING (or a closure's select list): which table each row is in, then
/// the columns later steps look for.
std::string row_columns(std::string_view qualifier, const std::vector<std::string>& columns, bool ctid) {
  const std::string q(qualifier);
  std::string out = q + ".tableoid AS __pgsd_tableoid";
  if (ctid) out += ", " + q + ".ctid AS __pgsd_ctid";
  if (!columns.empty()) out += ", " + column_list(columns, qualifier);
  return out;
}

/// `WHERE __pgsd_tableoid = ANY (…)` for a source that sees only some relations' rows, else "".
std::string only_seen(const CascadePlan::Source& source, std::string_view qualifier = "") {
  if (source.tableoids.empty()) return "";
  std::string list;
  for (auto oid : source.tableoids) list += (list.empty() ? "" : ",") + std::to_string(oid);
  return std::string(qualifier.empty() ? "" : std::string(qualifier) + ".") + "__pgsd_tableoid = ANY ('{" + list +
         "}'::pg_catalog.oid[])";
}

/// `__pgsd_t."c"`.
std::string alias_column(const std::string& column_sql) { return std::string(alias) + "." + column_sql; }

/// The CTEs holding a node's deleted rows.
std::vector<std::string> deleted_sets(const CascadePlan& plan, std::size_t node) {
  if (node != 0) return {"__pgsd_" + std::to_string(node)};
  std::vector<std::string> out{std::string(cascade_rows_cte)};
  if (!plan.nodes[0].self_keys.empty()) out.emplace_back("__pgsd_0");
  return out;
}

/// `(t."fk") IN (SELECT "id" FROM set1) OR …`: rows of `alias` that reference a deleted row through the
/// source's key. An IN over the referencing columns: an index on them (README) serves it.
std::string references(const CascadePlan& plan, const CascadePlan::Source& source) {
  std::string out;
  std::string filter = only_seen(source);
  // A step that also sets columns returns rows it did not delete: those are no deleted rows.
  if (source.node != 0 && !plan.nodes[source.node].sets.empty())
    filter += std::string(filter.empty() ? "" : " AND ") + "__pgsd_deleted";
  const auto& key = *source.key;
  for (const auto& set : deleted_sets(plan, source.node)) {
    if (!out.empty()) out += " OR ";
    const std::string select = "SELECT " + column_list(key.referenced_columns, "") + " FROM " + set +
                               (filter.empty() ? "" : " WHERE " + filter);
    // One column: = ANY (ARRAY(…)), which an index on it serves even ORed with other keys (a
    // BitmapOr), where an IN beside an OR becomes a hashed subplan over every row.
    if (key.referencing_columns.size() == 1)
      out += column_list(key.referencing_columns, alias) + " = ANY (ARRAY(" + select + "))";
    else
      out += "(" + column_list(key.referencing_columns, alias) + ") IN (" + select + ")";
  }
  return out;
}

/// The columns set by SET NULL / SET DEFAULT keys, each with the condition under which it is set: the
/// row references a deleted row through one of the keys that set it.
std::vector<std::pair<std::string, std::string>> set_columns(const CascadePlan& plan,
                                                             const std::vector<CascadePlan::Source>& sources) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& source : sources) {
    const auto& key = *source.key;
    const std::string cond = references(plan, source);
    for (const auto& c : key.set_columns.empty() ? key.referencing_columns : key.set_columns) {
      auto it = std::find_if(out.begin(), out.end(), [&](const auto& e) { return e.first == c; });
      if (it == out.end()) out.emplace_back(c, "(" + cond + ")");
      else it->second += " OR (" + cond + ")";
    }
  }
  return out;
}

/// The SET list and condition of a step that sets columns for `sources` (no row deleted by it): plain
/// `c = NULL` for one key, else `c = CASE WHEN <its keys> THEN NULL ELSE c END` per column.
std::pair<std::string, std::string> set_step(const CascadePlan& plan, const std::vector<CascadePlan::Source>& sources) {
  std::string assignments, where;
  for (const auto& source : sources)
    where += (where.empty() ? "" : " OR ") + (sources.size() > 1 ? "(" + references(plan, source) + ")" : references(plan, source));
  for (const auto& [column, cond] : set_columns(plan, sources)) {
    const std::string c = quote_identifier(column);
    const std::string value = sources[0].key->on_delete == 'd' ? "DEFAULT" : "NULL";
    assignments += (assignments.empty() ? "" : ", ") + c + " = " +
                   (sources.size() == 1 ? value : "CASE WHEN " + cond + " THEN NULL ELSE " + alias_column(c) + " END");
  }
  return {assignments, where};
}

/// The rows of `qualifier` whose (tableoid, ctid) `set` holds: a TID scan (ctid = ANY) where ctids say
/// it, then the table, since partitions repeat ctids.
std::string rows_in(std::string_view qualifier, std::string_view set) {
  const std::string q(qualifier), s(set);
  return "(" + q + ".ctid = ANY (ARRAY(SELECT __pgsd_ctid FROM " + s + ")) AND (" + q + ".tableoid, " + q +
         ".ctid) IN (SELECT __pgsd_tableoid, __pgsd_ctid FROM " + s + "))";
}

/// The rows of the statement's own (__pgsd_rows) left out: the final UPDATE updates them, and a row
/// must not be updated by two sub-statements of one statement.
std::string not_target_rows(std::string_view qualifier) {
  const std::string q(qualifier);
  return "NOT ((" + q + ".tableoid, " + q + ".ctid) IN (SELECT __pgsd_tableoid, __pgsd_ctid FROM " +
         std::string(cascade_rows_cte) + "))";
}

/// The rows a node's self-referencing keys reach from `seed` (a condition on `alias`), down any depth,
/// as a CTE body: WITH RECURSIVE over live rows, each row once (UNION over its ctid: a cycle in the
/// data ends, and rows are found again by ctid, whatever NULLs their keys hold).
std::string closure(const CascadePlan::Node& node, const std::string& seed, const std::vector<std::string>& columns) {
  const std::string live = node.rule->live_predicate(alias);
  const std::string from = table_sql(*node.closure_table) + " AS " + std::string(alias);
  std::string join;
  for (const auto* key : node.self_keys) {
    if (!join.empty()) join += " OR ";
    join += "(" + column_list(key->referencing_columns, alias) + ") = (" + column_list(key->referenced_columns, "w") + ")";
  }
  return "WITH RECURSIVE w AS (SELECT " + row_columns(alias, columns, true) + " FROM " + from + " WHERE " + live +
         " AND (" + seed + ") UNION SELECT " + row_columns(alias, columns, true) + " FROM " + from + " JOIN w ON " +
         join + " WHERE " + live + ") SELECT * FROM w";
}

}  // namespace

std::string cascade_rows_select(const CascadePlan& plan, std::string_view qualifier, const std::string& restoring) {
  std::vector<std::string> columns = plan.nodes[0].columns;
  for (const auto& c : plan.identity)
    if (std::find(columns.begin(), columns.end(), c) == columns.end()) columns.push_back(c);
  std::string out = row_columns(qualifier, columns, true);
  if (!restoring.empty()) {
    // The CASE gives the value the column's type, as the SET does: a parameter's type is then known.
    const std::string mark = std::string(qualifier) + "." + quote_identifier(plan.nodes[0].rule->column);
    out += ", " + mark + " AS __pgsd_at, (CASE WHEN false THEN " + mark + " ELSE (" + restoring +
           ") END) IS NULL AS __pgsd_restore";
  }
  return out;
}

std::string cascade_identity(const CascadePlan& plan, std::string_view qualifier) {
  // By primary key (an index), which also finds a row another transaction updated after the
  // statement's snapshot and __pgsd_rows locked in its new version; else by ctid.
  if (plan.identity.empty()) return rows_in(qualifier, cascade_rows_cte);
  return "(" + column_list(plan.identity, qualifier) + ") IN (SELECT " + column_list(plan.identity, "") + " FROM " +
         std::string(cascade_rows_cte) + ")";
}

std::string cascade_steps(const CascadePlan& plan) {
  std::string out;
  const std::string a(alias);
  for (std::size_t n = 0; n < plan.nodes.size(); ++n) {
    const auto& node = plan.nodes[n];
    const std::string name = "__pgsd_" + std::to_string(n);
    const std::string returning = " RETURNING " + row_columns(alias, node.columns, false);
    if (node.self_keys.empty()) {
      if (n == 0) continue;  // the final UPDATE
      std::string cond;
      for (const auto& s : node.sources) cond += (cond.empty() ? "" : " OR ") + references(plan, s);
      if (node.sets.empty()) {
        out += ", " + name + " AS (UPDATE " + table_sql(*node.table) + " AS " + a + " SET " +
               node.rule->delete_assignments() + " WHERE " + node.rule->live_predicate(alias) + " AND (" + cond + ")" +
               returning + ")";
        continue;
      }
      // Deleted where a CASCADE key says, else columns set where a SET NULL key says: one UPDATE, each
      // assignment a CASE (the row's new mark then tells later steps which rows it deleted).
      std::string assignments;
      for (const auto& [column, expression] : node.rule->delete_assignment_list())
        assignments += (assignments.empty() ? "" : ", ") + column + " = CASE WHEN " + cond + " THEN " + expression +
                       " ELSE " + alias_column(column) + " END";
      std::string set_cond;
      for (const auto& [column, when] : set_columns(plan, node.sets)) {
        const std::string c = quote_identifier(column);
        assignments += ", " + c + " = CASE WHEN " + cond + " THEN " + alias_column(c) + " WHEN " + when +
                       " THEN NULL ELSE " + alias_column(c) + " END";
      }
      for (const auto& s : node.sets) set_cond += " OR " + references(plan, s);
      out += ", " + name + " AS (UPDATE " + table_sql(*node.table) + " AS " + a + " SET " + assignments + " WHERE " +
             node.rule->live_predicate(alias) + " AND (" + cond + set_cond + ")" + returning + ", " +
             node.rule->deleted_predicate(alias) + " AS __pgsd_deleted)";
      continue;
    }
    // Self-referencing keys: the closure first, then one UPDATE of the table the keys are declared on.
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
      for (const auto& s : node.sources) seed += (seed.empty() ? "" : " OR ") + references(plan, s);
    }
    // Found again by a key that identifies rows (a row another transaction updated meanwhile has a
    // new ctid, its key stays), else by ctid.
    const auto& unique = node.closure_table->unique_key;
    for (const auto& c : unique)
      if (std::find(columns.begin(), columns.end(), c) == columns.end()) columns.push_back(c);
    const std::string found = unique.empty() ? rows_in(alias, name + "_w")
                                             : "(" + column_list(unique, alias) + ") IN (SELECT " +
                                                   column_list(unique, "") + " FROM " + name + "_w)";
    out += ", " + name + "_w AS (" + closure(node, seed, columns) + ")";
    out += ", " + name + " AS (UPDATE " + table_sql(*node.closure_table) + " AS " + a + " SET " +
           node.rule->delete_assignments() + " WHERE " + node.rule->live_predicate(alias) + " AND " + found +
           (n == 0 ? " AND " + not_target_rows(alias) : "") + returning + ")";
  }
  for (std::size_t j = 0; j < plan.sets.size(); ++j) {
    const auto& group = plan.sets[j];
    const auto [assignments, where] = set_step(plan, group.sources);
    out += ", __pgsd_s" + std::to_string(j) + " AS (UPDATE " + table_sql(*group.table) + " AS " + a + " SET " +
           assignments + " WHERE " + group.rule->live_predicate(alias) + " AND (" + where + ")" +
           (group.overlaps_target ? " AND " + not_target_rows(alias) : "") + ")";
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
    std::size_t count = 0;
    for (const auto& s : node.sources) count += restored[s.node] ? 1 : 0;
    if (count == 0) continue;
    if (node.sources.size() > 1 || !node.self_keys.empty()) {
      problem = node.table->schema + "." + node.table->name +
                (node.self_keys.empty() ? " is reached by more than one foreign key" : " references its own rows");
      break;
    }
    restored[n] = true;
    const auto& source = node.sources[0];
    const auto& key = *source.key;
    const bool from_target = source.node == 0;
    const std::string set = from_target ? std::string(cascade_rows_cte) : "__pgsd_" + std::to_string(source.node);
    const std::string col = quote_identifier(node.rule->column);
    const std::string seen = only_seen(source, "__pgsd_s");
    // Through a join, not IN: the parent's own time comes with its key, and goes on to the grandchildren.
    out += ", __pgsd_" + std::to_string(n) + " AS (UPDATE " + table_sql(*node.table) + " AS " + a + " SET " + col +
           " = NULL FROM " + set + " AS __pgsd_s WHERE (" + column_list(key.referencing_columns, alias) + ") = (" +
           column_list(key.referenced_columns, "__pgsd_s") + ") AND " + a + "." + col + " = __pgsd_s.__pgsd_at" +
           (from_target ? " AND __pgsd_s.__pgsd_restore" : "") + (seen.empty() ? "" : " AND " + seen) +
           " RETURNING __pgsd_s.__pgsd_at, " + row_columns(alias, node.columns, false) + ")";
  }
  return problem.empty() ? out : std::string();
}

}  // namespace pgsoftdelete::rules
