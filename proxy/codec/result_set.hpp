// A whole text result set (RowDescription, DataRows, CommandComplete), for answers the proxy
// gives itself: the admin console.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace pgsoftdelete::proxy::codec {

/// Column names, rows of text values (nullopt: NULL), the command tag.
struct TextResult {
  std::vector<std::string> columns;
  std::vector<std::vector<std::optional<std::string>>> rows;
  std::string tag;
};

/// Appends RowDescription (all columns of type text), one DataRow per row and CommandComplete.
void encode(const TextResult& result, std::string& out);

}  // namespace pgsoftdelete::proxy::codec
