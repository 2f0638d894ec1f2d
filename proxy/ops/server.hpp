// The listener: I/O threads, each with its own io_context, and the accept loop that hands each
// client to one of them (a session and its upstream connection stay on one thread). Signals:
// SIGHUP reloads, SIGTERM/SIGINT drain and stop, SIGUSR2 hands the port over (so_reuseport) and drains. systemd hears of each through sd_notify.
#pragma once

#include <atomic>
#include <memory>
#include <vector>

#include <mutex>
#include <optional>

#include "ops/admin_console.hpp"
#include "net/asio.hpp"
#include "ops/metrics.hpp"
#include "ops/config.hpp"
#include "catalog/catalog_store.hpp"
#include "session/session.hpp"
#include "session/session_registry.hpp"
#include "ops/settings.hpp"

namespace pgsoftdelete::proxy {

/// One line for the log: how many rule tables, which mode.
std::string describe(const Runtime& runtime);

class Server {
 public:
  /// `flags` are kept to reload with the same command-line overrides.
  Server(Settings settings, Flags flags);

  /// Binds the listening socket; the error says why it failed.
  std::expected<void, std::string> listen();
  /// Runs until SIGINT or SIGTERM and the drain after it; returns the process exit code.
  int run();
  /// Reloads the configuration and the rules; on error the old ones keep serving.
  std::expected<void, std::string> reload();

 private:
  /// One listening socket: where, the acceptor, and the socket file it made (Unix sockets).
  struct Listener {
    Endpoint at;
    std::unique_ptr<asio::basic_socket_acceptor<asio::generic::stream_protocol>> acceptor;
    std::optional<std::uint64_t> unix_inode;
  };
  awaitable<void> accept_loop(Listener& listener);
  /// Closes every listening socket (and removes the Unix socket files still this process's).
  void close_listeners();
  void start_session(Socket socket);
  /// Binds a Unix-domain listening socket: a stale socket file is replaced; a live one only with
  /// so_reuseport (an upgrade: the new process takes the path over while the old one drains).
  std::expected<void, std::string> listen_unix(Listener& listener);
  /// SIGUSR2: take the queued connections, close the listener, let the sessions end on their own.
  awaitable<void> drain();
  /// The Prometheus endpoint: one small HTTP/1.1 answer per connection, each served on its own.
  awaitable<void> serve_metrics(tcp::acceptor& acceptor);
  /// Why the instance should not get new clients now ("": ready): shutting down, or the upstream
  /// refuses connections. GET /ready answers 503 with it, 200 when empty.
  awaitable<std::string> unready_reason();
  awaitable<void> answer_metrics(tcp::socket socket);
  rules::EngineStats engine_stats() const;
  awaitable<void> shutdown();
  void watch_signals();

  SessionRegistry registry_;  // before the contexts: sessions unregister as they are destroyed
  CatalogStore catalogs_;     // likewise: sessions hold entries of it
  Metrics metrics_;
  AdminContext admin_;
  mutable std::mutex reload_mutex_;  // one reload at a time (SIGHUP and the console's RELOAD)
  rules::EngineStats retired_stats_;  // counters of engines replaced by reloads
  std::shared_ptr<const Config> config_;
  Flags flags_;
  std::shared_ptr<RuntimeHolder> runtime_;
  UpstreamHosts upstreams_;  // after config_: made from it
  TlsContexts tls_;
  std::vector<std::unique_ptr<asio::io_context>> contexts_;
  std::vector<Listener> listeners_;
  std::unique_ptr<tcp::acceptor> metrics_acceptor_;
  std::unique_ptr<asio::signal_set> reload_signal_;
  std::unique_ptr<asio::signal_set> stop_signals_;
  std::unique_ptr<asio::signal_set> drain_signal_;
  std::atomic<std::uint64_t> next_session_id_{1};
  std::size_t next_context_ = 0;  // the I/O thread the next accepted client goes to (main thread only)
  bool stopping_ = false;
  bool draining_ = false;  ///< SIGUSR2: sessions end on their own
  std::string metrics_authorization_;  // the Authorization header basic auth expects; empty: none
};

}  // namespace pgsoftdelete::proxy
