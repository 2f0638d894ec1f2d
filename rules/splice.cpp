// apply_edits: sorts, checks for overlaps, splices.
#include "rules/splice.hpp"

#include <algorithm>

namespace pgsoftdelete::rules {

std::expected<std::string, parser::Error> apply_edits(std::string_view sql, std::vector<Edit> edits) {
  std::stable_sort(edits.begin(), edits.end(), [](const Edit& a, const Edit& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  std::string out;
  std::size_t extra = 0;
  for (const auto& e : edits) extra += e.text.size();
  out.reserve(sql.size() + extra);
  std::size_t pos = 0;
  for (const auto& e : edits) {
    if (e.begin < pos || e.end < e.begin || e.end > sql.size())
      return std::unexpected(parser::internal_error("pgsoftdelete: overlapping rewrite edits"));
    out.append(sql.substr(pos, e.begin - pos));
    out.append(e.text);
    pos = e.end;
  }
  out.append(sql.substr(pos));
  return out;
}

}  // namespace pgsoftdelete::rules
