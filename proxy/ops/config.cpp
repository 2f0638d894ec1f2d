// Loading and checking the configuration; see config.hpp.
#include "ops/config.hpp"

#include "codec/scram.hpp"

#include <fmt/format.h>

#include <array>
#include <charconv>
#include <limits>
// The non-throwing API: parse errors come back as values.
#define TOML_EXCEPTIONS 0
#include <toml++/toml.h>

namespace pgsoftdelete::proxy {

namespace {

constexpr std::array log_levels{"trace", "debug", "info", "warn", "error", "critical", "off"};
constexpr std::uint32_t min_message_size = 1024;
constexpr std::uint32_t max_message_size = 0x3fffffff;  // PostgreSQL's own MaxAllocSize

int line_of(const toml::node& node) { return static_cast<int>(node.source().begin.line); }

/// Reads the settings out of a parsed table; each error names the key and its line.
class Reader {
 public:
  Reader(const std::string& file, const std::filesystem::path& base_dir) : file_(file), base_dir_(base_dir) {}

  std::expected<Config, ConfigError> read(const toml::table& table) {
    Config c;
    for (const auto& [key, node] : table) {
      const std::string name(key.str());
      std::expected<void, ConfigError> ok;
      if (name == "listen") ok = endpoints(node, name, c.listen, 6432);
      else if (name == "upstream") ok = endpoints(node, name, c.upstream, 5432);
      else if (name == "target_session_attrs")
        ok = choice(node, name, {{"any", TargetSessionAttrs::any}, {"read-write", TargetSessionAttrs::read_write},
                                 {"read-only", TargetSessionAttrs::read_only}, {"primary", TargetSessionAttrs::primary},
                                 {"standby", TargetSessionAttrs::standby},
                                 {"prefer-standby", TargetSessionAttrs::prefer_standby}}, c.target_session_attrs);
      else if (name == "session_hints")
        ok = choice(node, name, {{"forward", false}, {"proxy", true}}, c.hints_in_proxy);
      else if (name == "prepared_statements")
        ok = choice(node, name, {{"named", false}, {"unnamed", true}}, c.unnamed_statements);
      else if (name == "load_balance_hosts")
        ok = choice(node, name, {{"disable", false}, {"random", true}}, c.load_balance_hosts);
      else if (name == "io_threads") ok = integer(node, name, 0, 1024, c.io_threads);
      else if (name == "max_message_size") ok = integer(node, name, min_message_size, max_message_size, c.max_message_size);
      // connect_timeout_ms: the name before server_connect_timeout_ms, still read.
      else if (name == "server_connect_timeout_ms" || name == "connect_timeout_ms") ok = millis(node, name, c.connect_timeout);
      else if (name == "server_login_timeout_ms") ok = millis(node, name, c.server_login_timeout);
      else if (name == "startup_timeout_ms") ok = millis(node, name, c.startup_timeout);
      else if (name == "client_idle_timeout_ms") ok = millis(node, name, c.client_idle_timeout, 0);
      else if (name == "catalog_refresh_interval_ms") ok = millis(node, name, c.catalog_refresh_interval, 0);
      else if (name == "max_client_conn") ok = integer(node, name, 1, 1'000'000, c.max_client_conn);
      else if (name == "max_user_conn") ok = integer(node, name, 0, 1'000'000, c.max_user_conn);
      else if (name == "max_pending_messages") ok = integer(node, name, 16, 10'000'000, c.max_pending_messages);
      else if (name == "max_pending_bytes") ok = integer(node, name, 65536, max_message_size, c.max_pending_bytes);
      else if (name == "metrics_user") ok = assign(string(node, name), c.metrics_user);
      else if (name == "metrics_password") ok = assign(string(node, name), c.metrics_password);
      else if (name == "shutdown_timeout_ms") ok = millis(node, name, c.shutdown_timeout);
      else if (name == "so_reuseport") ok = boolean(node, name, c.so_reuseport);
      else if (name == "log_level") ok = level(node, name, c.log_level);
      else if (name == "rules") ok = path(node, name, c.rules);
      else if (name == "mode") ok = mode(node, name, c.mode);
      else if (name == "tls_cert_file") ok = path(node, name, c.tls_cert_file);
      else if (name == "tls_key_file") ok = path(node, name, c.tls_key_file);
      else if (name == "tls_client_ca_file") ok = path(node, name, c.tls_client_ca_file);
      else if (name == "tls_client_certs")
        ok = choice(node, name, {{"none", ClientCerts::none}, {"optional", ClientCerts::optional},
                                 {"require", ClientCerts::require}}, c.tls_client_certs);
      else if (name == "upstream_tls")
        ok = choice(node, name, {{"disable", UpstreamTls::disable}, {"prefer", UpstreamTls::prefer},
                                 {"require", UpstreamTls::require}, {"verify-ca", UpstreamTls::verify_ca},
                                 {"verify-full", UpstreamTls::verify_full}}, c.upstream_tls);
      else if (name == "upstream_tls_ca_file") ok = path(node, name, c.upstream_tls_ca_file);
      else if (name == "admin_users") ok = strings(node, name, c.admin_users);
      else if (name == "admin_password") ok = assign(string(node, name), c.admin_password);
      else if (name == "metrics_listen") {
        Endpoint e;
        ok = endpoint(node, name, e);
        if (ok) c.metrics_listen = e;
      }
      else ok = error(node, fmt::format("unknown key \"{}\"", name));
      if (!ok) return std::unexpected(ok.error());
    }
    return c;
  }

