// The walker's catalog-aware checks: which rule is in force for a table name (partitions and
// children included), foreign-key actions that would reach rule tables, DDL that would stop a rule
// from applying, and built-in functions that read a table by name or run SQL text.
#include "rules/walker.hpp"

#include <array>

#include "parser/json_tree.hpp"
#include "pg_query.pb.h"
#include "rules/rewriter.hpp"

namespace pgsoftdelete::rules {

using NodeId = Walker::NodeId;

namespace {

std::string quoted_name(const CatalogRelation& r) { return r.schema + "." + r.name; }

/// Foreign-key action letters of pg_constraint, as SQL.
std::string_view action_sql(char a) {
  switch (a) {
    case 'c': return "CASCADE";
    case 'n': return "SET NULL";
    case 'd': return "SET DEFAULT";
    default: return "NO ACTION";
  }
}

/// SQL as a standard string literal (standard_conforming_strings on, as the engine assumes).
std::string string_literal(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') out += '\'';
    out += c;
  }
  out += '\'';
  return out;
}

}  // namespace

Resolution Walker::resolve(const Relation& rv) {
  if (resolved_ == nullptr) return Resolution{.rule = rules_.find(rv.schema, rv.name)};
  Resolution r = resolved_->resolve(rv.schema, rv.name, path_);
  // System catalogs are not in the catalog we read; they are never partitions of rule tables.
  const bool system = rv.schema == "pg_catalog" || rv.schema == "information_schema" || rv.name.starts_with("pg_");
  if (r.unknown && !system) unknown_relation = true;
  return r;
}

bool Walker::refuse_rule_ancestor(const Resolution& r, const Relation& rv, std::string_view doing) {
  if (r.rule != nullptr || r.rule_descendant == nullptr || !t_.truth(rv.id, "inh")) return false;
  fail_not_supported("pgsoftdelete: " + std::string(doing) + " " + quoted_name(*r.relation) +
                         " would include rows of soft-delete table " + quoted_name(*r.rule_descendant) +
                         " (a partition or child of it); name that table, or write ONLY " + rv.name,
                     rv.location);
  return true;
}

void Walker::refuse_hazard(const ForeignKeyHazard& h, std::string_view statement, const Relation& rv) {
  if (!h || rules_.foreign_key_policy() == Policy::allow) return;
  const bool update = statement == "UPDATE";
  const char action = update ? h.key->on_update : h.key->on_delete;
  fail_not_supported("pgsoftdelete: " + std::string(statement) + " of " + rv.name + " would " +
                         (statement == "TRUNCATE … CASCADE" ? std::string("empty")
                                                             : std::string(action == 'c' && !update ? "delete" : "change") +
                                                                   " rows of") +
                         " soft-delete table " + quoted_name(*h.table) + " through foreign key " + h.key->name + " (ON " +
                         (update ? "UPDATE " : "DELETE ") + std::string(statement == "TRUNCATE … CASCADE" ? "" : action_sql(action)) +
                         "); set [policy] foreign_key_actions = \"allow\" to permit it",
                     rv.location);
}

void Walker::refuse_soft_delete_hazard(const ForeignKeyHazard& h, const Relation& rv) {
  if (!h || rules_.foreign_key_policy() == Policy::allow) return;
  fail_not_supported("pgsoftdelete: DELETE from " + rv.name + " cannot follow foreign key " + h.key->name + " (ON DELETE " +
                         std::string(action_sql(h.key->on_delete)) + ") of " + quoted_name(*h.table) +
                         ", which is no soft-delete table: following it would " +
                         (h.key->on_delete == 'c' ? "delete" : "change") +
                         " its rows for good, and a soft delete would leave them pointing at deleted rows; "
                         "make it a soft-delete table too, or set [policy] foreign_key_actions = \"allow\" to "
                         "delete softly and leave its rows as they are",
                     rv.location);
}

