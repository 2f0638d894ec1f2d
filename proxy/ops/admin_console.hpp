// The admin console: a client that connects to the virtual database "pgsoftdelete" as an admin
// user talks to the proxy itself, as PgBouncer's console does. Simple queries only:
// SHOW STATS, SHOW CLIENTS, SHOW RULES, SHOW CONFIG, RELOAD.
#pragma once

#include <expected>
#include <functional>
#include <memory>
#include <string>

#include "codec/scram.hpp"
#include "ops/config.hpp"
#include "ops/metrics.hpp"
#include "rules/engine.hpp"
#include "ops/runtime.hpp"
#include "net/serial_writer.hpp"
#include "session/session_registry.hpp"
#include "net/transport.hpp"

namespace pgsoftdelete::proxy {

/// The database name that reaches the console instead of the upstream.
inline constexpr std::string_view admin_database = "pgsoftdelete";

/// What the console reads and can do; owned by the server.
struct AdminContext {
  std::shared_ptr<const Config> config;
  SessionRegistry* registry = nullptr;
  Metrics* metrics = nullptr;
  const RuntimeHolder* runtime = nullptr;
  std::function<std::expected<void, std::string>()> reload;
  /// Engine counters since start (across reloads).
  std::function<rules::EngineStats()> engine_stats;
  /// What admin clients prove they know: admin_password's SCRAM verifier (derived once when it
  /// is given in clear).
  codec::ScramVerifier verifier;
};

/// The verifier for admin_password: parsed when it is a stored SCRAM-SHA-256 verifier, derived
/// otherwise; the error says what is wrong with a malformed verifier.
std::expected<codec::ScramVerifier, std::string> admin_verifier(const std::string& admin_password);

/// Every counter as (name, value) pairs: SHOW STATS and the Prometheus endpoint print these.
std::vector<std::pair<std::string, std::string>> stats_rows(const AdminContext& context);
/// The Prometheus text exposition of the same counters.
std::string prometheus_text(const AdminContext& context);

/// Serves one admin client after its StartupMessage; returns why it ended. `logged_in` runs once
/// the client has authenticated (the session's login deadline ends then).
awaitable<std::string> run_admin_console(Transport& client, SerialWriter& out, const AdminContext& context,
                                         const std::string& user, std::uint64_t session_id,
                                         const std::function<void()>& logged_in);

}  // namespace pgsoftdelete::proxy
