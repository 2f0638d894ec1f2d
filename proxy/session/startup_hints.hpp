// Session hints given at connection time: `options=-c pgsoftdelete.skip=*` in a connection
// string, or pgsoftdelete.* sent directly as startup parameters.
#pragma once

#include <expected>

#include "codec/startup.hpp"
#include "parser/error.hpp"
#include "rules/hints.hpp"
#include "rules/rule_set.hpp"

namespace pgsoftdelete::proxy {

/// The hints in a StartupMessage (names read as the server reads them: any case, `-c` or `--`
/// in `options`, dashes for underscores there); 22023 when a value is not a valid table list,
/// 08P01 when a hint is set more than once.
std::expected<rules::Hints, parser::Error> startup_hints(const codec::StartupPacket& packet);

/// The StartupMessage to send the server when hints stay in the proxy: without the pgsoftdelete.*
/// hint parameters, and without their `-c` settings in `options` (dropped when nothing is left).
std::string without_startup_hints(const codec::StartupPacket& packet);

/// Whether the client asks for a replication connection (physical or logical): those read the
/// database below SQL (base backups, WAL, logical decoding), where no rule can apply.
bool wants_replication(const codec::StartupPacket& packet);

/// 42501 when `user` may not use one of the non-empty hints of `hints`.
std::expected<void, parser::Error> check_hint_users(const rules::Hints& hints, const rules::RuleSet& rules,
                                                    std::string_view user);

}  // namespace pgsoftdelete::proxy
