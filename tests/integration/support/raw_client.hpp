// A client that speaks the protocol byte by byte over a blocking socket, for what libpq will
// not send: garbage, oversized messages, abrupt closes. It reads replies with the proxy's codec.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "codec/messages.hpp"

namespace pgsoftdelete::test {

/// One message read back: its type and body.
struct RawMessage {
  char type = 0;
  std::string body;
};

class RawClient {
 public:
  /// Connects to 127.0.0.1:port; throws on failure.
  explicit RawClient(std::uint16_t port);
  ~RawClient();
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  void send(const std::string& bytes);
  /// Sends what the peer takes within `timeout_ms` without ever blocking longer; the bytes sent.
  std::size_t send_for(const std::string& bytes, int timeout_ms);
  /// Sends a StartupMessage and reads until ReadyForQuery (trust authentication); false if
  /// anything else happens.
  bool startup(const std::string& user = "postgres");
  /// The next typed message, or nothing at EOF or after `timeout_ms`.
  std::optional<RawMessage> read(int timeout_ms = 5000);
  /// Reads one byte (the answer to an SSLRequest).
  std::optional<char> read_byte(int timeout_ms = 5000);
  /// True if the peer closed the connection within `timeout_ms` (reading and dropping any data).
  bool closed_by_peer(int timeout_ms = 5000);
  /// Closes the socket abruptly (RST), as a crashed client would.
  void reset();

 private:
  bool read_exact(char* out, std::size_t n, int timeout_ms);
  int fd_ = -1;
};

/// The SQLSTATE of an ErrorResponse body ("" if it is not one).
std::string sqlstate_of(const RawMessage& m);
/// The message field of an ErrorResponse body.
std::string message_of(const RawMessage& m);

}  // namespace pgsoftdelete::test
