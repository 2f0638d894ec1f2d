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

/// Bind (F): only the names are decoded; parameters and formats stay as bytes, so a Bind can be
/// re-encoded for another statement name without touching its values.
struct Bind {
  std::string portal;
  std::string statement;
  std::string rest;  ///< everything after the two names, as on the wire
};

/// Describe (F) and Close (F): a statement ('S') or a portal ('P') by name.
struct Describe {
  char target = 'S';
  std::string name;
};
struct Close {
  char target = 'S';
  std::string name;
};

/// Execute (F).
struct Execute {
  std::string portal;
  std::uint32_t max_rows = 0;  ///< 0: all
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
std::expected<Bind, DecodeError> decode_bind(std::string_view body);
std::expected<Describe, DecodeError> decode_describe(std::string_view body);
std::expected<Close, DecodeError> decode_close(std::string_view body);
std::expected<Execute, DecodeError> decode_execute(std::string_view body);
std::expected<CommandComplete, DecodeError> decode_command_complete(std::string_view body);
std::expected<ReadyForQuery, DecodeError> decode_ready_for_query(std::string_view body);
std::expected<ErrorFields, DecodeError> decode_error_fields(std::string_view body);

/// Encoders append one whole message (type byte, length, body) to `out`.
void encode(const Query& m, std::string& out);
void encode(const Parse& m, std::string& out);
void encode(const Bind& m, std::string& out);
void encode(const Describe& m, std::string& out);
void encode(const Close& m, std::string& out);
void encode(const CommandComplete& m, std::string& out);
void encode(const ReadyForQuery& m, std::string& out);
void encode_error_response(const ErrorFields& m, std::string& out);
void encode_notice_response(const ErrorFields& m, std::string& out);

/// Appends a message of `type` whose body is `body`.
void encode_raw(char type, std::string_view body, std::string& out);

}  // namespace pgsoftdelete::proxy::codec
