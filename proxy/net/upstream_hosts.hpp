// Several upstream servers, as libpq's host list: the order a session tries them in, and what the
// sessions have learned of each server's role (the in_hot_standby and default_transaction_read_only
// it reports) so that servers known not to fit target_session_attrs are tried last.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/endpoint.hpp"

namespace pgsoftdelete::proxy {

/// Which server a session may use among several upstream hosts, as libpq's target_session_attrs.
enum class TargetSessionAttrs {
  any,             ///< the first that accepts the connection
  read_write,      ///< not in hot standby, default_transaction_read_only off
  read_only,       ///< in hot standby, or default_transaction_read_only on
  primary,         ///< not in hot standby
  standby,         ///< in hot standby
  prefer_standby,  ///< a standby when one is known, else any
};

/// libpq's spelling: "read-write", "prefer-standby", ...
std::string_view to_string(TargetSessionAttrs attrs);

/// What a server reports of itself (ParameterStatus, PostgreSQL 14 and later).
struct ServerRole {
  bool hot_standby = false;  ///< in_hot_standby = on
  bool read_only = false;    ///< default_transaction_read_only = on
};

/// Why a server with `role` does not serve sessions asking for `attrs` (libpq's words), or
/// nothing when it does. prefer-standby takes any server.
std::optional<std::string_view> mismatch(TargetSessionAttrs attrs, ServerRole role);

class UpstreamHosts {
 public:
  UpstreamHosts(std::vector<Endpoint> hosts, TargetSessionAttrs attrs, bool random_order);

  [[nodiscard]] std::size_t size() const { return hosts_.size(); }
  [[nodiscard]] const Endpoint& host(std::size_t i) const { return hosts_[i]; }
  [[nodiscard]] TargetSessionAttrs attrs() const { return attrs_; }

  /// The order one session tries the hosts in: as configured (shuffled with load_balance_hosts),
  /// then stably those known not to fit last (still tried: a role changes at a failover, and a
  /// session learns it only by logging in); with prefer-standby, known standbys first, unknown next.
  [[nodiscard]] std::vector<std::size_t> order() const;

  /// Records what host `i` reported (at a login, or later when a standby is promoted). Only
  /// in_hot_standby is the server's: default_transaction_read_only is each session's own (a role's or
  /// database's default, a SET), so it is judged per session and never shared.
  void learn(std::size_t i, ServerRole role);
  /// What is known of host `i` (read_only always false: see learn).
  [[nodiscard]] std::optional<ServerRole> known(std::size_t i) const;

  /// The server sessions got their BackendKeyData from, so that a cancel request (which names only
  /// the key) goes to that server alone. Kept only with several hosts; forgotten as sessions end.
  void remember_key(std::uint32_t process_id, std::uint32_t secret_key, std::size_t host);
  void forget_key(std::uint32_t process_id, std::uint32_t secret_key);
  [[nodiscard]] std::optional<std::size_t> host_of_key(std::uint32_t process_id, std::uint32_t secret_key) const;

 private:
  [[nodiscard]] int rank(std::size_t i) const;

  std::vector<Endpoint> hosts_;
  TargetSessionAttrs attrs_;
  bool random_order_;
  // Per host: 0 unknown, else 1 | hot_standby << 1 | read_only << 2. Sessions on every thread write.
  std::unique_ptr<std::atomic<std::uint8_t>[]> roles_;
  mutable std::mutex keys_mutex_;
  std::map<std::pair<std::uint32_t, std::uint32_t>, std::size_t> keys_;  // (process id, secret key) -> host
};

}  // namespace pgsoftdelete::proxy
