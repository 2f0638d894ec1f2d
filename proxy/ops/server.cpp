// Listening, I/O threads, reload and shutdown; see server.hpp.
#include "ops/server.hpp"

#include "net/connect.hpp"

#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

#include <boost/asio/signal_set.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <thread>

#include <boost/asio/local/stream_protocol.hpp>
#include <algorithm>
#include <filesystem>
#include <sys/stat.h>
#include <unistd.h>

#include "session/session.hpp"

namespace pgsoftdelete::proxy {

namespace {

/// Compares a secret in constant time.
bool same_secret(std::string_view given, std::string_view expected) {
  return given.size() == expected.size() && CRYPTO_memcmp(given.data(), expected.data(), given.size()) == 0;
}

/// The Authorization header value HTTP basic authentication expects for these credentials.
std::string basic_authorization(const std::string& user, const std::string& password) {
  const std::string plain = user + ":" + password;
  std::string encoded(4 * ((plain.size() + 2) / 3), '\0');
  EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded.data()), reinterpret_cast<const unsigned char*>(plain.data()),
                  static_cast<int>(plain.size()));
  return "Basic " + encoded;
}

/// Tells systemd (Type=notify) about a state change; a no-op when not run by systemd.
void notify(const std::string& state) { sd_notify(0, state.c_str()); }

std::uint64_t monotonic_usec() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch())
          .count());
}

}  // namespace

std::string describe(const Runtime& runtime) {
  if (!runtime.engine) return "no rules: relaying only";
  return std::to_string(runtime.engine->rules().tables().size()) + " rule tables, mode " +
         (runtime.mode == Mode::enforce ? "enforce" : "observe");
}

Server::Server(Settings settings, Flags flags)
    : catalogs_(settings.config.catalog_refresh_interval),  // before config_ takes the settings
      config_(std::make_shared<const Config>(std::move(settings.config))),
      flags_(std::move(flags)),
      runtime_(std::make_shared<RuntimeHolder>(std::move(settings.runtime))),
      upstreams_(config_->upstream, config_->target_session_attrs, config_->load_balance_hosts),
      tls_(std::move(settings.tls)) {
  const unsigned threads =
      config_->io_threads != 0 ? config_->io_threads : std::max(1u, std::thread::hardware_concurrency());
  for (unsigned i = 0; i < threads; ++i) contexts_.push_back(std::make_unique<asio::io_context>(1));
  admin_ = AdminContext{config_, &registry_, &metrics_, runtime_.get(), [this] { return reload(); },
                        [this] { return engine_stats(); }, {}};
  if (!config_->metrics_password.empty())
    metrics_authorization_ = basic_authorization(config_->metrics_user, config_->metrics_password);
  // Checked by validate(): a malformed verifier never gets this far.
  if (!config_->admin_password.empty()) admin_.verifier = admin_verifier(config_->admin_password).value_or(codec::ScramVerifier{});
}

rules::EngineStats Server::engine_stats() const {
  std::lock_guard lock(reload_mutex_);
  rules::EngineStats total = retired_stats_;
  if (const auto runtime = runtime_->current(); runtime->engine) {
    const auto now = runtime->engine->stats();
    total.fast_path += now.fast_path;
    total.cache_hits += now.cache_hits;
    total.parsed += now.parsed;
  }
  return total;
}

