// Where a rule table's live-rows predicate goes. A reference in a FROM list, or reached from it through
// inner joins and preserved sides of outer joins, is filtered in the WHERE of its query level; one on
// the nullable side of an outer join, in that join's ON condition; a predicate there means what filtering
// the table first means, and PostgreSQL plans it as a plain scan. Only where no predicate can say it (a
// FULL JOIN side, a nullable side joined by USING/NATURAL, an alias that renames columns) does the
// reference become a filtered subquery.
#include "rules/walker.hpp"

#include <algorithm>
#include <climits>

#include "rules/identifier.hpp"

namespace pgsoftdelete::rules {

using NodeId = Walker::NodeId;
using parser::JsonNode;

namespace {

void append_and(std::string& to, const std::string& pred) {
  if (!to.empty()) to += " AND ";
  to += pred;
}

}  // namespace

void Walker::on_join(NodeId j) {
  if (scopes_.empty()) return children(j, types_.join_expr, {});
  const std::size_t scope = scopes_.size() - 1;
  scopes_[scope].joins.push_back({j, false});
  visit_node(t_.get(j, "larg"), Parent{types_.join_expr, "larg"});
  scopes_[scope].joins.back().right = true;
  visit_node(t_.get(j, "rarg"), Parent{types_.join_expr, "rarg"});
  scopes_[scope].joins.pop_back();
  children(j, types_.join_expr, {"larg", "rarg"});
  for (auto it = join_preds_.begin(); it != join_preds_.end(); ++it) {
    if (it->join != j) continue;
    const std::string preds = std::move(it->preds);
    join_preds_.erase(it);
    if (!error) emit_on(j, preds);
    break;
  }
}

// Moving up from the reference: an inner join or the preserved side of a LEFT/RIGHT join passes the
// filter up unchanged (it keeps or drops whole rows of the reference); the nullable side of a LEFT/RIGHT
// join takes it in its ON; a FULL join or a join alias (which hides the table's name above it) stops it,
// and the filter goes to an inner join's ON passed on the way, if any. Per join, from the reference's side:
//   inner, no alias           -> pass (remember it if it has an ON)
//   LEFT/RIGHT preserved side -> pass if no alias, else stop
//   LEFT/RIGHT nullable side  -> its ON (USING/NATURAL: stop)
//   inner with an alias       -> its ON (USING/NATURAL/CROSS: stop)
//   FULL, either side         -> stop
// stop: the remembered inner join's ON, else a subquery. At the top: the WHERE (UPDATE/DELETE: theirs;
// MERGE: none, so as stop).
Walker::Placement Walker::placement(NodeId* join) const {
  const Scope& scope = scopes_.back();
  NodeId inner_on = 0;  // the innermost inner join with an ON passed so far
  for (auto f = scope.joins.rbegin(); f != scope.joins.rend(); ++f) {
    const std::string type = t_.string(f->join, "jointype");
    const bool inner = type.empty() || type == "JOIN_INNER";
    const bool full = type == "JOIN_FULL";
    const bool nullable = full || (type == "JOIN_LEFT" && f->right) || (type == "JOIN_RIGHT" && !f->right);
    const bool has_on = t_.get(f->join, "quals") != 0;
    const bool aliased = t_.get(f->join, "alias") != 0;
    if (!nullable && !aliased) {
      if (inner && has_on && inner_on == 0) inner_on = f->join;
      continue;
    }
    if (has_on && !full && (inner || nullable)) {
      *join = f->join;
      return Placement::on;
    }
    *join = inner_on;
    return inner_on != 0 ? Placement::on : Placement::subquery;
  }
  if (scope.top) return Placement::where;
  *join = inner_on;
  return inner_on != 0 ? Placement::on : Placement::subquery;
}

std::optional<std::string> Walker::qualifier(const Relation& rv, const Span& s) {
  if (rv.has_alias) {
    if (t_.size(t_.get(t_.get(rv.id, "alias"), "colnames")) > 0) return std::nullopt;
    int alias = -1;
    if (after_alias(rv, s, &alias) < 0 || alias < 0) return std::nullopt;
    return std::string(text(alias));
  }
  if (s.name_last != s.name) return std::nullopt;  // U&"…" UESCAPE '…' names no column
  const int start = token_at(rv.location);
  if (start < 0) return std::nullopt;
  return std::string(text(start, s.name_last));  // schema-qualified as written: `public.t` and `other.t` differ
}

bool Walker::filter_in_place(const Relation& rv, const TableRule& rule, Visibility v, const Span& s) {
  if (scopes_.empty()) return false;
  NodeId join = 0;
  const Placement p = placement(&join);
  if (p == Placement::subquery) return false;
  const auto q = qualifier(rv, s);
  if (!q) return false;
  const std::string pred = predicate(rule, v, *q);
  if (p == Placement::where) {
    Scope& scope = scopes_.back();
    append_and(scope.preds, pred);
    if (scope.anchor < 0) scope.anchor = s.name;
  } else {
    auto it = std::find_if(join_preds_.begin(), join_preds_.end(), [&](const auto& j) { return j.join == join; });
    if (it == join_preds_.end()) it = join_preds_.insert(join_preds_.end(), JoinPredicates{join, {}});
    append_and(it->preds, pred);
  }
  if (const int before = prev_code(s.first); kind(before) == Tok::kw_table)  // TABLE t: SELECT * FROM t
    edits.push_back({begin_of(before), end_of(before), "SELECT * FROM"});
  return true;
}

// A query level's FROM list is where its FROM keyword (or TABLE, in `TABLE t`) stands: the nearest one
// before the reference in a parenthesis that still encloses it, not counting IS [NOT] DISTINCT FROM and
// ROWS FROM (those inside function arguments or finished subqueries are in parentheses closed before it).
// Anything nearer lies inside the same FROM list, so the answer is never a level above the reference's own
// (where a predicate could go into another query); at worst it is a join group below, where a WHERE is a
// syntax error (the statement fails, nothing leaks).
int Walker::query_level(int tok) {
  const auto encloses_tok = [&](int group) {
    for (int g = nesting_.enclosing(tok);; g = nesting_.enclosing(g)) {
      if (g == group) return true;
      if (g < 0) return false;
    }
  };
  for (int i = prev_code(tok); i >= 0; i = prev_code(i)) {
    const Tok k = kind(i);
    if (k != Tok::kw_table && k != Tok::kw_from) continue;
    if (k == Tok::kw_from) {
      const std::string_view before = text(prev_code(i));
      if (equals_folded(before, "distinct") || equals_folded(before, "rows")) continue;
    }
    if (encloses_tok(nesting_.enclosing(i))) return nesting_.depth(i);
  }
  return -1;
}

bool Walker::ends_clause(int j, bool on) const {
  if (kind(prev_code(j)) == Tok::dot) return false;  // `t.limit`: any keyword names a column after a dot
  const int next = next_code(j);
  switch (kind(j)) {
    case Tok::semicolon:
    case Tok::kw_having:
    case Tok::kw_window:
    case Tok::kw_order:
    case Tok::kw_limit:
    case Tok::kw_offset:
    case Tok::kw_fetch:
    case Tok::kw_union:
    case Tok::kw_intersect:
    case Tok::kw_except:
    case Tok::kw_returning: return true;
    case Tok::kw_for:  // FOR UPDATE / SHARE …, not COLLATION FOR (…)
      return kind(next) != Tok::lparen;
    case Tok::kw_group:  // not WITHIN GROUP (…)
      return !equals_folded(text(prev_code(j)), "within");
    case Tok::kw_with:  // WITH CHECK OPTION, WITH [NO] DATA; not WITH ORDINALITY nor a type's WITH TIME ZONE
      return next < 0 || !(equals_folded(text(next), "ordinality") || equals_folded(text(next), "time"));
    case Tok::kw_on: return on || std::find(conflict_on_.begin(), conflict_on_.end(), j) != conflict_on_.end();
    case Tok::kw_where:
    case Tok::comma:
    case Tok::kw_using:
    case Tok::kw_join:
    case Tok::kw_cross:
    case Tok::kw_natural: return on;
    case Tok::kw_inner:
    case Tok::kw_left:
    case Tok::kw_right:
    case Tok::kw_full:  // not left(s, n)
      return on && (kind(next) == Tok::kw_join || kind(next) == Tok::kw_outer);
    default: return false;
  }
}

int Walker::clause_last(int from, int level, bool on, int* stop) {
  int last = -1;
  *stop = -1;
  for (int j = from; j >= 0; j = next_code(j)) {
    const int d = nesting_.depth(j);
    if (d < level || (d == level && (ends_clause(j, on) || (!on && kind(j) == Tok::kw_where)))) {
      *stop = j;
      break;
    }
    last = j;
  }
  return last;
}

void Walker::emit_where(NodeId stmt, const Scope& scope) {
  const NodeId where_clause = t_.get(stmt, "whereClause");
  const int level = query_level(scope.anchor);
  int stop = -1;
  const int last = level < 0 ? -1 : clause_last(scope.anchor, level, false, &stop);
  if (last < 0) return fail_internal("the end of a FROM list");
  const bool at_where = stop >= 0 && kind(stop) == Tok::kw_where && nesting_.depth(stop) == level;
  if (where_clause == 0) {
    if (at_where) return fail_internal("the end of a FROM list");
    return insert(end_of(last), " WHERE " + scope.preds);
  }
  // The WHERE found must be the one of this statement's condition: the token before its first (after any '(').
  int before = prev_code(token_at(min_location(where_clause)));
  while (kind(before) == Tok::lparen) before = prev_code(before);
  if (!at_where || before != stop) return fail_internal("the WHERE clause");
  const int first = next_code(stop);
  const int cond_last = clause_last(first, level, false, &stop);
  if (cond_last < 0) return fail_internal("the WHERE clause");
  insert(begin_of(first), "(");
  insert(end_of(cond_last), ") AND " + scope.preds);
}

void Walker::emit_on(NodeId join, const std::string& preds) {
  const int m = token_at(min_location(t_.get(join, "quals")));
  int on = prev_code(m);
  while (kind(on) == Tok::lparen) on = prev_code(on);
  if (m < 0 || kind(on) != Tok::kw_on) return fail_internal("a join's ON condition");
  const int first = next_code(on);
  int stop = -1;
  const int last = clause_last(first, nesting_.depth(on), true, &stop);
  if (last < 0) return fail_internal("the end of a join's ON condition");
  insert(begin_of(first), "(");
  insert(end_of(last), ") AND " + preds);
}

int Walker::min_location(NodeId n) const {
  if (n == 0) return -1;
  int best = INT_MAX;
  for (NodeId m = t_.node(n).first; m != 0; m = t_.node(m).next) {
    const JsonNode& member = t_.node(m);
    if (member.kind == JsonNode::Kind::object || member.kind == JsonNode::Kind::array) {
      const int inner = min_location(m);
      if (inner >= 0) best = std::min(best, inner);
    } else if (member.kind == JsonNode::Kind::number && member.key == "location" && member.number >= 0) {
      best = std::min(best, static_cast<int>(member.number));
    }
  }
  return best == INT_MAX ? -1 : best;
}

}  // namespace pgsoftdelete::rules
