// Parsing and printing endpoints; see endpoint.hpp.
#include "net/endpoint.hpp"

#include <charconv>
#include <optional>

#include <fmt/format.h>

namespace pgsoftdelete::proxy {

std::string Endpoint::to_string() const {
  if (is_unix()) return "unix:" + unix_path;
  return host.find(':') != std::string::npos ? fmt::format("[{}]:{}", host, port) : fmt::format("{}:{}", host, port);
}

namespace {

constexpr std::string_view socket_prefix = ".s.PGSQL.";
constexpr std::size_t max_socket_path = 107;  // sockaddr_un's sun_path, less its terminating NUL

std::optional<std::uint16_t> port_number(std::string_view text) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value == 0 || value > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

/// "unix:/dir" or "unix:/dir/.s.PGSQL.5433".
std::expected<Endpoint, std::string> parse_unix_endpoint(std::string_view text, std::uint16_t default_port) {
  std::string path(text.substr(5));
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  if (!path.starts_with('/')) return std::unexpected(fmt::format("\"{}\": a Unix socket needs an absolute path", text));
  Endpoint e;
  const auto slash = path.rfind('/');
  const std::string_view name = std::string_view(path).substr(slash + 1);
  if (name.starts_with(socket_prefix)) {
    const auto port = port_number(name.substr(socket_prefix.size()));
    if (!port) return std::unexpected(fmt::format("\"{}\": a socket named {}PORT needs a valid port (1-65535)", text, socket_prefix));
    e.port = *port;
    e.host = slash == 0 ? "/" : path.substr(0, slash);
    e.unix_path = path;
  } else {
    e.port = default_port;
    e.host = path;
    e.unix_path = fmt::format("{}{}{}{}", path, path == "/" ? "" : "/", socket_prefix, default_port);
  }
  if (e.unix_path.size() > max_socket_path)
    return std::unexpected(fmt::format("\"{}\": the socket path {} is longer than {} bytes", text, e.unix_path, max_socket_path));
  return e;
}

}  // namespace

std::expected<Endpoint, std::string> parse_endpoint(std::string_view text, std::uint16_t default_port) {
  if (text.starts_with("unix:")) return parse_unix_endpoint(text, default_port);
  std::string_view host;
  std::string_view port;
  if (text.starts_with('[')) {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return std::unexpected(fmt::format("\"{}\" is not of the form [address]:port", text));
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos)
      return std::unexpected(fmt::format("\"{}\" is not of the form host:port or unix:/path", text));
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos)
      return std::unexpected(fmt::format("\"{}\": write an IPv6 address in brackets, as [::1]:6432", text));
  }
  if (host.empty()) return std::unexpected(fmt::format("\"{}\" has no host", text));
  const auto value = port_number(port);
  if (!value) return std::unexpected(fmt::format("\"{}\" has no valid port (1-65535)", text));
  return Endpoint{std::string(host), *value, {}};
}

std::expected<std::vector<Endpoint>, std::string> parse_endpoints(std::string_view text, std::uint16_t default_port) {
  std::vector<Endpoint> out;
  for (;;) {
    const auto comma = text.find(',');
    auto e = parse_endpoint(text.substr(0, comma), default_port);
    if (!e) return std::unexpected(e.error());
    out.push_back(std::move(*e));
    if (comma == std::string_view::npos) return out;
    text.remove_prefix(comma + 1);
  }
}

}  // namespace pgsoftdelete::proxy
