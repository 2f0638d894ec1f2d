// Identifier parsing for the rules file and identifier quoting for generated SQL.
#include "rules/identifier.hpp"

#include <array>
#include <algorithm>

namespace pgsoftdelete::rules {
namespace {

bool is_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_cont(char c) { return is_start(c) || (c >= '0' && c <= '9') || c == '$'; }

// Reads one identifier from the front of `text`; advances `text`.
std::optional<std::string> read_identifier(std::string_view& text) {
  if (text.empty()) return std::nullopt;
  std::string out;
  if (text.front() == '"') {
    std::size_t i = 1;
    for (;;) {
      if (i >= text.size()) return std::nullopt;
      if (text[i] == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          out.push_back('"');
          i += 2;
          continue;
        }
        ++i;
        break;
      }
      out.push_back(text[i++]);
    }
    if (out.empty()) return std::nullopt;
    text.remove_prefix(i);
    return out;
  }
  if (!is_start(text.front())) return std::nullopt;
  std::size_t i = 0;
  while (i < text.size() && is_cont(text[i])) {
    char c = text[i++];
    out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  }
  text.remove_prefix(i);
  return out;
}

// Keywords that are not plain identifiers in every position; a superset is harmless (we only quote more).
constexpr std::array<std::string_view, 98> keywords = {
    "all", "analyse", "analyze", "and", "any", "array", "as", "asc", "asymmetric", "authorization", "between",
    "bigint", "binary", "bit", "boolean", "both", "case", "cast", "char", "character", "check", "coalesce",
    "collate", "collation", "column", "concurrently", "constraint", "create", "cross", "current_catalog",
    "current_date", "current_role", "current_schema", "current_time", "current_timestamp", "current_user",
    "dec", "decimal", "default", "deferrable", "desc", "distinct", "do", "else", "end", "except", "exists",
    "extract", "false", "fetch", "float", "for", "foreign", "freeze", "from", "full", "grant", "group",
    "having", "ilike", "in", "initially", "inner", "int", "integer", "intersect", "interval", "into", "is",
    "isnull", "join", "lateral", "leading", "left", "like", "limit", "localtime", "localtimestamp", "natural",
    "not", "notnull", "null", "offset", "on", "only", "or", "order", "outer", "overlaps", "placing", "primary",
    "references", "returning", "right", "select", "session_user", "similar", "some"};
constexpr std::array<std::string_view, 28> keywords2 = {
    "symmetric", "table", "tablesample", "then", "to", "trailing", "true", "union", "unique", "user", "using",
    "variadic", "verbose", "when", "where", "window", "with", "nullif", "numeric", "real", "smallint", "time",
    "timestamp", "trim", "values", "varchar", "xmlattributes", "national"};

}  // namespace

std::optional<std::string> parse_identifier(std::string_view text) {
  auto id = read_identifier(text);
  if (!id || !text.empty()) return std::nullopt;
  return id;
}

std::optional<QualifiedName> parse_qualified_name(std::string_view text) {
  auto first = read_identifier(text);
  if (!first) return std::nullopt;
  if (text.empty()) return QualifiedName{"", *first};
  if (text.front() != '.') return std::nullopt;
  text.remove_prefix(1);
  auto second = read_identifier(text);
  if (!second || !text.empty()) return std::nullopt;
  return QualifiedName{*first, *second};
}

std::string quote_identifier(std::string_view name) {
  bool plain = !name.empty() && ((name[0] >= 'a' && name[0] <= 'z') || name[0] == '_');
  for (char c : name) plain = plain && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_');
  if (plain) {
    plain = std::find(keywords.begin(), keywords.end(), name) == keywords.end() &&
            std::find(keywords2.begin(), keywords2.end(), name) == keywords2.end();
  }
  if (plain) return std::string(name);
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

}  // namespace pgsoftdelete::rules
