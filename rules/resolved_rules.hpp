// The rules applied to one database's catalog: which relations are rule tables (those the rules
// name, and their partitions and inheritance children), which relation an unqualified name means
// under a search_path, and which foreign-key actions would really delete or change rows of a rule
// table. Immutable; built once per (rules, catalog) and shared by the sessions of that database.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "rules/catalog.hpp"
#include "rules/name_flags.hpp"
#include "rules/rule_set.hpp"

namespace pgsoftdelete::rules {

/// A table name of a statement, resolved.
struct Resolution {
  const TableRule* rule = nullptr;              ///< the rule in force for it (its own or an ancestor's)
  const CatalogRelation* relation = nullptr;    ///< the relation, when the catalog knows it
  /// Not a rule table, but an ancestor of one: reading or deleting it without ONLY reaches that
  /// table's rows (inheritance). The descendant, for messages.
  const CatalogRelation* rule_descendant = nullptr;
  bool unknown = false;                         ///< the catalog has no such relation: decided by name alone
};

/// Why a statement would change rule-table rows through foreign keys: the constraint and the table.
struct ForeignKeyHazard {
  const CatalogForeignKey* key = nullptr;
  const CatalogRelation* table = nullptr;  ///< the table whose rows the action deletes or changes
  explicit operator bool() const { return key != nullptr; }
};

/// What a soft delete of one table does through the foreign keys that reference its rows
/// (ResolvedRules::cascade_plan): the ON DELETE actions of keys from rule tables, followed as one
/// statement would (recursively), or why it cannot be.
struct CascadePlan {
  /// A key from the rows of one table (a node) to another's, with its action.
  struct Source {
    std::size_t node = 0;  ///< index in `nodes` of the table whose deleted rows are referenced
    const CatalogForeignKey* key = nullptr;
    /// The relations (tableoid) whose deleted rows the key sees, when not all of the node's: a key
    /// references one table's own rows (a partitioned table's: its partitions'), not an inheritance
    /// child's, nor a sibling partition's. Empty: all.
    std::vector<std::uint32_t> tableoids;
  };
  /// A table whose rows the statement soft-deletes: node 0 is the statement's own target.
  struct Node {
    const CatalogRelation* table = nullptr;
    const TableRule* rule = nullptr;
    std::vector<Source> sources;  ///< ON DELETE CASCADE keys from it to earlier nodes (none for node 0)
    /// CASCADE keys from this table (or a relative: partition, parent) to itself: the rows referencing
    /// a deleted row go too, down any depth. The relation they are declared on is the one updated.
    std::vector<const CatalogForeignKey*> self_keys;
    const CatalogRelation* closure_table = nullptr;  ///< the relation the self keys are declared on
    /// Columns of its deleted rows that later steps look for (the keys' referenced columns).
    std::vector<std::string> columns;
    /// SET NULL / SET DEFAULT keys from it to earlier nodes: its live rows that reference a deleted row
    /// and are not soft-deleted themselves get those columns set, in its one UPDATE.
    std::vector<Source> sets;
  };
  /// A rule table that no step soft-deletes from, whose live rows referencing deleted rows have columns
  /// set (SET NULL / SET DEFAULT): one UPDATE for all its keys.
  struct Set {
    const CatalogRelation* table = nullptr;
    const TableRule* rule = nullptr;
    std::vector<Source> sources;
    bool overlaps_target = false;  ///< its rows are the target's: those the statement deletes are left out
  };
  std::vector<Node> nodes;  ///< sources come before the nodes that use them
  /// The target's primary key, when it identifies each row the statement may delete (the target is
  /// partitioned or has no inheritance children): the final UPDATE finds its rows by it.
  std::vector<std::string> identity;
  std::vector<Set> sets;  ///< after the nodes, one per table
  /// A key from a table that is no rule table whose action would delete or change its rows.
  ForeignKeyHazard refused;
  /// Non-empty: the plan cannot be followed in one statement (why, for the client).
  std::string problem;
  bool follows_anything() const { 
    return nodes.size() > 1 || !sets.empty() || (!nodes.empty() && !nodes[0].self_keys.empty());
  }
};

class ResolvedRules {
 public:
  ResolvedRules(std::shared_ptr<const RuleSet> rules, std::shared_ptr<const Catalog> catalog);

  const RuleSet& rules() const { return *rules_; }
  const std::shared_ptr<const RuleSet>& rules_ptr() const { return rules_; }
  const Catalog& catalog() const { return *catalog_; }
  const std::shared_ptr<const Catalog>& catalog_ptr() const { return catalog_; }
  /// A number unique to this instance (process-wide), part of rewrite-cache keys.
  std::uint64_t generation() const { return generation_; }
  /// A hash of the catalog's content: equal for two reads of an unchanged catalog (rewrites cached
  /// and statements prepared under one stay good under the other).
  std::uint64_t fingerprint() const { return fingerprint_; }
  const std::string& fingerprint_text() const { return fingerprint_text_; }

