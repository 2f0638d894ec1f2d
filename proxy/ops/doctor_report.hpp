// The schema doctor's findings as text for people and as JSON for CI, and the exit code they make.
#pragma once

#include <string>
#include <vector>

#include "ops/doctor.hpp"

namespace pgsoftdelete::proxy::doctor {

/// Findings one after another (severity, where, message, fix, README section), then a summary line.
std::string format_text(const std::vector<Finding>& findings, const std::vector<std::string>& databases);

/// `{"findings": [{"check", "database", "fix", "message", "rule", "severity", "table"}, …],
///   "summary": {"databases", "error", "info", "warning"}}`: keys in that (sorted) order, one
/// finding per line, findings in diagnose()'s order database by database.
std::string format_json(const std::vector<Finding>& findings, const std::vector<std::string>& databases);

/// 2 with an error, 1 with a warning when `strict`, else 0.
int exit_code(const std::vector<Finding>& findings, bool strict);

/// `text` as a JSON string literal, quotes included.
std::string json_string(const std::string& text);

}  // namespace pgsoftdelete::proxy::doctor
