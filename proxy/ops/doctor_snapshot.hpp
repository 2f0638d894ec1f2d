// Reading what the schema doctor checks out of a database's catalog, over libpq, in one read-only
// transaction (a consistent snapshot).
#pragma once

#include <expected>
#include <string>

#include "ops/doctor.hpp"

typedef struct pg_conn PGconn;

namespace pgsoftdelete::proxy::doctor {

/// Reads the tables of `conn`'s database, and for the rule tables among them (matched with
/// match_rules) their columns, indexes, foreign keys referencing them, the views, rules, functions
/// and triggers that read them, and the roles that can read their statistics. Needs no privilege
/// beyond reading pg_catalog. The error is the server's message.
std::expected<Snapshot, std::string> read_snapshot(PGconn* conn, const rules::RuleSet& rules);

}  // namespace pgsoftdelete::proxy::doctor