 private:
  std::unexpected<ConfigError> error(const toml::node& node, std::string message) const {
    return std::unexpected(ConfigError{file_, line_of(node), std::move(message)});
  }

  std::expected<std::string, ConfigError> string(const toml::node& node, const std::string& key) const {
    if (auto s = node.value<std::string>(); s && node.is_string()) return *s;
    return error(node, fmt::format("key \"{}\" must be a string", key));
  }

  std::expected<void, ConfigError> endpoint(const toml::node& node, const std::string& key, Endpoint& out,
                                            std::uint16_t default_port = 5432) const {
    auto text = string(node, key);
    if (!text) return std::unexpected(text.error());
    auto e = parse_endpoint(*text, default_port);
    if (!e) return error(node, fmt::format("key \"{}\": {}", key, e.error()));
    out = *e;
    return {};
  }

  /// One endpoint as a string, or several as an array of strings (libpq's list of hosts).
  std::expected<void, ConfigError> endpoints(const toml::node& node, const std::string& key,
                                             std::vector<Endpoint>& out, std::uint16_t default_port) const {
    std::vector<Endpoint> values;
    if (const auto* array = node.as_array()) {
      if (array->empty()) return error(node, fmt::format("key \"{}\" must not be empty", key));
      for (const auto& item : *array) {
        Endpoint e;
        if (auto ok = endpoint(item, key, e, default_port); !ok) return ok;
        values.push_back(std::move(e));
      }
    } else {
      Endpoint e;
      if (auto ok = endpoint(node, key, e, default_port); !ok) return ok;
      values.push_back(std::move(e));
    }
    out = std::move(values);
    return {};
  }

  template <class Int>
  std::expected<void, ConfigError> integer(const toml::node& node, const std::string& key, std::int64_t min,
                                           std::int64_t max, Int& out) const {
    if (!node.is_integer()) return error(node, fmt::format("key \"{}\" must be an integer", key));
    const auto v = *node.value<std::int64_t>();
    if (v < min || v > max) return error(node, fmt::format("key \"{}\" must be between {} and {}, not {}", key, min, max, v));
    out = static_cast<Int>(v);
    return {};
  }

  std::expected<void, ConfigError> boolean(const toml::node& node, const std::string& key, bool& out) const {
    if (!node.is_boolean()) return error(node, fmt::format("key \"{}\" must be true or false", key));
    out = *node.value<bool>();
    return {};
  }

  std::expected<void, ConfigError> millis(const toml::node& node, const std::string& key,
                                          std::chrono::milliseconds& out, std::int64_t min = 1) const {
    std::int64_t v = 0;
    auto ok = integer(node, key, min, 86'400'000, v);
    if (ok) out = std::chrono::milliseconds(v);
    return ok;
  }

  std::expected<void, ConfigError> level(const toml::node& node, const std::string& key, std::string& out) const {
    auto text = string(node, key);
    if (!text) return std::unexpected(text.error());
    for (auto l : log_levels)
      if (*text == l) {
        out = *text;
        return {};
      }
    return error(node, fmt::format("key \"{}\" must be one of trace, debug, info, warn, error, critical, off; not \"{}\"",
                                   key, *text));
  }

  std::expected<void, ConfigError> path(const toml::node& node, const std::string& key,
                                        std::optional<std::filesystem::path>& out) const {
    auto text = string(node, key);
    if (!text) return std::unexpected(text.error());
    if (text->empty()) return error(node, fmt::format("key \"{}\" must not be empty", key));
    std::filesystem::path p(*text);
    out = p.is_relative() && !base_dir_.empty() ? base_dir_ / p : p;
    return {};
  }

  std::expected<void, ConfigError> mode(const toml::node& node, const std::string& key, Mode& out) const {
    auto text = string(node, key);
    if (!text) return std::unexpected(text.error());
    auto m = parse_mode(*text);
    if (!m) return error(node, fmt::format("key \"{}\": {}", key, m.error()));
    out = *m;
    return {};
  }

  static std::expected<void, ConfigError> assign(std::expected<std::string, ConfigError> value, std::string& out) {
    if (!value) return std::unexpected(value.error());
    out = std::move(*value);
    return {};
  }

