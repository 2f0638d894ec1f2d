// Counters of the whole proxy, shared by every session: relaxed atomics, one add per event,
// read by the admin console and the Prometheus endpoint.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

namespace pgsoftdelete::proxy {

/// Where a session is, for the connections-by-state gauge.
enum class SessionState {
  startup,         ///< before the first ReadyForQuery
  idle,            ///< ReadyForQuery 'I'
  in_transaction,  ///< ReadyForQuery 'T' or 'E'
};

class Metrics {
 public:
  using Counter = std::atomic<std::uint64_t>;

  Counter connections_opened{0};
  Counter connections_closed{0};
  Counter upstream_connect_failures{0};
  Counter statements{0};           ///< Query and Parse statements seen by the engine
  Counter statements_rewritten{0};
  Counter rewrite_nanoseconds{0};  ///< time spent in the engine
  Counter bytes_client_to_server{0};
  Counter bytes_server_to_client{0};
  Counter reloads{0};
  Counter reload_failures{0};

  /// SQLSTATEs the engine refuses with, each counted apart; anything else under "other".
  static constexpr std::array<std::string_view, 5> refusal_codes{"0A000", "42601", "42501", "22023", "other"};
  std::array<Counter, refusal_codes.size()> refusals{};
  void count_refusal(std::string_view sqlstate);

  std::array<std::atomic<std::int64_t>, 3> sessions_by_state{};
  void enter(SessionState s) { sessions_by_state[static_cast<std::size_t>(s)].fetch_add(1, std::memory_order_relaxed); }
  void leave(SessionState s) { sessions_by_state[static_cast<std::size_t>(s)].fetch_sub(1, std::memory_order_relaxed); }

  static void add(Counter& c, std::uint64_t n = 1) { c.fetch_add(n, std::memory_order_relaxed); }
  static std::uint64_t get(const Counter& c) { return c.load(std::memory_order_relaxed); }
};

/// A name for each SessionState, as shown by SHOW CLIENTS and in metric labels.
std::string_view to_string(SessionState s);

}  // namespace pgsoftdelete::proxy