void Walker::refuse_ddl(std::string what, const std::string& table, int location) {
  if (rules_.ddl_policy() == Policy::allow) return;
  fail_not_supported("pgsoftdelete: " + what + " of soft-delete table " + table +
                         " is rejected by the rules file policy ([policy] ddl); change the rules file first",
                     location);
}

bool Walker::refuse_view_target(const Resolution& r, const Relation& rv, std::string_view statement) {
  if (r.relation == nullptr || r.relation->kind != 'v') return false;
  fail_not_supported("pgsoftdelete: " + std::string(statement) + " through view " + quoted_name(*r.relation) +
                         ": the proxy cannot see which tables it changes (soft-delete tables, or their foreign "
                         "keys); change the tables themselves",
                     rv.location);
  return true;
}

void Walker::on_insert(NodeId i) {
  NodeId conflict = t_.get(i, "onConflictClause");
  if (conflict != 0) conflict_on_.push_back(token_at(static_cast<int>(t_.number(conflict, "location", -1))));
  if (conflict != 0 && t_.string(conflict, "action") == "ONCONFLICT_UPDATE" && resolved_ != nullptr) {
    Relation rv = relation(t_.get(i, "relation"));
    const Resolution res = resolve(rv);
    if (res.relation != nullptr) {
      refuse_hazard(resolved_->update_hazard(res.relation->oid, target_columns(t_.get(conflict, "targetList"))),
                    "UPDATE", rv);
      if (error) return;
    }
  }
  children(i, types_.insert_stmt, {"withClause"});
  if (conflict != 0 && !error) on_upsert(i, conflict);
}

// INSERT … ON CONFLICT into a rule table: the conflict target's inference clause gains the live-rows
// condition, so that a unique index on live rows only (the index to have) is inferred with the
// application's SQL unchanged (a full unique index still is); DO UPDATE gains it in its WHERE, so that
// a deleted row is neither updated nor returned. ON CONFLICT ON CONSTRAINT: the DO UPDATE condition only.
void Walker::on_upsert(NodeId stmt, NodeId conflict) {
  Relation rv = relation(t_.get(stmt, "relation"));
  const Resolution res = resolve(rv);
  const bool update = t_.string(conflict, "action") == "ONCONFLICT_UPDATE";
  // Through a view, PostgreSQL checks the view's condition on the row inserted, not on the row the
  // conflict finds: DO UPDATE would reach deleted rows. Into a partitioned table whose partitions
  // are rule tables, the conflict is found in the partition: the same.
  if (update && refuse_view_target(res, rv, "INSERT … ON CONFLICT DO UPDATE")) return;
  if (update && res.rule == nullptr && res.rule_descendant != nullptr)
    return fail_not_supported("pgsoftdelete: INSERT … ON CONFLICT DO UPDATE into " + rv.name +
                                  " may update rows of its soft-delete partition " + quoted_name(*res.rule_descendant) +
                                  "; insert into the partition itself",
                              rv.location);
  const TableRule* rule = res.rule;
  if (rule == nullptr) return;
  const NodeId infer = t_.get(conflict, "infer");
  const bool inferred = infer != 0 && t_.size(t_.get(infer, "indexElems")) > 0;
  if (!update && !inferred) return;  // DO NOTHING on any conflict: nothing to add
  const Visibility v = visibility(*rule, rv);
  if (error || v == Visibility::all) return;
  if (!update && v != Visibility::live) return;
  // The DO keyword (DO UPDATE / DO NOTHING, not a column named do): what comes before it is the
  // conflict target.
  const int on = token_at(static_cast<int>(t_.number(conflict, "location", -1)));
  if (kind(on) != Tok::kw_on) return fail_internal("ON CONFLICT");
  int depth = 0, where = -1, do_tok = -1;
  for (int j = next_code(on); j >= 0; j = next_code(j)) {
    const Tok k = kind(j);
    if (k == Tok::lparen || k == Tok::lbracket) {
      ++depth;
    } else if (k == Tok::rparen || k == Tok::rbracket) {
      if (--depth < 0) break;
    } else if (depth > 0 || kind(prev_code(j)) == Tok::dot) {
      continue;
    } else if (k == Tok::kw_where && where < 0) {
      where = j;
    } else if (equals_folded(text(j), "do") &&
               (kind(next_code(j)) == Tok::kw_update || equals_folded(text(next_code(j)), "nothing"))) {
      do_tok = j;
      break;
    }
  }
  if (do_tok < 0) return fail_internal("ON CONFLICT … DO");
  if (inferred && v == Visibility::live) {
    // Unqualified, as an index predicate is written: `ON CONFLICT (email) WHERE NOT is_deleted`.
    const std::string live = rule->live_predicate({});
    if (t_.get(infer, "whereClause") != 0) {
      const int cond = next_code(where);
      if (where < 0 || cond < 0 || cond >= do_tok) return fail_internal("the ON CONFLICT target's WHERE");
      insert(begin_of(cond), "(");
      insert(end_of(prev_code(do_tok)), ") AND " + live);
    } else {
      insert(end_of(prev_code(do_tok)), " WHERE " + live);
    }
  }
  if (!update) return;
  // In DO UPDATE, the existing row is named by the target's alias or name; `excluded` is the row
  // proposed. A target itself named excluded is named with its schema (by name it is ambiguous).
  auto s = reference_span(rv);
  if (!s) return;
  int alias = -1;
  if (after_alias(rv, *s, &alias) < 0) return;
  std::string pred;
  if (alias < 0 && rv.name == "excluded") {
    const std::string schema = !rv.schema.empty() ? rv.schema : res.relation != nullptr ? res.relation->schema : "";
    if (schema.empty())
      return fail_not_supported("pgsoftdelete: INSERT … ON CONFLICT DO UPDATE into a table named excluded needs an "
                                "alias (INSERT INTO excluded AS t …)",
                                rv.location);
    pred = predicate(*rule, v, quote_identifier(schema) + "." + std::string(text(s->name, s->name_last)));
  } else {
    pred = target_predicate(*rule, v, *s, alias, {});
  }
  add_predicate(do_tok, t_.get(conflict, "whereClause") != 0, pred);
}

