// Listening, I/O threads and signal handling; see server.hpp.
#include "server.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/signal_set.hpp>
#include <thread>

#include "session.hpp"

namespace pgsoftdelete::proxy {

Server::Server(SessionContext context) : config_(context.config), context_(std::move(context)) {
  unsigned threads = config_->io_threads != 0 ? config_->io_threads : std::max(1u, std::thread::hardware_concurrency());
  for (unsigned i = 0; i < threads; ++i) contexts_.push_back(std::make_unique<asio::io_context>(1));
}

std::expected<void, std::string> Server::listen() {
  auto& ioc = *contexts_.front();
  error_code ec;
  tcp::resolver resolver(ioc);
  auto results = resolver.resolve(config_->listen.host, std::to_string(config_->listen.port), ec);
  if (ec || results.empty())
    return std::unexpected("cannot resolve listen address " + config_->listen.to_string() + ": " + ec.message());
  const tcp::endpoint endpoint = *results.begin();
  acceptor_ = std::make_unique<tcp::acceptor>(ioc);
  if (acceptor_->open(endpoint.protocol(), ec); !ec) acceptor_->set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_->bind(endpoint, ec);
  if (!ec) acceptor_->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return std::unexpected("cannot listen on " + config_->listen.to_string() + ": " + ec.message());
  return {};
}

awaitable<void> Server::accept_loop() {
  std::size_t next = 0;
  for (;;) {
    auto& ioc = *contexts_[next++ % contexts_.size()];
    error_code ec;
    tcp::socket socket = co_await acceptor_->async_accept(ioc.get_executor(), no_throw(ec));
    if (ec == asio::error::operation_aborted) co_return;
    if (ec) {
      // Out of file descriptors and the like: say so and go on; the listener itself is fine.
      spdlog::error("accept failed: {}", ec.message());
      asio::steady_timer pause(acceptor_->get_executor(), std::chrono::milliseconds(100));
      co_await pause.async_wait(no_throw(ec));
      continue;
    }
    const auto id = next_session_id_++;
    auto executor = socket.get_executor();
    asio::co_spawn(
        executor,
        [](tcp::socket s, SessionContext context, std::uint64_t session_id) -> awaitable<void> {
          Session session(std::move(s), std::move(context), session_id);
          co_await session.run();
        }(std::move(socket), context_, id),
        [id](std::exception_ptr e) {
          if (!e) return;
          try {
            std::rethrow_exception(e);
          } catch (const std::exception& ex) {
            spdlog::error("s{} ended by an unexpected error: {}", id, ex.what());
          }
        });
  }
}

int Server::run() {
  auto& main = *contexts_.front();
  asio::signal_set signals(main, SIGINT, SIGTERM);
  signals.async_wait([this](error_code ec, int signal) {
    if (ec) return;
    spdlog::info("received signal {}, shutting down", signal);
    error_code ignored;
    acceptor_->close(ignored);
    for (auto& ioc : contexts_) ioc->stop();
  });
  asio::co_spawn(main, accept_loop(), [](std::exception_ptr e) {
    if (e) spdlog::critical("the accept loop ended unexpectedly");
  });
  spdlog::info("pgsoftdelete listening on {}, upstream {}, {} I/O threads, {}", config_->listen.to_string(),
               config_->upstream.to_string(), contexts_.size(),
               !context_.engine ? std::string("no rules: relaying only")
                                : std::to_string(context_.engine->rules().tables().size()) + " rule tables, mode " +
                                      (config_->mode == Mode::enforce ? "enforce" : "observe"));

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
