// scan(sql) -> tokens with byte positions (comments included), from libpg_query's own lexer.
#pragma once

#include <expected>
#include <string_view>
#include <vector>

#include "parser/error.hpp"
#include "pg_query.pb.h"

namespace pgsoftdelete::parser {

/// One lexical token of PostgreSQL's scanner.
struct Token {
  int start = 0;                                   ///< byte offset of the first character
  int end = 0;                                     ///< byte offset one past the last character
  pg_query::Token kind = pg_query::NUL;            ///< e.g. IDENT, SCONST, FROM, C_COMMENT, ASCII_40 for '('
  pg_query::KeywordKind keyword = pg_query::NO_KEYWORD;  ///< keyword category, NO_KEYWORD for non-keywords

  bool is_comment() const { return kind == pg_query::C_COMMENT || kind == pg_query::SQL_COMMENT; }
};

/// Scans `sql` into tokens (comments included). Fails with 42601 on an unterminated literal or comment.
std::expected<std::vector<Token>, Error> scan(std::string_view sql);

}  // namespace pgsoftdelete::parser
