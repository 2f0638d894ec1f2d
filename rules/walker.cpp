// The walker's generic walk, WITH scopes, table references (filtered in place or wrapped in filtered
// subqueries) and the column references such a subquery would break.
#include "rules/walker.hpp"

#include <algorithm>

#include <array>

#include "pg_query.pb.h"

namespace pgsoftdelete::rules {

namespace pb = google::protobuf;
using parser::JsonNode;
using NodeId = Walker::NodeId;

namespace {

constexpr std::array<std::string_view, 6> system_columns = {"ctid", "xmin", "xmax", "cmin", "cmax", "tableoid"};

/// 1-based character position of byte `offset` (for the P field of an ErrorResponse).
int char_position(std::string_view sql, std::size_t offset) {
  int chars = 0;
  for (std::size_t i = 0; i < offset && i < sql.size(); ++i)
    if ((static_cast<unsigned char>(sql[i]) & 0xC0) != 0x80) ++chars;
  return chars + 1;
}

}  // namespace

int Walker::token_at(int offset) const {
  auto it = std::lower_bound(tokens_.begin(), tokens_.end(), offset,
                             [](const SqlToken& t, int off) { return t.start < off; });
  if (it == tokens_.end() || it->start != offset) return -1;
  return static_cast<int>(it - tokens_.begin());
}

int Walker::next_code(int i) const {
  if (i < 0) return -1;
  for (++i; i < static_cast<int>(tokens_.size()); ++i)
    if (tokens_[i].kind != Tok::comment) return i;
  return -1;
}

int Walker::prev_code(int i) const {
  for (--i; i >= 0; --i)
    if (tokens_[i].kind != Tok::comment) return i;
  return -1;
}

void Walker::fail_not_supported(std::string message, int location) {
  parser::Error e = parser::not_supported(std::move(message));
  if (location >= 0) e.position = char_position(sql_, static_cast<std::size_t>(location));
  fail(std::move(e));
}

void Walker::fail_internal(std::string_view what) {
  fail(parser::internal_error("pgsoftdelete: cannot locate " + std::string(what) + " in the statement text"));
}

bool Walker::may_reveal() {
  if (rules_.skip_users().allows(user_)) return true;
  fail(parser::Error{parser::sqlstate::insufficient_privilege,
                     "user \"" + std::string(user_) + "\" may not use the pgsoftdelete skip/only_deleted hints", 0});
  return false;
}

Visibility Walker::visibility(const TableRule& rule, const Relation& rv) {
  if (hints_.only_deleted.contains(rule, rv.schema)) return may_reveal() ? Visibility::deleted : Visibility::live;
  if (hints_.skip.contains(rule, rv.schema)) return may_reveal() ? Visibility::all : Visibility::live;
  return Visibility::live;
}

bool Walker::hard_delete(const TableRule& rule, const Relation& rv) {
  if (!hints_.hard_delete.contains(rule, rv.schema)) return false;
  if (rules_.hard_delete_users().allows(user_)) return true;
  fail(parser::Error{parser::sqlstate::insufficient_privilege,
                     "user \"" + std::string(user_) + "\" may not use the pgsoftdelete hard_delete hint", 0});
  return false;
}

// A Node wrapper is `{"TypeName": {...}}`; a typed member holds the object directly.
void Walker::visit_node(NodeId wrapper, Parent parent) {
  if (error || wrapper == 0 || t_.node(wrapper).kind != JsonNode::Kind::object) return;
  NodeId inner = t_.node(wrapper).first;
  if (inner == 0) return;
  const pb::Descriptor* type = schema_.node_type(t_.node(inner).key);
  if (!type) return fail(parser::internal_error("pgsoftdelete: unknown parse node " + std::string(t_.node(inner).key)));
  visit(inner, type, parent);
}

void Walker::visit(NodeId obj, const pb::Descriptor* type, Parent parent) {
  if (error) return;
  if (type == types_.range_var) return on_range_var(obj, parent);
  if (type == types_.range_table_sample) return on_table_sample(obj, parent);
  if (type == types_.join_expr) return on_join(obj);
  if (type == types_.column_ref) return column_refs_.push_back(obj);
  if (type == types_.copy_stmt) return on_copy(obj);
  if (type == types_.truncate_stmt) return on_truncate(obj);
  if (type == types_.do_stmt) return on_do(obj);
  if (type == types_.func_call) return on_func_call(obj);
  if (type == types_.rename_stmt) return on_rename(obj);
  if (type == types_.alter_table_stmt) return on_alter_table(obj);
  if (type == types_.alter_object_schema_stmt) return on_alter_schema(obj);
  if (type == types_.drop_stmt) return on_drop(obj);
  if (type == types_.drop_owned_stmt) {
    if (resolved_ != nullptr && !rules_.tables().empty())
      refuse_ddl("DROP OWNED (it may drop soft-delete tables)", rules_.tables().front().display_name(), -1);
    return;
  }
  if (type == types_.select_stmt || type == types_.insert_stmt ||
      type == types_.update_stmt || type == types_.delete_stmt ||
      type == types_.merge_stmt)
    return on_query(obj, type);
  children(obj, type, {});
}

void Walker::children(NodeId obj, const pb::Descriptor* type, std::initializer_list<std::string_view> skip) {
  for (NodeId m = t_.node(obj).first; m != 0 && !error; m = t_.node(m).next) {
    const JsonNode& member = t_.node(m);
    if (member.kind != JsonNode::Kind::object && member.kind != JsonNode::Kind::array) continue;
    if (std::find(skip.begin(), skip.end(), member.key) != skip.end()) continue;
    const pb::FieldDescriptor* f = schema_.field(type, member.key);
    if (!f || !f->message_type()) continue;
    Parent p{type, member.key};
    if (member.kind == JsonNode::Kind::array) {
      for (NodeId e = member.first; e != 0 && !error; e = t_.node(e).next) visit_value(e, f, p);
    } else {
      visit_value(m, f, p);
    }
  }
}

void Walker::visit_value(NodeId v, const pb::FieldDescriptor* f, Parent p) {
  if (f->message_type() == types_.node) visit_node(v, p);
  else if (t_.node(v).kind == JsonNode::Kind::object) visit(v, f->message_type(), p);
}

// A CTE name hides a table of that name for unqualified references in its scope: a non-recursive WITH
// makes each CTE visible to the later CTEs and the main statement; WITH RECURSIVE to all of them.
bool Walker::is_cte(const Relation& rv) const {
  if (!rv.schema.empty() || !rv.catalog.empty()) return false;
  for (const auto& scope : cte_scopes_)
    if (std::find(scope.begin(), scope.end(), rv.name) != scope.end()) return true;
  return false;
}

void Walker::on_query(NodeId obj, const pb::Descriptor* type) {
  NodeId with = t_.get(obj, "withClause");
  if (with) {
    bool recursive = t_.truth(with, "recursive");
    cte_scopes_.emplace_back();
    NodeId ctes = t_.get(with, "ctes");
    if (recursive)
      for (NodeId c = ctes ? t_.node(ctes).first : 0; c != 0; c = t_.node(c).next)
        cte_scopes_.back().push_back(t_.string(t_.get(c, "CommonTableExpr"), "ctename"));
    for (NodeId c = ctes ? t_.node(ctes).first : 0; c != 0 && !error; c = t_.node(c).next) {
      NodeId cte = t_.get(c, "CommonTableExpr");
      if (cte) children(cte, types_.common_table_expr, {});
      if (!recursive) cte_scopes_.back().push_back(t_.string(cte, "ctename"));
    }
  }
  // A SELECT filters the references of its FROM list in its WHERE; UPDATE / DELETE those of FROM / USING
  // next to their target's (not beside WHERE CURRENT OF); MERGE's ON decides what is inserted, so not there.
  Scope scope;
  scope.top = type == types_.select_stmt ||
              ((type == types_.update_stmt || type == types_.delete_stmt) && !where_is_current_of(obj));
  scopes_.push_back(std::move(scope));
  if (type == types_.delete_stmt) on_delete(obj);
  else if (type == types_.update_stmt) on_update(obj);
  else if (type == types_.merge_stmt) on_merge(obj);
  else if (type == types_.insert_stmt) on_insert(obj);
  else children(obj, type, {"withClause"});
  if (type == types_.select_stmt && !scopes_.back().preds.empty() && !error)
    emit_where(obj, scopes_.back());
  scopes_.pop_back();
  if (with) cte_scopes_.pop_back();
}

Walker::Relation Walker::relation(NodeId rv) const {
  Relation r;
  r.id = rv;
  r.catalog = t_.string(rv, "catalogname");
  r.schema = t_.string(rv, "schemaname");
  r.name = t_.string(rv, "relname");
  if (NodeId alias = t_.get(rv, "alias")) {
    r.has_alias = true;
    r.alias = t_.string(alias, "aliasname");
  }
  r.location = static_cast<int>(t_.number(rv, "location", -1));
  return r;
}

std::optional<Walker::Span> Walker::reference_span(const Relation& rv) {
  int i = token_at(rv.location);
  if (i < 0) {
    fail_internal("a table reference");
    return std::nullopt;
  }
  int parts = 1 + (rv.schema.empty() ? 0 : 1) + (rv.catalog.empty() ? 0 : 1);
  Span s{i, i, i, i};
  for (int k = 1; k < parts; ++k) {
    int dot = next_code(s.name);
    if (kind(dot) != Tok::dot) {
      fail_internal("a qualified table name");
      return std::nullopt;
    }
    s.name = next_code(dot);
    if (s.name < 0) {
      fail_internal("a table name");
      return std::nullopt;
    }
  }
  s.name_last = s.name;
  if (kind(next_code(s.name)) == Tok::kw_uescape) s.name_last = next_code(next_code(s.name));
  if (s.name_last < 0) {
    fail_internal("UESCAPE");
    return std::nullopt;
  }
  s.last = s.name_last;
  if (kind(next_code(s.last)) == Tok::star) s.last = next_code(s.last);
  int p = prev_code(s.first);
  if (kind(p) == Tok::kw_only) {
    s.first = p;
  } else if (kind(p) == Tok::lparen && kind(prev_code(p)) == Tok::kw_only) {
    int close = next_code(s.last);
    if (kind(close) != Tok::rparen) {
      fail_internal("ONLY (table)");
      return std::nullopt;
    }
    s.first = prev_code(p);
    s.last = close;
  }
  return s;
}

/// The last token of the target table and its optional alias (`t`, `t a`, `t AS a`) of DELETE/UPDATE.
int Walker::after_alias(const Relation& rv, const Span& s, int* alias_token) {
  int t = s.last;
  *alias_token = -1;
  if (rv.has_alias) {
    int n = next_code(t);
    if (kind(n) == Tok::kw_as) n = next_code(n);
    if (n < 0) {
      fail_internal("a table alias");
      return -1;
    }
    *alias_token = n;
    t = n;
  }
  return t;
}

void Walker::on_range_var(NodeId id, Parent parent) {
  Relation rv = relation(id);
  const auto* type = parent.type;
  auto field = parent.field;
  bool read = ((type == types_.select_stmt || type == types_.update_stmt) &&
               field == "fromClause") ||
              (type == types_.delete_stmt && field == "usingClause") ||
              (type == types_.join_expr && (field == "larg" || field == "rarg")) ||
              (type == types_.merge_stmt && field == "sourceRelation");
  if (read && is_cte(rv)) return;
  const Resolution res = resolve(rv);
  if (read && refuse_rule_ancestor(res, rv, "reading")) return;
  const TableRule* rule = res.rule;
  if (!rule) return;
  if (read) return filter_reference(rv, *rule);
  // Targets of INSERT / SELECT INTO / CREATE VIEW names, and FOR UPDATE OF names (the filtered
  // reference itself, or a filtered subquery whose table rows PostgreSQL locks).
  if ((type == types_.insert_stmt && field == "relation") ||
      (type == types_.into_clause && field == "rel") ||
      (type == types_.view_stmt && field == "view") ||
      (type == types_.locking_clause && field == "lockedRels"))
    return;
  if (strict_)
    fail_not_supported("pgsoftdelete: soft-delete table " + rule->display_name() + " used in an unsupported position (" +
                           (type ? type->name() : std::string("statement")) + "." + std::string(field) + ")",
                       rv.location);
}

int Walker::matching_paren(int open) const {
  if (kind(open) != Tok::lparen) return -1;
  int depth = 0;
  for (int i = open; i >= 0; i = next_code(i)) {
    if (kind(i) == Tok::lparen) ++depth;
    else if (kind(i) == Tok::rparen && --depth == 0) return i;
  }
  return -1;
}

void Walker::on_table_sample(NodeId obj, Parent parent) {
  const std::size_t edits_before = edits.size();
  children(obj, types_.range_table_sample, {"relation"});  // the method's arguments and seed
  NodeId rv_id = t_.get(t_.get(obj, "relation"), "RangeVar");
  if (error || rv_id == 0) return;
  Relation rv = relation(rv_id);
  if (is_cte(rv)) return;
  const Resolution res = resolve(rv);
  if (refuse_rule_ancestor(res, rv, "reading")) return;
  const TableRule* rule = res.rule;
  if (!rule) return;
  const Visibility v = visibility(*rule, rv);
  if (error || v == Visibility::all) return;
  // Where a plain reference would be read (FROM, joins, USING): anywhere else on_range_var decides.
  if (!((parent.type == types_.select_stmt || parent.type == types_.update_stmt) && parent.field == "fromClause") &&
      !(parent.type == types_.delete_stmt && parent.field == "usingClause") &&
      !(parent.type == types_.join_expr && (parent.field == "larg" || parent.field == "rarg")) &&
      !(parent.type == types_.merge_stmt && parent.field == "sourceRelation"))
    return on_range_var(rv_id, Parent{types_.range_table_sample, "relation"});
  if (edits.size() != edits_before)
    return fail_not_supported("pgsoftdelete: TABLESAMPLE arguments that read a soft-delete table are not supported",
                              rv.location);
  auto s = reference_span(rv);
  if (!s) return;
  if (filter_in_place(rv, *rule, v, *s)) return;  // sampled, then filtered: a sample of the live rows
  // The clause: TABLESAMPLE method (args) [REPEATABLE (seed)]; the node's location is the method.
  const int method = token_at(static_cast<int>(t_.number(obj, "location", -1)));
  const int keyword = prev_code(method);
  int open = method;
  while (open >= 0 && kind(open) != Tok::lparen) open = next_code(open);
  int last = matching_paren(open);
  if (const int next = next_code(last); last >= 0 && next >= 0 && equals_folded(text(next), "repeatable"))
    last = matching_paren(next_code(next));
  if (method < 0 || keyword < 0 || last < 0) return fail_internal("a TABLESAMPLE clause");
  std::string replacement = "(SELECT * FROM " + std::string(text(s->first, s->last)) + " " +
                            std::string(text(keyword, last)) + " WHERE " + predicate(*rule, v, "") + ")";
  if (!rv.has_alias) replacement += " " + std::string(text(s->name, s->name_last));
  edits.push_back({begin_of(s->first), end_of(s->last), std::move(replacement)});
  edits.push_back({begin_of(keyword), end_of(last), ""});  // the alias, if any, stays between
  wrapped_visible_.push_back(rv.has_alias ? rv.alias : rv.name);
  if (!rv.has_alias) wrapped_unaliased_.push_back(rv.name);
}

void Walker::filter_reference(const Relation& rv, const TableRule& rule) {
  const Visibility v = visibility(rule, rv);
  if (error || v == Visibility::all) return;
  auto s = reference_span(rv);
  if (!s) return;
  if (!filter_in_place(rv, rule, v, *s)) wrap_reference(rv, rule, v, *s);
}

void Walker::wrap_reference(const Relation& rv, const TableRule& rule, Visibility v, const Span& s) {
  std::string replacement =
      "(SELECT * FROM " + std::string(text(s.first, s.last)) + " WHERE " + predicate(rule, v, "") + ")";
  if (!rv.has_alias) replacement += " " + std::string(text(s.name, s.name_last));
  std::size_t begin = begin_of(s.first);
  int before = prev_code(s.first);
  if (kind(before) == Tok::kw_table) {  // `TABLE humans` is short for SELECT * FROM humans
    replacement = "SELECT * FROM " + replacement;
    begin = begin_of(before);
  }
  edits.push_back({begin, end_of(s.last), std::move(replacement)});
  wrapped_visible_.push_back(rv.has_alias ? rv.alias : rv.name);
  if (!rv.has_alias) wrapped_unaliased_.push_back(rv.name);
}

std::string Walker::field_name(NodeId fields, std::size_t index) const {
  NodeId f = t_.node(fields).first;
  for (std::size_t i = 0; i < index && f != 0; ++i) f = t_.node(f).next;
  return t_.string(t_.get(t_.get(f, "String"), "sval"));
}

void Walker::check_column_refs() {
  if (wrapped_visible_.empty()) return;
  auto wrapped = [](const std::vector<std::string>& names, const std::string& n) {
    return !n.empty() && std::find(names.begin(), names.end(), n) != names.end();
  };
  for (NodeId cr : column_refs_) {
    NodeId fields = t_.get(cr, "fields");
    std::size_t n = t_.size(fields);
    if (n == 0) continue;
    int location = static_cast<int>(t_.number(cr, "location", -1));
    std::string col = field_name(fields, n - 1);
    bool system = std::find(system_columns.begin(), system_columns.end(), col) != system_columns.end();
    if (system && (n == 1 || wrapped(wrapped_visible_, field_name(fields, n - 2))))
      return fail_not_supported("pgsoftdelete: system column " + col + " of a soft-delete table cannot be read through the proxy",
                                location);
    if (n >= 3 && wrapped(wrapped_unaliased_, field_name(fields, n - 2)))
      return fail_not_supported("pgsoftdelete: schema-qualified column reference to soft-delete table " +
                                    field_name(fields, n - 2) + " is not supported; use the table name or an alias",
                                location);
  }
}

}  // namespace pgsoftdelete::rules
