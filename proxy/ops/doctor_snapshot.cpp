// The catalog queries of the schema doctor and the reading of their answers; see doctor_snapshot.hpp.
#include "ops/doctor_snapshot.hpp"

#include <libpq-fe.h>

#include <charconv>
#include <memory>
#include <unordered_map>
#include <vector>

#include "catalog/catalog_query.hpp"

namespace pgsoftdelete::proxy::doctor {

namespace {

// System schemas (pg_catalog, pg_toast, pg_temp_N…: user schemas cannot start with pg_) hold no
// rule tables.
constexpr const char* tables_sql = R"(
SELECT c.oid, n.nspname, c.relname, format('%I.%I', n.nspname, c.relname), c.relkind
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'f') AND n.nspname <> 'information_schema' AND n.nspname !~ '^pg_'
ORDER BY 2, 3)";

constexpr const char* inherits_sql = "SELECT inhrelid, inhparent FROM pg_inherits ORDER BY inhrelid, inhseqno";

constexpr const char* columns_sql = R"(
SELECT a.attrelid, a.attname, format_type(a.atttypid, a.atttypmod),
       (CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE a.atttypid END)::regtype::text,
       a.attnotnull, pg_get_expr(d.adbin, d.adrelid)
FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attrelid = ANY($1::oid[]) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum)";

// Valid indexes only (a failed CREATE INDEX CONCURRENTLY leaves an invalid one that serves no
// query); exclusion constraints' indexes are no unique keys and have no partial twin to suggest.
constexpr const char* indexes_sql = R"(
SELECT i.indexrelid, i.indrelid, ci.relname, quote_ident(ci.relname), format('%I.%I', n.nspname, ci.relname),
       pg_get_indexdef(i.indexrelid), coalesce(pg_get_expr(i.indpred, i.indrelid), ''),
       i.indisunique, i.indisprimary, coalesce(con.conname, ''), coalesce(quote_ident(con.conname), ''),
       EXISTS (SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.conindid = i.indexrelid),
       EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = i.indexrelid)
FROM pg_index i JOIN pg_class ci ON ci.oid = i.indexrelid JOIN pg_namespace n ON n.oid = ci.relnamespace
LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.conrelid = i.indrelid AND con.contype IN ('p', 'u')
WHERE i.indrelid = ANY($1::oid[]) AND i.indisvalid
  AND NOT EXISTS (SELECT 1 FROM pg_constraint x
                  WHERE x.conindid = i.indexrelid AND x.conrelid = i.indrelid AND x.contype = 'x')
ORDER BY i.indrelid, ci.relname)";

// Keys referencing rule tables, with their columns in order as JSON arrays of names (what the
// proxy's cascade plan needs). conparentid <> 0: the copies PostgreSQL makes of a key for each
// partition; read (the plan skips them as the proxy does) but not reported. confdelsetcols (SET NULL
// / SET DEFAULT of some columns, PostgreSQL 15) through to_jsonb: older servers answer too.
constexpr const char* foreign_keys_sql = R"(
SELECT con.conname, quote_ident(con.conname), con.conrelid, con.confrelid, con.confdeltype, con.conparentid <> 0,
       (SELECT coalesce(array_to_json(array_agg(a.attname ORDER BY k.i)), '[]') FROM unnest(con.conkey) WITH ORDINALITY AS k(n, i)
        JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n)::text,
       (SELECT coalesce(array_to_json(array_agg(a.attname ORDER BY k.i)), '[]') FROM unnest(con.confkey) WITH ORDINALITY AS k(n, i)
        JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n)::text,
       (SELECT coalesce(array_to_json(array_agg(a.attname ORDER BY k.i)), '[]') FROM unnest(con.conkey) WITH ORDINALITY AS k(n, i)
        JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n
        WHERE coalesce((to_jsonb(con) -> 'confdelsetcols') @> to_jsonb(k.n), false))::text
FROM pg_constraint con
WHERE con.contype = 'f' AND con.confrelid = ANY($1::oid[])
ORDER BY con.confrelid, con.conname)";

// Views and rules record what they read in pg_depend (a view through its _RETURN rule).
constexpr const char* dependents_sql = R"(
SELECT DISTINCT d.refobjid, CASE WHEN r.rulename = '_RETURN' THEN c.relkind::text ELSE 'r' END,
       CASE WHEN r.rulename = '_RETURN' THEN format('%I.%I', n.nspname, c.relname)
            ELSE format('%I ON %I.%I', r.rulename, n.nspname, c.relname) END,
       CASE WHEN r.rulename = '_RETURN' THEN pg_get_viewdef(c.oid) ELSE pg_get_ruledef(r.oid) END
FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid
JOIN pg_class c ON c.oid = r.ev_class JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass AND d.refobjid = ANY($1::oid[])
ORDER BY 3, 1)";

