// Session hints given at connection time: `options=-c pgsoftdelete.skip=*` in a connection
// string, or pgsoftdelete.* sent directly as startup parameters.
#pragma once

#include <expected>

#include "codec/startup.hpp"
#include "parser/error.hpp"
#include "rules/hints.hpp"
#include "rules/rule_set.hpp"

namespace pgsoftdelete::proxy {

/// The hints in a StartupMessage; 22023 when a value is not a valid table list.
std::expected<rules::Hints, parser::Error> startup_hints(const codec::StartupPacket& packet);

/// 42501 when `user` may not use one of the non-empty hints of `hints`.
std::expected<void, parser::Error> check_hint_users(const rules::Hints& hints, const rules::RuleSet& rules,
                                                    std::string_view user);

}  // namespace pgsoftdelete::proxy
