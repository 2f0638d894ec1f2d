// The rewriter: one generic walk over libpg_query's parse tree (its JSON form, typed by the protobuf
// descriptors), with handlers for the few node kinds that matter (RangeVar, WITH scopes, DELETE/UPDATE/MERGE/
// TRUNCATE/COPY/DO, ColumnRef). Every rule-table read becomes `(SELECT * FROM t WHERE <live>) <name>`;
// DELETE becomes UPDATE … SET flag. Edits are text splices located with tokens, so the client's text survives.
#include "rules/rewriter.hpp"

#include <algorithm>
#include <array>

#include "pg_query.pb.h"
#include "rules/hint_setting.hpp"
#include "rules/schema.hpp"
#include "rules/sql_lexer.hpp"

namespace pgsoftdelete::rules {
namespace {

namespace pb = google::protobuf;
using parser::JsonNode;
using parser::JsonTree;
using NodeId = std::uint32_t;

enum class Visibility {
  live,     ///< normal: only rows not deleted
  all,      ///< skip hint: no filter
  deleted,  ///< only_deleted hint: only deleted rows
};

/// Where a node sits: the message type that holds it and the member name (Node wrappers are transparent).
struct Parent {
  const pb::Descriptor* type = nullptr;
  std::string_view field;
};

/// A RangeVar's fields, decoded.
struct Relation {
  NodeId id = 0;
  std::string catalog, schema, name;
  bool has_alias = false;
  std::string alias;
  int location = -1;
};

constexpr std::array<std::string_view, 6> system_columns = {"ctid", "xmin", "xmax", "cmin", "cmax", "tableoid"};

/// 1-based character position of byte `offset` (for the P field of an ErrorResponse).
int char_position(std::string_view sql, std::size_t offset) {
  int chars = 0;
  for (std::size_t i = 0; i < offset && i < sql.size(); ++i)
    if ((static_cast<unsigned char>(sql[i]) & 0xC0) != 0x80) ++chars;
  return chars + 1;
}

class Walker {
 public:
  Walker(std::string_view sql, const JsonTree& tree, const std::vector<SqlToken>& tokens, const RuleSet& rules,
         const Hints& hints, std::string_view user, bool strict)
      : sql_(sql), t_(tree), tokens_(tokens), rules_(rules), hints_(hints), user_(user), strict_(strict),
        schema_(TreeSchema::get()) {}

  std::optional<parser::Error> error;
  std::vector<Edit> edits;
  bool delete_to_update = false;  ///< the top-level DELETE became an UPDATE
  NodeId top_delete = 0;          ///< the DeleteStmt whose conversion changes the command tag

  /// Walks the statement held by Node wrapper `stmt`.
  void run(NodeId stmt) {
    visit_node(stmt, Parent{});
    if (!error) check_column_refs();
  }

 private:
  // ---- tokens -------------------------------------------------------------------------------------------
  int token_at(int offset) const {
    auto it = std::lower_bound(tokens_.begin(), tokens_.end(), offset,
                               [](const SqlToken& t, int off) { return t.start < off; });
    if (it == tokens_.end() || it->start != offset) return -1;
    return static_cast<int>(it - tokens_.begin());
  }
  int next_code(int i) const {
    if (i < 0) return -1;
    for (++i; i < static_cast<int>(tokens_.size()); ++i)
      if (tokens_[i].kind != Tok::comment) return i;
    return -1;
  }
  int prev_code(int i) const {
    for (--i; i >= 0; --i)
      if (tokens_[i].kind != Tok::comment) return i;
    return -1;
  }
  Tok kind(int i) const { return i >= 0 ? tokens_[i].kind : Tok::other; }
  std::size_t begin_of(int i) const { return static_cast<std::size_t>(tokens_[i].start); }
  std::size_t end_of(int i) const { return static_cast<std::size_t>(tokens_[i].end); }
  std::string_view text(int i) const { return sql_.substr(begin_of(i), end_of(i) - begin_of(i)); }
  std::string_view text(int first, int last) const { return sql_.substr(begin_of(first), end_of(last) - begin_of(first)); }
  void insert(std::size_t at, std::string s) { edits.push_back({at, at, std::move(s)}); }

  void fail(parser::Error e) {
    if (!error) error = std::move(e);
  }
  void fail_not_supported(std::string message, int location) {
    parser::Error e = parser::not_supported(std::move(message));
    if (location >= 0) e.position = char_position(sql_, static_cast<std::size_t>(location));
    fail(std::move(e));
  }
  void fail_internal(std::string_view what) {
    fail(parser::internal_error("pgsoftdelete: cannot locate " + std::string(what) + " in the statement text"));
  }

