// The loaded, validated and immutable rules: which tables are soft-deleted, how, and the policies.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "rules/identifier.hpp"

namespace pgsoftdelete::rules {

/// How a table marks a row as deleted.
enum class DeletedKind {
  flag,       ///< a boolean column, deleted when true (live: NOT col)
  timestamp,  ///< a timestamp column, deleted when not null (live: col IS NULL), set to now() on delete
};

/// What the engine does with a statement that would really remove rule-table rows (TRUNCATE, MERGE).
enum class Policy {
  reject,  ///< answer 0A000 (the default)
  allow,   ///< forward the statement as it is
};

/// What a soft delete does about the foreign keys of rule tables that reference the rows it deletes.
enum class Cascade {
  foreign_keys,  ///< follow their ON DELETE CASCADE / SET NULL / SET DEFAULT in the same statement (the default)
  off,           ///< leave the children as they are
};

/// One extra assignment made when a row is soft-deleted, e.g. deleted_by = current_user.
struct ExtraAssignment {
  std::string column;      ///< column name, case-folded
  std::string expression;  ///< SQL expression text, validated by the loader
  std::string column_sql;  ///< `column` as SQL (quoted when needed); filled in by RuleSet
};

/// One soft-deleted table.
struct TableRule {
  std::string schema;  ///< empty: the rule matches the table name in any schema
  std::string name;    ///< relation name (case-folded unless quoted in the file)
  std::string column;  ///< the deleted-marker column
  DeletedKind kind = DeletedKind::flag;
  std::vector<ExtraAssignment> on_delete_set;  ///< extra assignments on soft delete
  int line = 0;                                ///< where the rule is in the file (for messages)
  std::string column_sql;                      ///< `column` as SQL (quoted when needed); filled in by RuleSet
  std::string name_sql;                        ///< display_name(), precomputed by RuleSet

  /// The SQL name of the table for messages, e.g. `public.humans`.
  std::string display_name() const;
  /// Predicate selecting live rows (`NOT q.col` / `q.col IS NULL`); `qualifier` is SQL text or empty.
  std::string live_predicate(std::string_view qualifier) const;
  /// Predicate selecting deleted rows (`q.col` / `q.col IS NOT NULL`).
  std::string deleted_predicate(std::string_view qualifier) const;
  /// The SET list of a soft delete: `col = true[, extra = expr…]`.
  std::string delete_assignments() const;
  /// The same as (column as SQL, expression) pairs.
  std::vector<std::pair<std::string, std::string>> delete_assignment_list() const;
};

/// Users allowed to use a kind of hint; `*` allows everyone.
struct UserList {
  std::vector<std::string> users{"*"};
  bool allows(std::string_view user) const;
};

/// The whole rules file. Immutable once loaded; share it as std::shared_ptr<const RuleSet>.
class RuleSet {
 public:
  RuleSet(std::vector<TableRule> tables, Policy truncate, Policy merge, UserList skip_users,
          UserList hard_delete_users, std::uint64_t version, Policy foreign_key_actions = Policy::reject,
          Policy ddl = Policy::reject, Cascade cascade = Cascade::foreign_keys);

  /// The rule for a table reference, or nullptr. An unqualified reference matches a rule for any schema
  /// (search_path is unknown to us: assume the worst); a qualified one matches unqualified rules and the
  /// rule for that schema.
  const TableRule* find(std::string_view schema, std::string_view name) const;
  /// True when some rule names a relation called `name` (any schema): used by the fast path, so it
  /// neither allocates nor hashes names of the wrong length.
  bool names_table(std::string_view name) const {
    name = truncate_identifier(name);  // the server reads only the first 63 bytes of a longer name
    if (name.size() >= 64 ? !long_names_ : !(name_lengths_ & (std::uint64_t{1} << name.size()))) return false;
    return by_name_.contains(name);
  }

  const std::vector<TableRule>& tables() const { return tables_; }
  Policy truncate_policy() const { return truncate_; }
  Policy merge_policy() const { return merge_; }
  /// DELETE / UPDATE / TRUNCATE … CASCADE whose foreign-key actions delete or change rule-table rows.
  Policy foreign_key_policy() const { return foreign_key_actions_; }
  /// DDL that would stop a rule from applying or change which rows are deleted.
  Policy ddl_policy() const { return ddl_; }
  /// Whether soft deletes follow the ON DELETE actions of foreign keys from rule tables.
  Cascade cascade() const { return cascade_; }
  /// Users who may use skip and only_deleted hints (both reveal deleted rows).
  const UserList& skip_users() const { return skip_users_; }
  /// Users who may use the hard_delete hint.
  const UserList& hard_delete_users() const { return hard_delete_users_; }
  /// A number unique to this load, part of every cache key.
  std::uint64_t version() const { return version_; }

 private:
  /// Transparent hashing: look names up by string_view without building a std::string.
  struct NameHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::vector<TableRule> tables_;
  std::unordered_map<std::string, std::vector<std::size_t>, NameHash, std::equal_to<>> by_name_;
  std::uint64_t name_lengths_ = 0;  ///< bit n set: some rule name has n bytes (n < 64)
  bool long_names_ = false;         ///< some rule name has 64 bytes or more
  Policy truncate_;
  Policy merge_;
  Policy foreign_key_actions_;
  Policy ddl_;
  Cascade cascade_;
  UserList skip_users_;
  UserList hard_delete_users_;
  std::uint64_t version_;
};

}  // namespace pgsoftdelete::rules
