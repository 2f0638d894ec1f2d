// Decoding and encoding of the messages in messages.hpp.
#include "codec/messages.hpp"

#include <fmt/format.h>

#include "codec/protocol.hpp"
#include "codec/wire.hpp"

namespace pgsoftdelete::proxy::codec {

namespace {

std::unexpected<DecodeError> fail(std::string reason) { return std::unexpected(DecodeError{std::move(reason)}); }

/// Writes the header of a message whose body will be appended next; returns where its length goes.
std::size_t begin_message(char type, std::string& out) {
  out.push_back(type);
  const auto at = out.size();
  put_u32(out, 0);
  return at;
}

void end_message(std::size_t length_at, std::string& out) {
  const auto length = static_cast<std::uint32_t>(out.size() - length_at);
  std::string word;
  put_u32(word, length);
  out.replace(length_at, 4, word);
}

void encode_fields(char type, const ErrorFields& m, std::string& out) {
  const auto at = begin_message(type, out);
  for (const auto& [code, value] : m.fields) {
    out.push_back(code);
    put_cstring(out, value);
  }
  out.push_back('\0');
  end_message(at, out);
}

}  // namespace

std::optional<std::string_view> ErrorFields::get(char code) const {
  for (const auto& [c, value] : fields)
    if (c == code) return value;
  return std::nullopt;
}

ErrorFields ErrorFields::make(std::string_view severity, std::string_view sqlstate, std::string_view message,
                              int position) {
  ErrorFields e;
  e.fields.emplace_back('S', std::string(severity));
  e.fields.emplace_back('V', std::string(severity));
  e.fields.emplace_back('C', std::string(sqlstate));
  e.fields.emplace_back('M', std::string(message));
  if (position > 0) e.fields.emplace_back('P', std::to_string(position));
  return e;
}

std::expected<Query, DecodeError> decode_query(std::string_view body) {
  Reader r(body);
  auto sql = r.cstring();
  if (!sql || !r.empty()) return fail("invalid Query message");
  return Query{std::string(*sql)};
}

std::expected<Parse, DecodeError> decode_parse(std::string_view body) {
  Reader r(body);
  Parse m;
  auto name = r.cstring();
  auto sql = name ? r.cstring() : std::nullopt;
  auto count = sql ? r.u16() : std::nullopt;
  if (!count) return fail("invalid Parse message");
  m.statement = *name;
  m.sql = *sql;
  m.parameter_types.reserve(*count);
  for (std::uint16_t i = 0; i < *count; ++i) {
    auto oid = r.u32();
    if (!oid) return fail("invalid Parse message: parameter types cut short");
    m.parameter_types.push_back(*oid);
  }
  if (!r.empty()) return fail("invalid Parse message: trailing bytes");
  return m;
}

std::expected<Bind, DecodeError> decode_bind(std::string_view body) {
  Reader r(body);
  auto portal = r.cstring();
  auto statement = portal ? r.cstring() : std::nullopt;
  if (!statement) return fail("invalid Bind message");
  return Bind{std::string(*portal), std::string(*statement), std::string(r.rest())};
}

namespace {

/// Describe and Close share their layout: a target byte and a name.
template <class Message>
std::expected<Message, DecodeError> decode_target(std::string_view body, const char* what) {
  Reader r(body);
  auto target = r.byte();
  auto name = target ? r.cstring() : std::nullopt;
  if (!name || !r.empty() || (*target != 'S' && *target != 'P')) return fail(fmt::format("invalid {} message", what));
  return Message{*target, std::string(*name)};
}

}  // namespace

std::expected<Describe, DecodeError> decode_describe(std::string_view body) {
  return decode_target<Describe>(body, "Describe");
}

std::expected<Close, DecodeError> decode_close(std::string_view body) { return decode_target<Close>(body, "Close"); }

std::expected<Execute, DecodeError> decode_execute(std::string_view body) {
  Reader r(body);
  auto portal = r.cstring();
  auto rows = portal ? r.u32() : std::nullopt;
  if (!rows || !r.empty()) return fail("invalid Execute message");
  return Execute{std::string(*portal), *rows};
}

std::expected<CommandComplete, DecodeError> decode_command_complete(std::string_view body) {
  Reader r(body);
  auto tag = r.cstring();
  if (!tag || !r.empty()) return fail("invalid CommandComplete message");
  return CommandComplete{std::string(*tag)};
}

std::expected<ReadyForQuery, DecodeError> decode_ready_for_query(std::string_view body) {
  if (body.size() != 1) return fail("invalid ReadyForQuery message");
  const char s = body[0];
  if (s != transaction_status::idle && s != transaction_status::in_block && s != transaction_status::failed)
    return fail(fmt::format("invalid transaction status 0x{:02x}", static_cast<unsigned char>(s)));
  return ReadyForQuery{s};
}

std::expected<ErrorFields, DecodeError> decode_error_fields(std::string_view body) {
  Reader r(body);
  ErrorFields m;
  for (;;) {
    auto code = r.byte();
    if (!code) return fail("error fields are not terminated");
    if (*code == '\0') break;
    auto value = r.cstring();
    if (!value) return fail("error field is not terminated");
    m.fields.emplace_back(*code, std::string(*value));
  }
  if (!r.empty()) return fail("unexpected bytes after the error fields");
  return m;
}

// Query and Parse carry whole statements: sized once instead of grown while appending.
void encode(const Query& m, std::string& out) {
  out.reserve(out.size() + header_size + m.sql.size() + 1);
  const auto at = begin_message(frontend::query, out);
  put_cstring(out, m.sql);
  end_message(at, out);
}

void encode(const Parse& m, std::string& out) {
  out.reserve(out.size() + header_size + m.statement.size() + m.sql.size() + 4 + 4 * m.parameter_types.size());
  const auto at = begin_message(frontend::parse, out);
  put_cstring(out, m.statement);
  put_cstring(out, m.sql);
  put_u16(out, static_cast<std::uint16_t>(m.parameter_types.size()));
  for (auto oid : m.parameter_types) put_u32(out, oid);
  end_message(at, out);
}

void encode(const Bind& m, std::string& out) {
  const auto at = begin_message(frontend::bind, out);
  put_cstring(out, m.portal);
  put_cstring(out, m.statement);
  out.append(m.rest);
  end_message(at, out);
}

void encode(const Describe& m, std::string& out) {
  const auto at = begin_message(frontend::describe, out);
  out.push_back(m.target);
  put_cstring(out, m.name);
  end_message(at, out);
}

void encode(const Close& m, std::string& out) {
  const auto at = begin_message(frontend::close, out);
  out.push_back(m.target);
  put_cstring(out, m.name);
  end_message(at, out);
}

void encode(const CommandComplete& m, std::string& out) {
  const auto at = begin_message(backend::command_complete, out);
  put_cstring(out, m.tag);
  end_message(at, out);
}

void encode(const ReadyForQuery& m, std::string& out) {
  const auto at = begin_message(backend::ready_for_query, out);
  out.push_back(m.status);
  end_message(at, out);
}

void encode_error_response(const ErrorFields& m, std::string& out) { encode_fields(backend::error_response, m, out); }

void encode_notice_response(const ErrorFields& m, std::string& out) {
  encode_fields(backend::notice_response, m, out);
}

void encode_raw(char type, std::string_view body, std::string& out) {
  const auto at = begin_message(type, out);
  out.append(body);
  end_message(at, out);
}

}  // namespace pgsoftdelete::proxy::codec
