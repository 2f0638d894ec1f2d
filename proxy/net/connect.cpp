// connect_within; see connect.hpp.
#include "net/connect.hpp"

#include <boost/asio/local/stream_protocol.hpp>
#include <algorithm>
#include <cstring>
#include <sys/socket.h>

namespace pgsoftdelete::proxy {

namespace {

using generic_endpoint = asio::generic::stream_protocol::endpoint;

/// Tries each resolved address in turn, as asio::async_connect does for a tcp::socket, until
/// `expired` (the caller's timer may fire between two steps, with nothing of ours to cancel).
awaitable<error_code> connect_tcp(Socket& socket, tcp::resolver& resolver, const Endpoint& endpoint,
                                  const bool& expired) {
  error_code ec;
  auto results = co_await resolver.async_resolve(endpoint.host, std::to_string(endpoint.port), no_throw(ec));
  if (ec) co_return ec;
  ec = asio::error::host_not_found;
  for (const auto& entry : results) {
    if (expired) break;
    error_code ignored;
    socket.close(ignored);
    co_await socket.async_connect(generic_endpoint(entry.endpoint()), no_throw(ec));
    if (!ec) break;
    if (ec == asio::error::operation_aborted || !socket.is_open()) break;  // timed out (the timer closed it)
  }
  // Small messages the server must see now (Execute + Flush of a cursor's next rows, a pipeline's
  // last message) are not held back by Nagle's algorithm.
  if (!ec) socket.set_option(tcp::no_delay(true), ec);
  co_return ec;
}

}  // namespace

awaitable<error_code> connect_within(Socket& socket, const Endpoint& endpoint, std::chrono::milliseconds timeout) {
  auto ex = co_await asio::this_coro::executor;
  tcp::resolver resolver(ex);
  asio::steady_timer timer(ex);
  bool expired = false;
  timer.expires_after(timeout);
  timer.async_wait([&](error_code ec) {
    if (ec) return;
    expired = true;
    resolver.cancel();
    error_code ignored;
    socket.close(ignored);
  });
  error_code ec;
  if (endpoint.is_unix())
    co_await socket.async_connect(generic_endpoint(asio::local::stream_protocol::endpoint(endpoint.unix_path)), no_throw(ec));
  else
    ec = co_await connect_tcp(socket, resolver, endpoint, expired);
  timer.cancel();
  // Let the cancelled wait finish before `timer` and `resolver` go out of scope.
  error_code ignored;
  timer.expires_at(asio::steady_timer::time_point::min());
  co_await timer.async_wait(no_throw(ignored));
  if (expired) ec = asio::error::timed_out;
  co_return ec;
}

bool is_tcp(const Socket& socket) {
  error_code ec;
  const auto local = socket.local_endpoint(ec);
  return !ec && (local.protocol().family() == AF_INET || local.protocol().family() == AF_INET6);
}

std::string describe_peer(const Socket& socket) {
  error_code ec;
  const auto peer = socket.remote_endpoint(ec);
  if (ec) return "unknown";
  const int family = peer.protocol().family();
  if (family == AF_UNIX) return "unix socket";
  if (family != AF_INET && family != AF_INET6) return "unknown";
  tcp::endpoint address;
  std::memcpy(address.data(), peer.data(), std::min<std::size_t>(peer.size(), sizeof(sockaddr_in6)));
  address.resize(peer.size());
  return address.address().to_string() + ":" + std::to_string(address.port());
}

}  // namespace pgsoftdelete::proxy
