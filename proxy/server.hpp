// The listener: I/O threads, each with its own io_context, and the accept loop that hands each
// client to one of them. A session and its upstream connection stay on one thread.
#pragma once

#include <atomic>
#include <memory>
#include <vector>

#include "asio.hpp"
#include "config.hpp"
#include "session.hpp"

namespace pgsoftdelete::proxy {

class Server {
 public:
  explicit Server(SessionContext context);

  /// Binds the listening socket; the error says why it failed.
  std::expected<void, std::string> listen();
  /// Runs until SIGINT or SIGTERM; returns the process exit code.
  int run();

 private:
  awaitable<void> accept_loop();

  std::shared_ptr<const Config> config_;
  SessionContext context_;
  std::vector<std::unique_ptr<asio::io_context>> contexts_;
  std::unique_ptr<tcp::acceptor> acceptor_;
  std::atomic<std::uint64_t> next_session_id_{1};
};

}  // namespace pgsoftdelete::proxy