  std::expected<void, ConfigError> strings(const toml::node& node, const std::string& key,
                                           std::vector<std::string>& out) const {
    const auto* array = node.as_array();
    if (array == nullptr) return error(node, fmt::format("key \"{}\" must be an array of strings", key));
    std::vector<std::string> values;
    for (const auto& item : *array) {
      if (!item.is_string()) return error(item, fmt::format("key \"{}\" must be an array of strings", key));
      values.push_back(*item.value<std::string>());
    }
    out = std::move(values);
    return {};
  }

  template <class Enum>
  std::expected<void, ConfigError> choice(const toml::node& node, const std::string& key,
                                          std::initializer_list<std::pair<const char*, Enum>> values, Enum& out) const {
    auto text = string(node, key);
    if (!text) return std::unexpected(text.error());
    std::string names;
    for (const auto& [name, value] : values) {
      if (*text == name) {
        out = value;
        return {};
      }
      names += names.empty() ? name : std::string(", ") + name;
    }
    return error(node, fmt::format("key \"{}\" must be one of {}; not \"{}\"", key, names, *text));
  }

  const std::string& file_;
  const std::filesystem::path& base_dir_;
};

}  // namespace

bool is_loopback(std::string_view host) {
  return host == "localhost" || host == "::1" || host.starts_with("127.");
}

std::expected<Mode, std::string> parse_mode(std::string_view text) {
  if (text == "enforce") return Mode::enforce;
  if (text == "observe") return Mode::observe;
  return std::unexpected(fmt::format("must be \"enforce\" or \"observe\", not \"{}\"", text));
}

std::string to_string(const std::vector<Endpoint>& endpoints) {
  std::string out;
  for (const auto& e : endpoints) out += (out.empty() ? "" : ", ") + e.to_string();
  return out;
}

std::string ConfigError::to_string() const {
  if (file.empty()) return message;
  if (line > 0) return fmt::format("{}:{}: {}", file, line, message);
  return fmt::format("{}: {}", file, message);
}

std::expected<Config, ConfigError> parse_config(std::string_view text, const std::string& file,
                                                const std::filesystem::path& base_dir) {
  toml::parse_result parsed = toml::parse(text, file);
  if (!parsed)
    return std::unexpected(ConfigError{file, static_cast<int>(parsed.error().source().begin.line),
                                       std::string(parsed.error().description())});
  auto config = Reader(file, base_dir).read(parsed.table());
  if (!config) return config;
  if (auto ok = validate(*config); !ok) return std::unexpected(ConfigError{file, 0, ok.error().message});
  return config;
}

std::expected<Config, ConfigError> load_config(const std::filesystem::path& file) {
  std::error_code ec;
  auto status = std::filesystem::status(file, ec);
  if (ec || !std::filesystem::is_regular_file(status))
    return std::unexpected(ConfigError{file.string(), 0, "cannot read the file: " +
                                                           (ec ? ec.message() : std::string("not a regular file"))});
  std::string text;
  {
    std::FILE* f = std::fopen(file.c_str(), "rb");
    if (f == nullptr) return std::unexpected(ConfigError{file.string(), 0, "cannot open the file"});
    char buf[8192];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) text.append(buf, n);
    std::fclose(f);
  }
  return parse_config(text, file.string(), file.parent_path());
}

std::expected<void, ConfigError> validate(const Config& c) {
  const auto fail = [](std::string message) { return std::unexpected(ConfigError{"", 0, std::move(message)}); };
  if (c.max_message_size < min_message_size || c.max_message_size > max_message_size)
    return fail(fmt::format("max_message_size must be between {} and {}", min_message_size, max_message_size));
  if (c.tls_cert_file.has_value() != c.tls_key_file.has_value())
    return fail("tls_cert_file and tls_key_file go together: set both to accept TLS from clients, or neither");
  if (c.tls_client_certs != ClientCerts::none && !c.tls_client_ca_file)
    return fail("tls_client_certs needs tls_client_ca_file, the CA that signs client certificates");
  if (c.tls_client_certs != ClientCerts::none && !c.tls_cert_file)
    return fail("tls_client_certs needs TLS to clients: set tls_cert_file and tls_key_file");
  if (c.admin_password.starts_with("SCRAM-SHA-256$"))
    if (auto v = codec::parse_scram_verifier(c.admin_password); !v)
      return fail("admin_password is not a valid SCRAM-SHA-256 verifier: " + v.error());
  if (c.metrics_listen && c.metrics_listen->is_unix())
    return fail("metrics_listen must be host:port (HTTP over TCP), not a Unix socket");
  if (c.metrics_listen && c.metrics_password.empty() && !is_loopback(c.metrics_listen->host))
    return fail(fmt::format("metrics_listen = \"{}\" is not a loopback address: set metrics_password (HTTP basic "
                            "authentication) to serve metrics beyond this host",
                            c.metrics_listen->to_string()));
  if ((c.upstream_tls == UpstreamTls::verify_ca || c.upstream_tls == UpstreamTls::verify_full) &&
      !c.upstream_tls_ca_file)
    return fail("upstream_tls = verify-ca or verify-full needs upstream_tls_ca_file");
  return {};
}

}  // namespace pgsoftdelete::proxy
