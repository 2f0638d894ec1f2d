// SQL identifiers as the rules file spells them (humans, public.humans, "Humans") and as we emit them.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace pgsoftdelete::rules {

/// A possibly schema-qualified table name, already case-folded / de-quoted as PostgreSQL would.
struct QualifiedName {
  std::string schema;  ///< empty: unqualified
  std::string name;    ///< the relation name
};

/// PostgreSQL keeps at most 63 bytes of an identifier (NAMEDATALEN - 1), cut at a character
/// boundary (UTF-8), as its scanner does: `name` as the server will read it.
constexpr std::string_view truncate_identifier(std::string_view name) {
  constexpr std::size_t max_identifier = 63;
  if (name.size() <= max_identifier) return name;
  std::size_t cut = max_identifier;
  while (cut > 0 && (static_cast<unsigned char>(name[cut]) & 0xC0) == 0x80) --cut;  // not inside a character
  return name.substr(0, cut);
}

/// `text` equals `lower` (written in lower case) with ASCII letters of `text` folded, as
/// PostgreSQL compares keywords.
constexpr bool equals_folded(std::string_view text, std::string_view lower) {
  if (text.size() != lower.size()) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != lower[i]) return false;
  }
  return true;
}

/// `text` starts with `lower` (written in lower case), ASCII letters of `text` folded.
constexpr bool starts_with_folded(std::string_view text, std::string_view lower) {
  return text.size() >= lower.size() && equals_folded(text.substr(0, lower.size()), lower);
}

/// Parses `humans`, `public.humans`, `"Humans"`, `public."My Table"`: unquoted parts fold to lower case,
/// quoted parts keep their case, and each is truncated as the server truncates it. Returns nullopt when
/// `text` is not such a name.
std::optional<QualifiedName> parse_qualified_name(std::string_view text);

/// Parses a single identifier (see parse_qualified_name). nullopt when invalid.
std::optional<std::string> parse_identifier(std::string_view text);

/// The identifier as SQL text: bare when it is a plain lower-case name that PostgreSQL's scanner does not
/// take for a reserved or column-name keyword, double-quoted otherwise. Costs a scan: call it at load time.
std::string quote_identifier(std::string_view name);

}  // namespace pgsoftdelete::rules
