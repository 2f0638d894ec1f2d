// split(sql) -> the byte ranges of the statements of a multi-statement string.
#pragma once

#include <expected>
#include <string_view>
#include <vector>

#include "parser/error.hpp"

namespace pgsoftdelete::parser {

/// A statement's byte range in the original string (without the terminating ';').
struct StatementRange {
  int location = 0;  ///< byte offset of the statement's first character (after leading whitespace/comments)
  int length = 0;    ///< byte length
};

/// Splits `sql` with PostgreSQL's parser (accurate; fails with 42601 on a syntax error).
std::expected<std::vector<StatementRange>, Error> split(std::string_view sql);

}  // namespace pgsoftdelete::parser
