// Text and JSON output of the schema doctor; see doctor_report.hpp.
#include "ops/doctor_report.hpp"

#include <fmt/format.h>


namespace pgsoftdelete::proxy::doctor {

namespace {

constexpr const char* design_section = "README.md, section \"Designing tables for soft delete\"";

struct Counts {
  std::size_t error = 0, warning = 0, info = 0;
};

Counts count(const std::vector<Finding>& findings) {
  Counts c;
  for (const auto& f : findings) {
    switch (f.severity) {
      case Severity::error: ++c.error; break;
      case Severity::warning: ++c.warning; break;
      case Severity::info: ++c.info; break;
    }
  }
  return c;
}

std::string indent(const std::string& text, const std::string& prefix) {
  std::string out = prefix;
  for (char c : text) {
    out.push_back(c);
    if (c == '\n') out += prefix;
  }
  return out;
}

}  // namespace

std::string json_string(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        // Other control characters must be escaped; bytes from 0x80 up are UTF-8 (the connection's
        // client_encoding) and pass as they are.
        if (static_cast<unsigned char>(c) < 0x20) out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
        else out.push_back(c);
    }
  }
  out.push_back('"');
  return out;
}

std::string format_text(const std::vector<Finding>& findings, const std::vector<std::string>& databases) {
  std::string out;
  for (const auto& f : findings) {
    out += fmt::format("[{}] {}: {} (rule {}): {}\n", to_string(f.severity), f.database,
                       f.table.value_or("no table"), f.rule, f.check);
    out += indent(f.message, "    ") + "\n";
    if (f.fix) out += "    fix:\n" + indent(*f.fix, "      ") + "\n";
    if (f.see_design) out += std::string("    see ") + design_section + "\n";
    out += "\n";
  }
  const auto c = count(findings);
  std::string names;
  for (const auto& d : databases) names += (names.empty() ? "" : ", ") + d;
  out += fmt::format("pgsoftdelete doctor: {} error{}, {} warning{}, {} info in {} ({})\n", c.error,
                     c.error == 1 ? "" : "s", c.warning, c.warning == 1 ? "" : "s", c.info,
                     databases.size() == 1 ? "1 database" : fmt::format("{} databases", databases.size()), names);
  return out;
}

std::string format_json(const std::vector<Finding>& findings, const std::vector<std::string>& databases) {
  std::string out = "{\"findings\": [";
  for (std::size_t i = 0; i < findings.size(); ++i) {
    const auto& f = findings[i];
    out += i == 0 ? "\n  " : ",\n  ";
    out += fmt::format(
        "{{\"check\": {}, \"database\": {}, \"fix\": {}, \"message\": {}, \"rule\": {}, \"severity\": {}, "
        "\"table\": {}}}",
        json_string(f.check), json_string(f.database), f.fix ? json_string(*f.fix) : "null", json_string(f.message),
        json_string(f.rule), json_string(to_string(f.severity)), f.table ? json_string(*f.table) : "null");
  }
  out += findings.empty() ? "]," : "\n],";
  const auto c = count(findings);
  out += fmt::format("\n\"summary\": {{\"databases\": {}, \"error\": {}, \"info\": {}, \"warning\": {}}}}}\n",
                     databases.size(), c.error, c.info, c.warning);
  return out;
}

int exit_code(const std::vector<Finding>& findings, bool strict) {
  const auto c = count(findings);
  if (c.error > 0) return 2;
  if (strict && c.warning > 0) return 1;
  return 0;
}

}  // namespace pgsoftdelete::proxy::doctor
