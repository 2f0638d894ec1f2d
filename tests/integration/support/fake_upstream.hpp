// A hand-written PostgreSQL server that misbehaves on purpose, for fault tests: it accepts
// connections on loopback and plays a script on each, in a thread of its own.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace pgsoftdelete::test {

/// One accepted connection, as the script sees it.
class FakeConnection {
 public:
  explicit FakeConnection(int fd) : fd_(fd) {}
  /// Reads the startup packet, answering an SSLRequest first with 'N'; nothing on EOF.
  std::optional<std::string> read_startup();
  /// Reads one typed message (type byte and body); nothing on EOF or after `timeout_ms`.
  std::optional<std::pair<char, std::string>> read_message(int timeout_ms = 10000);
  void send(const std::string& bytes);
  /// Sends AuthenticationOk, ParameterStatus of server_encoding and client_encoding,
  /// BackendKeyData and ReadyForQuery: a trust login.
  void login_ok();
  /// Waits until the peer closes (or `timeout_ms`); true if it did.
  bool wait_closed(int timeout_ms = 10000);

 private:
  int fd_;
};

class FakeUpstream {
 public:
  using Script = std::function<void(FakeConnection&)>;
  explicit FakeUpstream(Script script);
  ~FakeUpstream();
  FakeUpstream(const FakeUpstream&) = delete;
  FakeUpstream& operator=(const FakeUpstream&) = delete;

  [[nodiscard]] std::uint16_t port() const { return port_; }
  [[nodiscard]] std::string endpoint() const { return "127.0.0.1:" + std::to_string(port_); }
  /// Connections accepted so far.
  [[nodiscard]] int accepted() const { return accepted_; }

 private:
  void serve();
  Script script_;
  std::uint16_t port_ = 0;
  int listener_ = -1;
  std::atomic<int> accepted_{0};
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  std::vector<std::thread> connections_;
};

}  // namespace pgsoftdelete::test
