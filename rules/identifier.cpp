// Identifier parsing for the rules file and identifier quoting for generated SQL.
#include "rules/identifier.hpp"

#include "parser/scan.hpp"

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
    out.resize(truncate_identifier(out).size());
    return out;
  }
  if (!is_start(text.front())) return std::nullopt;
  std::size_t i = 0;
  while (i < text.size() && is_cont(text[i])) {
    char c = text[i++];
    out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  }
  text.remove_prefix(i);
  out.resize(truncate_identifier(out).size());
  return out;
}

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
    // Ask PostgreSQL's own scanner whether the name is a keyword that cannot stand bare as a column name.
    auto tokens = parser::scan(name);
    plain = tokens && tokens->size() == 1 &&
            ((*tokens)[0].kind == pg_query::IDENT || (*tokens)[0].keyword == pg_query::UNRESERVED_KEYWORD);
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
