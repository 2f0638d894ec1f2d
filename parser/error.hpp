// The project's error value: a SQLSTATE, a message and a cursor position, shared by parser/, rules/ and proxy/.
// See https://www.postgresql.org/docs/15/errcodes-appendix.html and protocol-error-fields.html.
#pragma once

#include <string>

namespace pgsoftdelete::parser {

/// SQLSTATE codes this project produces (PostgreSQL docs, Appendix A).
namespace sqlstate {
inline constexpr const char* syntax_error = "42601";           ///< the statement does not parse
inline constexpr const char* feature_not_supported = "0A000";  ///< rule table used in a way we cannot rewrite safely
inline constexpr const char* insufficient_privilege = "42501"; ///< hint used by a user the rules file does not allow
inline constexpr const char* invalid_parameter_value = "22023"; ///< a malformed pgsoftdelete hint
inline constexpr const char* internal_error = "XX000";         ///< a bug in the engine (never a silent pass-through)
}  // namespace sqlstate

/// An error to report to the client as an ErrorResponse (severity ERROR).
struct Error {
  std::string sqlstate;  ///< five-character SQLSTATE, e.g. "42601"
  std::string message;   ///< primary message (the M field)
  int position = 0;      ///< 1-based character offset into the statement as in the P field; 0 = none

  bool operator==(const Error&) const = default;
};

/// Shorthand constructors for the errors the engine raises.
Error syntax_error(std::string message, int position);
Error not_supported(std::string message);
Error internal_error(std::string message);

}  // namespace pgsoftdelete::parser
