// Where the proxy listens or connects: a TCP host and port, or a Unix-domain socket named as libpq
// names PostgreSQL's.
#pragma once

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>
#include <vector>

namespace pgsoftdelete::proxy {

/// A host and a port, as written "host:port" or "[v6-address]:port"; or a Unix-domain socket,
/// "unix:/dir" (the socket /dir/.s.PGSQL.<default port>, as libpq names it) or
/// "unix:/dir/.s.PGSQL.<port>". For a socket, host is its folder and port the number in its name
/// (what libpq's host and port say for it).
struct Endpoint {
  std::string host;
  std::uint16_t port = 0;
  std::string unix_path;  ///< the socket file; empty for TCP
  [[nodiscard]] bool is_unix() const { return !unix_path.empty(); }
  [[nodiscard]] std::string to_string() const;
};

/// Parses "host:port", "[::1]:port" or "unix:PATH" (`default_port` names a socket given by its
/// folder); the error says what is wrong.
std::expected<Endpoint, std::string> parse_endpoint(std::string_view text, std::uint16_t default_port = 5432);

/// Several endpoints, comma-separated (a command-line flag's list).
std::expected<std::vector<Endpoint>, std::string> parse_endpoints(std::string_view text, std::uint16_t default_port);

}  // namespace pgsoftdelete::proxy
