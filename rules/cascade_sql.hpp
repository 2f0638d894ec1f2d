// The SQL that follows a soft delete's foreign keys (a CascadePlan) in the same statement:
//
//   WITH __pgsd_rows AS (SELECT <target's tableoid, ctid and key columns> FROM <target> … WHERE …
//                        FOR UPDATE OF <target>),
//        __pgsd_1 AS (UPDATE child … SET is_deleted = true WHERE NOT … AND (fk) IN (SELECT … FROM __pgsd_rows)
//                      RETURNING <its key columns>),  -- one per table reached, in order
//        __pgsd_s0 AS (UPDATE other … SET fk = NULL WHERE …)                                   -- SET NULL / DEFAULT
//   UPDATE <target> SET is_deleted = true WHERE NOT … AND <the rows of __pgsd_rows> RETURNING …
//
// Every sub-statement sees one snapshot; the target's rows are chosen once, locked, and both the
// children's steps and the final UPDATE (whose tag and RETURNING the client gets) read them.
#pragma once

#include <string>
#include <string_view>

#include "rules/resolved_rules.hpp"

namespace pgsoftdelete::rules {

/// The CTE holding the rows the statement itself deletes.
inline constexpr std::string_view cascade_rows_cte = "__pgsd_rows";

/// The select list of __pgsd_rows for the target referred to as `qualifier`. `restoring` (a restore):
/// the SQL of the value the statement gives the mark column; the rows then carry their deleted_at as
/// __pgsd_at and whether that value is NULL (the row is being restored) as __pgsd_restore.
std::string cascade_rows_select(const CascadePlan& plan, std::string_view qualifier, const std::string& restoring = "");
/// The final UPDATE's condition: the target's row (as `qualifier`) is one of __pgsd_rows: by primary
/// key where the plan has one, else by (tableoid, ctid).
std::string cascade_identity(const CascadePlan& plan, std::string_view qualifier);
/// The CTEs after __pgsd_rows, each starting with ", ".
std::string cascade_steps(const CascadePlan& plan);

/// For an UPDATE that clears the mark of `timestamp`-kind rows (a restore): the CTEs after __pgsd_rows
/// that clear it on the rows their soft delete's cascade marked with the same time: children of
/// `timestamp` kind through CASCADE keys, down the tree (a `flag`-kind child ends it: its mark says
/// not when). Empty when there are none; `problem` set when the cascade's shape cannot be undone in one
/// statement (a table reached twice, a self-referencing key).
std::string restore_steps(const CascadePlan& plan, std::string& problem);

}  // namespace pgsoftdelete::rules
