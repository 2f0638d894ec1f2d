// Loading the TOML rules file into an immutable RuleSet; errors name the file, the line and the problem.
#pragma once

#include <expected>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "rules/rule_set.hpp"

namespace pgsoftdelete::rules {

/// Why a rules file was refused. A refused file is never partly applied.
struct LoadError {
  std::string file;     ///< the path as given
  int line = 0;         ///< 1-based line of the problem, 0 when unknown (e.g. file unreadable)
  std::string message;  ///< the problem, e.g. "unknown key 'colum' in [[table]]"

  /// "file:line: message", for logs.
  std::string to_string() const;
};

/// Reads and validates the rules file at `path`.
std::expected<std::shared_ptr<const RuleSet>, LoadError> load_rules(const std::filesystem::path& path);

/// Validates rules given as text; `file_name` is only used in error messages.
std::expected<std::shared_ptr<const RuleSet>, LoadError> load_rules_from_string(std::string_view toml_text,
                                                                                std::string_view file_name);

}  // namespace pgsoftdelete::rules
