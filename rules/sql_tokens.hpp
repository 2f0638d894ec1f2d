// The token view the rewriter splices by: positions plus the few token kinds it needs, built either from
// libpg_query's scanner or, when it is exact, from the fast path's own lexer (no second scan).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "parser/scan.hpp"
#include "rules/sql_lexer.hpp"

namespace pgsoftdelete::rules {

/// Token kinds the rewriter looks at; everything else is `other`.
enum class Tok : std::uint8_t {
  other,      ///< any other token
  comment,    ///< -- or /* */ comment (only from the PostgreSQL scanner)
  lparen,     ///< (
  rparen,     ///< )
  lbracket,   ///< [
  rbracket,   ///< ]
  star,       ///< *
  dot,        ///< .
  semicolon,  ///< ;
  kw_only,    ///< ONLY
  kw_from,    ///< FROM
  kw_delete,  ///< DELETE
  kw_using,   ///< USING
  kw_where,   ///< WHERE
  kw_returning,  ///< RETURNING
  kw_as,      ///< AS
  kw_table,   ///< TABLE
  kw_uescape, ///< UESCAPE (after a U&"…" identifier; only from the PostgreSQL scanner)
  comma,      ///< ,
  // Where a query starts (after a '(') and where the clauses around a FROM list, WHERE or ON end.
  kw_select, kw_with, kw_values, kw_insert, kw_update,
  kw_on, kw_join, kw_inner, kw_left, kw_right, kw_full, kw_cross, kw_natural, kw_outer,
  kw_group, kw_having, kw_window, kw_order, kw_limit, kw_offset, kw_fetch, kw_for,
  kw_union, kw_intersect, kw_except,
};

/// One token: byte range and kind.
struct SqlToken {
  int start = 0;
  int end = 0;
  Tok kind = Tok::other;
};

/// From libpg_query's scanner (always exact; includes comments).
std::vector<SqlToken> tokens_from_scan(const std::vector<parser::Token>& tokens);
/// From the fast path's atoms; only valid when `lexed` is not uncertain (comments are not included).
void tokens_from_atoms(std::string_view sql, const LexResult& lexed, std::vector<SqlToken>& out);

}  // namespace pgsoftdelete::rules