// Bodies in any language but C and internal; SQL-standard bodies (BEGIN ATOMIC) deparsed.
// Functions of extensions are the extension's business.
constexpr const char* functions_sql = R"(
SELECT format('%I.%I(%s)', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid)), p.prokind,
       CASE WHEN p.prosqlbody IS NOT NULL THEN pg_get_function_sqlbody(p.oid) ELSE p.prosrc END
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang
WHERE p.prokind IN ('f', 'p') AND l.lanname NOT IN ('internal', 'c')
  AND n.nspname <> 'information_schema' AND n.nspname !~ '^pg_'
  AND NOT EXISTS (SELECT 1 FROM pg_depend e
                  WHERE e.classid = 'pg_proc'::regclass AND e.objid = p.oid AND e.deptype = 'e')
ORDER BY 1)";

// tgparentid <> 0: a partition's copy of its parent's trigger.
constexpr const char* triggers_sql = R"(
SELECT t.tgrelid, quote_ident(t.tgname), format('%I.%I', n.nspname, p.proname), t.tgtype
FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE NOT t.tgisinternal AND t.tgparentid = 0 AND t.tgrelid = ANY($1::oid[])
ORDER BY 1, 2)";

// pg_stats shows a column's row to roles with SELECT on it (has_column_privilege). PUBLIC alone
// when every role can.
constexpr const char* readers_sql = R"(
SELECT c.oid, 'PUBLIC' FROM pg_class c
WHERE c.oid = ANY($1::oid[]) AND has_any_column_privilege('public', c.oid, 'SELECT')
UNION ALL
SELECT c.oid, quote_ident(r.rolname) FROM pg_class c CROSS JOIN pg_roles r
WHERE c.oid = ANY($1::oid[]) AND NOT has_any_column_privilege('public', c.oid, 'SELECT')
  AND NOT r.rolsuper AND r.oid <> c.relowner AND r.rolname !~ '^pg_'
  AND has_any_column_privilege(r.oid, c.oid, 'SELECT')
ORDER BY 1, 2)";

using ResultPtr = std::unique_ptr<PGresult, decltype(&PQclear)>;

/// Rows of one answer, read by column number.
class Rows {
 public:
  explicit Rows(ResultPtr r) : r_(std::move(r)) {}
  int size() const { return PQntuples(r_.get()); }
  std::string text(int row, int col) const { return PQgetvalue(r_.get(), row, col); }
  std::optional<std::string> nullable(int row, int col) const {
    if (PQgetisnull(r_.get(), row, col)) return std::nullopt;
    return text(row, col);
  }
  bool boolean(int row, int col) const { return text(row, col) == "t"; }
  std::uint32_t oid(int row, int col) const { return static_cast<std::uint32_t>(integer(row, col)); }
  long long integer(int row, int col) const {
    const char* v = PQgetvalue(r_.get(), row, col);
    long long out = 0;
    std::from_chars(v, v + PQgetlength(r_.get(), row, col), out);
    return out;
  }
  char letter(int row, int col) const { return *PQgetvalue(r_.get(), row, col); }

 private:
  ResultPtr r_;
};

/// Runs `sql` with the one parameter `param` (or none); the server's error otherwise.
std::expected<Rows, std::string> query(PGconn* conn, const char* sql, const std::string* param = nullptr) {
  const char* values[1] = {param ? param->c_str() : nullptr};
  ResultPtr r(PQexecParams(conn, sql, param ? 1 : 0, nullptr, values, nullptr, nullptr, 0), &PQclear);
  const auto status = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
    std::string message = r ? PQresultErrorMessage(r.get()) : PQerrorMessage(conn);
    while (!message.empty() && message.back() == '\n') message.pop_back();
    return std::unexpected(message);
  }
  return Rows(std::move(r));
}

