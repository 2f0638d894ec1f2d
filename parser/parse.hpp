// parse(sql) -> protobuf tree and deparse(tree) -> sql, over libpg_query (PostgreSQL 15 grammar).
#pragma once

#include <expected>
#include <string>
#include <string_view>

#include "parser/error.hpp"
#include "pg_query.pb.h"

namespace pgsoftdelete::parser {

/// A parsed SQL string: one RawStmt per statement, locations are byte offsets into the parsed text.
struct Tree {
  pg_query::ParseResult result;
};

/// Parses `sql` (all statements of it). On failure returns PostgreSQL's own error: 42601, the message the
/// server would give and the 1-based character cursor position.
std::expected<Tree, Error> parse(std::string_view sql);

/// Turns a tree back into SQL text (normalised: comments and original formatting are lost).
std::expected<std::string, Error> deparse(const pg_query::ParseResult& tree);

/// parse + deparse: the canonical text of `sql`, used to compare statements regardless of formatting.
std::expected<std::string, Error> normalise(std::string_view sql);

}  // namespace pgsoftdelete::parser