  /// The relation `schema.name` (schema empty: looked up through `path`) and the rule in force for it.
  Resolution resolve(std::string_view schema, std::string_view name, const SearchPath& path) const;
  /// True when some relation called `name` matters to soft delete beyond the rules' own names: a
  /// partition or child of a rule table, an ancestor of one, a table whose foreign-key actions reach
  /// one. The fast path must parse statements naming it.
  bool names_related(std::string_view name) const {
    return names_.may_have(name, related_flag) && (names_.flags(name) & (1u << related_flag));
  }
  /// Both at once, for a name where a table name stands: {related, known}.
  std::pair<bool, bool> relation_name(std::string_view name) const {
    if (!names_.may_have(name, known_flag)) return {false, false};  // every related name is known
    const unsigned f = names_.flags(name);
    return {(f & (1u << related_flag)) != 0, (f & (1u << known_flag)) != 0};
  }
  static constexpr unsigned related_flag = 0, known_flag = 1;
  /// True when the same name means a rule table in one schema and another table (or another rule)
  /// in another: only then does the search_path decide anything.
  bool search_path_matters() const { return path_matters_; }

  /// Deleting rows of `oid` (and of its partitions or children) would, through ON DELETE CASCADE /
  /// SET NULL / SET DEFAULT, delete or change rows of a rule table.
  ForeignKeyHazard delete_hazard(std::uint32_t oid) const;
  /// What soft-deleting rows of `oid` must do through foreign keys: with `follow`, the actions of keys
  /// from rule tables, recursively (the rules file's cascade policy decides); always, in `refused`, the
  /// first key from a table that is no rule table whose ON DELETE action would delete or change rows.
  CascadePlan cascade_plan(std::uint32_t oid, bool follow) const;
  /// TRUNCATE `oid` CASCADE would empty a rule table.
  ForeignKeyHazard truncate_hazard(std::uint32_t oid) const;
  /// Updating `columns` of `oid` (empty: unknown, any) would change rows of a rule table through
  /// ON UPDATE CASCADE / SET NULL / SET DEFAULT.
  ForeignKeyHazard update_hazard(std::uint32_t oid, const std::vector<std::string>& columns) const;

  /// Rule tables (named or inherited) whose schema is `schema`: DROP SCHEMA … CASCADE would drop them.
  const CatalogRelation* rule_table_in_schema(std::string_view schema) const;

 private:
  struct NameHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using NameIndex = std::unordered_map<std::string, std::vector<std::size_t>, NameHash, std::equal_to<>>;

  /// `oid` and every relation below it (partitions, children), recursively.
  std::vector<std::size_t> with_descendants(std::uint32_t oid) const;
  /// The relations whose rows a soft delete of relation `i` may delete, as keys see them: it, its
  /// descendants (partitions, inheritance children), and the partitioned tables above it.
  std::vector<std::size_t> rows_of(std::size_t i) const;
  /// The tables holding rows that a key referencing relation `i` sees: it, or a partitioned table's
  /// leaf partitions.
  std::vector<std::uint32_t> leaves_of(std::size_t i, bool inheritance) const;
  std::vector<ForeignKeyHazard> propagate_hazards(bool truncate) const;

  std::shared_ptr<const RuleSet> rules_;
  std::shared_ptr<const Catalog> catalog_;
  std::uint64_t generation_;
  std::uint64_t fingerprint_ = 0;
  std::string fingerprint_text_;
  std::unordered_map<std::uint32_t, std::size_t> by_oid_;
  NameIndex by_name_;                                  // relations by name, any schema
  std::vector<const TableRule*> rule_;                 // per relation: the rule in force
  std::vector<const CatalogRelation*> rule_descendant_;  // per relation without rule: a descendant with one
  std::vector<std::vector<std::size_t>> children_;     // per relation: its direct partitions/children
  std::unordered_multimap<std::uint32_t, std::size_t> keys_by_referenced_;  // oid -> foreign_keys index
  std::vector<ForeignKeyHazard> delete_hazard_, truncate_hazard_;  // per relation
  NameFlags names_;
  bool path_matters_ = false;
  // with_descendants' marks, for update_hazard, which statements call on a shared instance: guarded.
  mutable std::vector<std::uint32_t> stamp_;
  mutable std::uint32_t walk_ = 0;
  mutable std::mutex walk_mutex_;
};

}  // namespace pgsoftdelete::rules
