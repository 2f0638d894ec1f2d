// Connecting to an upstream within a time limit: name resolution and the connect together
// (a session's server connection, a cancel request, the readiness probe's check).
#pragma once

#include <chrono>

#include "net/asio.hpp"
#include "net/endpoint.hpp"

namespace pgsoftdelete::proxy {

/// Connects `socket` to `endpoint` (a Unix socket, or the first address of a resolved host that
/// answers), all within `timeout` (asio::error::timed_out after it). Sets TCP_NODELAY on TCP.
awaitable<error_code> connect_within(Socket& socket, const Endpoint& endpoint, std::chrono::milliseconds timeout);

/// Whether `socket` is a TCP connection (not a Unix socket).
bool is_tcp(const Socket& socket);

/// The peer as "address:port", "unix socket", or "unknown".
std::string describe_peer(const Socket& socket);

}  // namespace pgsoftdelete::proxy
