// RuleSet lookups and the SQL fragments a rule contributes to rewrites.
#include "rules/rule_set.hpp"

#include <algorithm>

#include "rules/identifier.hpp"

namespace pgsoftdelete::rules {

std::string TableRule::display_name() const {
  return schema.empty() ? quote_identifier(name) : quote_identifier(schema) + "." + quote_identifier(name);
}

namespace {
std::string qualified_column(std::string_view qualifier, const std::string& column) {
  std::string out;
  if (!qualifier.empty()) {
    out.append(qualifier);
    out.push_back('.');
  }
  out += quote_identifier(column);
  return out;
}
}  // namespace

std::string TableRule::live_predicate(std::string_view qualifier) const {
  auto col = qualified_column(qualifier, column);
  return kind == DeletedKind::flag ? "NOT " + col : col + " IS NULL";
}

std::string TableRule::deleted_predicate(std::string_view qualifier) const {
  auto col = qualified_column(qualifier, column);
  return kind == DeletedKind::flag ? col : col + " IS NOT NULL";
}

std::string TableRule::delete_assignments() const {
  std::string out = quote_identifier(column) + (kind == DeletedKind::flag ? " = true" : " = now()");
  for (const auto& a : on_delete_set) out += ", " + quote_identifier(a.column) + " = " + a.expression;
  return out;
}

bool UserList::allows(std::string_view user) const {
  return std::any_of(users.begin(), users.end(), [&](const std::string& u) { return u == "*" || u == user; });
}

RuleSet::RuleSet(std::vector<TableRule> tables, Policy truncate, Policy merge, UserList skip_users,
                 UserList hard_delete_users, std::uint64_t version)
    : tables_(std::move(tables)),
      truncate_(truncate),
      merge_(merge),
      skip_users_(std::move(skip_users)),
      hard_delete_users_(std::move(hard_delete_users)),
      version_(version) {
  for (std::size_t i = 0; i < tables_.size(); ++i) by_name_[tables_[i].name].push_back(i);
}

const TableRule* RuleSet::find(std::string_view schema, std::string_view name) const {
  auto it = by_name_.find(std::string(name));
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
