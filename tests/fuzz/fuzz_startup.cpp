// fuzz_startup: arbitrary bytes as what a client sends before the typed message stream: packets decoded one
// after the other with codec::decode_startup, as Session does (SSLRequest/GSSENCRequest, then a new packet).
// A decoded StartupMessage re-encodes (encode_startup_message) to a packet of the same parameters, a
// CancelRequest (encode_cancel_request) to the same bytes; the hints in a StartupMessage
// (proxy/startup_hints.cpp) are read without crashing, and the packet without them (session_hints =
// "proxy") holds none.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "codec/protocol.hpp"
#include "codec/startup.hpp"
#include "codec/wire.hpp"
#include "fuzz_check.hpp"
#include "rules/load_rules.hpp"
#include "session/startup_hints.hpp"

namespace {

namespace codec = pgsoftdelete::proxy::codec;

const pgsoftdelete::rules::RuleSet& rules() {
  static const auto loaded = pgsoftdelete::rules::load_rules_from_string(R"(
[[table]]
name = "humans"

[hints]
skip_users = ["admin", "app"]
hard_delete_users = ["admin"]
)",
                                                                         "fuzz_startup.toml");
  FUZZ_CHECK(loaded.has_value());
  return **loaded;
}

void check_startup_message(const codec::StartupPacket& packet, std::string_view bytes) {
  FUZZ_CHECK((packet.protocol >> 16) == 3);
  for (const auto& [name, value] : packet.parameters) {
    FUZZ_CHECK(!name.empty());
    FUZZ_CHECK(name.find('\0') == std::string::npos && value.find('\0') == std::string::npos);
    FUZZ_CHECK(packet.parameter(name).has_value());
  }
  const std::string again = codec::encode_startup_message(packet.parameters);
  if (packet.protocol == codec::startup_code::protocol_3_0) FUZZ_CHECK(again == bytes);
  const auto back = codec::decode_startup(again);
  FUZZ_CHECK(back.status == codec::DecodeStatus::ok && back.size == again.size());
  FUZZ_CHECK(back.packet.kind == codec::StartupKind::startup_message);
  FUZZ_CHECK(back.packet.protocol == codec::startup_code::protocol_3_0);
  FUZZ_CHECK(back.packet.parameters == packet.parameters);

  // What Session does with the parameters next.
  (void)packet.parameter("user");
  (void)packet.parameter("database");
  (void)pgsoftdelete::proxy::wants_replication(packet);
  if (auto hints = pgsoftdelete::proxy::startup_hints(packet)) {
    (void)hints->to_string();
    (void)pgsoftdelete::proxy::check_hint_users(*hints, rules(), packet.parameter("user").value_or("app"));
    // session_hints = "proxy": what goes on decodes, and holds no hint the server would read.
    const std::string sent = pgsoftdelete::proxy::without_startup_hints(packet);
    const auto on = codec::decode_startup(sent);
    if (on.status == codec::DecodeStatus::ok) {
      const auto left = pgsoftdelete::proxy::startup_hints(on.packet);
      FUZZ_CHECK(left.has_value() && left->empty());
      FUZZ_CHECK(on.packet.parameters.size() <= packet.parameters.size());
    } else {
      FUZZ_CHECK(sent.size() > codec::max_startup_packet_length);  // escapes in options may lengthen it
    }
  } else {
    FUZZ_CHECK(!hints.error().sqlstate.empty() && !hints.error().message.empty());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  for (int packets = 0; packets < 16; ++packets) {
    const auto r = codec::decode_startup(input);
    if (r.status == codec::DecodeStatus::need_more) {
      // Must ask for more than is there, or the session would wait forever.
      FUZZ_CHECK(r.size > input.size() && r.size <= codec::max_startup_packet_length);
      return 0;
    }
    if (r.status == codec::DecodeStatus::malformed) {
      FUZZ_CHECK(!r.error.empty());
      return 0;
    }
    FUZZ_CHECK(r.size >= 8 && r.size <= input.size() && r.size <= codec::max_startup_packet_length);
    FUZZ_CHECK(codec::read_u32(input) == r.size);
    const std::string_view bytes = input.substr(0, r.size);
    switch (r.packet.kind) {
      case codec::StartupKind::ssl_request:
      case codec::StartupKind::gssenc_request:
        FUZZ_CHECK(r.size == 8);
        break;  // answered with one byte; another packet follows
      case codec::StartupKind::cancel_request:
        FUZZ_CHECK(codec::encode_cancel_request(r.packet.process_id, r.packet.secret_key) == bytes);
        return 0;
      case codec::StartupKind::startup_message:
        check_startup_message(r.packet, bytes);
        return 0;
    }
    input.remove_prefix(r.size);
  }
  return 0;
}
