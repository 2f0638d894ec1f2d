// hint_setting_of: VariableSetStmt / DiscardStmt -> HintSetting, with the permission check.
#include "rules/hint_setting.hpp"

#include <string>

namespace pgsoftdelete::rules {
namespace {
parser::Error bad_setting(std::string message) {
  return parser::Error{parser::sqlstate::invalid_parameter_value, std::move(message), 0};
}
}  // namespace

std::expected<std::optional<HintSetting>, parser::Error> hint_setting_of(const parser::JsonTree& t, std::uint32_t stmt,
                                                                         const RuleSet& rules, std::string_view user) {
  if (auto d = t.get(stmt, "DiscardStmt")) {
    if (t.string(d, "target") != "DISCARD_ALL") return std::nullopt;
    return HintSetting{HintSetting::Action::reset_all, HintKind::skip, false, {}};
  }
  auto v = t.get(stmt, "VariableSetStmt");
  if (!v) return std::nullopt;
  auto kind = t.string(v, "kind");
  if (kind == "VAR_RESET_ALL") return HintSetting{HintSetting::Action::reset_all, HintKind::skip, false, {}};
  auto full_name = t.string(v, "name");
  constexpr std::string_view prefix = "pgsoftdelete.";
  if (!std::string_view(full_name).starts_with(prefix)) return std::nullopt;
  auto name = std::string_view(full_name).substr(prefix.size());
  HintSetting s;
  s.local = t.truth(v, "is_local");
  if (name == "skip") s.kind = HintKind::skip;
  else if (name == "only_deleted") s.kind = HintKind::only_deleted;
  else if (name == "hard_delete") s.kind = HintKind::hard_delete;
  else
    return std::unexpected(bad_setting("unrecognized pgsoftdelete setting \"" + full_name +
                                       "\" (expected pgsoftdelete.skip, pgsoftdelete.only_deleted or pgsoftdelete.hard_delete)"));
  if (kind == "VAR_SET_DEFAULT" || kind == "VAR_RESET") {
    s.action = HintSetting::Action::reset;
    return s;
  }
  if (kind != "VAR_SET_VALUE")
    return std::unexpected(parser::not_supported("pgsoftdelete." + std::string(name) + " cannot be set this way"));
  std::string list;
  if (auto args = t.get(v, "args")) {
    for (auto a = t.node(args).first; a != 0; a = t.node(a).next) {
      auto sval = t.get(t.get(t.get(a, "A_Const"), "sval"), "sval");
      if (!sval) return std::unexpected(bad_setting("pgsoftdelete." + std::string(name) + " takes a list of table names"));
      list += (list.empty() ? "" : ",") + t.string(sval);
    }
  }
  auto set = parse_table_set(list);
  if (!set) return std::unexpected(set.error());
  s.value = *set;
  bool allowed = s.value.empty() || (s.kind == HintKind::hard_delete ? rules.hard_delete_users().allows(user)
                                                                     : rules.skip_users().allows(user));
  if (!allowed)
    return std::unexpected(parser::Error{parser::sqlstate::insufficient_privilege,
                                         "user \"" + std::string(user) + "\" may not set pgsoftdelete." + std::string(name), 0});
  return s;
}

}  // namespace pgsoftdelete::rules
