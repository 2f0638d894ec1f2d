// Runs two coroutines side by side and ends both when either ends: a session's two
// pump directions (Boost 1.74 has no awaitable operator ||).
#pragma once

#include <exception>
#include <functional>
#include <memory>

#include "net/asio.hpp"

namespace pgsoftdelete::proxy {

/// Starts `a` and `b` on the current executor. When the first of them ends, normally or by an
/// exception, calls `stop` (which must make the other end soon, e.g. by closing its sockets).
/// Returns when both have ended, rethrowing the first exception if any.
inline awaitable<void> run_both(awaitable<void> a, awaitable<void> b, std::function<void()> stop) {
  struct State {
    explicit State(asio::any_io_executor ex) : done(ex) { done.expires_at(asio::steady_timer::time_point::max()); }
    asio::steady_timer done;
    int running = 2;
    bool stopped = false;
    std::exception_ptr error;
  };
  auto ex = co_await asio::this_coro::executor;
  auto state = std::make_shared<State>(ex);
  auto finished = [state, stop](std::exception_ptr e) {
    if (e && !state->error) state->error = e;
    if (!state->stopped) {
      state->stopped = true;
      stop();
    }
    if (--state->running == 0) state->done.cancel();
  };
  asio::co_spawn(ex, std::move(a), finished);
  asio::co_spawn(ex, std::move(b), finished);
  while (state->running > 0) {
    error_code ec;
    co_await state->done.async_wait(no_throw(ec));
  }
  if (state->error) std::rethrow_exception(state->error);
}

}  // namespace pgsoftdelete::proxy