std::expected<void, std::string> Server::listen() {
  auto& ioc = *contexts_.front();
  error_code ec;
  tcp::resolver resolver(ioc);
  // TCP first: taking a Unix socket path over (so_reuseport) is the last step, once nothing else can fail.
  std::vector<Endpoint> order = config_->listen;
  std::stable_partition(order.begin(), order.end(), [](const Endpoint& e) { return !e.is_unix(); });
  for (const Endpoint& at : order) {
    auto& l = listeners_.emplace_back(
        Listener{at, std::make_unique<asio::basic_socket_acceptor<asio::generic::stream_protocol>>(ioc), std::nullopt});
    if (at.is_unix()) {
      if (auto ok = listen_unix(l); !ok) return ok;
      continue;
    }
    auto results = resolver.resolve(at.host, std::to_string(at.port), ec);
    if (ec || results.empty()) return std::unexpected("cannot resolve listen address " + at.to_string() + ": " + ec.message());
    const asio::generic::stream_protocol::endpoint endpoint(results.begin()->endpoint());
    auto& acceptor = *l.acceptor;
    if (acceptor.open(endpoint.protocol(), ec); !ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    using reuse_port = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;
    if (!ec && config_->so_reuseport) acceptor.set_option(reuse_port(true), ec);
    if (!ec) acceptor.bind(endpoint, ec);
    if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return std::unexpected("cannot listen on " + at.to_string() + ": " + ec.message());
  }
  if (config_->metrics_listen) {
    const auto& m = *config_->metrics_listen;
    auto found = resolver.resolve(m.host, std::to_string(m.port), ec);
    if (ec || found.empty()) return std::unexpected("cannot resolve metrics_listen " + m.to_string());
    metrics_acceptor_ = std::make_unique<tcp::acceptor>(ioc);
    const tcp::endpoint at = *found.begin();
    if (metrics_acceptor_->open(at.protocol(), ec); !ec)
      metrics_acceptor_->set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) metrics_acceptor_->bind(at, ec);
    if (!ec) metrics_acceptor_->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return std::unexpected("cannot listen on metrics_listen " + m.to_string() + ": " + ec.message());
  }
  return {};
}

std::expected<void, std::string> Server::listen_unix(Listener& listener) {
  namespace fs = std::filesystem;
  const Endpoint& at = listener.at;
  auto& acceptor = *listener.acceptor;
  const std::string& path = at.unix_path;
  const asio::local::stream_protocol::endpoint local(path);
  std::error_code fs_ec;
  if (fs::is_socket(fs::symlink_status(path, fs_ec))) {
    // Someone listening still answers; a socket left by a process that died does not.
    asio::local::stream_protocol::socket probe(acceptor.get_executor());
    error_code ec;
    probe.open(asio::local::stream_protocol(), ec);
    if (!ec) probe.non_blocking(true, ec);  // a full backlog answers EAGAIN: someone listens
    if (!ec) probe.connect(local, ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) ec.clear();
    if (!ec && !config_->so_reuseport)
      return std::unexpected("cannot listen on " + at.to_string() + ": another process listens there (so_reuseport = "
                             "true lets a new process take the path over while the old one drains)");
    fs::remove(path, fs_ec);
  }
  error_code ec;
  const asio::generic::stream_protocol::endpoint endpoint(local);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  // Anyone on this host may connect, as PostgreSQL's default unix_socket_permissions (0777): the
  // folder's permissions and the server's authentication decide who gets in.
  if (!ec) fs::permissions(path, fs::perms::all, fs_ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return std::unexpected("cannot listen on " + at.to_string() + ": " + ec.message());
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) listener.unix_inode = st.st_ino;
  return {};
}

void Server::close_listeners() {
  for (auto& l : listeners_) {
    error_code ignored;
    l.acceptor->close(ignored);
    if (!l.unix_inode) continue;
    struct stat st {};
    // A new process that took the path over (an upgrade) bound a new file there: leave it.
    if (::stat(l.at.unix_path.c_str(), &st) == 0 && st.st_ino == *l.unix_inode) ::unlink(l.at.unix_path.c_str());
    l.unix_inode.reset();
  }
}

awaitable<void> Server::serve_metrics(tcp::acceptor& acceptor) {
  for (;;) {
    error_code ec;
    tcp::socket socket = co_await acceptor.async_accept(no_throw(ec));
    // Served while draining too: /ready then answers 503, and /metrics shows the drain.
    if (ec == asio::error::operation_aborted) co_return;
    if (ec) continue;
    // Each request on its own: one slow or silent client cannot hold the endpoint.
    asio::co_spawn(acceptor.get_executor(), answer_metrics(std::move(socket)), asio::detached);
  }
}

