// SASL mechanism list editing; see auth.hpp.
#include "codec/auth.hpp"

#include <vector>

#include "codec/messages.hpp"
#include "codec/protocol.hpp"
#include "codec/wire.hpp"

namespace pgsoftdelete::proxy::codec {

std::optional<std::string> without_channel_binding(std::string_view body) {
  Reader r(body);
  auto code = r.u32();
  if (!code || *code != auth_sasl) return std::nullopt;
  std::vector<std::string_view> kept;
  bool dropped = false;
  for (;;) {
    auto mechanism = r.cstring();
    if (!mechanism) return std::nullopt;  // malformed: the client will say so
    if (mechanism->empty()) break;
    if (*mechanism == "SCRAM-SHA-256-PLUS") dropped = true;
    else kept.push_back(*mechanism);
  }
  if (!dropped || !r.empty()) return std::nullopt;
  std::string new_body;
  put_u32(new_body, auth_sasl);
  for (auto m : kept) put_cstring(new_body, m);
  new_body.push_back('\0');
  std::string out;
  encode_raw(backend::authentication, new_body, out);
  return out;
}

}  // namespace pgsoftdelete::proxy::codec
