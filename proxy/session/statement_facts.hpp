// What the session must know about statements that touch no rule table: transaction control
// with savepoint names (for hint rollback) and which prepared statement an EXECUTE runs (for
// DELETE tags). Computed only when the session needs them, since it costs a parse.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace pgsoftdelete::proxy {

struct StatementFacts {
  enum class Kind {
    other,
    savepoint,       ///< SAVEPOINT name
    release,         ///< RELEASE [SAVEPOINT] name
    rollback_to,     ///< ROLLBACK TO [SAVEPOINT] name
    execute,         ///< EXECUTE name (also inside EXPLAIN and CREATE TABLE AS)
    deallocate,      ///< DEALLOCATE name
    deallocate_all,  ///< DEALLOCATE ALL
    prepare,         ///< PREPARE name AS …
    commit,          ///< COMMIT, END, PREPARE TRANSACTION
    rollback,        ///< ROLLBACK, ABORT
  } kind = Kind::other;
  std::string name;  ///< as PostgreSQL folds it
};

/// One entry per statement of `sql`; empty when it does not parse (the server refuses it too).
std::vector<StatementFacts> statement_facts(std::string_view sql);

/// True when `sql` may change how the engine must read text: it names standard_conforming_strings,
/// client_encoding or set_config. A cheap scan, no parse; it may say yes wrongly, never no wrongly.
bool may_change_lexing(std::string_view sql);

/// Client encodings whose multibyte characters may contain bytes that look like ASCII quotes or
/// backslashes: the engine, which reads the raw bytes, could misread literals in them.
bool ascii_unsafe_encoding(std::string_view encoding);

/// True when `sql` may EXECUTE a prepared statement (the word, in any case).
bool may_execute(std::string_view sql);

/// True when `sql` may hold a statement with facts: a transaction or savepoint command, EXECUTE or
/// DEALLOCATE. A cheap keyword scan; it may say yes wrongly, never no wrongly.
bool may_be_session_control(std::string_view sql);

/// Prepared statement names that start with this are the proxy's own (variants of a client's
/// statement under other hints): a client using one could run or replace a variant unknowingly.
inline constexpr std::string_view reserved_prefix = "pgsd_";

/// True when a prepared statement `name` is reserved for the proxy.
bool is_reserved_name(std::string_view name);

/// True when `sql` may PREPARE a statement under a reserved name. A cheap case-insensitive scan;
/// it may say yes wrongly, and no wrongly only for a name written with Unicode escapes.
bool may_use_reserved_name(std::string_view sql);

/// True when `sql` is one SET or RESET of the setting `name` and nothing else.
bool only_sets(std::string_view sql, std::string_view name);

}  // namespace pgsoftdelete::proxy
