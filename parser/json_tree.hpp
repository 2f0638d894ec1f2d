// A read-only view of libpg_query's JSON parse tree (pg_query_parse): about four times faster to produce than
// the protobuf form, and walked with the protobuf descriptors as the schema. Never edited, never re-serialised.
#pragma once

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>
#include <vector>

#include "parser/error.hpp"

namespace pgsoftdelete::parser {

/// One JSON value in a JsonTree; children are linked by index (0 = none).
struct JsonNode {
  enum class Kind : std::uint8_t { null, boolean, number, string, array, object };
  Kind kind = Kind::null;
  bool truth = false;          ///< for booleans
  bool escaped = false;        ///< for strings: `raw` contains backslash escapes
  std::int64_t number = 0;     ///< for numbers (the tree only holds integers)
  std::string_view key;        ///< the member name when this value sits in an object
  std::string_view raw;        ///< for strings: the text between the quotes, escapes not decoded
  std::uint32_t first = 0;     ///< first child (array element / object member)
  std::uint32_t next = 0;      ///< next sibling
};

/// A parsed JSON document. Node 0 is a sentinel; the root is node 1.
class JsonTree {
 public:
  /// Parses `json` (taking ownership). Returns nullopt-like false on malformed input.
  bool parse(std::string json);

  const JsonNode& node(std::uint32_t i) const { return nodes_[i]; }
  std::uint32_t root() const { return nodes_.size() > 1 ? 1 : 0; }
  /// The member `key` of object `obj`, or 0.
  std::uint32_t get(std::uint32_t obj, std::string_view key) const;
  /// The decoded value of string node `i` (empty for other kinds).
  std::string string(std::uint32_t i) const;
  /// The decoded value of the string member `key` of `obj`, or "" when absent.
  std::string string(std::uint32_t obj, std::string_view key) const { return string(get(obj, key)); }
  /// The integer member `key` of `obj`, or `fallback` when absent (the tree omits zeros).
  std::int64_t number(std::uint32_t obj, std::string_view key, std::int64_t fallback = 0) const;
  /// The boolean member `key` of `obj` (absent = false).
  bool truth(std::uint32_t obj, std::string_view key) const;
  /// Number of children of an array or object node.
  std::size_t size(std::uint32_t i) const;

 private:
  std::uint32_t value();
  void skip_space();

  std::string text_;
  std::size_t pos_ = 0;
  int depth_ = 0;
  std::vector<JsonNode> nodes_;
};

/// Parses `sql` with PostgreSQL's parser into its JSON tree. Errors as parse() (42601 with cursor position).
std::expected<JsonTree, Error> parse_json(std::string_view sql);

}  // namespace pgsoftdelete::parser
