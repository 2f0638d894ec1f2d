// lex_sql: mirrors PostgreSQL's scan.l for comments (nested), strings (standard, E, B, X, dollar-quoted),
// quoted identifiers and identifier case folding; anything it does not model marks the result uncertain.
#include "rules/sql_lexer.hpp"

#include <array>

#include "rules/resolved_rules.hpp"


namespace pgsoftdelete::rules {
namespace {

bool is_space(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool ident_start(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80; }
bool ident_cont(unsigned char c) { return ident_start(c) || (c >= '0' && c <= '9') || c == '$'; }
bool dolq_cont(unsigned char c) { return ident_start(c) || (c >= '0' && c <= '9'); }
bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
bool op_char(unsigned char c) {
  switch (c) {
    case '+': case '-': case '*': case '/': case '<': case '>': case '=': case '~': case '!':
    case '@': case '#': case '%': case '^': case '&': case '|': case '`': case '?':
      return true;
    default:
      return false;
  }
}

bool contains_pgsoftdelete(std::string_view text) {
  constexpr std::string_view tag = "pgsoftdelete";
  if (text.size() < tag.size()) return false;
  for (std::size_t i = 0; i + tag.size() <= text.size(); ++i) {
    std::size_t k = 0;
    while (k < tag.size()) {
      char c = text[i + k];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      if (c != tag[k]) break;
      ++k;
    }
    if (k == tag.size()) return true;
  }
  return false;
}

class Lexer {
 public:
  Lexer(std::string_view s, const RuleSet& rules, LexResult& out, const ResolvedRules* related)
      : s_(s), rules_(rules), related_(related), out_(out) {}

  void run() {
    while (i_ < s_.size()) {
      unsigned char c = at(i_);
      if (is_space(c)) {
        ++i_;
        continue;
      }
      if (c == '-' && at(i_ + 1) == '-') {
        line_comment();
        continue;
      }
      if (c == '/' && at(i_ + 1) == '*') {
        block_comment();
        continue;
      }
      std::size_t start = i_;
      AtomKind kind = AtomKind::word;
      if (ident_start(c)) {
        unsigned char n = at(i_ + 1);
        if ((c == 'e' || c == 'E') && n == '\'') {
          ++i_;
          quoted_string(true);
          kind = AtomKind::string_literal;
        } else if ((c == 'b' || c == 'B') && n == '\'') {
          ++i_;
          quoted_string(false);
          kind = AtomKind::bit_literal;
        } else if ((c == 'x' || c == 'X') && n == '\'') {
          ++i_;
          quoted_string(false);
          kind = AtomKind::hex_literal;
        } else if ((c == 'n' || c == 'N') && n == '\'') {
          out_.uncertain = true;  // NATIONAL CHARACTER literal: two tokens for PostgreSQL
          ++i_;
          quoted_string(false);
        } else if ((c == 'u' || c == 'U') && n == '&' && (at(i_ + 2) == '\'' || at(i_ + 2) == '"')) {
          out_.uncertain = true;  // Unicode escapes: the parser must decide what the name or string is
          i_ += 2;
          if (at(i_) == '"') quoted_identifier();
          else quoted_string(false);
        } else {
          identifier();
        }
      } else if (c == '"') {
        quoted_identifier();
      } else if (c == '\'') {
        quoted_string(false);
        kind = AtomKind::string_literal;
      } else if (c == '$') {
        kind = dollar();
      } else if (is_digit(c) || (c == '.' && is_digit(at(i_ + 1)))) {
        kind = number();
      } else if (op_char(c)) {
        operator_run();
      } else if (c == ':' && (at(i_ + 1) == ':' || at(i_ + 1) == '=')) {
        i_ += 2;
      } else {
        if (related_ != nullptr) punctuation(c);
        ++i_;  // punctuation: ( ) [ ] , ; . :
      }
      bool literal = kind != AtomKind::word;
      if (literal && !out_.atoms.empty() && out_.atoms.back().kind != AtomKind::word)
        out_.uncertain = true;  // adjacent literals: string continuation rules depend on newlines
      out_.atoms.push_back(Atom{static_cast<std::uint32_t>(start), static_cast<std::uint32_t>(i_), kind});
    }
  }

 private:
  unsigned char at(std::size_t i) const { return i < s_.size() ? static_cast<unsigned char>(s_[i]) : 0; }

  void check_name(std::string_view name) {
    if (related_ != nullptr) return check_name_in_catalog(name);
    if (name == "pgsoftdelete") out_.mentions_pgsoftdelete = true;
    else if (name == "reset" || name == "discard") out_.resets_settings = true;
    else if (rules_.names_table(name) || xml_reader(name)) out_.names_rule_table = true;
  }

  /// check_name with the catalog of the session's database.
  /// A FROM list: after each comma at its own depth a table name may stand too (with a catalog).
  void punctuation(unsigned char c) {
    if (c == '(') {
      ++depth_;
    } else if (c == ')') {
      // A subquery's FROM list ends with it; the list around it, if any, goes on.
      while (from_count_ > 0 && from_depths_[from_count_ - 1] >= depth_) --from_count_;
      --depth_;
    } else if (c == ';') {
      from_count_ = 0;
      depth_ = 0;
    } else if (c == ',' && in_from_list()) {
      relation_atom_ = out_.atoms.size() + 1;  // this comma is the next atom; the name after it
    }
  }
  /// Inside a FROM list at the current depth.
  bool in_from_list() const { return from_count_ > 0 && from_depths_[from_count_ - 1] == depth_; }
  /// Words that end a FROM list.
  static bool ends_from_list(std::string_view n) {
    return n == "where" || n == "group" || n == "order" || n == "having" || n == "limit" || n == "offset" ||
           n == "window" || n == "union" || n == "intersect" || n == "except" || n == "on" || n == "using" ||
           n == "returning" || n == "set" || n == "values" || n == "fetch" || n == "for";
  }

  /// Words the catalog-aware check reacts to, by length first (most identifiers stop there).
  enum class Word { other, relation_next, drops, resets, pgsoftdelete };
  static Word classify(std::string_view n) {
    switch (n.size()) {
      case 4: return n == "from" || n == "join" || n == "into" || n == "only" || n == "copy" ? Word::relation_next : Word::other;
      case 5: return n == "table" ? Word::relation_next : n == "reset" ? Word::resets : n == "owned" ? Word::drops : Word::other;
      case 6: return n == "update" ? Word::relation_next : n == "schema" ? Word::drops : Word::other;
      case 7: return n == "discard" ? Word::resets : Word::other;
      case 8: return n == "truncate" ? Word::relation_next : Word::other;
      case 12: return n == "pgsoftdelete" ? Word::pgsoftdelete : Word::other;
      default: return Word::other;
    }
  }

  /// check_name with the catalog of the session's database (whose related names include the
  /// rules' own).
  [[gnu::noinline]] void check_name_in_catalog(std::string_view name) {
    const std::size_t atom = out_.atoms.size();
    if (atom == relation_atom_) {
      // Where a table name stands (after FROM, JOIN, UPDATE, INTO, TABLE, ONLY, COPY, TRUNCATE):
      // one the catalog lacks may be a partition made on the server since, so the statement is
      // parsed (and the catalog read again); one related to a rule table is parsed anyway.
      const auto [related, known] = related_->relation_name(name);
      if (related || (!known && !name.starts_with("pg_"))) out_.names_rule_table = true;
    } else if (related_->names_related(name)) {
      out_.names_rule_table = true;
    }
    if (in_from_list() && ends_from_list(name)) --from_count_;
    switch (classify(name)) {
      case Word::relation_next:
        relation_atom_ = atom + 1;
        if (name == "from" && !in_from_list()) {
          if (from_count_ == from_depths_.size()) {  // deeper than we follow: every name counts
            out_.names_rule_table = true;
          } else {
            from_depths_[from_count_++] = depth_;
          }
        }
        break;
      case Word::drops: out_.names_rule_table = true; break;  // DROP SCHEMA … CASCADE, DROP OWNED
      case Word::resets: out_.resets_settings = true; break;
      case Word::pgsoftdelete: out_.mentions_pgsoftdelete = true; break;
      case Word::other:
        if (xml_reader(name)) out_.names_rule_table = true;
        break;
    }
  }

  void line_comment() {
    std::size_t start = i_;
    while (i_ < s_.size() && s_[i_] != '\n' && s_[i_] != '\r') ++i_;
    if (contains_pgsoftdelete(s_.substr(start, i_ - start))) out_.mentions_pgsoftdelete = true;
  }

  void block_comment() {  // PostgreSQL block comments nest
    std::size_t start = i_;
    int depth = 0;
    while (i_ < s_.size()) {
      if (at(i_) == '/' && at(i_ + 1) == '*') {
        ++depth;
        i_ += 2;
      } else if (at(i_) == '*' && at(i_ + 1) == '/') {
        i_ += 2;
        if (--depth == 0) break;
      } else {
        ++i_;
      }
    }
    if (depth != 0) out_.uncertain = true;
    if (contains_pgsoftdelete(s_.substr(start, i_ - start))) out_.mentions_pgsoftdelete = true;
  }

  void identifier() {
    std::size_t start = i_;
    bool upper = false;
    while (i_ < s_.size() && ident_cont(at(i_))) {
      upper = upper || (at(i_) >= 'A' && at(i_) <= 'Z');
      ++i_;
    }
    std::string_view name = s_.substr(start, i_ - start);
    if (name.size() == 2 && (name[0] == 'd' || name[0] == 'D') && (name[1] == 'o' || name[1] == 'O')) out_.has_do = true;
    if (!upper) return check_name(name);
    // PostgreSQL folds ASCII letters only (UTF-8 server encoding).
    buffer_.assign(name);
    for (auto& ch : buffer_)
      if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
    check_name(buffer_);
  }

  void quoted_identifier() {  // at the opening "
    ++i_;
    buffer_.clear();
    for (;;) {
      if (i_ >= s_.size()) {
        out_.uncertain = true;
        return;
      }
      char ch = s_[i_++];
      if (ch == '"') {
        if (at(i_) == '"') {
          buffer_.push_back('"');
          ++i_;
          continue;
        }
        break;
      }
      buffer_.push_back(ch);
    }
    check_name(buffer_);
  }

  void quoted_string(bool backslash_escapes) {  // at the opening '
    ++i_;
    for (;;) {
      if (i_ >= s_.size()) {
        out_.uncertain = true;
        return;
      }
      char ch = s_[i_++];
      if (backslash_escapes && ch == '\\') {
        ++i_;
      } else if (ch == '\'') {
        if (at(i_) == '\'') {
          ++i_;
          continue;
        }
        return;
      }
    }
  }

  AtomKind dollar() {  // at '$': a parameter $n or a dollar-quoted string
    if (is_digit(at(i_ + 1))) {
      ++i_;
      while (is_digit(at(i_))) ++i_;
      if (ident_cont(at(i_))) out_.uncertain = true;
      return AtomKind::word;
    }
    std::size_t j = i_ + 1;
    if (ident_start(at(j))) {
      ++j;
      while (dolq_cont(at(j))) ++j;
    }
    if (at(j) != '$') {
      out_.uncertain = true;
      ++i_;
      return AtomKind::word;
    }
    std::string_view tag = s_.substr(i_, j + 1 - i_);
    auto close = s_.find(tag, j + 1);
    if (close == std::string_view::npos) {
      out_.uncertain = true;
      i_ = s_.size();
    } else {
      i_ = close + tag.size();
    }
    return AtomKind::string_literal;
  }

  AtomKind number() {
    bool fractional = false;
    while (is_digit(at(i_))) ++i_;
    if (at(i_) == '.' && at(i_ + 1) != '.') {
      fractional = true;
      ++i_;
      while (is_digit(at(i_))) ++i_;
    }
    if ((at(i_) == 'e' || at(i_) == 'E') &&
        (is_digit(at(i_ + 1)) || ((at(i_ + 1) == '+' || at(i_ + 1) == '-') && is_digit(at(i_ + 2))))) {
      fractional = true;
      i_ += 2;
      while (is_digit(at(i_))) ++i_;
    }
    // Trailing junk, `1..2`, `0x1F` and friends: let the real parser decide.
    if (ident_cont(at(i_)) || at(i_) == '.') out_.uncertain = true;
    return fractional ? AtomKind::numeric : AtomKind::integer;
  }

  void operator_run() {
    std::size_t start = i_;
    while (op_char(at(i_))) {
      // A comment starting inside the run ends the operator, as in PostgreSQL.
      if (i_ > start && ((at(i_) == '-' && at(i_ + 1) == '-') || (at(i_) == '/' && at(i_ + 1) == '*'))) return;
      ++i_;
    }
  }

  /// table_to_xml, query_to_xml, schema_to_xml, database_to_xml and their siblings read tables by
  /// a name or SQL in a string: the walker must see them.
  static bool xml_reader(std::string_view name) {
    // Every such name has 7 bytes or more and starts with t, q, s or d: most identifiers stop here.
    if (name.size() < 7) return false;
    const char c = name[0];
    return (c == 't' || c == 'q' || c == 's' || c == 'd') && xml_reader_name(name);
  }
  [[gnu::noinline]] static bool xml_reader_name(std::string_view name) {
    if (name == "ts_stat" || name == "ts_rewrite") return true;  // they run SQL text too
    // "_to_xml" stands at byte 5 (table, query), 6 (schema) or 8 (database).
    if (name.size() < 12 || name.size() > 30 || (name[5] != '_' && name[6] != '_' && name[8] != '_')) return false;
    return name.starts_with("table_to_xml") || name.starts_with("query_to_xml") || name.starts_with("schema_to_xml") ||
           name.starts_with("database_to_xml");
  }

  std::string_view s_;
  const RuleSet& rules_;
  const ResolvedRules* related_;
  std::size_t relation_atom_ = static_cast<std::size_t>(-1);  // the atom right after FROM, JOIN…
  std::array<int, 16> from_depths_{};  // the depths of the FROM lists we are in, innermost last
  std::size_t from_count_ = 0;
  int depth_ = 0;
  LexResult& out_;
  std::size_t i_ = 0;
  std::string buffer_;
};

}  // namespace

void lex_sql(std::string_view sql, const RuleSet& rules, LexResult& out, const ResolvedRules* related) {
  out.clear();
  Lexer(sql, rules, out, related).run();
}

}  // namespace pgsoftdelete::rules