std::expected<Snapshot, std::string> read_in_transaction(PGconn* conn, const rules::RuleSet& rules) {
  Snapshot s;
  auto db = query(conn, "SELECT current_database()");
  if (!db) return std::unexpected(db.error());
  s.database = db->text(0, 0);

  auto tables = query(conn, tables_sql);
  if (!tables) return std::unexpected(tables.error());
  std::unordered_map<std::uint32_t, std::size_t> by_oid;
  for (int r = 0; r < tables->size(); ++r) {
    by_oid.emplace(tables->oid(r, 0), s.tables.size());
    s.tables.push_back(Table{.oid = tables->oid(r, 0),
                             .schema = tables->text(r, 1),
                             .name = tables->text(r, 2),
                             .sql = tables->text(r, 3),
                             .kind = tables->letter(r, 4),
                             .parents = {},
                             .columns = {}});
  }
  auto inherits = query(conn, inherits_sql);
  if (!inherits) return std::unexpected(inherits.error());
  for (int r = 0; r < inherits->size(); ++r)
    if (auto it = by_oid.find(inherits->oid(r, 0)); it != by_oid.end())
      s.tables[it->second].parents.push_back(inherits->oid(r, 1));

  // Only rule tables are looked at further: an array literal of their oids for the other queries.
  const auto rule_of = match_rules(rules, s.tables);
  std::string oids = "{";
  for (std::size_t i = 0; i < s.tables.size(); ++i)
    if (rule_of[i] != nullptr) oids += (oids.size() > 1 ? "," : "") + std::to_string(s.tables[i].oid);
  oids += "}";

  auto columns = query(conn, columns_sql, &oids);
  if (!columns) return std::unexpected(columns.error());
  for (int r = 0; r < columns->size(); ++r)
    if (auto it = by_oid.find(columns->oid(r, 0)); it != by_oid.end())
      s.tables[it->second].columns.push_back(Column{.name = columns->text(r, 1),
                                                    .type = columns->text(r, 2),
                                                    .base_type = columns->text(r, 3),
                                                    .not_null = columns->boolean(r, 4),
                                                    .default_expr = columns->nullable(r, 5)});

  auto indexes = query(conn, indexes_sql, &oids);
  if (!indexes) return std::unexpected(indexes.error());
  for (int r = 0; r < indexes->size(); ++r)
    s.indexes.push_back(Index{.oid = indexes->oid(r, 0),
                              .table = indexes->oid(r, 1),
                              .name = indexes->text(r, 2),
                              .name_sql = indexes->text(r, 3),
                              .sql = indexes->text(r, 4),
                              .definition = indexes->text(r, 5),
                              .predicate = indexes->text(r, 6),
                              .unique = indexes->boolean(r, 7),
                              .primary = indexes->boolean(r, 8),
                              .constraint = indexes->text(r, 9),
                              .constraint_sql = indexes->text(r, 10),
                              .referenced_by_key = indexes->boolean(r, 11),
                              .has_parent = indexes->boolean(r, 12)});

  auto keys = query(conn, foreign_keys_sql, &oids);
  if (!keys) return std::unexpected(keys.error());
  for (int r = 0; r < keys->size(); ++r) {
    auto referencing = parse_json_strings(keys->text(r, 6));
    auto referenced = parse_json_strings(keys->text(r, 7));
    auto set = parse_json_strings(keys->text(r, 8));
    if (!referencing || !referenced || !set) return std::unexpected("unreadable columns of foreign key " + keys->text(r, 0));
    s.foreign_keys.push_back(ForeignKey{.name = keys->text(r, 0),
                                        .name_sql = keys->text(r, 1),
                                        .referencing = keys->oid(r, 2),
                                        .referenced = keys->oid(r, 3),
                                        .on_delete = keys->letter(r, 4),
                                        .derived = keys->boolean(r, 5),
                                        .referencing_columns = std::move(*referencing),
                                        .referenced_columns = std::move(*referenced),
                                        .set_columns = std::move(*set)});
  }

  auto dependents = query(conn, dependents_sql, &oids);
  if (!dependents) return std::unexpected(dependents.error());
  for (int r = 0; r < dependents->size(); ++r)
    s.dependents.push_back(Dependent{.table = dependents->oid(r, 0),
                                     .kind = dependents->letter(r, 1),
                                     .sql = dependents->text(r, 2),
                                     .definition = dependents->text(r, 3)});

  auto functions = query(conn, functions_sql);
  if (!functions) return std::unexpected(functions.error());
  for (int r = 0; r < functions->size(); ++r)
    s.functions.push_back(
        Function{.sql = functions->text(r, 0), .kind = functions->letter(r, 1), .source = functions->text(r, 2)});

  auto triggers = query(conn, triggers_sql, &oids);
  if (!triggers) return std::unexpected(triggers.error());
  for (int r = 0; r < triggers->size(); ++r)
    s.triggers.push_back(Trigger{.table = triggers->oid(r, 0),
                                 .name = triggers->text(r, 1),
                                 .function_sql = triggers->text(r, 2),
                                 .type = static_cast<int>(triggers->integer(r, 3))});

  auto readers = query(conn, readers_sql, &oids);
  if (!readers) return std::unexpected(readers.error());
  for (int r = 0; r < readers->size(); ++r) {
    const auto oid = readers->oid(r, 0);
    if (s.readers.empty() || s.readers.back().table != oid) s.readers.push_back(Readers{.table = oid, .roles = {}});
    s.readers.back().roles.push_back(readers->text(r, 1));
  }
  return s;
}

}  // namespace

std::expected<Snapshot, std::string> read_snapshot(PGconn* conn, const rules::RuleSet& rules) {
  // One snapshot for every query, and nothing written.
  if (auto begin = query(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"); !begin)
    return std::unexpected(begin.error());
  auto s = read_in_transaction(conn, rules);
  (void)query(conn, s ? "COMMIT" : "ROLLBACK");
  return s;
}

}  // namespace pgsoftdelete::proxy::doctor
