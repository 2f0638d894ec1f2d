// RuleSet lookups and the SQL fragments a rule contributes to rewrites.
#include "rules/rule_set.hpp"

#include <algorithm>

#include "rules/identifier.hpp"

namespace pgsoftdelete::rules {

std::string TableRule::display_name() const {
  if (!name_sql.empty()) return name_sql;
  return schema.empty() ? quote_identifier(name) : quote_identifier(schema) + "." + quote_identifier(name);
}

namespace {
std::string qualified_column(std::string_view qualifier, const std::string& column_sql) {
  std::string out;
  if (!qualifier.empty()) {
    out.append(qualifier);
    out.push_back('.');
  }
  out += column_sql;
  return out;
}

std::string sql_name(const std::string& precomputed, const std::string& name) {
  return precomputed.empty() ? quote_identifier(name) : precomputed;
}
}  // namespace

std::string TableRule::live_predicate(std::string_view qualifier) const {
  auto col = qualified_column(qualifier, sql_name(column_sql, column));
  return kind == DeletedKind::flag ? "NOT " + col : col + " IS NULL";
}

std::string TableRule::deleted_predicate(std::string_view qualifier) const {
  auto col = qualified_column(qualifier, sql_name(column_sql, column));
  return kind == DeletedKind::flag ? col : col + " IS NOT NULL";
}

std::vector<std::pair<std::string, std::string>> TableRule::delete_assignment_list() const {
  std::vector<std::pair<std::string, std::string>> out{
      {sql_name(column_sql, column), kind == DeletedKind::flag ? "true" : "now()"}};
  for (const auto& a : on_delete_set) out.emplace_back(sql_name(a.column_sql, a.column), a.expression);
  return out;
}

std::string TableRule::delete_assignments() const {
  std::string out;
  for (const auto& [column_sql, expression] : delete_assignment_list())
    out += (out.empty() ? "" : ", ") + column_sql + " = " + expression;
  return out;
}

bool UserList::allows(std::string_view user) const {
  return std::any_of(users.begin(), users.end(), [&](const std::string& u) { return u == "*" || u == user; });
}

RuleSet::RuleSet(std::vector<TableRule> tables, Policy truncate, Policy merge, UserList skip_users,
                 UserList hard_delete_users, std::uint64_t version, Policy foreign_key_actions, Policy ddl,
                 Cascade cascade)
    : tables_(std::move(tables)),
      truncate_(truncate),
      merge_(merge),
      foreign_key_actions_(foreign_key_actions),
      ddl_(ddl),
      cascade_(cascade),
      skip_users_(std::move(skip_users)),
      hard_delete_users_(std::move(hard_delete_users)),
      version_(version) {
  for (auto& rule : tables_) {
    rule.column_sql = quote_identifier(rule.column);
    rule.name_sql.clear();
    rule.name_sql = rule.display_name();
    for (auto& a : rule.on_delete_set) a.column_sql = quote_identifier(a.column);
  }
  for (std::size_t i = 0; i < tables_.size(); ++i) {
    const auto& name = tables_[i].name;
    by_name_[name].push_back(i);
    if (name.size() >= 64) long_names_ = true;
    else name_lengths_ |= std::uint64_t{1} << name.size();
  }
}

const TableRule* RuleSet::find(std::string_view schema, std::string_view name) const {
  auto it = by_name_.find(name);
  if (it == by_name_.end()) return nullptr;
  const TableRule* unqualified = nullptr;
  for (auto i : it->second) {
    const auto& rule = tables_[i];
    if (rule.schema.empty()) unqualified = &rule;
    else if (schema.empty() || schema == rule.schema) return &rule;
  }
  return unqualified;
}

}  // namespace pgsoftdelete::rules
