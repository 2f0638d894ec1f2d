// The walker's statement handlers: DELETE -> UPDATE, the live-rows predicate of DELETE/UPDATE, COPY TO,
// and the policies for TRUNCATE, MERGE and DO blocks.
#include "rules/walker.hpp"

#include "pg_query.pb.h"
#include "rules/cascade_sql.hpp"
#include "rules/identifier.hpp"
#include "rules/sql_lexer.hpp"

namespace pgsoftdelete::rules {

using NodeId = Walker::NodeId;

/// The last token of the DELETE/UPDATE whose target (and alias) ends at token `target_end`, before
/// RETURNING / the end of the statement; `where`: its WHERE keyword (-1: none).
int Walker::statement_last(int target_end, int* where) {
  int depth = 0, last = target_end;
  *where = -1;
  for (int j = next_code(target_end); j >= 0; j = next_code(j)) {
    Tok k = kind(j);
    if (k == Tok::lparen || k == Tok::lbracket) {
      ++depth;
    } else if (k == Tok::rparen || k == Tok::rbracket) {
      if (--depth < 0) break;
    } else if (kind(prev_code(j)) == Tok::dot) {
      // `excluded.where`, `t.returning`: any keyword names a column after a dot
    } else if (depth == 0 && (k == Tok::kw_returning || k == Tok::semicolon)) {
      break;
    } else if (depth == 0 && k == Tok::kw_where && *where < 0) {
      *where = j;
    }
    last = j;
  }
  return last;
}

/// Adds `pred` to the WHERE clause of the DELETE/UPDATE whose target (and alias) ends at token `target_end`:
/// `WHERE (cond) AND pred`, or ` WHERE pred` before RETURNING / the end of the statement.
void Walker::add_predicate(int target_end, bool has_where, const std::string& pred) {
  int where = -1;
  const int last = statement_last(target_end, &where);
  if (has_where) {
    int cond = next_code(where);
    if (where < 0 || cond < 0 || cond > last) return fail_internal("the WHERE clause");
    insert(begin_of(cond), "(");
    insert(end_of(last), ") AND " + pred);
  } else {
    insert(end_of(last), " WHERE " + pred);
  }
}

/// The target's predicate (qualified by its alias token, else its name), then those of the tables in FROM / USING.
std::string Walker::target_predicate(const TableRule& rule, Visibility v, const Span& s, int alias,
                                     const std::string& from_preds) const {
  std::string out = predicate(rule, v, alias >= 0 ? text(alias) : text(s.name, s.name_last));
  if (!from_preds.empty()) out += " AND " + from_preds;
  return out;
}

bool Walker::where_is_current_of(NodeId stmt) const { return t_.get(t_.get(stmt, "whereClause"), "CurrentOfExpr") != 0; }

void Walker::on_delete(NodeId d) {
  Relation rv = relation(t_.get(d, "relation"));
  const Resolution res = resolve(rv);
  const TableRule* rule = res.rule;
  if (refuse_rule_ancestor(res, rv, "DELETE from") || refuse_view_target(res, rv, "DELETE")) return;
  children(d, types_.delete_stmt, {"relation", "withClause"});
  if (error) return;
  bool hard = true;
  Visibility v = Visibility::all;
  if (rule) {
    hard = hard_delete(*rule, rv);
    v = visibility(*rule, rv);
  }
  if (error) return;
  if (hard && res.relation != nullptr) refuse_hazard(resolved_->delete_hazard(res.relation->oid), "DELETE", rv);
  // The foreign keys a soft delete follows (or must refuse): not those of rows already deleted.
  CascadePlan plan;
  if (!hard && res.relation != nullptr) {
    plan = resolved_->cascade_plan(res.relation->oid,
                                   rules_.cascade() == Cascade::foreign_keys && v != Visibility::deleted);
    refuse_soft_delete_hazard(plan.refused, rv);
  }
  if (error) return;
  // The predicates of the rule tables in USING, and the target's own (not beside WHERE CURRENT OF: the
  // cursor was declared through us, over live rows only).
  std::string preds = std::move(scopes_.back().preds);
  if (!rule && preds.empty()) return;
  auto s = reference_span(rv);
  if (!s) return;
  int alias = -1;
  int end = after_alias(rv, *s, &alias);
  if (end < 0) return;
  if (rule && v != Visibility::all && !where_is_current_of(d))
    preds = target_predicate(*rule, v, *s, alias, preds);
  if (rule && !hard && (plan.follows_anything() || !plan.problem.empty()))
    return cascade_delete(d, rv, *rule, v, plan, *s, alias, end, preds);
  if (rule && !hard) {
    int from = prev_code(s->first);
    int del = prev_code(from);
    if (kind(from) != Tok::kw_from || kind(del) != Tok::kw_delete) return fail_internal("DELETE FROM");
    edits.push_back({begin_of(del), end_of(from), "UPDATE"});
    insert(end_of(end), " SET " + rule->delete_assignments());
    if (t_.size(t_.get(d, "usingClause")) > 0) {
      int using_tok = next_code(end);
      if (kind(using_tok) != Tok::kw_using) return fail_internal("USING");
      edits.push_back({begin_of(using_tok), end_of(using_tok), "FROM"});
    }
    if (d == top_delete) delete_to_update = true;
  }
  if (!preds.empty()) add_predicate(end, t_.get(d, "whereClause") != 0, preds);
}

// A soft DELETE whose target's rows are referenced by rule tables' keys with ON DELETE actions:
//   [WITH …,] __pgsd_rows AS (SELECT … FROM <target> [, <using>] WHERE <cond and predicates> FOR UPDATE OF <target>),
//   <the steps of cascade_sql.hpp> UPDATE <target> SET <mark> WHERE <predicate> AND <one of __pgsd_rows> [RETURNING …]
// The client's text stays where it is: its FROM list and condition become __pgsd_rows', its RETURNING
// the final UPDATE's.
void Walker::cascade_delete(NodeId d, const Relation& rv, const TableRule& rule, Visibility v, const CascadePlan& plan,
                            const Span& s, int alias, int end, const std::string& preds) {
  const std::string doing = "pgsoftdelete: DELETE from " + rv.name + " must follow the ON DELETE actions of foreign keys "
                            "from soft-delete tables, ";
  const std::string way_out = "; set [policy] cascade = \"off\" to delete softly without following them";
  if (!plan.problem.empty()) return fail_not_supported(doing + "and cannot in one statement: " + plan.problem + way_out, rv.location);
  if (d != cascade_target)
    return fail_not_supported(doing + "which it does only for a DELETE that is the statement itself (not inside "
                                      "WITH, COPY or a rule)" + way_out, rv.location);
  if (where_is_current_of(d))
    return fail_not_supported(doing + "which it cannot do for WHERE CURRENT OF" + way_out, rv.location);
  // Its sub-statements and ours would see the same snapshot, and a row updated by both is updated once.
  if (modifies_in_with(d))
    return fail_not_supported(doing + "which it cannot do beside data-modifying WITH queries" + way_out, rv.location);
  const bool has_using = t_.size(t_.get(d, "usingClause")) > 0;
  if (has_using && t_.size(t_.get(d, "returningList")) > 0)
    return fail_not_supported(doing + "which it cannot do with both USING and RETURNING" + way_out, rv.location);
  int from = prev_code(s.first);
  int del = prev_code(from);
  if (kind(from) != Tok::kw_from || kind(del) != Tok::kw_delete) return fail_internal("DELETE FROM");
  const std::string columns_of = column_qualifier(s, alias);
  if (has_using) {
    int using_tok = next_code(end);
    if (kind(using_tok) != Tok::kw_using) return fail_internal("USING");
    edits.push_back({begin_of(using_tok), end_of(using_tok), ","});
  }
  if (!preds.empty()) add_predicate(end, t_.get(d, "whereClause") != 0, preds);
  std::string main = "UPDATE " + std::string(text(s.first, end)) + " SET " + rule.delete_assignments() + " WHERE ";
  if (v != Visibility::all) main += predicate(rule, v, columns_of) + " AND ";
  main += cascade_identity(plan, columns_of);
  choose_rows_first(d, del, from, cascade_rows_select(plan, columns_of), end, lock_name(rv, alias),
                    cascade_steps(plan) + " " + main);
  if (d == top_delete) delete_to_update = true;
}

std::string Walker::column_qualifier(const Span& s, int alias) const {
  return alias >= 0 ? std::string(text(alias)) : std::string(text(s.name, s.name_last));
}

std::string Walker::lock_name(const Relation& rv, int alias) const {
  return alias >= 0 ? std::string(text(alias)) : quote_identifier(rv.name);
}

void Walker::choose_rows_first(NodeId stmt, int head_first, int head_last, const std::string& select, int target_end,
                               const std::string& lock, const std::string& rest) {
  edits.push_back({begin_of(head_first), end_of(head_last),
                   std::string(t_.get(stmt, "withClause") != 0 ? ", " : "WITH ") + std::string(cascade_rows_cte) +
                       " AS (SELECT " + select + " FROM"});
  int where = -1;
  insert(end_of(statement_last(target_end, &where)), " FOR UPDATE OF " + lock + ")" + rest);
}

void Walker::on_update(NodeId u) {
  Relation rv = relation(t_.get(u, "relation"));
  const Resolution res = resolve(rv);
  const TableRule* rule = res.rule;
  if (refuse_rule_ancestor(res, rv, "UPDATE of") || refuse_view_target(res, rv, "UPDATE")) return;
  children(u, types_.update_stmt, {"relation", "withClause"});
  if (error) return;
  if (res.relation != nullptr) {
    refuse_hazard(resolved_->update_hazard(res.relation->oid, target_columns(t_.get(u, "targetList"))), "UPDATE", rv);
    if (error) return;
  }
  std::string preds = std::move(scopes_.back().preds);  // those of the rule tables in FROM
  const Visibility v = rule ? visibility(*rule, rv) : Visibility::all;
  if (error) return;
  const bool filter_target = v != Visibility::all && !where_is_current_of(u);
  // An UPDATE of deleted rows that sets a timestamp-kind mark may restore them (restore()).
  const NodeId mark = rule && v != Visibility::live && res.relation != nullptr &&
                              rules_.cascade() == Cascade::foreign_keys
                          ? mark_assignment(u, *rule)
                          : 0;
  if (preds.empty() && !filter_target && mark == 0) return;
  auto s = reference_span(rv);
  if (!s) return;
  int alias = -1;
  int end = after_alias(rv, *s, &alias);
  if (end < 0) return;
  if (filter_target) preds = target_predicate(*rule, v, *s, alias, preds);
  if (mark != 0) return restore(u, rv, *res.relation, mark, *s, alias, end, preds);
  add_predicate(end, t_.get(u, "whereClause") != 0, preds);
}

// The ResTarget of `SET deleted_at = <value>` of a timestamp-kind table (0: none).
Walker::NodeId Walker::mark_assignment(NodeId u, const TableRule& rule) const {
  if (rule.kind != DeletedKind::timestamp) return 0;
  NodeId list = t_.get(u, "targetList");
  for (NodeId t = list ? t_.node(list).first : 0; t != 0; t = t_.node(t).next) {
    NodeId target = t_.get(t, "ResTarget");
    if (t_.string(target, "name") != rule.column) continue;
    // A literal time marks rows deleted again: no restore (anything else may be NULL, a parameter too).
    NodeId constant = t_.get(t_.get(target, "val"), "A_Const");
    return constant != 0 && !t_.truth(constant, "isnull") ? 0 : target;
  }
  return 0;
}

bool Walker::modifies_in_with(NodeId stmt) const {
  NodeId ctes = t_.get(t_.get(stmt, "withClause"), "ctes");
  for (NodeId c = ctes ? t_.node(ctes).first : 0; c != 0; c = t_.node(c).next)
    if (t_.get(t_.get(t_.get(c, "CommonTableExpr"), "ctequery"), "SelectStmt") == 0) return true;
  return false;
}

// An UPDATE of deleted timestamp-kind rows setting the mark (to NULL: a restore) also restores the
// children their soft delete's cascade marked with the same time (cascade_sql.hpp: restore_steps), in
// the shape of cascade_delete; the value is evaluated in __pgsd_rows (NULL or not: a parameter too):
//   [WITH …,] __pgsd_rows AS (SELECT …, deleted_at AS __pgsd_at, (<value>) IS NULL AS __pgsd_restore
//                             FROM <target> WHERE <cond> FOR UPDATE OF <target>),
//   <steps> UPDATE <target> SET <the client's SET list> WHERE <predicate> AND <one of __pgsd_rows> [RETURNING …]
// The SET list moves to the final UPDATE: done only when no edit lies inside it.
void Walker::restore(NodeId u, const Relation& rv, const CatalogRelation& table, NodeId mark, const Span& s,
                     int alias, int end, const std::string& preds) {
  const CascadePlan plan = resolved_->cascade_plan(table.oid, true);
  std::string problem = plan.problem;
  const std::string steps = problem.empty() ? restore_steps(plan, problem) : std::string();
  const bool has_where = t_.get(u, "whereClause") != 0;
  if (problem.empty() && steps.empty()) {  // nothing the cascade could have marked
    if (!preds.empty()) add_predicate(end, has_where, preds);
    return;
  }
  const std::string doing = "pgsoftdelete: UPDATE of " + rv.name + " restores rows whose soft delete may have "
                            "cascaded to other soft-delete tables, ";
  const std::string way_out = "; restore the children by their deleted_at, or set [policy] cascade = \"off\"";
  if (!problem.empty()) return fail_not_supported(doing + "which cannot be undone in one statement: " + problem + way_out, rv.location);
  if (u != restore_target)
    return fail_not_supported(doing + "which it does only for an UPDATE that is the statement itself" + way_out, rv.location);
  if (where_is_current_of(u) || t_.size(t_.get(u, "fromClause")) > 0)
    return fail_not_supported(doing + "which it cannot do with FROM or WHERE CURRENT OF" + way_out, rv.location);
  if (modifies_in_with(u))
    return fail_not_supported(doing + "which it cannot do beside data-modifying WITH queries" + way_out, rv.location);
  NodeId value = t_.get(mark, "val");
  if (t_.get(value, "SetToDefault") != 0 || t_.get(value, "MultiAssignRef") != 0)
    return fail_not_supported(doing + "which it cannot do for DEFAULT or (…) = (…) assigned to the column" + way_out,
                              rv.location);
  const int set = next_code(end);
  int where = -1;
  const int last = statement_last(end, &where);
  int set_last = where >= 0 ? prev_code(where) : last;
  if (set < 0 || set_last < set || kind(prev_code(s.first)) != Tok::kw_update) return fail_internal("UPDATE … SET");
  for (const auto& e : edits)
    if (e.begin >= begin_of(set) && e.begin <= end_of(set_last))
      return fail_not_supported(doing + "which it cannot do when its SET list reads soft-delete tables" + way_out,
                                rv.location);
  // The value's text: from the token after `column =` to the end of that assignment.
  int value_first = next_code(next_code(token_at(static_cast<int>(t_.number(mark, "location", -1)))));
  int value_last = -1, depth = 0;
  for (int j = value_first; j >= 0 && j <= set_last; j = next_code(j)) {
    if (kind(j) == Tok::lparen || kind(j) == Tok::lbracket) ++depth;
    if (kind(j) == Tok::rparen || kind(j) == Tok::rbracket) --depth;
    if (depth == 0 && text(j) == ",") break;
    value_last = j;
  }
  if (value_first < 0 || value_last < value_first || value_first <= set) return fail_internal("the restored value");
  const std::string restoring(text(value_first, value_last));
  const int update = prev_code(s.first);
  const std::string columns_of = column_qualifier(s, alias);
  edits.push_back({begin_of(set), end_of(set_last), ""});
  if (!preds.empty()) add_predicate(end, has_where, preds);
  std::string main = "UPDATE " + std::string(text(s.first, end)) + " " + std::string(text(set, set_last)) + " WHERE ";
  if (!preds.empty()) main += preds + " AND ";
  main += cascade_identity(plan, columns_of);
  choose_rows_first(u, update, update, cascade_rows_select(plan, columns_of, restoring), end, lock_name(rv, alias),
                    steps + " " + main);
}

void Walker::on_merge(NodeId m) {
  Relation rv = relation(t_.get(m, "relation"));
  const Resolution res = resolve(rv);
  if (refuse_rule_ancestor(res, rv, "MERGE into") || refuse_view_target(res, rv, "MERGE")) return;
  if (const TableRule* rule = res.rule; rule && rules_.merge_policy() == Policy::reject && !hard_delete(*rule, rv)) {
    return fail_not_supported("pgsoftdelete: MERGE into soft-delete table " + rule->display_name() +
                                  " is rejected by the rules file policy",
                              rv.location);
  }
  // WHEN MATCHED THEN DELETE / UPDATE fire the foreign-key actions of the target like DELETE and UPDATE.
  if (res.relation != nullptr && (res.rule == nullptr || hard_delete(*res.rule, rv))) {
    NodeId clauses = t_.get(m, "mergeWhenClauses");
    for (NodeId c = clauses ? t_.node(clauses).first : 0; c != 0 && !error; c = t_.node(c).next) {
      NodeId clause = t_.get(c, "MergeWhenClause");
      const std::string command = t_.string(clause, "commandType");
      if (command == "CMD_DELETE") {
        refuse_hazard(resolved_->delete_hazard(res.relation->oid), "DELETE", rv);
      } else if (command == "CMD_UPDATE") {
        refuse_hazard(resolved_->update_hazard(res.relation->oid, target_columns(t_.get(clause, "targetList"))),
                      "UPDATE", rv);
      }
    }
    if (error) return;
  }
  children(m, types_.merge_stmt, {"relation", "withClause"});
}

void Walker::on_truncate(NodeId tr) {
  NodeId rels = t_.get(tr, "relations");
  const bool cascade = t_.string(tr, "behavior") == "DROP_CASCADE";
  for (NodeId n = rels ? t_.node(rels).first : 0; n != 0 && !error; n = t_.node(n).next) {
    Relation rv = relation(t_.get(n, "RangeVar"));
    rv.id = t_.get(n, "RangeVar");
    const Resolution res = resolve(rv);
    const TableRule* rule = res.rule;
    if (rules_.truncate_policy() == Policy::reject && refuse_rule_ancestor(res, rv, "TRUNCATE of")) return;
    if (rule && rules_.truncate_policy() == Policy::reject && !hard_delete(*rule, rv))
      return fail_not_supported("pgsoftdelete: TRUNCATE of soft-delete table " + rule->display_name() +
                                    " is rejected by the rules file policy",
                                rv.location);
    if (cascade && res.relation != nullptr && !error)
      refuse_hazard(resolved_->truncate_hazard(res.relation->oid), "TRUNCATE … CASCADE", rv);
  }
}

// A DO block's code is opaque to us (PL/pgSQL in a string): refuse it when it may name a rule table.
void Walker::on_do(NodeId d) {
  NodeId args = t_.get(d, "args");
  for (NodeId a = args ? t_.node(args).first : 0; a != 0; a = t_.node(a).next) {
    NodeId def = t_.get(a, "DefElem");
    if (t_.string(def, "defname") != "as") continue;
    LexResult code;
    lex_sql(t_.string(t_.get(t_.get(def, "arg"), "String"), "sval"), rules_, code, resolved_);
    if (code.names_rule_table || code.uncertain || code.has_do)
      return fail_not_supported("pgsoftdelete: a DO block that may use a soft-delete table cannot be rewritten; "
                                "run it without the proxy or use plain SQL statements",
                                -1);
  }
}

// COPY t [(cols)] TO … -> COPY (SELECT cols FROM t WHERE live) TO …; COPY t FROM inserts: unchanged.
void Walker::on_copy(NodeId c) {
  NodeId rel = t_.get(c, "relation");
  if (rel && !t_.truth(c, "is_from")) {
    Relation rv = relation(rel);
    const Resolution res = resolve(rv);
    if (refuse_rule_ancestor(res, rv, "COPY of")) return;
    if (const TableRule* rule = res.rule) {
      Visibility v = visibility(*rule, rv);
      if (error) return;
      if (v != Visibility::all) {
        auto s = reference_span(rv);
        if (!s) return;
        std::string columns = "*";
        int last = s->name_last;
        if (t_.size(t_.get(c, "attlist")) > 0) {
          int open = next_code(last);
          int depth = 0, close = -1;
          for (int j = open; j >= 0; j = next_code(j)) {
            if (kind(j) == Tok::lparen) ++depth;
            if (kind(j) == Tok::rparen && --depth == 0) {
              close = j;
              break;
            }
          }
          if (kind(open) != Tok::lparen || close < 0) return fail_internal("the COPY column list");
          columns = std::string(sql_.substr(end_of(open), begin_of(close) - end_of(open)));
          last = close;
        }
        edits.push_back({begin_of(s->first), end_of(last),
                         "(SELECT " + columns + " FROM " + std::string(text(s->first, s->name_last)) + " WHERE " +
                             predicate(*rule, v, "") + ")"});
      }
    }
  }
  children(c, types_.copy_stmt, {"relation"});
}

}  // namespace pgsoftdelete::rules
