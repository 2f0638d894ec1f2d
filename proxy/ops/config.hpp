// The proxy's settings: defaults, the TOML configuration file and command-line overrides.
#pragma once

#include <chrono>
#include <cstdint>
#include <expected>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "net/endpoint.hpp"
#include "net/upstream_hosts.hpp"

namespace pgsoftdelete::proxy {

/// The upstream hosts as written, comma-separated (for messages).
std::string to_string(const std::vector<Endpoint>& endpoints);

/// Whether rewrites change the traffic.
enum class Mode {
  enforce,  ///< rewrite and refuse (the default)
  observe,  ///< log what would be rewritten or refused; forward everything as it is
};

/// Client certificates asked of clients connecting with TLS.
enum class ClientCerts {
  none,      ///< not asked for
  optional,  ///< verified against tls_client_ca_file when sent
  require,   ///< a client without a valid certificate is refused
};

/// TLS to the upstream, as libpq's sslmode.
enum class UpstreamTls {
  disable,      ///< plain TCP
  prefer,       ///< TLS if the server offers it, unverified
  require,      ///< TLS or no connection, unverified
  verify_ca,    ///< TLS with a certificate signed by upstream_tls_ca_file
  verify_full,  ///< verify_ca, and the certificate names the upstream host
};

/// Every setting of the proxy. Defaults are what runs with no file.
struct Config {
  /// Where to listen: one or several addresses (TCP and a Unix socket at once, say).
  std::vector<Endpoint> listen{Endpoint{"127.0.0.1", 6432, {}}};
  /// The PostgreSQL servers, tried in order (or at random: load_balance_hosts) for each session until
  /// one accepts the connection and matches target_session_attrs.
  std::vector<Endpoint> upstream{Endpoint{"127.0.0.1", 5432, {}}};
  TargetSessionAttrs target_session_attrs = TargetSessionAttrs::any;
  bool load_balance_hosts = false;  ///< "random": each session tries the hosts in a random order
  /// session_hints = "proxy": pgsoftdelete.* hints (SET, startup parameters) stay in the proxy and
  /// are not sent to the server (a transaction pooler behind would mix them between clients).
  bool hints_in_proxy = false;
  /// prepared_statements = "unnamed": each client statement, and each variant the proxy makes, is
  /// prepared as the server's unnamed statement in the batch that uses it (PgBouncer before 1.21 in
  /// transaction mode keeps no named statements for a client).
  bool unnamed_statements = false;
  unsigned io_threads = 0;                       ///< 0: one per core
  std::uint32_t max_message_size = 64u << 20;    ///< largest client message accepted, in bytes
  std::chrono::milliseconds connect_timeout{5000};   ///< server_connect_timeout_ms: TCP (and TLS) to the upstream
  std::chrono::milliseconds server_login_timeout{10000};  ///< for the upstream to answer each login step
  std::chrono::milliseconds startup_timeout{60000};  ///< for a client to complete its login
  std::chrono::milliseconds client_idle_timeout{0};  ///< close clients idle this long; 0: never
  /// Read each database's catalog again after this long (DDL made directly on the server); 0: only
  /// after DDL through the proxy, a reload, or a statement naming a table the catalog lacks.
  std::chrono::milliseconds catalog_refresh_interval{60000};
  std::chrono::milliseconds shutdown_timeout{30000}; ///< for open transactions to finish on SIGTERM
  /// SO_REUSEPORT on the listening socket: a new process can listen on the same port while this one
  /// drains (SIGUSR2), for upgrades and restarts without refusing clients.
  bool so_reuseport = false;
  std::uint32_t max_client_conn = 1000;              ///< clients at once; more get 53300
  std::uint32_t max_user_conn = 0;                   ///< clients at once per user name; 0: no cap
  std::uint32_t max_pending_messages = 10000;        ///< per session: client messages awaiting answers
  std::uint32_t max_pending_bytes = 16u << 20;       ///< per session: their bytes
  std::string log_level = "info";
  std::optional<std::filesystem::path> rules;    ///< rules file; relative paths are from the config file's folder
  Mode mode = Mode::enforce;
  // TLS to clients: on when a certificate and key are set.
  std::optional<std::filesystem::path> tls_cert_file;
  std::optional<std::filesystem::path> tls_key_file;
  std::optional<std::filesystem::path> tls_client_ca_file;
  ClientCerts tls_client_certs = ClientCerts::none;
  // Admin console: database "pgsoftdelete", these users, this password (console off without one).
  std::vector<std::string> admin_users{"pgsoftdelete"};
  std::string admin_password;
  // Prometheus text endpoint, off when unset; HTTP basic authentication when a password is set
  // (required unless it listens on loopback).
  std::optional<Endpoint> metrics_listen;
  std::string metrics_user = "pgsoftdelete";
  std::string metrics_password;
  // TLS to the upstream.
  UpstreamTls upstream_tls = UpstreamTls::prefer;
  std::optional<std::filesystem::path> upstream_tls_ca_file;
};

/// Whether a listen host is on this machine only (localhost, 127.x.y.z, ::1).
bool is_loopback(std::string_view host);

/// "enforce" or "observe".
std::expected<Mode, std::string> parse_mode(std::string_view text);

/// A configuration problem: the file, the line (0 when not known) and what is wrong.
struct ConfigError {
  std::string file;
  int line = 0;
  std::string message;
  [[nodiscard]] std::string to_string() const;
};

/// Reads a TOML configuration file over the defaults. Unknown keys, wrong types and
/// out-of-range values are errors naming the file, line and key.
std::expected<Config, ConfigError> load_config(const std::filesystem::path& file);

/// The same, from text already in memory (`file` is only used in messages).
std::expected<Config, ConfigError> parse_config(std::string_view text, const std::string& file,
                                                const std::filesystem::path& base_dir = {});

/// Checks that settings from any source are in range (flags bypass the file checks).
std::expected<void, ConfigError> validate(const Config& config);

}  // namespace pgsoftdelete::proxy
