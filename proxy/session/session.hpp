// One client connection and its upstream connection: the startup phase, then the two
// framed directions of the working phase. Sockets and pumps live here; how statements are
// rewritten does not.
#pragma once

#include <cstdint>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "net/asio.hpp"
#include "codec/messages.hpp"
#include "codec/startup.hpp"
#include "ops/config.hpp"
#include "ops/admin_console.hpp"
#include "catalog/catalog_store.hpp"
#include "net/message_pump.hpp"
#include "ops/metrics.hpp"
#include "rules/hints.hpp"
#include "ops/runtime.hpp"
#include "net/serial_writer.hpp"
#include "session/session_registry.hpp"
#include "net/tls.hpp"
#include "net/transport.hpp"
#include "net/upstream_hosts.hpp"

namespace pgsoftdelete::proxy {

/// What all sessions share: the fixed settings and the reloadable rules and mode.
struct SessionContext {
  std::shared_ptr<const Config> config;
  std::shared_ptr<const RuntimeHolder> runtime;
  SessionRegistry* registry = nullptr;  ///< outlives every session
  TlsContexts tls;
  Metrics* metrics = nullptr;             ///< outlives every session
  const AdminContext* admin = nullptr;    ///< the console, or null
  CatalogStore* catalogs = nullptr;       ///< the databases' catalogs (outlives every session), or null
  UpstreamHosts* upstreams = nullptr;     ///< the servers and their known roles (outlives every session)
};

/// Serves one client until either side closes. Lives in the coroutine frame of run(); all of
/// its work runs on the executor of the client socket.
class Session {
 public:
  Session(Socket client, SessionContext context, std::uint64_t id);

  /// Runs the session to its end. Routine failures are logged, not thrown.
  awaitable<void> run();

 private:
  /// Startup phase: answers encryption requests, forwards cancel requests; returns the
  /// StartupMessage's bytes, or nothing when the session is over.
  awaitable<std::optional<std::string>> read_startup();
  /// Reads one untyped startup-phase packet (length-prefixed, capped).
  awaitable<std::optional<std::string>> read_startup_packet();
  /// Sends a CancelRequest on to the server whose key it names (every host when not known here).
  awaitable<void> forward_cancel(const codec::StartupPacket& cancel, const std::string& packet);
  /// The server's BackendKeyData: remembered (several hosts) so that cancels find its host.
  void on_backend_key(std::string_view bytes);
  /// Connects upstream_ to the first host, in the order UpstreamHosts gives, that accepts within the
  /// connect timeout (host_ then names it); the error lists each host's failure.
  awaitable<std::optional<std::string>> connect_upstream();
  /// The host the session uses (all of them before it has one), for messages.
  [[nodiscard]] std::string upstream_name() const;
  /// A ParameterStatus from the server: what it says of its role (target_session_attrs).
  void on_parameter_status(std::string_view bytes);
  /// At the login's end: whether the server fits target_session_attrs; ends the session when not.
  [[nodiscard]] bool server_fits();
  /// Answers an SSLRequest: 'S' and a TLS handshake when TLS is configured, 'N' otherwise.
  awaitable<bool> answer_ssl_request();
  /// Negotiates TLS with the upstream as upstream_tls says; the error says why it failed.
  awaitable<std::optional<std::string>> upstream_tls();
  /// Working phase: both directions until either ends.
  awaitable<void> relay();
  awaitable<void> client_to_server(MessagePump& pump);
  awaitable<void> server_to_client(MessagePump& pump);
  /// Counts the session against max_client_conn and max_user_conn; refuses it with 53300 beyond.
  awaitable<bool> admit();
  /// Reads the session hints from the startup packet and checks who may use them.
  awaitable<bool> accept_startup_hints(const codec::StartupPacket& packet);
  /// Sends an ErrorResponse to the client (FATAL: the connection ends after it), unless part of a
  /// server message is on its way to the client: then anything added would corrupt it.
  awaitable<void> send_fatal(std::string_view sqlstate, std::string_view message);
  void close_both();
  /// Asked by the server: end now (force, or idle between transactions) or once the current
  /// transaction is over, with FATAL 57P01 as PostgreSQL's own shutdown sends.
  void begin_shutdown(bool force);
  /// Watches ReadyForQuery on its way to the client: transaction status and idleness.
  class ReadyTap;
  /// Lets only authentication messages through until the server's AuthenticationOk.
  class LoginGate;
  /// The server accepted the login: the client may send everything from now on.
  void on_logged_in();
  /// The login is over (first ReadyForQuery): its deadlines end, the idle watch starts.
  void on_login_complete();
  /// (Re)starts the wait for the server's next login step, within server_login_timeout.
  void await_server_login_step();
  /// The server owes nothing during the login now: the client does (a password).
  void stop_server_login_wait() { server_timer_.cancel(); }
  /// Ends a relaying session with a FATAL ErrorResponse to the client (unless mid-message).
  void end_with(std::string_view sqlstate, std::string message, std::string reason);
  /// Checks, every quarter of client_idle_timeout, whether the client has been idle that long.
  void watch_idle();

  Socket client_;
  Socket upstream_;
  Transport client_io_;
  Transport upstream_io_;
  TlsContexts tls_;
  SerialWriter client_writer_;
  SerialWriter upstream_writer_;
  std::shared_ptr<const Config> config_;
  std::shared_ptr<const RuntimeHolder> runtime_;
  rules::Hints startup_hints_;
  std::uint64_t id_;
  std::string peer_;
  std::string user_;
  std::string database_;
  std::string close_reason_;
  SessionRegistry* registry_;
  Metrics* metrics_;
  const AdminContext* admin_;
  CatalogStore* catalogs_;
  UpstreamHosts* upstreams_;
  std::optional<std::size_t> host_;  // the upstream host in use, once connected
  // What the server reported of its role; checked against target_session_attrs at the login's end.
  ServerRole server_role_;
  bool role_reported_ = false;
  std::optional<std::pair<std::uint32_t, std::uint32_t>> backend_key_;  // remembered in upstreams_
  SessionState state_ = SessionState::startup;
  void set_state(SessionState next);
  // Shutdown state, all on the session's executor.
  char status_ = 'I';                   // transaction status of the last ReadyForQuery
  std::uint64_t client_bytes_at_ready_ = 0;  // client bytes read when it arrived
  bool shutting_down_ = false;
  MessagePump* client_pump_ = nullptr;  // set while relaying
  class SessionRewriter* rewriter_ = nullptr;
  MessagePump* server_pump_ = nullptr;
  LoginGate* login_gate_ = nullptr;     // set while relaying
  // Login deadlines: the client's whole login (startup_timeout), and each answer the server owes
  // during it (server_login_timeout). The idle watch runs after the login when configured.
  asio::steady_timer login_timer_;
  asio::steady_timer server_timer_;
  asio::steady_timer idle_timer_;
  bool ended_ = false;          // run() is finishing: timer handlers do nothing
  bool authenticated_ = false;  // the server sent AuthenticationOk
  bool logged_in_ = false;      // and its first ReadyForQuery
  bool server_timed_out_ = false;
  std::uint64_t idle_bytes_seen_ = 0;
  std::chrono::steady_clock::time_point last_activity_;
  /// Why the session is being ended by the proxy itself, for the client and the log.
  struct StopError {
    std::string sqlstate;
    std::string message;
    std::string reason;
  };
  std::optional<StopError> stop_error_;
};

}  // namespace pgsoftdelete::proxy
