// The misbehaving fake server; see fake_upstream.hpp.
#include "support/fake_upstream.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

#include "codec/messages.hpp"
#include "codec/wire.hpp"

namespace pgsoftdelete::test {

namespace {

bool read_exact(int fd, char* out, std::size_t n, int timeout_ms) {
  std::size_t got = 0;
  while (got < n) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return false;
    const auto r = ::recv(fd, out + got, n - got, 0);
    if (r <= 0) return false;
    got += static_cast<std::size_t>(r);
  }
  return true;
}

}  // namespace

std::optional<std::string> FakeConnection::read_startup() {
  for (;;) {
    char length[4];
    if (!read_exact(fd_, length, 4, 10000)) return std::nullopt;
    const auto n = proxy::codec::read_u32(std::string_view(length, 4));
    if (n < 8 || n > 10000) return std::nullopt;
    std::string packet(length, 4);
    packet.resize(n);
    if (!read_exact(fd_, packet.data() + 4, n - 4, 10000)) return std::nullopt;
    if (n == 8 && proxy::codec::read_u32(std::string_view(packet).substr(4)) == 80877103) {
      send("N");  // SSLRequest: no TLS here
      continue;
    }
    return packet;
  }
}

std::optional<std::pair<char, std::string>> FakeConnection::read_message(int timeout_ms) {
  char header[5];
  if (!read_exact(fd_, header, 5, timeout_ms)) return std::nullopt;
  const auto n = proxy::codec::read_u32(std::string_view(header + 1, 4));
  if (n < 4 || n > (64u << 20)) return std::nullopt;
  std::string body(n - 4, '\0');
  if (!read_exact(fd_, body.data(), body.size(), timeout_ms)) return std::nullopt;
  return std::make_pair(header[0], std::move(body));
}

void FakeConnection::send(const std::string& bytes) {
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    const auto n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return;
    sent += static_cast<std::size_t>(n);
  }
}

void FakeConnection::login_ok() {
  namespace codec = proxy::codec;
  std::string out;
  codec::encode_raw('R', std::string(4, '\0'), out);
  for (auto [name, value] : {std::pair{"server_encoding", "UTF8"}, std::pair{"client_encoding", "UTF8"},
                             std::pair{"standard_conforming_strings", "on"}}) {
    std::string body;
    codec::put_cstring(body, name);
    codec::put_cstring(body, value);
    codec::encode_raw('S', body, out);
  }
  codec::encode_raw('K', std::string(8, '\1'), out);
  codec::encode(codec::ReadyForQuery{'I'}, out);
  send(out);
}

bool FakeConnection::wait_closed(int timeout_ms) {
  char buf[4096];
  for (;;) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return false;
    if (::recv(fd_, buf, sizeof buf, 0) <= 0) return true;
  }
}

FakeUpstream::FakeUpstream(Script script) : script_(std::move(script)) {
  listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listener_, 16) != 0)
    throw std::runtime_error("fake upstream: cannot listen");
  socklen_t len = sizeof addr;
  ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { serve(); });
}

FakeUpstream::~FakeUpstream() {
  stopping_ = true;
  ::shutdown(listener_, SHUT_RDWR);
  ::close(listener_);
  thread_.join();
  for (auto& t : connections_) t.join();
}

void FakeUpstream::serve() {
  while (!stopping_) {
    const int fd = ::accept(listener_, nullptr, nullptr);
    if (fd < 0) return;
    ++accepted_;
    connections_.emplace_back([this, fd] {
      FakeConnection c(fd);
      script_(c);
      ::close(fd);
    });
  }
}

}  // namespace pgsoftdelete::test
