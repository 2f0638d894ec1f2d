// Connecting to the upstream within a time limit: name resolution and the TCP connect together
// (a session's server connection, the readiness probe's check).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "net/asio.hpp"

namespace pgsoftdelete::proxy {

/// Resolves `host` and connects `socket` to the first address that answers, all within `timeout`
/// (asio::error::timed_out after it). Sets TCP_NODELAY on success.
awaitable<error_code> connect_within(tcp::socket& socket, const std::string& host, std::uint16_t port,
                                     std::chrono::milliseconds timeout);

}  // namespace pgsoftdelete::proxy