void Walker::on_rename(NodeId r) {
  NodeId rel = t_.get(r, "relation");
  const std::string type = t_.string(r, "renameType");
  // ALTER INDEX / VIEW / SEQUENCE … RENAME accept a table too.
  const bool relation_type = type == "OBJECT_TABLE" || type == "OBJECT_INDEX" || type == "OBJECT_VIEW" ||
                             type == "OBJECT_MATVIEW" || type == "OBJECT_FOREIGN_TABLE" || type == "OBJECT_SEQUENCE";
  if (rel == 0 || (!relation_type && type != "OBJECT_COLUMN")) return;
  Relation rv = relation(rel);
  Resolution res = resolve(rv);
  if (res.rule == nullptr) return;
  if (relation_type) {
    // Renaming a partition or child keeps it one; renaming the named table ends the rule.
    if (rules_.find(rv.schema, rv.name) == res.rule) refuse_ddl("RENAME", res.rule->display_name(), rv.location);
  } else if (t_.string(r, "subname") == res.rule->column) {
    refuse_ddl("RENAME of column " + res.rule->column, res.rule->display_name(), rv.location);
  }
}

void Walker::on_alter_table(NodeId a) {
  NodeId rel = t_.get(a, "relation");
  if (rel == 0) return;
  Relation rv = relation(rel);
  Resolution res = resolve(rv);
  NodeId cmds = t_.get(a, "cmds");
  for (NodeId c = cmds ? t_.node(cmds).first : 0; c != 0 && !error; c = t_.node(c).next) {
    NodeId cmd = t_.get(c, "AlterTableCmd");
    const std::string sub = t_.string(cmd, "subtype");
    if (sub == "AT_AttachPartition") {
      // A rule table attached under a table without its rule would be read unfiltered through it.
      NodeId part = t_.get(t_.get(t_.get(cmd, "def"), "PartitionCmd"), "name");
      if (part == 0) continue;
      Relation pv = relation(part);
      const Resolution pres = resolve(pv);
      if (pres.rule != nullptr && pres.rule != res.rule)
        refuse_ddl("ATTACH PARTITION under " + rv.name + " (a table without its rule)", pres.rule->display_name(),
                   pv.location);
      continue;
    }
    if (res.rule == nullptr) continue;
    const std::string column = t_.string(cmd, "name");
    if (sub == "AT_AddInherit") {
      refuse_ddl("INHERIT (its rows would be read unfiltered through the new parent)", res.rule->display_name(),
                 rv.location);
      continue;
    }
    if ((sub == "AT_AlterColumnType" || sub == "AT_DropColumn" || sub == "AT_ColumnDefault" ||
         sub == "AT_DropNotNull" || sub == "AT_SetExpression" || sub == "AT_DropExpression") &&
        column == res.rule->column)
      refuse_ddl("ALTER TABLE … " + sub.substr(3) + " on column " + column, res.rule->display_name(), rv.location);
    else if (sub == "AT_DetachPartition" || sub == "AT_DetachPartitionFinalize")
      refuse_ddl("DETACH PARTITION (the partition would keep its deleted rows as a plain table)",
                 res.rule->display_name(), rv.location);
    else if (sub == "AT_DropInherit")
      refuse_ddl("NO INHERIT (the table would keep its deleted rows outside the rule)", res.rule->display_name(),
                 rv.location);
  }
  if (!error) children(a, types_.alter_table_stmt, {"relation"});
}

