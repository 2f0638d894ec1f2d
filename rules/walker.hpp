// The rewriter's tree walker (private to rules/): one generic walk over libpg_query's JSON parse tree, typed
// by the protobuf descriptors, with handlers for the node kinds that matter; it collects text edits.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <google/protobuf/descriptor.h>

#include "parser/error.hpp"
#include "parser/json_tree.hpp"
#include "rules/hints.hpp"
#include "rules/resolved_rules.hpp"
#include "rules/rule_set.hpp"
#include "rules/schema.hpp"
#include "rules/splice.hpp"
#include "rules/sql_tokens.hpp"
#include "rules/token_nesting.hpp"

namespace pgsoftdelete::rules {

/// Which rows of a rule table a reference sees.
enum class Visibility {
  live,     ///< normal: only rows not deleted
  all,      ///< skip hint: no filter
  deleted,  ///< only_deleted hint: only deleted rows
};

/// Walks one statement and collects the edits that give it soft-delete semantics (or an error).
class Walker {
 public:
  using NodeId = std::uint32_t;

  /// `resolved` (may be null: names alone decide) is the catalog of the session's database with the same
  /// rules; `path` the search_path unqualified names are looked up in.
  /// `nesting` is the parenthesis nesting of `tokens` (shared by the statements of one string).
  Walker(std::string_view sql, const parser::JsonTree& tree, const std::vector<SqlToken>& tokens,
         TokenNesting& nesting, const RuleSet& rules, const Hints& hints, std::string_view user, bool strict,
         const ResolvedRules* resolved = nullptr, const SearchPath& path = {})
      : sql_(sql), t_(tree), tokens_(tokens), nesting_(nesting), rules_(rules), hints_(hints), user_(user),
        strict_(strict), resolved_(resolved), path_(path), schema_(TreeSchema::get()), types_(schema_.types()) {}

  std::optional<parser::Error> error;  ///< the first error; edits are then meaningless
  std::vector<Edit> edits;             ///< the splices, in no particular order
  bool delete_to_update = false;       ///< the top-level DELETE became an UPDATE
  NodeId top_delete = 0;               ///< the DeleteStmt whose conversion changes the command tag
  /// The DeleteStmt that may follow foreign keys with data-modifying CTEs: the statement's own (or
  /// EXPLAIN's, PREPARE's), where a WITH clause can be at the top level.
  NodeId cascade_target = 0;
  /// The same for an UPDATE that restores rows (and the children their cascade deleted).
  NodeId restore_target = 0;
  bool unknown_relation = false;       ///< a table name the catalog does not know was decided by name alone

  /// Walks the statement held by Node wrapper `stmt`.
  void run(NodeId stmt) {
    visit_node(stmt, Parent{});
    if (!error) check_column_refs();
  }

 private:
  /// Where a node sits: the message type that holds it and the member name (Node wrappers are transparent).
  struct Parent {
    const google::protobuf::Descriptor* type = nullptr;
    std::string_view field;
  };
  /// Where a rule table reference's filter goes (walker_placement.cpp).
  enum class Placement : std::uint8_t {
    where,     ///< ANDed into the WHERE of the query level whose FROM list holds the reference
    on,        ///< ANDed into the ON condition of a join above the reference
    subquery,  ///< the reference becomes `(SELECT * FROM t WHERE …) t`: no predicate can say it
  };
  /// A join the walk is inside of, and on which side.
  struct JoinFrame {
    NodeId join = 0;
    bool right = false;
  };
  /// A query level (SELECT, UPDATE, DELETE, MERGE, INSERT) being walked.
  struct Scope {
    bool top = false;    ///< references reached through inner joins / preserved sides go to its WHERE
    std::string preds;   ///< those predicates, ANDed
    int anchor = -1;     ///< a token of its FROM list: where its WHERE / the end of the list is found from
    std::vector<JoinFrame> joins;  ///< the joins around the reference being walked, outermost first
  };
  /// Predicates waiting for a join's ON condition.
  struct JoinPredicates {
    NodeId join = 0;
    std::string preds;
  };
  /// A RangeVar's fields, decoded.
  struct Relation {
    NodeId id = 0;
    std::string catalog, schema, name;
    bool has_alias = false;
    std::string alias;
    int location = -1;
  };
  /// The tokens of a table reference.
  struct Span {
    int first = -1;      ///< first token of the reference (ONLY when present)
    int name = -1;       ///< the relation-name token
    int name_last = -1;  ///< its last token (the string of `U&"…" UESCAPE '!'`, else `name`)
    int last = -1;       ///< last token (name, '*' or the ')' of ONLY (…))
  };

