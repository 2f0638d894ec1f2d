// The schema doctor's checks: a database's catalog, read once into a Snapshot, held against the
// rules; each problem becomes a Finding with its severity and the SQL that fixes it. No I/O here
// (doctor_snapshot.cpp reads the catalog, doctor_report.cpp prints the findings).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "rules/rule_set.hpp"

namespace pgsoftdelete::proxy::doctor {

/// How bad a finding is; decides the exit code.
enum class Severity {
  info,     ///< worth knowing, nothing is wrong
  warning,  ///< the proxy works, but deleted rows show or block somewhere
  error,    ///< the proxy refuses statements or its rewrites fail
};

/// "info", "warning", "error".
const char* to_string(Severity s);

/// One problem of one rule in one database.
struct Finding {
  std::string database;
  std::string rule;                  ///< the rule's table as the rules file names it
  int rule_line = 0;                 ///< its line in the rules file (for ordering)
  std::optional<std::string> table;  ///< the table, schema-qualified SQL; none: the rule matches none
  std::string check;                 ///< stable id, e.g. "unique_not_partial"
  Severity severity = Severity::info;
  std::string message;
  std::optional<std::string> fix;  ///< SQL to run, statements separated by ";\n"; none: no SQL fixes it
  bool see_design = false;         ///< the README section "Designing tables for soft delete" explains it
};

// What the doctor reads of a database (doctor_snapshot.cpp fills it in). Names marked `sql` are
// quoted and schema-qualified by the server (format('%I.%I')), ready to paste into SQL.

struct Column {
  std::string name;
  std::string type;       ///< format_type(), for messages
  std::string base_type;  ///< the type, or a domain's base type, as regtype text ("boolean")
  bool not_null = false;
  std::optional<std::string> default_expr;  ///< pg_get_expr of the default
};

/// A table (r), partitioned table (p) or foreign table (f) outside the system schemas.
struct Table {
  std::uint32_t oid = 0;
  std::string schema, name;
  std::string sql;  ///< "public.humans"
  char kind = 'r';
  std::vector<std::uint32_t> parents;  ///< pg_inherits
  std::vector<Column> columns;         ///< filled in for rule tables only
};

struct Index {
  std::uint32_t oid = 0, table = 0;
  std::string name;
  std::string name_sql;  ///< quote_ident(name)
  std::string sql;       ///< schema-qualified
  std::string definition;  ///< pg_get_indexdef()
  std::string predicate;   ///< pg_get_expr(indpred), empty: not partial
  bool unique = false, primary = false;
  std::string constraint;  ///< the unique or primary key constraint it backs, empty: none
  std::string constraint_sql;
  bool referenced_by_key = false;  ///< a foreign key references it
  bool has_parent = false;         ///< a partition's copy of a partitioned index
};

struct ForeignKey {
  std::string name;
  std::string name_sql;
  std::uint32_t referencing = 0, referenced = 0;
  char on_delete = 'a';  ///< confdeltype: a no action, r restrict, c cascade, n set null, d set default
  bool derived = false;  ///< a partition's copy of its parent's key (not reported)
  std::vector<std::string> referencing_columns, referenced_columns;  ///< in the key's order
  std::vector<std::string> set_columns;  ///< ON DELETE SET NULL / SET DEFAULT (cols): those; empty: all
};

/// A view, materialized view or rewrite rule that depends on a table.
struct Dependent {
  std::uint32_t table = 0;  ///< the table it reads
  char kind = 'v';          ///< v view, m materialized view, r rewrite rule
  std::string sql;          ///< the view's name, or the rule's "name ON table"
  std::string definition;   ///< pg_get_viewdef / pg_get_ruledef
};

struct Function {
  std::string sql;  ///< "public.f(integer)"
  char kind = 'f';  ///< f function, p procedure
  std::string source;
};

struct Trigger {
  std::uint32_t table = 0;
  std::string name;
  std::string function_sql;
  int type = 0;  ///< pg_trigger.tgtype bits
};

/// Roles that can read a table's pg_stats rows.
struct Readers {
  std::uint32_t table = 0;
  std::vector<std::string> roles;  ///< "PUBLIC" alone when every role can
};

struct Snapshot {
  std::string database;
  std::vector<Table> tables;
  std::vector<Index> indexes;
  std::vector<ForeignKey> foreign_keys;  ///< those referencing rule tables (partitions' copies too)
  std::vector<Dependent> dependents;
  std::vector<Function> functions;
  std::vector<Trigger> triggers;
  std::vector<Readers> readers;
};

/// The rule in force for each table of `tables` (nullptr: none), matched as the proxy matches them
/// (rules::ResolvedRules: by name and schema, then down partitions and inheritance children).
std::vector<const rules::TableRule*> match_rules(const rules::RuleSet& rules, const std::vector<Table>& tables);

/// Every finding for `snapshot`, in a stable order.
std::vector<Finding> diagnose(const rules::RuleSet& rules, const Snapshot& snapshot);

/// What the checks share: the snapshot, the rules and which tables they apply to.
struct Context {
  const rules::RuleSet& rules;
  const Snapshot& snapshot;
  std::vector<const rules::TableRule*> rule_of;  ///< per snapshot.tables entry
  std::vector<bool> named;  ///< per table: the rule names it (false: a partition or child of one)

  /// Index into snapshot.tables of `oid`, or -1.
  int table_index(std::uint32_t oid) const;
  /// A finding about `table`, under its rule.
  Finding finding(std::size_t table, std::string check, Severity severity, std::string message) const;
};

// Parts of diagnose(), one per group of checks (doctor_tables.cpp, doctor_foreign_keys.cpp,
// doctor_readers.cpp).
void check_columns(const Context& cx, std::vector<Finding>& out);
void check_indexes(const Context& cx, std::vector<Finding>& out);
void check_foreign_keys(const Context& cx, std::vector<Finding>& out);
void check_readers(const Context& cx, std::vector<Finding>& out);

/// True when the index predicate (pg_get_expr's text) has the rule's live-rows condition as one of
/// its top-level AND terms: `NOT col` or `col = false` (flag), `col IS NULL` (timestamp).
bool predicate_is_live(const std::string& predicate, const rules::TableRule& rule);

/// A looser, textual test for SQL bodies (view definitions, function sources): somewhere `NOT
/// [q.]col`, `[q.]col = false` or `[q.]col IS FALSE` (flag), `[q.]col IS NULL` (timestamp).
bool text_filters_live(const std::string& text, const rules::TableRule& rule);

/// True when `text` holds `word` as a whole identifier, ignoring ASCII case.
bool mentions_word(const std::string& text, const std::string& word);

}  // namespace pgsoftdelete::proxy::doctor
