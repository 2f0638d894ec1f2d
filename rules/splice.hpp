// Text splices: the edits a rewrite makes to the client's SQL, applied without touching anything else.
#pragma once

#include <cstddef>
#include <expected>
#include <string>
#include <string_view>
#include <vector>

#include "parser/error.hpp"

namespace pgsoftdelete::rules {

/// Replace bytes [begin, end) of the original text by `text` (begin == end: insert).
struct Edit {
  std::size_t begin = 0;
  std::size_t end = 0;
  std::string text;
};

/// Applies `edits` (any order) to `sql`. Overlapping edits are a bug in the rewriter: reported as XX000,
/// never applied half-way.
std::expected<std::string, parser::Error> apply_edits(std::string_view sql, std::vector<Edit> edits);

}  // namespace pgsoftdelete::rules
