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

/// Parses `humans`, `public.humans`, `"Humans"`, `public."My Table"`: unquoted parts fold to lower case,
/// quoted parts keep their case. Returns nullopt when `text` is not such a name.
std::optional<QualifiedName> parse_qualified_name(std::string_view text);

/// Parses a single identifier (see parse_qualified_name). nullopt when invalid.
std::optional<std::string> parse_identifier(std::string_view text);

/// The identifier as SQL text: bare when it is a plain lower-case name that PostgreSQL's scanner does not
/// take for a reserved or column-name keyword, double-quoted otherwise. Costs a scan: call it at load time.
std::string quote_identifier(std::string_view name);

}  // namespace pgsoftdelete::rules
