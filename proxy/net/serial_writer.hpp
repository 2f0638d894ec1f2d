// Serialises writes to one socket from several coroutines of the same session, so that
// whole message batches never interleave.
#pragma once

#include <atomic>
#include <chrono>
#include <vector>

#include "net/asio.hpp"
#include "net/transport.hpp"

namespace pgsoftdelete::proxy {

/// Lets coroutines on one executor take turns writing to a socket. Not thread-safe: every user
/// runs on the session's executor.
class SerialWriter {
 public:
  /// `bytes_counter`, if given, adds every byte written (a proxy-wide metric).
  explicit SerialWriter(Transport& transport, std::atomic<std::uint64_t>* bytes_counter = nullptr)
      : transport_(transport), wake_(transport.socket().get_executor()), counter_(bytes_counter) {
    wake_.expires_at(asio::steady_timer::time_point::max());
  }

  /// Writes what the socket takes now, when no other write is in flight: the usual case of a
  /// message or two costs one sendmsg and no suspension. Returns true when done (all written, or
  /// failed: `ec`); false when the rest, left in `buffers`, must go through write().
  bool try_write(std::vector<asio::const_buffer>& buffers, error_code& ec) {
    ec.clear();
    if (busy_) return false;
    std::size_t n = transport_.write_now(buffers, ec);
    count(n);
    if (ec) return true;
    auto first = buffers.begin();
    while (first != buffers.end() && n >= first->size()) n -= (first++)->size();
    buffers.erase(buffers.begin(), first);
    if (buffers.empty()) return true;
    buffers.front() += n;
    return false;
  }

  /// Writes all of `buffers` once no other write is in flight; returns the write's error.
  template <class Buffers>
  awaitable<error_code> write(const Buffers& buffers) {
    error_code ec;
    while (busy_) {
      error_code wait_ec;  // cancelled by release(): look again
      co_await wake_.async_wait(no_throw(wait_ec));
    }
    busy_ = true;
    co_await transport_.async_write(buffers, no_throw(ec));
    busy_ = false;
    wake_.cancel();
    count(ec ? 0 : asio::buffer_size(buffers));
    co_return ec;
  }

  /// Bytes written so far.
  [[nodiscard]] std::uint64_t bytes() const { return bytes_; }

 private:
  void count(std::size_t written) {
    bytes_ += written;
    if (counter_ != nullptr && written != 0) counter_->fetch_add(written, std::memory_order_relaxed);
  }

  Transport& transport_;
  asio::steady_timer wake_;  // never expires; cancelled to wake waiters
  std::atomic<std::uint64_t>* counter_;
  bool busy_ = false;
  std::uint64_t bytes_ = 0;
};

}  // namespace pgsoftdelete::proxy