awaitable<std::string> Server::unready_reason() {
  if (stopping_) co_return "shutting down";
  if (!runtime_->current()) co_return "no configuration loaded";
  // An upstream must accept a connection now (bounded: a probe has its own short timeout): the
  // first, in the order sessions try them, that is not known to misfit target_session_attrs.
  const auto limit = std::min(config_->connect_timeout, std::chrono::milliseconds(3000));
  std::string failures;
  for (const std::size_t i : upstreams_.order()) {
    const Endpoint& host = upstreams_.host(i);
    if (const auto role = upstreams_.known(i); role && mismatch(upstreams_.attrs(), *role)) {
      failures += (failures.empty() ? "" : "; ") + host.to_string() + ": " +
                  std::string(*mismatch(upstreams_.attrs(), *role));
      continue;
    }
    Socket probe(co_await asio::this_coro::executor);
    const error_code ec = co_await connect_within(probe, host, limit);
    error_code ignored;
    probe.close(ignored);
    if (!ec) co_return std::string();
    failures += (failures.empty() ? "" : "; ") + host.to_string() + ": " + ec.message();
  }
  if (upstreams_.size() == 1) co_return "upstream " + failures;
  co_return "no upstream ready: " + failures;
}

awaitable<void> Server::answer_metrics(tcp::socket socket) {
  namespace http = boost::beast::http;
  constexpr auto read_timeout = std::chrono::seconds(10);
  boost::beast::tcp_stream stream(std::move(socket));
  boost::beast::flat_buffer buffer;
  http::request_parser<http::empty_body> parser;
  parser.header_limit(8 * 1024);
  error_code ec;
  stream.expires_after(read_timeout);
  co_await http::async_read(stream, buffer, parser, no_throw(ec));
  if (ec) co_return;  // timed out, closed or not HTTP: nothing to answer
  const auto& request = parser.get();
  http::response<http::string_body> response;
  response.version(request.version());
  response.keep_alive(false);
  response.set(http::field::content_type, "text/plain");
  const bool ready_probe = request.method() == http::verb::get && request.target() == "/ready";
  // /ready answers without credentials: load balancers and Kubernetes probes send none, and it
  // tells nothing but up or down.
  if (ready_probe) {
    std::string why = co_await unready_reason();
    response.result(why.empty() ? http::status::ok : http::status::service_unavailable);
    response.body() = why.empty() ? "ready\n" : "not ready: " + why + "\n";
  } else if (!metrics_authorization_.empty() &&
      !same_secret(std::string_view(request[http::field::authorization].data(), request[http::field::authorization].size()), metrics_authorization_)) {
    response.result(http::status::unauthorized);
    response.set(http::field::www_authenticate, "Basic realm=\"pgsoftdelete\"");
    response.body() = "pgsoftdelete: credentials required\n";
  } else if (request.method() == http::verb::get && request.target() == "/metrics") {
    response.result(http::status::ok);
    response.set(http::field::content_type, "text/plain; version=0.0.4");
    response.body() = prometheus_text(admin_);
  } else {
    response.result(http::status::not_found);
    response.body() = "pgsoftdelete serves /metrics and /ready only\n";
  }
  response.prepare_payload();
  stream.expires_after(read_timeout);
  co_await http::async_write(stream, response, no_throw(ec));
  stream.socket().shutdown(tcp::socket::shutdown_both, ec);
}

awaitable<void> Server::accept_loop(Listener& listener) {
  auto& acceptor = *listener.acceptor;
  for (;;) {
    auto& ioc = *contexts_[next_context_++ % contexts_.size()];
    error_code ec;
    Socket socket = co_await acceptor.async_accept(ioc.get_executor(), no_throw(ec));
    if (ec == asio::error::operation_aborted) co_return;
    // Handing over (drain): a connection accepted meanwhile is served, not dropped.
    if (!ec && draining_) start_session(std::move(socket));
    if (stopping_) co_return;
    if (ec) {
      // Out of file descriptors and the like: say so and go on; the listener itself is fine.
      spdlog::error("accept failed: {}", ec.message());
      asio::steady_timer pause(acceptor.get_executor(), std::chrono::milliseconds(100));
      co_await pause.async_wait(no_throw(ec));
      continue;
    }
    start_session(std::move(socket));
  }
}