  // ---- hints --------------------------------------------------------------------------------------------
  bool may_reveal() {
    if (rules_.skip_users().allows(user_)) return true;
    fail(parser::Error{parser::sqlstate::insufficient_privilege,
                       "user \"" + std::string(user_) + "\" may not use the pgsoftdelete skip/only_deleted hints", 0});
    return false;
  }
  Visibility visibility(const TableRule& rule, const Relation& rv) {
    if (hints_.only_deleted.contains(rule, rv.schema)) return may_reveal() ? Visibility::deleted : Visibility::live;
    if (hints_.skip.contains(rule, rv.schema)) return may_reveal() ? Visibility::all : Visibility::live;
    return Visibility::live;
  }
  bool hard_delete(const TableRule& rule, const Relation& rv) {
    if (!hints_.hard_delete.contains(rule, rv.schema)) return false;
    if (rules_.hard_delete_users().allows(user_)) return true;
    fail(parser::Error{parser::sqlstate::insufficient_privilege,
                       "user \"" + std::string(user_) + "\" may not use the pgsoftdelete hard_delete hint", 0});
    return false;
  }
  static std::string predicate(const TableRule& rule, Visibility v, std::string_view qualifier) {
    return v == Visibility::deleted ? rule.deleted_predicate(qualifier) : rule.live_predicate(qualifier);
  }

  // ---- generic walk -------------------------------------------------------------------------------------
  // A Node wrapper is `{"TypeName": {...}}`; a typed member holds the object directly.
  void visit_node(NodeId wrapper, Parent parent) {
    if (error || wrapper == 0 || t_.node(wrapper).kind != JsonNode::Kind::object) return;
    NodeId inner = t_.node(wrapper).first;
    if (inner == 0) return;
    const pb::Descriptor* type = schema_.node_type(t_.node(inner).key);
    if (!type) return fail(parser::internal_error("pgsoftdelete: unknown parse node " + std::string(t_.node(inner).key)));
    visit(inner, type, parent);
  }

  void visit(NodeId obj, const pb::Descriptor* type, Parent parent) {
    if (error) return;
    if (type == pg_query::RangeVar::descriptor()) return on_range_var(obj, parent);
    if (type == pg_query::ColumnRef::descriptor()) return column_refs_.push_back(obj);
    if (type == pg_query::CopyStmt::descriptor()) return on_copy(obj);
    if (type == pg_query::TruncateStmt::descriptor()) return on_truncate(obj);
    if (type == pg_query::DoStmt::descriptor()) return on_do(obj);
    if (type == pg_query::SelectStmt::descriptor() || type == pg_query::InsertStmt::descriptor() ||
        type == pg_query::UpdateStmt::descriptor() || type == pg_query::DeleteStmt::descriptor() ||
        type == pg_query::MergeStmt::descriptor())
      return on_query(obj, type);
    children(obj, type, {});
  }

  void children(NodeId obj, const pb::Descriptor* type, std::initializer_list<std::string_view> skip) {
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

  void visit_value(NodeId v, const pb::FieldDescriptor* f, Parent p) {
    if (f->message_type() == pg_query::Node::descriptor()) visit_node(v, p);
    else if (t_.node(v).kind == JsonNode::Kind::object) visit(v, f->message_type(), p);
  }

  // ---- WITH scopes ----------------------------------------------------------------------------------------
  // A CTE name hides a table of that name for unqualified references in its scope: a non-recursive WITH
  // makes each CTE visible to the later CTEs and the main statement; WITH RECURSIVE to all of them.
  bool is_cte(const Relation& rv) const {
    if (!rv.schema.empty() || !rv.catalog.empty()) return false;
    for (const auto& scope : cte_scopes_)
      if (std::find(scope.begin(), scope.end(), rv.name) != scope.end()) return true;
    return false;
  }

  void on_query(NodeId obj, const pb::Descriptor* type) {
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
        if (cte) children(cte, pg_query::CommonTableExpr::descriptor(), {});
        if (!recursive) cte_scopes_.back().push_back(t_.string(cte, "ctename"));
      }
    }
    if (type == pg_query::DeleteStmt::descriptor()) on_delete(obj);
    else if (type == pg_query::UpdateStmt::descriptor()) on_update(obj);
    else if (type == pg_query::MergeStmt::descriptor()) on_merge(obj);
    else children(obj, type, {"withClause"});
    if (with) cte_scopes_.pop_back();
  }

