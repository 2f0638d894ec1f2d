// The schema doctor: matching rules to tables, the shared helpers, and diagnose() itself.
#include "ops/doctor.hpp"

#include <algorithm>
#include <memory>
#include <string_view>
#include <tuple>

#include "rules/catalog.hpp"
#include "rules/resolved_rules.hpp"

namespace pgsoftdelete::proxy::doctor {

const char* to_string(Severity s) {
  switch (s) {
    case Severity::info: return "info";
    case Severity::warning: return "warning";
    case Severity::error: return "error";
  }
  return "?";
}

std::vector<const rules::TableRule*> match_rules(const rules::RuleSet& rule_set, const std::vector<Table>& tables) {
  // The proxy's own resolution, so that the doctor never disagrees with it about which tables are
  // rule tables. The RuleSet outlives this call: a non-owning pointer is enough.
  auto catalog = std::make_shared<rules::Catalog>();
  for (const auto& t : tables)
    catalog->relations.push_back({.oid = t.oid, .schema = t.schema, .name = t.name, .kind = t.kind, .parents = t.parents});
  const rules::ResolvedRules resolved(std::shared_ptr<const rules::RuleSet>(std::shared_ptr<void>{}, &rule_set),
                                      catalog);
  const rules::SearchPath unknown;
  std::vector<const rules::TableRule*> out;
  out.reserve(tables.size());
  for (const auto& t : tables) out.push_back(resolved.resolve(t.schema, t.name, unknown).rule);
  return out;
}

int Context::table_index(std::uint32_t oid) const {
  const auto& tables = snapshot.tables;
  for (std::size_t i = 0; i < tables.size(); ++i)
    if (tables[i].oid == oid) return static_cast<int>(i);
  return -1;
}

Finding Context::finding(std::size_t table, std::string check, Severity severity, std::string message) const {
  const auto* rule = rule_of[table];
  return Finding{.database = snapshot.database,
                 .rule = rule->display_name(),
                 .rule_line = rule->line,
                 .table = snapshot.tables[table].sql,
                 .check = std::move(check),
                 .severity = severity,
                 .message = std::move(message)};
}

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

bool is_ident_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '$' ||
         static_cast<unsigned char>(c) >= 0x80;
}

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

/// Position of the parenthesis closing the one at `open`, skipping quoted text; npos if none.
std::size_t closing(std::string_view s, std::size_t open) {
  int depth = 0;
  for (std::size_t i = open; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '\'' || c == '"') {
      const auto end = s.find(c, i + 1);
      if (end == std::string_view::npos) return std::string_view::npos;
      i = end;
    } else if (c == '(') {
      ++depth;
    } else if (c == ')' && --depth == 0) {
      return i;
    }
  }
  return std::string_view::npos;
}

/// `s` without parentheses that wrap all of it.
std::string_view unwrap(std::string_view s) {
  s = trim(s);
  while (!s.empty() && s.front() == '(' && closing(s, 0) == s.size() - 1) s = trim(s.substr(1, s.size() - 2));
  return s;
}

/// The top-level AND terms of a deparsed expression.
std::vector<std::string_view> and_terms(std::string_view s) {
  s = unwrap(s);
  std::vector<std::string_view> out;
  int depth = 0;
  std::size_t start = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '\'' || c == '"') {
      const auto end = s.find(c, i + 1);
      if (end == std::string_view::npos) break;
      i = end;
    } else if (c == '(') {
      ++depth;
    } else if (c == ')') {
      --depth;
    } else if (depth == 0 && s.substr(i).starts_with(" AND ")) {
      out.push_back(unwrap(s.substr(start, i - start)));
      start = i + 5;
      i += 4;
    }
  }
  out.push_back(unwrap(s.substr(start)));
  return out;
}

}  // namespace

bool predicate_is_live(const std::string& predicate, const rules::TableRule& rule) {
  const std::string& col = rule.column_sql.empty() ? rule.column : rule.column_sql;
  for (auto term : and_terms(predicate)) {
    if (rule.kind == rules::DeletedKind::flag) {
      if (term == "NOT " + col || term == col + " = false") return true;
    } else if (term == col + " IS NULL") {
      return true;
    }
  }
  return false;
}