  // tokens
  int token_at(int offset) const;
  int next_code(int i) const;
  int prev_code(int i) const;
  Tok kind(int i) const { return i >= 0 ? tokens_[i].kind : Tok::other; }
  std::size_t begin_of(int i) const { return static_cast<std::size_t>(tokens_[i].start); }
  std::size_t end_of(int i) const { return static_cast<std::size_t>(tokens_[i].end); }
  std::string_view text(int i) const { return sql_.substr(begin_of(i), end_of(i) - begin_of(i)); }
  std::string_view text(int first, int last) const { return sql_.substr(begin_of(first), end_of(last) - begin_of(first)); }
  void insert(std::size_t at, std::string s) { edits.push_back({at, at, std::move(s)}); }

  // errors
  void fail(parser::Error e) {
    if (!error) error = std::move(e);
  }
  void fail_not_supported(std::string message, int location);
  void fail_internal(std::string_view what);

  // hints
  bool may_reveal();
  Visibility visibility(const TableRule& rule, const Relation& rv);
  bool hard_delete(const TableRule& rule, const Relation& rv);
  static std::string predicate(const TableRule& rule, Visibility v, std::string_view qualifier) {
    return v == Visibility::deleted ? rule.deleted_predicate(qualifier) : rule.live_predicate(qualifier);
  }

  // catalog (walker_schema.cpp)
  /// The rule in force for a table reference (own, or inherited from a parent), through the catalog.
  Resolution resolve(const Relation& rv);
  /// Refuses `rv` when it is no rule table but an ancestor of one, named without ONLY where its rows
  /// are read or deleted: true when refused.
  bool refuse_rule_ancestor(const Resolution& r, const Relation& rv, std::string_view doing);
  /// Refuses a real DELETE / an UPDATE / a TRUNCATE CASCADE whose foreign-key actions reach a rule table.
  void refuse_hazard(const ForeignKeyHazard& h, std::string_view statement, const Relation& rv);
  /// Refuses a soft DELETE whose ON DELETE actions would delete or change rows of a table that is no rule table.
  void refuse_soft_delete_hazard(const ForeignKeyHazard& h, const Relation& rv);
  /// ALTER TABLE / RENAME / SET SCHEMA / DROP that would stop a rule applying or undelete rows.
  void on_rename(NodeId r);
  void on_alter_table(NodeId a);
  void on_alter_schema(NodeId a);
  void on_drop(NodeId d);
  /// INSERT … ON CONFLICT DO UPDATE fires ON UPDATE actions like UPDATE; then on_upsert.
  void on_insert(NodeId i);
  /// INSERT … ON CONFLICT into a rule table: live rows only in the conflict target and DO UPDATE.
  void on_upsert(NodeId stmt, NodeId conflict);
  /// DELETE / UPDATE / MERGE through a view: which tables it changes is the view's secret.
  bool refuse_view_target(const Resolution& r, const Relation& rv, std::string_view statement);
  void refuse_ddl(std::string what, const std::string& table, int location);
  /// table_to_xml('t', …), query_to_xml('select …', …) and their siblings read by name or run SQL text.
  void on_func_call(NodeId f);
  /// The column names a SET list / targetList assigns (UPDATE, MERGE … UPDATE, ON CONFLICT DO UPDATE).
  std::vector<std::string> target_columns(NodeId target_list) const;

  // generic walk and WITH scopes (walker.cpp)
  void visit_node(NodeId wrapper, Parent parent);
  void visit(NodeId obj, const google::protobuf::Descriptor* type, Parent parent);
  void children(NodeId obj, const google::protobuf::Descriptor* type, std::initializer_list<std::string_view> skip);
  void visit_value(NodeId v, const google::protobuf::FieldDescriptor* f, Parent p);
  bool is_cte(const Relation& rv) const;
  void on_query(NodeId obj, const google::protobuf::Descriptor* type);

  // table references (walker.cpp)
  Relation relation(NodeId rv) const;
  std::optional<Span> reference_span(const Relation& rv);
  int after_alias(const Relation& rv, const Span& s, int* alias_token);
  void on_range_var(NodeId id, Parent parent);
  /// `t TABLESAMPLE m(args) [REPEATABLE (seed)]` of a rule table: the sample is taken inside the
  /// filtered reference, so that it is a sample of the live rows.
  void on_table_sample(NodeId obj, Parent parent);
  /// The token that closes the parenthesis opened at token `open` (-1 if none).
  int matching_paren(int open) const;
  /// A rule table read in a FROM list, a join or USING: filtered in place where a predicate can say it, else
  /// wrapped in a filtered subquery.
  void filter_reference(const Relation& rv, const TableRule& rule);
  void wrap_reference(const Relation& rv, const TableRule& rule, Visibility v, const Span& s);

