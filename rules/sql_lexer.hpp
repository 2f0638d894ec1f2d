// A single-pass SQL lexer (no parse): the fast path's "can this string touch a rule table?" decision and the
// token structure used as the rewrite cache key. Errs on the safe side: in doubt it reports `uncertain`.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "rules/rule_set.hpp"

namespace pgsoftdelete::rules {

/// Kinds of atoms; literals are the only atoms whose text is not part of the cache key.
enum class AtomKind : std::uint8_t {
  word,            ///< identifier or keyword (unquoted), quoted identifier, parameter, operator, punctuation
  string_literal,  ///< '…', E'…', $$…$$
  bit_literal,     ///< B'…'
  hex_literal,     ///< X'…'
  integer,         ///< 123
  numeric,         ///< 1.5, 1e3
};

/// One lexical atom: never inside a comment, never spanning whitespace.
struct Atom {
  std::uint32_t start = 0;  ///< byte offset
  std::uint32_t end = 0;    ///< one past the last byte
  AtomKind kind = AtomKind::word;
};

/// What one pass over a SQL string found.
struct LexResult {
  std::vector<Atom> atoms;
  bool names_rule_table = false;      ///< some identifier spells a rule table's (or related) name, or a function
                                      ///< that reads tables by name (table_to_xml…)
  bool mentions_pgsoftdelete = false; ///< identifier or comment mentioning pgsoftdelete (hint or setting)
  bool uncertain = false;             ///< something this lexer does not model exactly (U&, N'', odd numbers…)
  bool has_do = false;                ///< the word DO: a DO block's code is a string we must look into
  bool resets_settings = false;       ///< the word RESET or DISCARD: RESET ALL / DISCARD ALL clear the hints

  /// True when the string can be forwarded unchanged without parsing.
  bool certainly_untouched() const {
    return !names_rule_table && !mentions_pgsoftdelete && !uncertain && !has_do && !resets_settings;
  }
  /// True when the string's atoms may key the rewrite cache: not when a string's content matters to the
  /// rewrite (hint comments and settings mention pgsoftdelete; a DO block's body is a string literal).
  bool cacheable() const { return !mentions_pgsoftdelete && !uncertain && !has_do; }
  void clear() {
    atoms.clear();
    names_rule_table = mentions_pgsoftdelete = uncertain = has_do = resets_settings = false;
  }
};

class ResolvedRules;

/// Lexes `sql` into `out` (reused to avoid allocations). Assumes standard_conforming_strings = on.
/// With `related` (the catalog of the session's database), names of partitions, children, ancestors
/// and foreign-key neighbours of rule tables count as rule-table names too.
void lex_sql(std::string_view sql, const RuleSet& rules, LexResult& out, const ResolvedRules* related = nullptr);

}  // namespace pgsoftdelete::rules
