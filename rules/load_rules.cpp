// TOML (toml++) -> RuleSet, validating every key; toml++ exceptions stop here.
#include "rules/load_rules.hpp"

#include <atomic>
#include <fstream>
#include <set>
#include <sstream>
#include <toml++/toml.h>

#include "parser/parse.hpp"
#include "rules/identifier.hpp"

namespace pgsoftdelete::rules {
namespace {

std::atomic<std::uint64_t> next_version{1};

struct Fail {
  int line;
  std::string message;
};

int line_of(const toml::node& n) { return static_cast<int>(n.source().begin.line); }

std::string describe_table(std::string_view where) { return std::string(where); }

// Rejects keys of `table` not in `allowed`.
void check_keys(const toml::table& table, std::initializer_list<std::string_view> allowed, std::string_view where) {
  for (const auto& [key, value] : table) {
    bool ok = false;
    for (auto a : allowed) ok = ok || key.str() == a;
    if (!ok)
      throw Fail{static_cast<int>(key.source().begin.line) ? static_cast<int>(key.source().begin.line)
                                                           : line_of(value),
                 "unknown key '" + std::string(key.str()) + "' in " + describe_table(where)};
  }
}

std::string get_string(const toml::node& n, std::string_view key) {
  if (auto s = n.value<std::string>(); s && n.is_string()) return *s;
  throw Fail{line_of(n), "'" + std::string(key) + "' must be a string"};
}

DeletedKind get_kind(const toml::node& n) {
  auto s = get_string(n, "kind");
  if (s == "flag") return DeletedKind::flag;
  if (s == "timestamp") return DeletedKind::timestamp;
  throw Fail{line_of(n), "'kind' must be \"flag\" or \"timestamp\", not \"" + s + "\""};
}

std::string get_column(const toml::node& n) {
  auto s = get_string(n, "column");
  auto id = parse_identifier(s);
  if (!id) throw Fail{line_of(n), "bad identifier for 'column': " + s};
  return *id;
}

Policy get_policy(const toml::node& n, std::string_view key) {
  auto s = get_string(n, key);
  if (s == "reject") return Policy::reject;
  if (s == "allow") return Policy::allow;
  throw Fail{line_of(n), "'" + std::string(key) + "' must be \"reject\" or \"allow\", not \"" + s + "\""};
}

UserList get_users(const toml::node& n, std::string_view key) {
  const auto* arr = n.as_array();
  if (!arr) throw Fail{line_of(n), "'" + std::string(key) + "' must be an array of user names"};
  UserList list;
  list.users.clear();
  for (const auto& u : *arr) list.users.push_back(get_string(u, key));
  return list;
}

// An assignment value must be exactly one SQL expression: checked by parsing `UPDATE t SET c = <expr>`.
std::vector<ExtraAssignment> get_assignments(const toml::node& n) {
  const auto* tbl = n.as_table();
  if (!tbl) throw Fail{line_of(n), "'on_delete_set' must be a table of column = \"SQL expression\""};
  std::vector<ExtraAssignment> out;
  for (const auto& [key, value] : *tbl) {
    auto column = parse_identifier(key.str());
    if (!column) throw Fail{line_of(value), "bad identifier in 'on_delete_set': " + std::string(key.str())};
    auto expr = get_string(value, key.str());
    auto tree = parser::parse("UPDATE t SET c = " + expr);
    bool single = tree && tree->result.stmts_size() == 1 && tree->result.stmts(0).stmt().has_update_stmt();
    if (single) {
      const auto& u = tree->result.stmts(0).stmt().update_stmt();
      single = u.target_list_size() == 1 && !u.has_where_clause() && u.from_clause_size() == 0 &&
               u.returning_list_size() == 0;
    }
    if (!single)
      throw Fail{line_of(value), "'on_delete_set." + std::string(key.str()) + "' is not a single SQL expression: " + expr};
    out.push_back({*column, expr});
  }
  return out;
}

std::shared_ptr<const RuleSet> build(const toml::table& root) {
  check_keys(root, {"column", "kind", "on_delete_set", "policy", "hints", "table"}, "the top level");
  std::string default_column = "is_deleted";
  DeletedKind default_kind = DeletedKind::flag;
  std::vector<ExtraAssignment> default_set;
  if (auto n = root.get("column")) default_column = get_column(*n);
  if (auto n = root.get("kind")) default_kind = get_kind(*n);
  if (auto n = root.get("on_delete_set")) default_set = get_assignments(*n);

  Policy truncate = Policy::reject, merge = Policy::reject, foreign_keys = Policy::reject, ddl = Policy::reject;
  Cascade cascade = Cascade::foreign_keys;
  if (auto n = root.get("policy")) {
    const auto* t = n->as_table();
    if (!t) throw Fail{line_of(*n), "'policy' must be a table"};
    check_keys(*t, {"truncate", "merge", "foreign_key_actions", "ddl", "cascade"}, "[policy]");
    if (auto v = t->get("truncate")) truncate = get_policy(*v, "truncate");
    if (auto v = t->get("merge")) merge = get_policy(*v, "merge");
    if (auto v = t->get("foreign_key_actions")) foreign_keys = get_policy(*v, "foreign_key_actions");
    if (auto v = t->get("ddl")) ddl = get_policy(*v, "ddl");
    if (auto v = t->get("cascade")) {
      auto s = get_string(*v, "cascade");
      if (s == "off") cascade = Cascade::off;
      else if (s != "foreign_keys")
        throw Fail{line_of(*v), "'cascade' must be \"foreign_keys\" or \"off\", not \"" + s + "\""};
    }
  }
  UserList skip_users, hard_delete_users;
  if (auto n = root.get("hints")) {
    const auto* t = n->as_table();
    if (!t) throw Fail{line_of(*n), "'hints' must be a table"};
    check_keys(*t, {"skip_users", "hard_delete_users"}, "[hints]");
    if (auto v = t->get("skip_users")) skip_users = get_users(*v, "skip_users");
    if (auto v = t->get("hard_delete_users")) hard_delete_users = get_users(*v, "hard_delete_users");
  }

  std::vector<TableRule> tables;
  if (auto n = root.get("table")) {
    const auto* arr = n->as_array();
    if (!arr) throw Fail{line_of(*n), "'table' must be an array of tables: write [[table]]"};
    for (const auto& entry : *arr) {
      const auto* t = entry.as_table();
      if (!t) throw Fail{line_of(entry), "each [[table]] entry must be a table"};
      check_keys(*t, {"name", "column", "kind", "on_delete_set"}, "[[table]]");
      const auto* name_node = t->get("name");
      if (!name_node) throw Fail{line_of(entry), "[[table]] entry without 'name'"};
      auto name_text = get_string(*name_node, "name");
      auto qn = parse_qualified_name(name_text);
      if (!qn) throw Fail{line_of(*name_node), "bad identifier for 'name': " + name_text};
      TableRule rule;
      rule.schema = qn->schema;
      rule.name = qn->name;
      rule.column = default_column;
      rule.kind = default_kind;
      rule.on_delete_set = default_set;
      rule.line = line_of(*name_node);
      if (auto v = t->get("column")) rule.column = get_column(*v);
      if (auto v = t->get("kind")) rule.kind = get_kind(*v);
      if (auto v = t->get("on_delete_set")) rule.on_delete_set = get_assignments(*v);
      for (const auto& other : tables) {
        if (other.name != rule.name) continue;
        if (other.schema == rule.schema)
          throw Fail{rule.line, "duplicate table " + rule.display_name() + " (first at line " +
                                    std::to_string(other.line) + ")"};
        // An unqualified reference may mean either table: both must be filtered the same way.
        if (other.column != rule.column || other.kind != rule.kind)
          throw Fail{rule.line, "tables named " + rule.display_name() + " in several schemas must use the same column and kind (see line " +
                                    std::to_string(other.line) + ")"};
      }
      tables.push_back(std::move(rule));
    }
  }
  return std::make_shared<const RuleSet>(std::move(tables), truncate, merge, std::move(skip_users),
                                         std::move(hard_delete_users), next_version.fetch_add(1), foreign_keys, ddl,
                                         cascade);
}

}  // namespace

std::string LoadError::to_string() const {
  return file + (line > 0 ? ":" + std::to_string(line) : std::string()) + ": " + message;
}

std::expected<std::shared_ptr<const RuleSet>, LoadError> load_rules_from_string(std::string_view toml_text,
                                                                                std::string_view file_name) {
  try {
    auto root = toml::parse(toml_text, file_name);
    return build(root);
  } catch (const toml::parse_error& e) {
    return std::unexpected(LoadError{std::string(file_name), static_cast<int>(e.source().begin.line),
                                     std::string(e.description())});
  } catch (const Fail& f) {
    return std::unexpected(LoadError{std::string(file_name), f.line, f.message});
  } catch (const std::exception& e) {
    return std::unexpected(LoadError{std::string(file_name), 0, e.what()});
  }
}

std::expected<std::shared_ptr<const RuleSet>, LoadError> load_rules(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::unexpected(LoadError{path.string(), 0, "cannot open the rules file"});
  std::ostringstream text;
  text << in.rdbuf();
  return load_rules_from_string(text.str(), path.string());
}

}  // namespace pgsoftdelete::rules
