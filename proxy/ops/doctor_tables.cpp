// The doctor's checks of the rule tables themselves: the soft-delete column, unique keys over all
// rows, and indexes without a twin on live rows.
#include <string_view>

#include "ops/doctor.hpp"
#include "rules/identifier.hpp"

namespace pgsoftdelete::proxy::doctor {

namespace {

bool is_timestamp(const std::string& type) {
  return type == "timestamp without time zone" || type == "timestamp with time zone";
}

void check_column(const Context& cx, std::size_t i, std::vector<Finding>& out) {
  const auto& table = cx.snapshot.tables[i];
  const auto& rule = *cx.rule_of[i];
  const bool flag = rule.kind == rules::DeletedKind::flag;
  const std::string col = rule.column_sql.empty() ? rules::quote_identifier(rule.column) : rule.column_sql;
  const std::string alter = "ALTER TABLE " + table.sql + " ALTER COLUMN " + col;
  const Column* column = nullptr;
  for (const auto& c : table.columns)
    if (c.name == rule.column) column = &c;

  if (column == nullptr) {
    auto f = cx.finding(i, "column_missing", Severity::error,
                        "column " + col + " is missing: every statement the proxy rewrites for this table fails (42703)");
    f.fix = "ALTER TABLE " + table.sql + " ADD COLUMN " + col +
            (flag ? " boolean NOT NULL DEFAULT false;" : " timestamptz;");
    f.see_design = true;
    out.push_back(std::move(f));
    return;
  }
  if (flag ? column->base_type != "boolean" : !is_timestamp(column->base_type)) {
    // The default and NOT NULL are checked once the type is right: their fixes need it.
    auto f = cx.finding(i, "column_type", Severity::error,
                        "column " + col + " is " + column->type + ", not " +
                            (flag ? "boolean (kind \"flag\")" : "timestamp or timestamptz (kind \"timestamp\")") +
                            ": the proxy's rewrites (" + rule.live_predicate("") +
                            ") fail or mean something else. Check the USING conversion against your data; the "
                            "doctor checks the default and NOT NULL once the type is right");
    f.fix = alter + (column->default_expr ? " DROP DEFAULT, ALTER COLUMN " + col : std::string()) + " TYPE " +
            (flag ? "boolean USING " + col + "::boolean;" : "timestamptz USING " + col + "::timestamptz;");
    f.see_design = true;
    out.push_back(std::move(f));
    return;
  }
  if (flag && !column->not_null) {
    auto f = cx.finding(i, "column_nullable", Severity::warning,
                        "column " + col + " allows NULL: a row where it is NULL is neither live (NOT " + col +
                            " is NULL) nor deleted, and the proxy never shows it");
    f.fix = "UPDATE " + table.sql + " SET " + col + " = false WHERE " + col + " IS NULL;\n" + alter + " SET NOT NULL;";
    f.see_design = true;
    out.push_back(std::move(f));
  } else if (!flag && column->not_null) {
    auto f = cx.finding(i, "column_nullable", Severity::error,
                        "column " + col + " is NOT NULL: live rows are those where it IS NULL (kind \"timestamp\"), "
                        "so no row can be live");
    f.fix = alter + " DROP NOT NULL;";
    out.push_back(std::move(f));
  }
  if (flag && column->default_expr.value_or("") != "false") {
    auto f = cx.finding(i, "column_default", Severity::warning,
                        column->default_expr
                            ? "column " + col + " defaults to " + *column->default_expr +
                                  ", not false: a row inserted without it is not live"
                            : "column " + col + " has no default: an INSERT that leaves it out stores NULL (a row "
                              "the proxy never shows) or fails if the column is NOT NULL");
    f.fix = alter + " SET DEFAULT false;";
    f.see_design = true;
    out.push_back(std::move(f));
  } else if (!flag && column->default_expr && !column->default_expr->starts_with("NULL")) {
    auto f = cx.finding(i, "column_default", Severity::warning,
                        "column " + col + " defaults to " + *column->default_expr +
                            ": a row inserted without it is born deleted");
    f.fix = alter + " DROP DEFAULT;";
    out.push_back(std::move(f));
  }
}

/// An index definition cut into what names it and what it indexes: `CREATE [UNIQUE ]INDEX <name>
/// ON [ONLY ]<body>[ WHERE <predicate>]` -> body ("public.humans USING btree (email)").
std::optional<std::string> index_body(const Index& index) {
  std::string_view def = index.definition;
  const std::string_view head = index.unique ? "CREATE UNIQUE INDEX " : "CREATE INDEX ";
  if (!def.starts_with(head)) return std::nullopt;
  def.remove_prefix(head.size());
  if (!def.starts_with(index.name_sql + " ON ")) return std::nullopt;
  def.remove_prefix(index.name_sql.size() + 4);
  // ON ONLY: pg_get_indexdef's form for a partitioned table's own index; a new one must cover the
  // partitions too.
  if (def.starts_with("ONLY ")) def.remove_prefix(5);
  if (!index.predicate.empty()) {
    const std::string where = " WHERE " + index.predicate;
    if (!def.ends_with(where)) return std::nullopt;
    def.remove_suffix(where.size());
  }
  return std::string(def);
}

/// What follows `USING <method> ` in an index body: "(email)", "(lower(name)) INCLUDE (id)".
std::string columns_of(const std::string& body) {
  const auto using_at = body.find(" USING ");
  if (using_at == std::string::npos) return body;
  const auto space = body.find(' ', using_at + 7);
  return space == std::string::npos ? body : body.substr(space + 1);
}

std::string live_name(const std::string& name) {
  return rules::quote_identifier(rules::truncate_identifier(name + "_live"));
}

/// `CREATE [UNIQUE ]INDEX CONCURRENTLY <name>_live ON <body> WHERE [(<old predicate>) AND ]<live>;`
std::string create_live_twin(const Index& index, const std::string& body, const Table& table,
                             const rules::TableRule& rule) {
  const std::string live = rule.live_predicate("");
  // CREATE INDEX CONCURRENTLY does not exist for partitioned tables (PostgreSQL 15).
  return std::string("CREATE ") + (index.unique ? "UNIQUE " : "") + "INDEX " +
         (table.kind == 'p' ? "" : "CONCURRENTLY ") + live_name(index.name) + " ON " + body + " WHERE " +
         (index.predicate.empty() ? live : "(" + index.predicate + ") AND " + live) + ";";
}

void check_index(const Context& cx, const Index& index, std::vector<Finding>& out) {
  const int t = cx.table_index(index.table);
  if (t < 0 || cx.rule_of[t] == nullptr || index.has_parent) return;  // partitions' copies: reported on the parent's
  const auto i = static_cast<std::size_t>(t);
  const auto& table = cx.snapshot.tables[i];
  const auto& rule = *cx.rule_of[i];
  if (!index.predicate.empty()) {
    if (predicate_is_live(index.predicate, rule)) return;
    if (mentions_word(index.predicate, rule.column)) return;  // about deleted rows on purpose (e.g. for purging)
  }
  const auto body = index_body(index);
  const std::string what = index.constraint.empty() ? "unique index " + index.name_sql
                           : index.primary           ? "primary key " + index.constraint_sql
                                                     : "unique constraint " + index.constraint_sql;
  const std::string cols = body ? columns_of(*body) : index.definition;
  // A twin: another index with the same columns (same body) on live rows.
  bool twin = false;
  for (const auto& other : cx.snapshot.indexes)
    if (&other != &index && other.table == index.table && other.unique == index.unique && !other.predicate.empty() &&
        predicate_is_live(other.predicate, rule) && body && index_body(other) == body)
      twin = true;

  if (index.unique) {
    if (index.primary || index.referenced_by_key) {
      auto f = cx.finding(i, "unique_full_key", Severity::info,
                          what + " on " + cols + " is unique over all rows, deleted ones included, and cannot be "
                          "replaced by a partial one: " +
                              (index.primary ? std::string("a primary key cannot be partial")
                                             : "a foreign key references it, and a foreign key needs a key unique over "
                                               "all rows (a deleted row keeps its key, which is what its children "
                                               "point at)") +
                              ". Keep such keys surrogate and never reused (a sequence, a UUID); put natural keys in "
                              "partial unique indexes");
      f.see_design = true;
      out.push_back(std::move(f));
      return;
    }
    auto f = cx.finding(i, "unique_not_partial", Severity::warning,
                        what + " on " + cols + " is over all rows: a deleted row keeps its key and blocks a new row "
                        "with the same key (23505), and an upsert on that key neither inserts nor updates. Make it "
                        "unique among live rows" +
                            (twin ? " (a unique index on live rows with the same columns exists: drop this one)" : ""));
    if (body) {
      std::string fix = twin ? "" : create_live_twin(index, *body, table, rule) + "\n";
      fix += index.constraint.empty()
                 ? "DROP INDEX " + std::string(table.kind == 'p' ? "" : "CONCURRENTLY ") + index.sql + ";"
                 : "ALTER TABLE " + table.sql + " DROP CONSTRAINT " + index.constraint_sql + ";";
      f.fix = std::move(fix);
    }
    f.see_design = true;
    out.push_back(std::move(f));
    return;
  }
  // An index on the soft-delete column alone serves queries about deleted rows.
  if (!body || twin || cols.ends_with("(" + (rule.column_sql.empty() ? rule.column : rule.column_sql) + ")")) return;
  auto f = cx.finding(i, "index_no_live_twin", Severity::info,
                      "index " + index.name_sql + " on " + cols + " covers all rows and has no twin on live rows: "
                      "every query through the proxy carries " + rule.live_predicate("") +
                      ", which a partial index with the same columns matches exactly (smaller, no deleted rows "
                      "to skip). Keep this one if queries with the skip hint need it");
  f.fix = create_live_twin(index, *body, table, rule);
  f.see_design = true;
  out.push_back(std::move(f));
}

}  // namespace

void check_columns(const Context& cx, std::vector<Finding>& out) {
  // The tables the rules name; their partitions and children share the parent's columns.
  for (std::size_t i = 0; i < cx.snapshot.tables.size(); ++i)
    if (cx.named[i]) check_column(cx, i, out);
}

void check_indexes(const Context& cx, std::vector<Finding>& out) {
  for (const auto& index : cx.snapshot.indexes) check_index(cx, index, out);
}

}  // namespace pgsoftdelete::proxy::doctor
