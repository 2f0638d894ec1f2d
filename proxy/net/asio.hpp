// The Boost.Asio names the proxy uses, in one place (Boost 1.74: no awaitable operators, no as_tuple).
#pragma once

#include <utility>  // Boost 1.74's awaitable.hpp uses std::exchange without including it

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace pgsoftdelete::proxy {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
/// A client's or the upstream's connection: TCP or a Unix-domain socket, one type for both.
using Socket = asio::generic::stream_protocol::socket;
using error_code = boost::system::error_code;
template <class T = void>
using awaitable = asio::awaitable<T>;
using asio::use_awaitable;

/// Completion token that stores the error in `ec` instead of throwing: routine failures
/// (EOF, reset, cancel) are not exceptional.
inline auto no_throw(error_code& ec) { return asio::redirect_error(use_awaitable, ec); }

}  // namespace pgsoftdelete::proxy
