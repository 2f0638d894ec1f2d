// Startup-phase packet decoding and encoding; see startup.hpp.
#include "codec/startup.hpp"

#include <fmt/format.h>

#include <cctype>

#include "codec/protocol.hpp"
#include "codec/wire.hpp"

namespace pgsoftdelete::proxy::codec {

std::optional<std::string> StartupPacket::parameter(std::string_view name) const {
  for (const auto& [key, value] : parameters)
    if (key == name) return value;
  return std::nullopt;
}

namespace {

StartupResult malformed(std::string error) {
  StartupResult r;
  r.status = DecodeStatus::malformed;
  r.error = std::move(error);
  return r;
}

/// Keys compared as PostgreSQL compares setting names (ASCII case folded), so that `user` and
/// `USER`, or `search_path` and `Search_Path`, count as the same key.
bool same_key(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

}  // namespace

StartupResult decode_startup(std::string_view bytes) {
  StartupResult r;
  if (bytes.size() < 4) {
    r.size = 4;
    return r;
  }
  const std::uint32_t length = read_u32(bytes);
  if (length < 8 || length > max_startup_packet_length)
    return malformed(fmt::format("invalid startup packet length {}", length));
  if (bytes.size() < length) {
    r.size = length;
    return r;
  }
  Reader body(bytes.substr(4, length - 4));
  const auto code = static_cast<std::int32_t>(*body.u32());
  r.size = length;
  switch (code) {
    case startup_code::ssl_request:
    case startup_code::gssenc_request:
      if (length != 8) return malformed(fmt::format("invalid length {} for an encryption request", length));
      r.packet.kind = code == startup_code::ssl_request ? StartupKind::ssl_request : StartupKind::gssenc_request;
      break;
    case startup_code::cancel_request: {
      if (length != 16) return malformed(fmt::format("invalid length {} for a cancel request", length));
      r.packet.kind = StartupKind::cancel_request;
      r.packet.process_id = *body.u32();
      r.packet.secret_key = *body.u32();
      break;
    }
    default: {
      if ((code >> 16) != 3)
        return malformed(fmt::format("unsupported frontend protocol {}.{}", code >> 16, code & 0xffff));
      r.packet.kind = StartupKind::startup_message;
      r.packet.protocol = code;
      // Name/value pairs, then a single NUL.
      for (;;) {
        auto name = body.cstring();
        if (!name) return malformed("startup packet is not terminated");
        if (name->empty()) break;
        auto value = body.cstring();
        if (!value) return malformed(fmt::format("startup parameter \"{}\" has no value", *name));
        // PostgreSQL keeps the last of a repeated key while a reader here may take the first:
        // who logs in, and with which settings, must mean one thing to both.
        for (const auto& [seen, ignored] : r.packet.parameters)
          if (same_key(seen, *name)) return malformed(fmt::format("startup parameter \"{}\" given twice", *name));
        r.packet.parameters.emplace_back(*name, *value);
      }
      if (!body.empty()) return malformed("unexpected bytes after the startup parameters");
    }
  }
  r.status = DecodeStatus::ok;
  return r;
}

std::string encode_startup_message(const std::vector<std::pair<std::string, std::string>>& parameters,
                                   std::uint32_t protocol) {
  std::string out(4, '\0');
  put_u32(out, protocol);
  for (const auto& [name, value] : parameters) {
    put_cstring(out, name);
    put_cstring(out, value);
  }
  out.push_back('\0');
  std::string length;
  put_u32(length, static_cast<std::uint32_t>(out.size()));
  out.replace(0, 4, length);
  return out;
}

std::string encode_cancel_request(std::uint32_t process_id, std::uint32_t secret_key) {
  std::string out;
  put_u32(out, 16);
  put_u32(out, static_cast<std::uint32_t>(startup_code::cancel_request));
  put_u32(out, process_id);
  put_u32(out, secret_key);
  return out;
}

}  // namespace pgsoftdelete::proxy::codec