  // ---- table references -----------------------------------------------------------------------------------
  Relation relation(NodeId rv) const {
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

  struct Span {
    int first = -1;      ///< first token of the reference (ONLY when present)
    int name = -1;       ///< the relation-name token
    int name_last = -1;  ///< its last token (the string of `U&"…" UESCAPE '!'`, else `name`)
    int last = -1;       ///< last token (name, '*' or the ')' of ONLY (…))
  };

  std::optional<Span> reference_span(const Relation& rv) {
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
  int after_alias(const Relation& rv, const Span& s, int* alias_token) {
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

  void on_range_var(NodeId id, Parent parent) {
    Relation rv = relation(id);
    const TableRule* rule = rules_.find(rv.schema, rv.name);
    if (!rule) return;
    const auto* type = parent.type;
    auto field = parent.field;
    bool read = ((type == pg_query::SelectStmt::descriptor() || type == pg_query::UpdateStmt::descriptor()) &&
                 field == "fromClause") ||
                (type == pg_query::DeleteStmt::descriptor() && field == "usingClause") ||
                (type == pg_query::JoinExpr::descriptor() && (field == "larg" || field == "rarg")) ||
                (type == pg_query::MergeStmt::descriptor() && field == "sourceRelation");
    if (read) {
      if (!is_cte(rv)) wrap_reference(rv, *rule);
      return;
    }
    if (type == pg_query::RangeTableSample::descriptor()) {
      if (!is_cte(rv) && visibility(*rule, rv) != Visibility::all)
        fail_not_supported("pgsoftdelete: TABLESAMPLE on soft-delete table " + rule->display_name() + " is not supported",
                           rv.location);
      return;
    }
    // Targets of INSERT / SELECT INTO / CREATE VIEW names, and FOR UPDATE OF names (which name our
    // filtered subqueries, and PostgreSQL locks the table rows inside them).
    if ((type == pg_query::InsertStmt::descriptor() && field == "relation") ||
        (type == pg_query::IntoClause::descriptor() && field == "rel") ||
        (type == pg_query::ViewStmt::descriptor() && field == "view") ||
        (type == pg_query::LockingClause::descriptor() && field == "lockedRels"))
      return;
    if (strict_)
      fail_not_supported("pgsoftdelete: soft-delete table " + rule->display_name() + " used in an unsupported position (" +
                             (type ? type->name() : std::string("statement")) + "." + std::string(field) + ")",
                         rv.location);
  }

  void wrap_reference(const Relation& rv, const TableRule& rule) {
    Visibility v = visibility(rule, rv);
    if (error || v == Visibility::all) return;
    auto s = reference_span(rv);
    if (!s) return;
    std::string replacement =
        "(SELECT * FROM " + std::string(text(s->first, s->last)) + " WHERE " + predicate(rule, v, "") + ")";
    if (!rv.has_alias) replacement += " " + std::string(text(s->name, s->name_last));
    std::size_t begin = begin_of(s->first);
    int before = prev_code(s->first);
    if (kind(before) == Tok::kw_table) {  // `TABLE humans` is short for SELECT * FROM humans
      replacement = "SELECT * FROM " + replacement;
      begin = begin_of(before);
    }
    edits.push_back({begin, end_of(s->last), std::move(replacement)});
    wrapped_visible_.push_back(rv.has_alias ? rv.alias : rv.name);
    if (!rv.has_alias) wrapped_unaliased_.push_back(rv.name);
  }

  // ---- DELETE / UPDATE --------------------------------------------------------------------------------------
  /// Adds `pred` to the WHERE clause of the DELETE/UPDATE whose target (and alias) ends at token `target_end`:
  /// `WHERE (cond) AND pred`, or ` WHERE pred` before RETURNING / the end of the statement.
  void add_predicate(int target_end, bool has_where, const std::string& pred) {
    int depth = 0, where = -1, last = target_end;
    for (int j = next_code(target_end); j >= 0; j = next_code(j)) {
      Tok k = kind(j);
      if (k == Tok::lparen || k == Tok::lbracket) {
        ++depth;
      } else if (k == Tok::rparen || k == Tok::rbracket) {
        if (--depth < 0) break;
      } else if (depth == 0 && (k == Tok::kw_returning || k == Tok::semicolon)) {
        break;
      } else if (depth == 0 && k == Tok::kw_where && where < 0) {
        where = j;
      }
      last = j;
    }
    if (has_where) {
      int cond = next_code(where);
      if (where < 0 || cond < 0 || cond > last) return fail_internal("the WHERE clause");
      insert(begin_of(cond), "(");
      insert(end_of(last), ") AND " + pred);
    } else {
      insert(end_of(last), " WHERE " + pred);
    }
  }

  bool where_is_current_of(NodeId stmt) const { return t_.get(t_.get(stmt, "whereClause"), "CurrentOfExpr") != 0; }

  void on_delete(NodeId d) {
    Relation rv = relation(t_.get(d, "relation"));
    const TableRule* rule = rules_.find(rv.schema, rv.name);
    children(d, pg_query::DeleteStmt::descriptor(), {"relation", "withClause"});
    if (!rule || error) return;
    bool hard = hard_delete(*rule, rv);
    Visibility v = visibility(*rule, rv);
    if (error) return;
    auto s = reference_span(rv);
    if (!s) return;
    int alias = -1;
    int end = after_alias(rv, *s, &alias);
    if (end < 0) return;
    std::string qualifier(alias >= 0 ? text(alias) : text(s->name, s->name_last));
    if (!hard) {
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
    // WHERE CURRENT OF: the cursor was declared through us, over live rows only.
    if (v == Visibility::all || where_is_current_of(d)) return;
    add_predicate(end, t_.get(d, "whereClause") != 0, predicate(*rule, v, qualifier));
  }

  void on_update(NodeId u) {
    Relation rv = relation(t_.get(u, "relation"));
    const TableRule* rule = rules_.find(rv.schema, rv.name);
    children(u, pg_query::UpdateStmt::descriptor(), {"relation", "withClause"});
    if (!rule || error) return;
    Visibility v = visibility(*rule, rv);
    if (error || v == Visibility::all || where_is_current_of(u)) return;
    auto s = reference_span(rv);
    if (!s) return;
    int alias = -1;
    int end = after_alias(rv, *s, &alias);
    if (end < 0) return;
    add_predicate(end, t_.get(u, "whereClause") != 0,
                  predicate(*rule, v, alias >= 0 ? text(alias) : text(s->name, s->name_last)));
  }

  void on_merge(NodeId m) {
    Relation rv = relation(t_.get(m, "relation"));
    if (const TableRule* rule = rules_.find(rv.schema, rv.name);
        rule && rules_.merge_policy() == Policy::reject && !hard_delete(*rule, rv)) {
      return fail_not_supported("pgsoftdelete: MERGE into soft-delete table " + rule->display_name() +
                                    " is rejected by the rules file policy",
                                rv.location);
    }
    children(m, pg_query::MergeStmt::descriptor(), {"relation", "withClause"});
  }

  void on_truncate(NodeId tr) {
    NodeId rels = t_.get(tr, "relations");
    for (NodeId n = rels ? t_.node(rels).first : 0; n != 0 && !error; n = t_.node(n).next) {
      Relation rv = relation(t_.get(n, "RangeVar"));
      const TableRule* rule = rules_.find(rv.schema, rv.name);
      if (rule && rules_.truncate_policy() == Policy::reject && !hard_delete(*rule, rv))
        return fail_not_supported("pgsoftdelete: TRUNCATE of soft-delete table " + rule->display_name() +
                                      " is rejected by the rules file policy",
                                  rv.location);
    }
  }

  // A DO block's code is opaque to us (PL/pgSQL in a string): refuse it when it may name a rule table.
  void on_do(NodeId d) {
    NodeId args = t_.get(d, "args");
    for (NodeId a = args ? t_.node(args).first : 0; a != 0; a = t_.node(a).next) {
      NodeId def = t_.get(a, "DefElem");
      if (t_.string(def, "defname") != "as") continue;
      LexResult code;
      lex_sql(t_.string(t_.get(t_.get(def, "arg"), "String"), "sval"), rules_, code);
      if (code.names_rule_table || code.uncertain || code.has_do)
        return fail_not_supported("pgsoftdelete: a DO block that may use a soft-delete table cannot be rewritten; "
                                  "run it without the proxy or use plain SQL statements",
                                  -1);
    }
  }

  // COPY t [(cols)] TO … -> COPY (SELECT cols FROM t WHERE live) TO …; COPY t FROM inserts: unchanged.
  void on_copy(NodeId c) {
    NodeId rel = t_.get(c, "relation");
    if (rel && !t_.truth(c, "is_from")) {
      Relation rv = relation(rel);
      if (const TableRule* rule = rules_.find(rv.schema, rv.name)) {
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
    children(c, pg_query::CopyStmt::descriptor(), {"relation"});
  }

  // ---- column references that a filtered subquery would break ------------------------------------------
  std::string field_name(NodeId fields, std::size_t index) const {
    NodeId f = t_.node(fields).first;
    for (std::size_t i = 0; i < index && f != 0; ++i) f = t_.node(f).next;
    return t_.string(t_.get(t_.get(f, "String"), "sval"));
  }

  void check_column_refs() {
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

  std::string_view sql_;
  const JsonTree& t_;
  const std::vector<SqlToken>& tokens_;
  const RuleSet& rules_;
  const Hints& hints_;
  std::string_view user_;
  bool strict_;
  const TreeSchema& schema_;
  std::vector<std::vector<std::string>> cte_scopes_;
  std::vector<NodeId> column_refs_;
  std::vector<std::string> wrapped_visible_;    ///< names (alias or table) of wrapped references
  std::vector<std::string> wrapped_unaliased_;  ///< table names of wrapped references without alias
};

// Statements that read or write rows: a rule table anywhere we do not understand is an error there.
// Other statements (DDL, LOCK, GRANT, VACUUM…) may name rule tables freely.
bool is_strict(std::string_view stmt_type) {
  static constexpr std::array<std::string_view, 12> strict = {
      "SelectStmt", "InsertStmt",        "UpdateStmt", "DeleteStmt",         "MergeStmt", "ExplainStmt",
      "PrepareStmt", "DeclareCursorStmt", "CopyStmt",   "CreateTableAsStmt", "ViewStmt",  "TruncateStmt"};
  return std::find(strict.begin(), strict.end(), stmt_type) != strict.end();
}

}  // namespace

std::expected<RewritePlan, parser::Error> plan_rewrite(std::string_view sql, const JsonTree& tree,
                                                       const std::vector<SqlToken>& tokens, const RuleSet& rules,
                                                       const Hints& session_hints, std::string_view user) {
  RewritePlan plan;
  std::size_t tok = 0;  // first token not yet attributed to a statement
  NodeId stmts = tree.get(tree.root(), "stmts");
  for (NodeId raw = stmts ? tree.node(stmts).first : 0; raw != 0; raw = tree.node(raw).next) {
    NodeId stmt = tree.get(raw, "stmt");
    std::string_view stmt_type = stmt && tree.node(stmt).first ? tree.node(tree.node(stmt).first).key : "";
    StatementInfo info;
    // Leading comments of this statement: every comment token before its first code token.
    Hints hints = session_hints;
    bool statement_hints = false;
    for (; tok < tokens.size() && tokens[tok].kind == Tok::comment; ++tok) {
      auto comment = sql.substr(static_cast<std::size_t>(tokens[tok].start),
                                static_cast<std::size_t>(tokens[tok].end - tokens[tok].start));
      auto h = parse_hint_comment(comment);
      if (!h) return std::unexpected(h.error());
      if (*h) {
        hints.merge(**h);
        statement_hints = true;
      }
    }
    if (statement_hints) plan.cacheable = false;
    auto setting = hint_setting_of(tree, stmt, rules, user);
    if (!setting) return std::unexpected(setting.error());
    if (*setting) {
      info.hint_setting = **setting;
      plan.cacheable = false;
    }
    Walker walker(sql, tree, tokens, rules, hints, user, is_strict(stmt_type));
    if (stmt_type == "DeleteStmt") walker.top_delete = tree.get(stmt, "DeleteStmt");
    NodeId prepare = tree.get(stmt, "PrepareStmt");
    if (prepare) walker.top_delete = tree.get(tree.get(prepare, "query"), "DeleteStmt");
    walker.run(stmt);
    if (walker.error) return std::unexpected(*walker.error);
    if (walker.delete_to_update) {
      if (prepare) info.prepared_delete_to_update = tree.string(prepare, "name");
      else info.delete_to_update = true;
    }
    for (auto& e : walker.edits) plan.edits.push_back(std::move(e));
    plan.statements.push_back(std::move(info));
    // Skip this statement's tokens: up to and including its terminating ';'.
    auto location = tree.number(raw, "stmt_location");
    auto length = tree.number(raw, "stmt_len");
    std::size_t end = length > 0 ? static_cast<std::size_t>(location + length) : sql.size();
    while (tok < tokens.size() && static_cast<std::size_t>(tokens[tok].start) < end) ++tok;
    if (tok < tokens.size() && tokens[tok].kind == Tok::semicolon) ++tok;
  }
  return plan;
}

}  // namespace pgsoftdelete::rules