bool mentions_word(const std::string& text, const std::string& word) {
  if (word.empty()) return false;
  for (std::size_t i = 0; i + word.size() <= text.size(); ++i) {
    bool same = true;
    for (std::size_t k = 0; k < word.size() && same; ++k) same = lower(text[i + k]) == lower(word[k]);
    if (!same) continue;
    const bool start = i == 0 || !is_ident_char(text[i - 1]);
    const bool end = i + word.size() == text.size() || !is_ident_char(text[i + word.size()]);
    if (start && end) return true;
  }
  return false;
}

bool text_filters_live(const std::string& text, const rules::TableRule& rule) {
  // Lower case, quotes and parentheses dropped, runs of blanks made one space: `NOT (h."is_deleted")`
  // and `not h.is_deleted` read alike.
  std::string flat;
  for (char c : text) {
    if (c == '"' || c == '(' || c == ')') c = ' ';
    c = is_space(c) ? ' ' : lower(c);
    if (c == ' ' && (flat.empty() || flat.back() == ' ')) continue;
    flat.push_back(c);
  }
  std::string col;
  for (char c : rule.column) col.push_back(lower(c));
  for (std::size_t at = flat.find(col); at != std::string::npos; at = flat.find(col, at + 1)) {
    const std::size_t end = at + col.size();
    if ((at > 0 && is_ident_char(flat[at - 1])) || (end < flat.size() && is_ident_char(flat[end]))) continue;
    // What stands before the column, its qualifier skipped: `not h.` -> `not`.
    std::size_t before = at;
    if (before > 0 && flat[before - 1] == '.') {
      --before;
      while (before > 0 && is_ident_char(flat[before - 1])) --before;
    }
    const std::string_view head = trim(std::string_view(flat).substr(0, before));
    const std::string_view tail = trim(std::string_view(flat).substr(end));
    if (rule.kind == rules::DeletedKind::flag) {
      if ((head.ends_with(" not") || head == "not") || tail.starts_with("= false") || tail.starts_with("=false") ||
          tail.starts_with("is false"))
        return true;
    } else if (tail.starts_with("is null")) {
      return true;
    }
  }
  return false;
}

std::vector<Finding> diagnose(const rules::RuleSet& rule_set, const Snapshot& snapshot) {
  Context cx{.rules = rule_set, .snapshot = snapshot, .rule_of = match_rules(rule_set, snapshot.tables), .named = {}};
  for (std::size_t i = 0; i < snapshot.tables.size(); ++i) {
    const auto& t = snapshot.tables[i];
    cx.named.push_back(cx.rule_of[i] != nullptr && rule_set.find(t.schema, t.name) != nullptr);
  }

  std::vector<Finding> out;
  for (const auto& rule : rule_set.tables()) {
    const bool matched = std::any_of(cx.rule_of.begin(), cx.rule_of.end(), [&](auto* r) { return r == &rule; });
    if (matched) continue;
    out.push_back(Finding{
        .database = snapshot.database,
        .rule = rule.display_name(),
        .rule_line = rule.line,
        .table = std::nullopt,
        .check = "rule_no_table",
        .severity = Severity::warning,
        .message = "no table matches the rule " + rule.display_name() +
                   (rule.schema.empty() ? " in any schema" : "") +
                   ": a misspelt name, or a table not created yet (views, sequences and system tables do not count)",
        .fix = std::nullopt});
  }
  check_columns(cx, out);
  check_indexes(cx, out);
  check_foreign_keys(cx, out);
  check_readers(cx, out);

  // Stable for CI: by rule (file order), table, check, then message.
  std::stable_sort(out.begin(), out.end(), [](const Finding& a, const Finding& b) {
    return std::tie(a.rule_line, a.rule, a.table, a.check, a.message) <
           std::tie(b.rule_line, b.rule, b.table, b.check, b.message);
  });
  return out;
}

}  // namespace pgsoftdelete::proxy::doctor
