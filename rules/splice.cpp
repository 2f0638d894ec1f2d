// sort_edits and apply_edits (the splicing loop itself is splice_sorted, in the header).
#include "rules/splice.hpp"

#include <algorithm>

namespace pgsoftdelete::rules {

void sort_edits(std::vector<Edit>& edits) {
  std::stable_sort(edits.begin(), edits.end(), [](const Edit& a, const Edit& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
}

std::expected<std::string, parser::Error> apply_edits(std::string_view sql, std::vector<Edit> edits) {
  sort_edits(edits);
  return splice_sorted(sql, edits, [](const Edit& e) { return std::pair{e.begin, e.end}; });
}

}  // namespace pgsoftdelete::rules
