// Shared fixtures for the engine tests: the standard rules (humans: flag, aliens: timestamp) and helpers.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "rules/engine.hpp"
#include "rules/load_rules.hpp"

namespace pgsoftdelete::test {

/// The rules used by most tests: humans (is_deleted flag), aliens (deleted_at timestamp), public."Robots".
extern const char* const standard_rules_toml;

/// Loads TOML text that must be valid (fails the test otherwise).
std::shared_ptr<const rules::RuleSet> rules_from(std::string_view toml);
/// standard_rules_toml, loaded once.
std::shared_ptr<const rules::RuleSet> standard_rules();

/// parse + deparse, or "<error: …>" so a comparison fails readably.
std::string normalised(std::string_view sql);

/// Rewrites with the slow path only (no fast path, no cache): the rewriter's own answer; also checks that
/// locating splices with our lexer and with PostgreSQL's scanner agree.
std::expected<rules::RewriteResult, parser::Error> rewrite_slow(std::string_view sql, const rules::Hints& hints = {},
                                                                std::string_view user = "app");

}  // namespace pgsoftdelete::test