void Walker::on_alter_schema(NodeId a) {
  NodeId rel = t_.get(a, "relation");
  const std::string type = t_.string(a, "objectType");
  if (rel == 0 || type != "OBJECT_TABLE") return;
  Relation rv = relation(rel);
  Resolution res = resolve(rv);
  if (res.rule != nullptr && rules_.find(rv.schema, rv.name) == res.rule)
    refuse_ddl("SET SCHEMA", res.rule->display_name(), rv.location);
}

void Walker::on_drop(NodeId d) {
  const std::string type = t_.string(d, "removeType");
  const bool cascade = t_.string(d, "behavior") == "DROP_CASCADE";
  NodeId objects = t_.get(d, "objects");
  for (NodeId o = objects ? t_.node(objects).first : 0; o != 0 && !error; o = t_.node(o).next) {
    if (type == "OBJECT_SCHEMA") {
      const std::string schema = t_.string(t_.get(o, "String"), "sval");
      if (resolved_ == nullptr || !cascade) continue;  // without CASCADE the server refuses a schema with tables
      if (const CatalogRelation* r = resolved_->rule_table_in_schema(schema))
        refuse_ddl("DROP SCHEMA … CASCADE", quoted_name(*r), -1);
      continue;
    }
    if (type != "OBJECT_TABLE" && type != "OBJECT_FOREIGN_TABLE") continue;
    NodeId items = t_.get(t_.get(o, "List"), "items");
    std::vector<std::string> parts;
    for (NodeId i = items ? t_.node(items).first : 0; i != 0; i = t_.node(i).next)
      parts.push_back(t_.string(t_.get(i, "String"), "sval"));
    if (parts.empty()) continue;
    Relation rv;
    rv.name = parts.back();
    if (parts.size() >= 2) rv.schema = parts[parts.size() - 2];
    Resolution res = resolve(rv);
    if (res.rule != nullptr) refuse_ddl("DROP TABLE", res.rule->display_name(), -1);
    else if (res.rule_descendant != nullptr && (cascade || res.relation->kind == 'p'))
      refuse_ddl("DROP TABLE of a parent (it drops partitions or children)", quoted_name(*res.rule_descendant), -1);
  }
}

// Functions that read a table named by a string, or run SQL given as text: PostgreSQL runs them
// below the proxy. SQL text given as a literal is rewritten like any statement; anything else that
// may reach a rule table is refused.
std::vector<std::string> Walker::target_columns(NodeId target_list) const {
  std::vector<std::string> columns;
  for (NodeId t = target_list ? t_.node(target_list).first : 0; t != 0; t = t_.node(t).next)
    columns.push_back(t_.string(t_.get(t, "ResTarget"), "name"));
  return columns;
}