void Server::start_session(Socket socket) {
  const auto id = next_session_id_++;
  auto executor = socket.get_executor();
  asio::co_spawn(
      executor,
      [](Socket s, SessionContext context, std::uint64_t session_id) -> awaitable<void> {
        Session session(std::move(s), std::move(context), session_id);
        co_await session.run();
      }(std::move(socket), SessionContext{config_, runtime_, &registry_, tls_, &metrics_,
                                          config_->admin_password.empty() ? nullptr : &admin_, &catalogs_,
                                          &upstreams_}, id),
      [id](std::exception_ptr e) {
        if (!e) return;
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          spdlog::error("s{} ended by an unexpected error: {}", id, ex.what());
        }
      });
}

std::expected<void, std::string> Server::reload() {
  std::lock_guard lock(reload_mutex_);
  auto settings = load_settings(flags_);
  if (!settings) {
    Metrics::add(metrics_.reload_failures);
    return std::unexpected(settings.error());
  }
  const Config& next = settings->config;
  // Only the rules, the mode and the log level change while running; the rest needs a restart.
  if (to_string(next.listen) != to_string(config_->listen) || to_string(next.upstream) != to_string(config_->upstream) ||
      next.target_session_attrs != config_->target_session_attrs || next.load_balance_hosts != config_->load_balance_hosts ||
      next.hints_in_proxy != config_->hints_in_proxy || next.unnamed_statements != config_->unnamed_statements ||
      next.io_threads != config_->io_threads || next.max_message_size != config_->max_message_size)
    spdlog::warn("reload: listen, upstream, target_session_attrs, load_balance_hosts, session_hints, prepared_statements, "
                 "io_threads and max_message_size take effect only after a restart");
  spdlog::set_level(spdlog::level::from_str(next.log_level));
  if (const auto old = runtime_->current(); old->engine) {
    const auto stats = old->engine->stats();
    retired_stats_.fast_path += stats.fast_path;
    retired_stats_.cache_hits += stats.cache_hits;
    retired_stats_.parsed += stats.parsed;
  }
  runtime_->publish(std::move(settings->runtime));
  catalogs_.mark_all_stale();  // operators reload to make sessions read DDL made on the server
  Metrics::add(metrics_.reloads);
  return {};
}

awaitable<void> Server::shutdown() {
  stopping_ = true;
  notify("STOPPING=1");
  error_code ignored;
  close_listeners();
  spdlog::info("shutting down: {} sessions; open transactions get up to {} ms to finish", registry_.size(),
               config_->shutdown_timeout.count());
  registry_.shutdown_all(false);
  asio::steady_timer tick(co_await asio::this_coro::executor);
  const auto deadline = std::chrono::steady_clock::now() + config_->shutdown_timeout;
  bool forced = false;
  // Sessions also end on their own; after the deadline the rest are told to end at once.
  while (registry_.size() > 0) {
    if (!forced && std::chrono::steady_clock::now() >= deadline) {
      spdlog::warn("shutdown timeout: closing {} sessions still in a transaction", registry_.size());
      registry_.shutdown_all(true);
      forced = true;
    }
    if (forced && std::chrono::steady_clock::now() >= deadline + std::chrono::seconds(5)) break;
    tick.expires_after(std::chrono::milliseconds(20));
    co_await tick.async_wait(no_throw(ignored));
  }
  spdlog::info("shut down");
  if (metrics_acceptor_) metrics_acceptor_->close(ignored);
  for (auto& ioc : contexts_) ioc->stop();
}

