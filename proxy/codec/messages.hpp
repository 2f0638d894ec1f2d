// The typed messages the proxy reads or writes itself, one struct each, named as in
// https://www.postgresql.org/docs/15/protocol-message-formats.html. Everything else is
// forwarded as bytes and never decoded.
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pgsoftdelete::proxy::codec {

/// Query (F): a simple-protocol query string, possibly several statements.
struct Query {
  std::string sql;
};

/// Parse (F): an extended-protocol statement to prepare.
struct Parse {
  std::string statement;  ///< empty for the unnamed statement
  std::string sql;
  std::vector<std::uint32_t> parameter_types;  ///< OIDs, 0 = unspecified
};

/// CommandComplete (B): the command tag, e.g. "DELETE 3".
struct CommandComplete {
  std::string tag;
};

/// ReadyForQuery (B).
struct ReadyForQuery {
  char status = 'I';  ///< see transaction_status
};

/// ErrorResponse or NoticeResponse (B): typed fields.
/// https://www.postgresql.org/docs/15/protocol-error-fields.html
struct ErrorFields {
  std::vector<std::pair<char, std::string>> fields;

  [[nodiscard]] std::optional<std::string_view> get(char code) const;
  [[nodiscard]] std::string_view sqlstate() const { return get('C').value_or(""); }
  [[nodiscard]] std::string_view message() const { return get('M').value_or(""); }

  /// An error with severity ERROR (or FATAL), SQLSTATE and message; position is 1-based, 0 for none.
  static ErrorFields make(std::string_view severity, std::string_view sqlstate, std::string_view message,
                          int position = 0);
};

/// Why a message body could not be decoded.
struct DecodeError {
  std::string reason;
};

std::expected<Query, DecodeError> decode_query(std::string_view body);
std::expected<Parse, DecodeError> decode_parse(std::string_view body);
std::expected<CommandComplete, DecodeError> decode_command_complete(std::string_view body);
std::expected<ReadyForQuery, DecodeError> decode_ready_for_query(std::string_view body);
std::expected<ErrorFields, DecodeError> decode_error_fields(std::string_view body);

/// Encoders append one whole message (type byte, length, body) to `out`.
void encode(const Query& m, std::string& out);
void encode(const Parse& m, std::string& out);
void encode(const CommandComplete& m, std::string& out);
void encode(const ReadyForQuery& m, std::string& out);
void encode_error_response(const ErrorFields& m, std::string& out);
void encode_notice_response(const ErrorFields& m, std::string& out);

/// Appends a message of `type` whose body is `body`.
void encode_raw(char type, std::string_view body, std::string& out);

}  // namespace pgsoftdelete::proxy::codec
