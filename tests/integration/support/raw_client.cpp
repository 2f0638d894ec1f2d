// The raw protocol client for tests; see raw_client.hpp.
#include "support/raw_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <stdexcept>

#include "codec/protocol.hpp"
#include "codec/startup.hpp"
#include "codec/wire.hpp"

namespace pgsoftdelete::test {

RawClient::RawClient(std::uint16_t port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    throw std::runtime_error("cannot connect to port " + std::to_string(port));
}

RawClient::~RawClient() {
  if (fd_ >= 0) ::close(fd_);
}

void RawClient::send(const std::string& bytes) {
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    const auto n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return;  // the peer may have closed; tests check the outcome by reading
    sent += static_cast<std::size_t>(n);
  }
}

std::size_t RawClient::send_for(const std::string& bytes, int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd_, POLLOUT, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    const auto n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) continue;
    if (n <= 0) break;
    sent += static_cast<std::size_t>(n);
  }
  return sent;
}

bool RawClient::read_exact(char* out, std::size_t n, int timeout_ms) {
  std::size_t got = 0;
  while (got < n) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return false;
    const auto r = ::recv(fd_, out + got, n - got, 0);
    if (r <= 0) return false;
    got += static_cast<std::size_t>(r);
  }
  return true;
}

std::optional<RawMessage> RawClient::read(int timeout_ms) {
  char header[5];
  if (!read_exact(header, 5, timeout_ms)) return std::nullopt;
  const auto length = proxy::codec::read_u32(std::string_view(header + 1, 4));
  if (length < 4 || length > (1u << 30)) return std::nullopt;
  RawMessage m{header[0], std::string(length - 4, '\0')};
  if (!read_exact(m.body.data(), m.body.size(), timeout_ms)) return std::nullopt;
  return m;
}

std::optional<char> RawClient::read_byte(int timeout_ms) {
  char c = 0;
  if (!read_exact(&c, 1, timeout_ms)) return std::nullopt;
  return c;
}

bool RawClient::startup(const std::string& user) {
  send(proxy::codec::encode_startup_message({{"user", user}, {"database", "postgres"}}));
  for (;;) {
    auto m = read();
    if (!m || m->type == proxy::codec::backend::error_response) return false;
    if (m->type == proxy::codec::backend::ready_for_query) return true;
  }
}

bool RawClient::closed_by_peer(int timeout_ms) {
  char buf[4096];
  for (;;) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return false;
    const auto r = ::recv(fd_, buf, sizeof buf, 0);
    if (r <= 0) return true;
  }
}

void RawClient::reset() {
  linger l{1, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  ::close(fd_);
  fd_ = -1;
}

std::string sqlstate_of(const RawMessage& m) {
  if (m.type != proxy::codec::backend::error_response) return "";
  auto e = proxy::codec::decode_error_fields(m.body);
  return e ? std::string(e->sqlstate()) : "";
}

std::string message_of(const RawMessage& m) {
  auto e = proxy::codec::decode_error_fields(m.body);
  return e ? std::string(e->message()) : "";
}

}  // namespace pgsoftdelete::test