// SIGUSR2: hand the port over to a new process (so_reuseport) and leave when the clients have. The
// connections the kernel already queued on this socket are taken first (closing it would reset them;
// new ones go to the other sockets of the port); the sessions then run until their clients leave, for
// up to shutdown_timeout_ms, after which the rest are closed as by SIGTERM.
awaitable<void> Server::drain() {
  if (stopping_) co_return;
  stopping_ = draining_ = true;
  notify("STOPPING=1");
  error_code ec;
  std::size_t taken = 0;
  for (auto& l : listeners_) {
    l.acceptor->non_blocking(true, ec);
    for (;;) {
      Socket socket = l.acceptor->accept(contexts_[next_context_++ % contexts_.size()]->get_executor(), ec);
      if (ec) break;
      start_session(std::move(socket));
      ++taken;
    }
  }
  close_listeners();
  spdlog::info("draining: listener closed ({} queued connections taken), {} sessions; they get up to {} ms to end",
               taken, registry_.size() + taken, config_->shutdown_timeout.count());
  asio::steady_timer tick(co_await asio::this_coro::executor);
  const auto deadline = std::chrono::steady_clock::now() + config_->shutdown_timeout;
  error_code ignored;
  while (registry_.size() > 0 && std::chrono::steady_clock::now() < deadline) {
    tick.expires_after(std::chrono::milliseconds(20));
    co_await tick.async_wait(no_throw(ignored));
  }
  stopping_ = false;  // shutdown() does the rest: closes what is left, then stops
  co_await shutdown();
}

void Server::watch_signals() {
  reload_signal_->async_wait([this](error_code ec, int) {
    if (ec) return;
    notify("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(monotonic_usec()));
    if (auto ok = reload(); ok)
      spdlog::info("reloaded: {}", describe(*runtime_->current()));
    else
      spdlog::error("reload failed, keeping the previous configuration and rules: {}", ok.error());
    notify("READY=1");
    watch_signals();
  });
}

int Server::run() {
  auto& main = *contexts_.front();
  reload_signal_ = std::make_unique<asio::signal_set>(main, SIGHUP);
  stop_signals_ = std::make_unique<asio::signal_set>(main, SIGINT, SIGTERM);
  drain_signal_ = std::make_unique<asio::signal_set>(main, SIGUSR2);
  drain_signal_->async_wait([this](error_code ec, int) {
    if (ec) return;
    spdlog::info("received SIGUSR2: draining");
    asio::co_spawn(*contexts_.front(), drain(), asio::detached);
  });
  watch_signals();
  stop_signals_->async_wait([this](error_code ec, int signal) {
    if (ec) return;
    spdlog::info("received signal {}", signal);
    asio::co_spawn(*contexts_.front(), shutdown(), asio::detached);
  });
  for (auto& l : listeners_)
    asio::co_spawn(main, accept_loop(l), [](std::exception_ptr e) {
      if (e) spdlog::critical("the accept loop ended unexpectedly");
    });
  if (metrics_acceptor_) {
    asio::co_spawn(main, serve_metrics(*metrics_acceptor_), [](std::exception_ptr e) {
      if (e) spdlog::error("the metrics endpoint ended unexpectedly");
    });
    spdlog::info("metrics on http://{}/metrics", config_->metrics_listen->to_string());
  }
  spdlog::info("pgsoftdelete listening on {}, upstream {}{}, {} I/O threads, {}", to_string(config_->listen),
               to_string(config_->upstream),
               config_->target_session_attrs == TargetSessionAttrs::any
                   ? std::string()
                   : fmt::format(" (target_session_attrs = {})", to_string(config_->target_session_attrs)),
               contexts_.size(), describe(*runtime_->current()));
  notify("READY=1");

  std::vector<std::thread> threads;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  for (auto& ioc : contexts_) guards.push_back(asio::make_work_guard(*ioc));
  for (std::size_t i = 1; i < contexts_.size(); ++i) threads.emplace_back([&ioc = *contexts_[i]] { ioc.run(); });
  main.run();
  for (auto& ioc : contexts_) ioc->stop();
  for (auto& t : threads) t.join();
  return 0;
}

}  // namespace pgsoftdelete::proxy
