// Text splices: the edits a rewrite makes to the client's SQL, applied without touching anything else.
#pragma once

#include <cstddef>
#include <expected>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "parser/error.hpp"

namespace pgsoftdelete::rules {

/// Replace bytes [begin, end) of the original text by `text` (begin == end: insert).
struct Edit {
  std::size_t begin = 0;
  std::size_t end = 0;
  std::string text;
};

/// Sorts edits by position (begin, then end), keeping the order of equal ones: the order splicing needs.
void sort_edits(std::vector<Edit>& edits);

/// Applies `edits` (any order) to `sql`. Overlapping edits are a bug in the rewriter: reported as XX000,
/// never applied half-way.
std::expected<std::string, parser::Error> apply_edits(std::string_view sql, std::vector<Edit> edits);

/// True for bytes that continue an identifier or keyword (PostgreSQL's ident_cont, and any byte of
/// a multibyte character): two of them side by side read as one word.
constexpr bool word_byte(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || u == '_' || u == '$' || u >= 0x80;
}

/// Appends `piece` to `out`, with a space between them when both sides are word bytes: a splice
/// must never glue its text to the client's (`humans*WHERE` must not become `… humansWHERE`).
inline void append_apart(std::string& out, std::string_view piece) {
  if (!out.empty() && !piece.empty() && word_byte(out.back()) && word_byte(piece.front())) out.push_back(' ');
  out.append(piece);
}

/// Applies edits already sorted by position; `range(e)` gives an edit's [begin, end) in `sql` and
/// `e.text` its replacement. The one splicing loop, for fresh plans and cached ones alike.
template <class Edits, class Range>
std::expected<std::string, parser::Error> splice_sorted(std::string_view sql, const Edits& edits, Range range) {
  std::size_t extra = 0;
  for (const auto& e : edits) extra += e.text.size();
  std::string out;
  out.reserve(sql.size() + extra);
  std::size_t pos = 0;
  for (const auto& e : edits) {
    const auto [begin, end] = range(e);
    if (begin < pos || end < begin || end > sql.size())
      return std::unexpected(parser::internal_error("pgsoftdelete: overlapping rewrite edits"));
    append_apart(out, sql.substr(pos, begin - pos));
    append_apart(out, e.text);
    pos = end;
  }
  append_apart(out, sql.substr(pos));
  return out;
}

}  // namespace pgsoftdelete::rules
