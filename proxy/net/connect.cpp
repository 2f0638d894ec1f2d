// connect_within; see connect.hpp.
#include "net/connect.hpp"

#include <boost/asio/connect.hpp>

namespace pgsoftdelete::proxy {

awaitable<error_code> connect_within(tcp::socket& socket, const std::string& host, std::uint16_t port,
                                     std::chrono::milliseconds timeout) {
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
  auto endpoints = co_await resolver.async_resolve(host, std::to_string(port), no_throw(ec));
  if (!ec) co_await asio::async_connect(socket, endpoints, no_throw(ec));
  // Small messages the server must see now (Execute + Flush of a cursor's next rows, a pipeline's
  // last message) are not held back by Nagle's algorithm.
  if (!ec) socket.set_option(tcp::no_delay(true), ec);
  timer.cancel();
  // Let the cancelled wait finish before `timer` and `resolver` go out of scope.
  error_code ignored;
  timer.expires_at(asio::steady_timer::time_point::min());
  co_await timer.async_wait(no_throw(ignored));
  if (expired) ec = asio::error::timed_out;
  co_return ec;
}

}  // namespace pgsoftdelete::proxy