  // predicate placement (walker_placement.cpp)
  void on_join(NodeId j);
  Placement placement(NodeId* join) const;
  /// How the reference is named for its columns: its alias, or its name as written (nullopt: none that
  /// reaches the column by name, e.g. an alias that renames columns).
  std::optional<std::string> qualifier(const Relation& rv, const Span& s);
  /// Records the reference's predicate where placement() says; false when only a subquery can filter it.
  bool filter_in_place(const Relation& rv, const TableRule& rule, Visibility v, const Span& s);
  /// The depth of the query level whose FROM list holds token `tok` (-1: none found).
  int query_level(int tok);
  /// Token `j`, at a clause's own depth, ends a FROM list / WHERE (`on`: or a join's ON condition).
  bool ends_clause(int j, bool on) const;
  /// The last token of the clause that starts after token `from`, at depth `level`; `stop`: the token ending it.
  int clause_last(int from, int level, bool on, int* stop);
  void emit_where(NodeId stmt, const Scope& scope);
  void emit_on(NodeId join, const std::string& preds);
  /// The smallest `location` in a subtree (the first token of an expression, or the '(' before it): -1 if none.
  int min_location(NodeId n) const;
  std::string field_name(NodeId fields, std::size_t index) const;
  void check_column_refs();

  // statements (walker_statements.cpp)
  int statement_last(int target_end, int* where);
  void add_predicate(int target_end, bool has_where, const std::string& pred);
  NodeId mark_assignment(NodeId u, const TableRule& rule) const;
  /// The statement's WITH holds INSERT / UPDATE / DELETE / MERGE queries.
  bool modifies_in_with(NodeId stmt) const;
  void restore(NodeId u, const Relation& rv, const CatalogRelation& table, NodeId mark, const Span& s, int alias,
               int end, const std::string& preds);
  /// How the target's columns are qualified (its alias, or its name as written), and the name
  /// FOR UPDATE OF wants (its alias, or its bare name).
  std::string column_qualifier(const Span& s, int alias) const;
  std::string lock_name(const Relation& rv, int alias) const;
  /// The statement's head keywords [head_first, head_last] become `[WITH …,] __pgsd_rows AS (SELECT
  /// <select> FROM`, and ` FOR UPDATE OF <lock>)<rest>` follows its WHERE: the client's FROM list and
  /// condition, where they stand, choose and lock the rows (cascade_sql.hpp); `rest`: the steps and
  /// the final statement.
  void choose_rows_first(NodeId stmt, int head_first, int head_last, const std::string& select, int target_end,
                         const std::string& lock, const std::string& rest);
  void cascade_delete(NodeId d, const Relation& rv, const TableRule& rule, Visibility v, const CascadePlan& plan,
                      const Span& s, int alias, int end, const std::string& preds);
  bool where_is_current_of(NodeId stmt) const;
  std::string target_predicate(const TableRule& rule, Visibility v, const Span& s, int alias,
                               const std::string& from_preds) const;
  void on_delete(NodeId d);
  void on_update(NodeId u);
  void on_merge(NodeId m);
  void on_truncate(NodeId tr);
  void on_do(NodeId d);
  void on_copy(NodeId c);

  std::string_view sql_;
  const parser::JsonTree& t_;
  const std::vector<SqlToken>& tokens_;
  TokenNesting& nesting_;
  const RuleSet& rules_;
  const Hints& hints_;
  std::string_view user_;
  bool strict_;
  const ResolvedRules* resolved_;
  const SearchPath& path_;
  const TreeSchema& schema_;
  const TreeSchema::Types& types_;
  std::vector<std::vector<std::string>> cte_scopes_;
  std::vector<NodeId> column_refs_;
  std::vector<std::string> wrapped_visible_;    ///< names (alias or table) of wrapped references
  std::vector<std::string> wrapped_unaliased_;  ///< table names of wrapped references without alias
  std::vector<Scope> scopes_;
  std::vector<JoinPredicates> join_preds_;
  std::vector<int> conflict_on_;  ///< the ON tokens of ON CONFLICT clauses (they end a FROM list)
};

}  // namespace pgsoftdelete::rules