void Walker::on_func_call(NodeId f) {
  NodeId names = t_.get(f, "funcname");
  std::string name;
  std::size_t n = t_.size(names);
  if (n > 0) name = field_name(names, n - 1);
  // pg_catalog's own, however written (name, pg_catalog.name, db.pg_catalog.name); else another schema's.
  if (n > 3 || (n >= 2 && field_name(names, n - 2) != "pg_catalog")) name.clear();
  const bool by_table = name == "table_to_xml" || name == "table_to_xmlschema" || name == "table_to_xml_and_xmlschema";
  const bool by_query = name == "query_to_xml" || name == "query_to_xmlschema" || name == "query_to_xml_and_xmlschema" ||
                        name == "ts_stat" || (name == "ts_rewrite" && t_.size(t_.get(f, "args")) == 2);
  const bool by_schema = name == "schema_to_xml" || name == "schema_to_xmlschema" ||
                         name == "schema_to_xml_and_xmlschema" || name.starts_with("database_to_xml");
  if (!by_table && !by_query && !by_schema) return children(f, types_.func_call, {});
  const int location = static_cast<int>(t_.number(f, "location", -1));
  NodeId args = t_.get(f, "args");
  NodeId first = args ? t_.node(args).first : 0;
  if (name == "ts_rewrite") first = first ? t_.node(first).next : 0;  // ts_rewrite(query, 'select …')
  NodeId constant = t_.get(first, "A_Const");
  NodeId sval = t_.get(constant, "sval");
  const bool literal = sval != 0;
  const std::string text = literal ? t_.string(sval, "sval") : std::string();
  if (by_schema) {
    if (name.starts_with("database_to_xml") || resolved_ == nullptr || !literal ||
        resolved_->rule_table_in_schema(text) != nullptr)
      return fail_not_supported("pgsoftdelete: " + name + " reads every table of a schema below the proxy, "
                                "soft-delete tables included; query the tables instead", location);
    return children(f, types_.func_call, {});
  }
  if (by_table) {
    if (!literal)
      return fail_not_supported("pgsoftdelete: " + name + " with a table that is not a string literal cannot be "
                                "checked for soft-delete tables", location);
    auto qn = parse_qualified_name(text);
    if (!qn)  // an OID, spaces, a database name: the server may read it, we cannot
      return fail_not_supported("pgsoftdelete: " + name + " with a table written '" + text +
                                    "' cannot be checked for soft-delete tables; write schema.table",
                                location);
    Relation rv;
    rv.schema = qn->schema;
    rv.name = qn->name;
    Resolution res = resolve(rv);
    if (res.rule != nullptr || res.rule_descendant != nullptr)
      return fail_not_supported("pgsoftdelete: " + name + " reads soft-delete table " +
                                    (res.rule ? res.rule->display_name() : quoted_name(*res.rule_descendant)) +
                                    " below the proxy; use query_to_xml('SELECT … FROM " + qn->name + "', …)",
                                location);
    return children(f, types_.func_call, {});
  }
  // query_to_xml and siblings: the query's text goes through the engine like any statement.
  if (!literal)
    return fail_not_supported("pgsoftdelete: " + name + " with a query that is not a string literal cannot be "
                              "rewritten", location);
  auto rewritten = rewrite_nested_sql(text, rules_, hints_, user_, resolved_, path_);
  if (!rewritten) return fail(rewritten.error());
  if (rewritten->has_value()) {
    const int at = token_at(static_cast<int>(t_.number(constant, "location", -1)));
    if (at < 0) return fail_internal("the query of " + name);
    edits.push_back({begin_of(at), end_of(at), string_literal(**rewritten)});
  }
  for (NodeId a = args ? t_.node(args).first : 0; a != 0 && !error; a = t_.node(a).next)
    if (a != first) visit_node(a, Parent{types_.func_call, "args"});
}

}  // namespace pgsoftdelete::rules
