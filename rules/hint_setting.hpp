// Recognising SET/RESET pgsoftdelete.* and RESET ALL / DISCARD ALL in a parsed statement.
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <string_view>

#include "parser/error.hpp"
#include "parser/json_tree.hpp"
#include "rules/hints.hpp"
#include "rules/rule_set.hpp"

namespace pgsoftdelete::rules {

/// The hint setting made by the statement node `stmt` (a Node wrapper in `tree`), nullopt when it makes none.
/// Errors: 22023 (unknown pgsoftdelete.* name, bad table list), 42501 (user may not set it), 0A000.
std::expected<std::optional<HintSetting>, parser::Error> hint_setting_of(const parser::JsonTree& tree, std::uint32_t stmt,
                                                                         const RuleSet& rules, std::string_view user);

}  // namespace pgsoftdelete::rules
