// Building SqlToken lists from the PostgreSQL scanner or from the fast path's atoms.
#include "rules/sql_tokens.hpp"

#include "rules/identifier.hpp"

#include <array>
#include <utility>

namespace pgsoftdelete::rules {
namespace {

Tok from_pg(pg_query::Token t) {
  switch (t) {
    case pg_query::C_COMMENT:
    case pg_query::SQL_COMMENT: return Tok::comment;
    case pg_query::ASCII_40: return Tok::lparen;
    case pg_query::ASCII_41: return Tok::rparen;
    case pg_query::ASCII_91: return Tok::lbracket;
    case pg_query::ASCII_93: return Tok::rbracket;
    case pg_query::ASCII_42: return Tok::star;
    case pg_query::ASCII_46: return Tok::dot;
    case pg_query::ASCII_59: return Tok::semicolon;
    case pg_query::ONLY: return Tok::kw_only;
    case pg_query::FROM: return Tok::kw_from;
    case pg_query::DELETE_P: return Tok::kw_delete;
    case pg_query::USING: return Tok::kw_using;
    case pg_query::WHERE: return Tok::kw_where;
    case pg_query::RETURNING: return Tok::kw_returning;
    case pg_query::AS: return Tok::kw_as;
    case pg_query::TABLE: return Tok::kw_table;
    case pg_query::UESCAPE: return Tok::kw_uescape;
    case pg_query::ASCII_44: return Tok::comma;
    case pg_query::SELECT: return Tok::kw_select;
    case pg_query::WITH:
    case pg_query::WITH_LA: return Tok::kw_with;
    case pg_query::VALUES: return Tok::kw_values;
    case pg_query::INSERT: return Tok::kw_insert;
    case pg_query::UPDATE: return Tok::kw_update;
    case pg_query::ON: return Tok::kw_on;
    case pg_query::JOIN: return Tok::kw_join;
    case pg_query::INNER_P: return Tok::kw_inner;
    case pg_query::LEFT: return Tok::kw_left;
    case pg_query::RIGHT: return Tok::kw_right;
    case pg_query::FULL: return Tok::kw_full;
    case pg_query::CROSS: return Tok::kw_cross;
    case pg_query::NATURAL: return Tok::kw_natural;
    case pg_query::OUTER_P: return Tok::kw_outer;
    case pg_query::GROUP_P: return Tok::kw_group;
    case pg_query::HAVING: return Tok::kw_having;
    case pg_query::WINDOW: return Tok::kw_window;
    case pg_query::ORDER: return Tok::kw_order;
    case pg_query::LIMIT: return Tok::kw_limit;
    case pg_query::OFFSET: return Tok::kw_offset;
    case pg_query::FETCH: return Tok::kw_fetch;
    case pg_query::FOR: return Tok::kw_for;
    case pg_query::UNION: return Tok::kw_union;
    case pg_query::INTERSECT: return Tok::kw_intersect;
    case pg_query::EXCEPT: return Tok::kw_except;
    default: return Tok::other;
  }
}

constexpr std::array<std::pair<std::string_view, Tok>, 33> keywords = {{
    {"only", Tok::kw_only},       {"from", Tok::kw_from},       {"delete", Tok::kw_delete},
    {"using", Tok::kw_using},     {"where", Tok::kw_where},     {"returning", Tok::kw_returning},
    {"as", Tok::kw_as},           {"table", Tok::kw_table},     {"select", Tok::kw_select},
    {"with", Tok::kw_with},       {"values", Tok::kw_values},   {"insert", Tok::kw_insert},
    {"update", Tok::kw_update},   {"on", Tok::kw_on},           {"join", Tok::kw_join},
    {"inner", Tok::kw_inner},     {"left", Tok::kw_left},       {"right", Tok::kw_right},
    {"full", Tok::kw_full},       {"cross", Tok::kw_cross},     {"natural", Tok::kw_natural},
    {"outer", Tok::kw_outer},     {"group", Tok::kw_group},     {"having", Tok::kw_having},
    {"window", Tok::kw_window},   {"order", Tok::kw_order},     {"limit", Tok::kw_limit},
    {"offset", Tok::kw_offset},   {"fetch", Tok::kw_fetch},     {"for", Tok::kw_for},
    {"union", Tok::kw_union},     {"intersect", Tok::kw_intersect}, {"except", Tok::kw_except},
}};

Tok from_atom(std::string_view text) {
  if (text.size() == 1) {
    switch (text[0]) {
      case '(': return Tok::lparen;
      case ')': return Tok::rparen;
      case '[': return Tok::lbracket;
      case ']': return Tok::rbracket;
      case '*': return Tok::star;
      case '.': return Tok::dot;
      case ';': return Tok::semicolon;
      case ',': return Tok::comma;
      default: break;
    }
  }
  if (text.size() < 2 || text.size() > 9) return Tok::other;
  for (const auto& [word, kind] : keywords)
    if (equals_folded(text, word)) return kind;
  return Tok::other;
}

}  // namespace

std::vector<SqlToken> tokens_from_scan(const std::vector<parser::Token>& tokens) {
  std::vector<SqlToken> out;
  out.reserve(tokens.size());
  for (const auto& t : tokens) out.push_back({t.start, t.end, from_pg(t.kind)});
  return out;
}

void tokens_from_atoms(std::string_view sql, const LexResult& lexed, std::vector<SqlToken>& out) {
  out.clear();
  out.reserve(lexed.atoms.size());
  for (const auto& a : lexed.atoms) {
    Tok kind = a.kind == AtomKind::word ? from_atom(sql.substr(a.start, a.end - a.start)) : Tok::other;
    out.push_back({static_cast<int>(a.start), static_cast<int>(a.end), kind});
  }
}

}  // namespace pgsoftdelete::rules
