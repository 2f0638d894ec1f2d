// Hints: which tables a statement sees unfiltered (skip), sees only deleted rows of (only_deleted), or
// really deletes from (hard_delete); from the session (SET pgsoftdelete.*) or a leading statement comment.
#pragma once

#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "parser/error.hpp"
#include "rules/identifier.hpp"
#include "rules/rule_set.hpp"

namespace pgsoftdelete::rules {

/// A set of tables named in a hint: all tables (`*`) or a list of (optionally schema-qualified) names.
struct TableSet {
  bool all = false;                  ///< `*`: every rule table
  std::vector<QualifiedName> names;  ///< when !all; a name without schema matches the table in any schema

  bool empty() const { return !all && names.empty(); }
  /// True when the set covers a reference to the table of `rule` written with schema `ref_schema` (empty:
  /// unqualified). A hint naming a schema only covers references known to be in that schema.
  bool contains(const TableRule& rule, std::string_view ref_schema = {}) const;
  /// Adds every table of `other` to this set.
  void merge(const TableSet& other);
  /// Canonical text (`*`, or names joined by ','), used in cache keys and SHOW-like output.
  std::string to_string() const;
};

/// The three hint kinds, as set for a session or a statement.
struct Hints {
  TableSet skip;          ///< read these tables unfiltered (deleted rows included)
  TableSet only_deleted;  ///< read only the deleted rows of these tables (wins over skip)
  TableSet hard_delete;   ///< DELETE on these tables stays a real DELETE

  bool empty() const { return skip.empty() && only_deleted.empty() && hard_delete.empty(); }
  /// Union of two hint sets (statement hints add to session hints).
  void merge(const Hints& other);
  /// Canonical text for cache keys.
  std::string to_string() const;
};

/// Which hint a pgsoftdelete.* setting names.
enum class HintKind {
  skip,          ///< pgsoftdelete.skip
  only_deleted,  ///< pgsoftdelete.only_deleted
  hard_delete,   ///< pgsoftdelete.hard_delete
};

/// A SET / SET LOCAL / RESET / RESET ALL / DISCARD ALL that changes the session's hints.
/// The proxy applies it to its copy of the session hints and follows transactions itself
/// (SET LOCAL lasts until the end of the transaction; SET inside a rolled-back transaction is undone).
struct HintSetting {
  enum class Action {
    set,        ///< SET [LOCAL] pgsoftdelete.<kind> = '<tables>' (value may be empty: clears)
    reset,      ///< RESET pgsoftdelete.<kind> or SET … TO DEFAULT
    reset_all,  ///< RESET ALL or DISCARD ALL: every pgsoftdelete hint is cleared (kind is meaningless)
  };
  Action action = Action::set;
  HintKind kind = HintKind::skip;
  bool local = false;  ///< SET LOCAL
  TableSet value;      ///< for Action::set
};

/// Parses a table list as written in a hint: `*`, `humans, public.aliens, "Mixed"`; empty text -> empty set.
std::expected<TableSet, parser::Error> parse_table_set(std::string_view text);

/// Parses the body of a hint comment after `pgsoftdelete:`, e.g. ` skip=humans,aliens hard_delete=*`.
std::expected<Hints, parser::Error> parse_hint_text(std::string_view text);

/// If the comment token text (`/* … */` or `-- …`) is a pgsoftdelete hint, returns its hints; nullopt when
/// the comment is not addressed to pgsoftdelete; an error (22023) when it is but is malformed.
std::expected<std::optional<Hints>, parser::Error> parse_hint_comment(std::string_view comment);

}  // namespace pgsoftdelete::rules
