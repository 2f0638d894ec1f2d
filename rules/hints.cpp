// Parsing of hint table lists and hint comments; TableSet/Hints set operations.
#include "rules/hints.hpp"

#include <algorithm>

namespace pgsoftdelete::rules {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n' || s.front() == '\r'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

parser::Error bad_hint(std::string message) {
  return parser::Error{parser::sqlstate::invalid_parameter_value, std::move(message), 0};
}

// A name in cache keys and messages: quoted when not plain lower case (keywords need not be quoted here).
std::string key_name(std::string_view name) {
  bool plain = !name.empty();
  for (char c : name) plain = plain && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_');
  if (plain) return std::string(name);
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  return out + "\"";
}


}  // namespace

bool TableSet::contains(const TableRule& rule, std::string_view ref_schema) const {
  if (all) return true;
  std::string_view schema = ref_schema.empty() ? std::string_view(rule.schema) : ref_schema;
  return std::any_of(names.begin(), names.end(), [&](const QualifiedName& n) {
    return n.name == rule.name && (n.schema.empty() || n.schema == schema);
  });
}

void TableSet::merge(const TableSet& other) {
  all = all || other.all;
  for (const auto& n : other.names) {
    bool present = std::any_of(names.begin(), names.end(),
                               [&](const QualifiedName& m) { return m.schema == n.schema && m.name == n.name; });
    if (!present) names.push_back(n);
  }
}

std::string TableSet::to_string() const {
  if (all) return "*";
  std::vector<std::string> parts;
  for (const auto& n : names)
    parts.push_back(n.schema.empty() ? key_name(n.name) : key_name(n.schema) + "." + key_name(n.name));
  std::sort(parts.begin(), parts.end());
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : ",") + p;
  return out;
}

void Hints::merge(const Hints& other) {
  skip.merge(other.skip);
  only_deleted.merge(other.only_deleted);
  hard_delete.merge(other.hard_delete);
}

std::string Hints::to_string() const {
  return "skip=" + skip.to_string() + ";only_deleted=" + only_deleted.to_string() +
         ";hard_delete=" + hard_delete.to_string();
}

std::expected<TableSet, parser::Error> parse_table_set(std::string_view text) {
  TableSet set;
  text = trim(text);
  if (text.empty()) return set;
  while (true) {
    // Split on commas outside double quotes.
    std::size_t i = 0;
    bool quoted = false;
    while (i < text.size() && (quoted || text[i] != ',')) {
      if (text[i] == '"') quoted = !quoted;
      ++i;
    }
    auto item = trim(text.substr(0, i));
    if (item == "*") {
      set.all = true;
    } else {
      auto name = parse_qualified_name(item);
      if (!name) return std::unexpected(bad_hint("invalid table name in pgsoftdelete hint: \"" + std::string(item) + "\""));
      set.names.push_back(*name);
    }
    if (i >= text.size()) break;
    text.remove_prefix(i + 1);
  }
  return set;
}

std::expected<Hints, parser::Error> parse_hint_text(std::string_view text) {
  Hints hints;
  text = trim(text);
  while (!text.empty()) {
    auto eq = text.find('=');
    if (eq == std::string_view::npos)
      return std::unexpected(bad_hint("pgsoftdelete hint must be key=tables: \"" + std::string(text) + "\""));
    auto key = trim(text.substr(0, eq));
    text.remove_prefix(eq + 1);
    text = trim(text);
    // The value runs to the next whitespace or ';' outside quotes; a list may contain ", " so we also
    // continue after a comma.
    std::size_t i = 0;
    bool quoted = false;
    while (i < text.size()) {
      char c = text[i];
      if (c == '"') quoted = !quoted;
      if (!quoted && c == ';') break;
      if (!quoted && (c == ' ' || c == '\t' || c == '\n' || c == '\r')) {
        std::size_t j = i;
        while (j < text.size() && (text[j] == ' ' || text[j] == '\t' || text[j] == '\n' || text[j] == '\r')) ++j;
        bool continues = (i > 0 && text[i - 1] == ',') || (j < text.size() && text[j] == ',');
        if (!continues) break;
        i = j;
        continue;
      }
      ++i;
    }
    auto value = parse_table_set(text.substr(0, i));
    if (!value) return std::unexpected(value.error());
    text.remove_prefix(i);
    if (!text.empty() && text.front() == ';') text.remove_prefix(1);
    text = trim(text);
    if (key == "skip") hints.skip.merge(*value);
    else if (key == "only_deleted") hints.only_deleted.merge(*value);
    else if (key == "hard_delete") hints.hard_delete.merge(*value);
    else return std::unexpected(bad_hint("unknown pgsoftdelete hint \"" + std::string(key) +
                                         "\" (expected skip, only_deleted or hard_delete)"));
  }
  return hints;
}

