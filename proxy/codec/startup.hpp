// Startup-phase packets: untyped (length + code), sent before the typed message stream.
// https://www.postgresql.org/docs/15/protocol-flow.html#id-1.10.6.7.3
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "codec/frame.hpp"
#include "codec/protocol.hpp"

namespace pgsoftdelete::proxy::codec {

/// The kinds of packet a client may open a connection with.
enum class StartupKind {
  ssl_request,      ///< asks for TLS; answered with one byte, then a new packet follows
  gssenc_request,   ///< asks for GSSAPI encryption; likewise
  cancel_request,   ///< cancels a query of another connection; no answer
  startup_message,  ///< protocol 3.x: user, database and other parameters
};

/// A decoded startup-phase packet.
struct StartupPacket {
  StartupKind kind = StartupKind::startup_message;
  std::int32_t protocol = 0;  ///< for startup_message
  std::vector<std::pair<std::string, std::string>> parameters;  ///< for startup_message, in order
  std::uint32_t process_id = 0;  ///< for cancel_request
  std::uint32_t secret_key = 0;  ///< for cancel_request

  /// The value of a startup parameter, if present.
  [[nodiscard]] std::optional<std::string> parameter(std::string_view name) const;
};

struct StartupResult {
  DecodeStatus status = DecodeStatus::need_more;
  StartupPacket packet;
  std::size_t size = 0;  ///< bytes of the whole packet when ok, or needed in all when need_more
  std::string error;
};

/// Decodes one startup-phase packet from the front of `bytes`. Packets longer than
/// max_startup_packet_length, of unknown code, of a protocol other than 3.x, or with a parameter
/// given twice (names compared without case, as PostgreSQL compares settings) are malformed.
StartupResult decode_startup(std::string_view bytes);

/// Encodes a StartupMessage for protocol 3.0 (used by tests and the cancel path).
std::string encode_startup_message(const std::vector<std::pair<std::string, std::string>>& parameters,
                                   std::uint32_t protocol = startup_code::protocol_3_0);

/// Encodes a CancelRequest.
std::string encode_cancel_request(std::uint32_t process_id, std::uint32_t secret_key);

}  // namespace pgsoftdelete::proxy::codec