namespace {

bool contains_ci(std::string_view text, std::string_view needle) {
  if (needle.size() > text.size()) return false;
  for (std::size_t i = 0; i + needle.size() <= text.size(); ++i)
    if (starts_with_folded(text.substr(i), needle)) return true;
  return false;
}

/// Percent-decoding as sqlcommenter writes keys and values ('+' is a plus sign, not a space).
std::optional<std::string> url_decode(std::string_view text) {
  const auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    const int high = i + 1 < text.size() ? hex(text[i + 1]) : -1;
    const int low = i + 2 < text.size() ? hex(text[i + 2]) : -1;
    if (high < 0 || low < 0) return std::nullopt;
    out.push_back(static_cast<char>(high * 16 + low));
    i += 2;
  }
  return out;
}

/// The sqlcommenter form (`/*key='value',key='value'*/`, keys and values percent-encoded, quotes
/// in values escaped with a backslash), as ORM instrumentation appends it. Hints are the keys
/// `pgsoftdelete.skip`, `pgsoftdelete.only_deleted` and `pgsoftdelete.hard_delete`; nullopt when
/// the body is not in that form or has none of them.
std::expected<std::optional<Hints>, parser::Error> parse_sqlcommenter(std::string_view body) {
  constexpr std::string_view prefix = "pgsoftdelete.";
  Hints hints;
  bool ours = false;
  body = trim(body);
  while (!body.empty()) {
    const auto eq = body.find('=');
    if (eq == std::string_view::npos) return std::optional<Hints>{};
    const auto key = url_decode(trim(body.substr(0, eq)));
    std::string_view rest = trim(body.substr(eq + 1));
    if (!key || rest.empty() || rest.front() != '\'') return std::optional<Hints>{};
    std::string value;
    std::size_t i = 1;
    for (; i < rest.size() && rest[i] != '\''; ++i) {
      if (rest[i] == '\\' && i + 1 < rest.size()) ++i;
      value.push_back(rest[i]);
    }
    if (i >= rest.size()) return std::optional<Hints>{};  // no closing quote
    body = trim(rest.substr(i + 1));
    if (!body.empty()) {
      if (body.front() != ',') return std::optional<Hints>{};
      body = trim(body.substr(1));
    }
    if (!starts_with_folded(*key, prefix)) continue;
    ours = true;
    std::string kind = key->substr(prefix.size());
    for (auto& c : kind) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const auto decoded = url_decode(value);
    if (!decoded) return std::unexpected(bad_hint("pgsoftdelete hint \"" + *key + "\" has a malformed percent-encoded value"));
    auto tables = parse_table_set(*decoded);
    if (!tables) return std::unexpected(tables.error());
    if (kind == "skip") hints.skip.merge(*tables);
    else if (kind == "only_deleted") hints.only_deleted.merge(*tables);
    else if (kind == "hard_delete") hints.hard_delete.merge(*tables);
    else return std::unexpected(bad_hint("unknown pgsoftdelete hint \"" + *key +
                                         "\" (expected pgsoftdelete.skip, pgsoftdelete.only_deleted or pgsoftdelete.hard_delete)"));
  }
  if (!ours) return std::optional<Hints>{};
  return std::optional<Hints>{std::move(hints)};
}

}  // namespace

std::expected<std::optional<Hints>, parser::Error> parse_hint_comment(std::string_view comment) {
  std::string_view body;
  if (comment.starts_with("/*") && comment.ends_with("*/") && comment.size() >= 4)
    body = comment.substr(2, comment.size() - 4);
  else if (comment.starts_with("--"))
    body = comment.substr(2);
  else
    return std::optional<Hints>{};
  body = trim(body);
  constexpr std::string_view tag = "pgsoftdelete";
  const bool tagged = starts_with_folded(body, tag);
  const std::string_view after = tagged ? trim(body.substr(tag.size())) : std::string_view{};
  if (!tagged || after.empty() || after.front() != ':') {
    if (comment.starts_with("/*"))
      if (auto commenter = parse_sqlcommenter(body); !commenter || *commenter) return commenter;
    // A comment that looks addressed to us but is not a valid hint is an error, never ignored:
    // dropping one hint of several (only_deleted beside hard_delete) would change what is deleted.
    if (tagged || contains_ci(body, "pgsoftdelete:") || contains_ci(body, "pgsoftdelete."))
      return std::unexpected(bad_hint("malformed pgsoftdelete hint comment: write /* pgsoftdelete: skip=… */ or "
                                      "the sqlcommenter form /*pgsoftdelete.skip='…'*/"));
    return std::optional<Hints>{};
  }
  body = after.substr(1);
  auto hints = parse_hint_text(body);
  if (!hints) return std::unexpected(hints.error());
  return std::optional<Hints>{*hints};
}

}  // namespace pgsoftdelete::rules
