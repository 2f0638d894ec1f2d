// The admin console; see admin_console.hpp.
#include "ops/admin_console.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>
#include <openssl/crypto.h>

#include "codec/frame.hpp"
#include "codec/messages.hpp"
#include "codec/protocol.hpp"
#include "codec/result_set.hpp"
#include "codec/wire.hpp"

namespace pgsoftdelete::proxy {

namespace {

constexpr std::uint32_t max_admin_message = codec::max_auth_message_length;

std::string authentication(std::uint32_t code, std::string_view data = {}) {
  std::string body;
  codec::put_u32(body, code);
  body += data;
  std::string out;
  codec::encode_raw(codec::backend::authentication, body, out);
  return out;
}

std::string parameter_status(std::string_view name, std::string_view value) {
  std::string body;
  codec::put_cstring(body, name);
  codec::put_cstring(body, value);
  std::string out;
  codec::encode_raw(codec::backend::parameter_status, body, out);
  return out;
}

std::string error(std::string_view severity, std::string_view sqlstate, std::string_view message) {
  std::string out;
  codec::encode_error_response(codec::ErrorFields::make(severity, sqlstate, message), out);
  return out;
}

std::string ready() {
  std::string out;
  codec::encode(codec::ReadyForQuery{codec::transaction_status::idle}, out);
  return out;
}

std::string format_time(std::chrono::system_clock::time_point t) {
  return fmt::format("{:%Y-%m-%d %H:%M:%S}", fmt::gmtime(std::chrono::system_clock::to_time_t(t)));
}

const char* kind_name(rules::DeletedKind k) { return k == rules::DeletedKind::flag ? "flag" : "timestamp"; }

std::string upstream_tls_name(UpstreamTls t) {
  switch (t) {
    case UpstreamTls::disable: return "disable";
    case UpstreamTls::prefer: return "prefer";
    case UpstreamTls::require: return "require";
    case UpstreamTls::verify_ca: return "verify-ca";
    case UpstreamTls::verify_full: return "verify-full";
  }
  return "";
}

codec::TextResult show_clients(const AdminContext& c) {
  codec::TextResult r{{"id", "user", "database", "address", "state", "connected_since"}, {}, "SHOW"};
  for (const auto& row : c.registry->rows())
    r.rows.push_back({std::to_string(row.id), row.user, row.database, row.peer, std::string(to_string(row.state)),
                      format_time(row.since)});
  return r;
}

codec::TextResult show_rules(const AdminContext& c) {
  codec::TextResult r{{"table", "column", "kind", "on_delete_set"}, {}, "SHOW"};
  const auto runtime = c.runtime->current();
  if (!runtime->engine) return r;
  for (const auto& t : runtime->engine->rules().tables()) {
    std::string extra;
    for (const auto& a : t.on_delete_set) extra += (extra.empty() ? "" : ", ") + a.column + " = " + a.expression;
    r.rows.push_back({t.display_name(), t.column, std::string(kind_name(t.kind)), extra});
  }
  return r;
}

codec::TextResult show_config(const AdminContext& c) {
  const Config& cfg = *c.config;
  const auto runtime = c.runtime->current();
  const auto path = [](const std::optional<std::filesystem::path>& p) { return p ? p->string() : std::string(); };
  codec::TextResult r{{"key", "value"}, {}, "SHOW"};
  const std::vector<std::pair<std::string, std::string>> rows{
      {"listen", to_string(cfg.listen)},
      {"upstream", to_string(cfg.upstream)},
      {"target_session_attrs", std::string(to_string(cfg.target_session_attrs))},
      {"load_balance_hosts", cfg.load_balance_hosts ? "random" : "disable"},
      {"session_hints", cfg.hints_in_proxy ? "proxy" : "forward"},
      {"prepared_statements", cfg.unnamed_statements ? "unnamed" : "named"},
      {"io_threads", std::to_string(cfg.io_threads)},
      {"max_message_size", std::to_string(cfg.max_message_size)},
      {"server_connect_timeout_ms", std::to_string(cfg.connect_timeout.count())},
      {"server_login_timeout_ms", std::to_string(cfg.server_login_timeout.count())},
      {"startup_timeout_ms", std::to_string(cfg.startup_timeout.count())},
      {"client_idle_timeout_ms", std::to_string(cfg.client_idle_timeout.count())},
      {"catalog_refresh_interval_ms", std::to_string(cfg.catalog_refresh_interval.count())},
      {"max_client_conn", std::to_string(cfg.max_client_conn)},
      {"max_user_conn", std::to_string(cfg.max_user_conn)},
      {"max_pending_messages", std::to_string(cfg.max_pending_messages)},
      {"max_pending_bytes", std::to_string(cfg.max_pending_bytes)},
      {"shutdown_timeout_ms", std::to_string(cfg.shutdown_timeout.count())},
      {"rules", path(cfg.rules)},
      {"mode", runtime->mode == Mode::enforce ? "enforce" : "observe"},
      {"log_level", std::string(spdlog::level::to_string_view(spdlog::get_level()).data())},
      {"tls_cert_file", path(cfg.tls_cert_file)},
      {"upstream_tls", upstream_tls_name(cfg.upstream_tls)},
      {"metrics_listen", cfg.metrics_listen ? cfg.metrics_listen->to_string() : ""},
  };
  for (const auto& [k, v] : rows) r.rows.push_back({k, v});
  return r;
}

/// Lower case, trimmed, without a trailing semicolon.
std::string normalise(std::string_view sql) {
  std::string s(sql);
  while (!s.empty() && (std::isspace(static_cast<unsigned char>(s.back())) || s.back() == ';')) s.pop_back();
  auto first = s.find_first_not_of(" \t\r\n");
  s = first == std::string::npos ? "" : s.substr(first);
  std::string out;
  bool space = false;
  for (char ch : s) {
    if (std::isspace(static_cast<unsigned char>(ch))) {
      space = true;
      continue;
    }
    if (space && !out.empty()) out.push_back(' ');
    space = false;
    out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(ch))));
  }
  return out;
}

/// Reads one typed message, capped; nothing on EOF or a malformed one.
awaitable<std::optional<std::pair<char, std::string>>> read_message(Transport& client) {
  char header[codec::header_size];
  error_code ec;
  co_await client.async_read(asio::buffer(header, sizeof header), no_throw(ec));
  if (ec) co_return std::nullopt;
  auto h = codec::decode_header(std::string_view(header, sizeof header), max_admin_message);
  if (h.status != codec::DecodeStatus::ok) co_return std::nullopt;
  std::string body(h.header.length - 4, '\0');
  co_await client.async_read(asio::buffer(body), no_throw(ec));
  if (ec) co_return std::nullopt;
  co_return std::make_pair(h.header.type, std::move(body));
}

}  // namespace

std::vector<std::pair<std::string, std::string>> stats_rows(const AdminContext& c) {
  const Metrics& m = *c.metrics;
  const auto engine = c.engine_stats();
  std::vector<std::pair<std::string, std::string>> rows{
      {"connections_opened", std::to_string(Metrics::get(m.connections_opened))},
      {"connections_closed", std::to_string(Metrics::get(m.connections_closed))},
      {"upstream_connect_failures", std::to_string(Metrics::get(m.upstream_connect_failures))},
      {"statements", std::to_string(Metrics::get(m.statements))},
      {"statements_rewritten", std::to_string(Metrics::get(m.statements_rewritten))},
      {"rewrite_seconds_total", fmt::format("{:.6f}", static_cast<double>(Metrics::get(m.rewrite_nanoseconds)) / 1e9)},
      {"engine_fast_path", std::to_string(engine.fast_path)},
      {"engine_cache_hits", std::to_string(engine.cache_hits)},
      {"engine_cache_misses", std::to_string(engine.parsed)},
      {"bytes_client_to_server", std::to_string(Metrics::get(m.bytes_client_to_server))},
      {"bytes_server_to_client", std::to_string(Metrics::get(m.bytes_server_to_client))},
      {"reloads", std::to_string(Metrics::get(m.reloads))},
      {"reload_failures", std::to_string(Metrics::get(m.reload_failures))},
  };
  for (std::size_t i = 0; i < Metrics::refusal_codes.size(); ++i)
    rows.emplace_back("statements_refused_" + std::string(Metrics::refusal_codes[i]),
                      std::to_string(Metrics::get(m.refusals[i])));
  for (auto s : {SessionState::startup, SessionState::idle, SessionState::in_transaction})
    rows.emplace_back("connections_" + std::string(to_string(s)),
                      std::to_string(m.sessions_by_state[static_cast<std::size_t>(s)].load(std::memory_order_relaxed)));
  return rows;
}

std::string prometheus_text(const AdminContext& c) {
  const Metrics& m = *c.metrics;
  const auto engine = c.engine_stats();
  std::string out;
  std::set<std::string_view> described;
  const auto metric = [&](std::string_view name, std::string_view type, std::string_view help, std::string_view labels,
                          const std::string& value) {
    if (described.insert(name).second)
      out += fmt::format("# HELP pgsoftdelete_{} {}\n# TYPE pgsoftdelete_{} {}\n", name, help, name, type);
    out += fmt::format("pgsoftdelete_{}{} {}\n", name, labels, value);
  };
  const auto counter = [&](std::string_view name, std::string_view help, std::uint64_t v) {
    metric(name, "counter", help, "", std::to_string(v));
  };
  for (auto s : {SessionState::startup, SessionState::idle, SessionState::in_transaction})
    metric("connections", "gauge", "Client connections by state.", fmt::format("{{state=\"{}\"}}", to_string(s)),
           std::to_string(m.sessions_by_state[static_cast<std::size_t>(s)].load(std::memory_order_relaxed)));
  counter("connections_opened_total", "Client connections accepted.", Metrics::get(m.connections_opened));
  counter("connections_closed_total", "Client connections closed.", Metrics::get(m.connections_closed));
  counter("upstream_connect_failures_total", "Failed connections to the upstream.", Metrics::get(m.upstream_connect_failures));
  counter("statements_total", "Query and Parse strings seen by the engine.", Metrics::get(m.statements));
  counter("statements_rewritten_total", "Strings the engine rewrote.", Metrics::get(m.statements_rewritten));
  for (std::size_t i = 0; i < Metrics::refusal_codes.size(); ++i)
    metric("statements_refused_total", "counter", "Strings refused, by SQLSTATE.",
           fmt::format("{{sqlstate=\"{}\"}}", Metrics::refusal_codes[i]), std::to_string(Metrics::get(m.refusals[i])));
  counter("rewrite_cache_hits_total", "Rewrites answered from the cache.", engine.cache_hits);
  counter("rewrite_cache_misses_total", "Rewrites that parsed the statement.", engine.parsed);
  counter("rewrite_fast_path_total", "Strings passed without a parse: no rule table.", engine.fast_path);
  metric("rewrite_seconds_total", "counter", "Time spent in the engine.", "",
         fmt::format("{:.6f}", static_cast<double>(Metrics::get(m.rewrite_nanoseconds)) / 1e9));
  metric("bytes_total", "counter", "Bytes relayed, by direction.", "{direction=\"client_to_server\"}",
         std::to_string(Metrics::get(m.bytes_client_to_server)));
  metric("bytes_total", "counter", "Bytes relayed, by direction.", "{direction=\"server_to_client\"}",
         std::to_string(Metrics::get(m.bytes_server_to_client)));
  counter("reloads_total", "Successful reloads.", Metrics::get(m.reloads));
  counter("reload_failures_total", "Reloads refused for a broken file.", Metrics::get(m.reload_failures));
  return out;
}

std::expected<codec::ScramVerifier, std::string> admin_verifier(const std::string& admin_password) {
  if (admin_password.starts_with("SCRAM-SHA-256$")) return codec::parse_scram_verifier(admin_password);
  return codec::scram_verifier_for_password(admin_password);
}

awaitable<std::string> run_admin_console(Transport& client, SerialWriter& out, const AdminContext& context,
                                         const std::string& user, std::uint64_t session_id,
                                         const std::function<void()>& logged_in) {
  const auto& admins = context.config->admin_users;
  if (context.config->admin_password.empty() || std::find(admins.begin(), admins.end(), user) == admins.end()) {
    co_await out.write(asio::buffer(error("FATAL", "28000", "pgsoftdelete: user \"" + user +
                                                                "\" may not use the admin console")));
    co_return "admin console refused: not an admin user";
  }
  // SCRAM-SHA-256, as PostgreSQL's own: the password never crosses the wire.
  const auto refuse = [&](const std::string& why) -> awaitable<std::string> {
    spdlog::warn("s{} admin console login failed for {}: {}", session_id, user, why);
    co_await out.write(asio::buffer(error("FATAL", "28P01", "password authentication failed for user \"" + user + "\"")));
    co_return "admin console: authentication failed";
  };
  codec::ScramServer scram(context.verifier);
  co_await out.write(asio::buffer(authentication(codec::auth_code::sasl, codec::ScramServer::mechanism_list())));
  auto initial = co_await read_message(client);
  if (!initial || initial->first != codec::frontend::password) co_return co_await refuse("no SASLInitialResponse");
  // SASLInitialResponse: mechanism name, then the length of the client-first-message and it.
  codec::Reader reader(initial->second);
  const auto mechanism = reader.cstring();
  const auto length = mechanism ? reader.u32() : std::nullopt;
  const std::string_view first = reader.rest();
  if (!length || *length != first.size()) co_return co_await refuse("malformed SASLInitialResponse");
  auto server_first = scram.client_first(*mechanism, first);
  if (!server_first) co_return co_await refuse(server_first.error());
  co_await out.write(asio::buffer(authentication(codec::auth_code::sasl_continue, *server_first)));
  auto response = co_await read_message(client);
  if (!response || response->first != codec::frontend::password) co_return co_await refuse("no SASLResponse");
  auto server_final = scram.client_final(response->second);
  if (!server_final) co_return co_await refuse(server_final.error());
  co_await out.write(asio::buffer(authentication(codec::auth_code::sasl_final, *server_final)));
  logged_in();
  std::string hello = authentication(codec::auth_code::ok);
  for (auto [name, value] : {std::pair{"server_version", "15.0 (pgsoftdelete admin console)"},
                             std::pair{"server_encoding", "UTF8"}, std::pair{"client_encoding", "UTF8"},
                             std::pair{"DateStyle", "ISO, MDY"}, std::pair{"integer_datetimes", "on"},
                             std::pair{"standard_conforming_strings", "on"}})
    hello += parameter_status(name, value);
  hello += ready();
  co_await out.write(asio::buffer(hello));
  spdlog::info("s{} admin console opened by {}", session_id, user);

  bool discarding = false;
  for (;;) {
    auto message = co_await read_message(client);
    if (!message) co_return "admin client disconnected";
    const auto& [type, body] = *message;
    std::string reply;
    if (type == codec::frontend::terminate) co_return "admin client terminated";
    if (type == codec::frontend::sync) {
      discarding = false;
      reply = ready();
    } else if (type != codec::frontend::query) {
      if (!discarding) reply = error("ERROR", "0A000", "the admin console answers simple queries only");
      discarding = true;
    } else {
      auto query = codec::decode_query(body);
      const std::string command = query ? normalise(query->sql) : "";
      spdlog::info("s{} admin: {}", session_id, command);
      if (command == "show stats") {
        codec::TextResult r{{"name", "value"}, {}, "SHOW"};
        for (auto& [k, v] : stats_rows(context)) r.rows.push_back({k, v});
        codec::encode(r, reply);
      } else if (command == "show clients") {
        codec::encode(show_clients(context), reply);
      } else if (command == "show rules") {
        codec::encode(show_rules(context), reply);
      } else if (command == "show config") {
        codec::encode(show_config(context), reply);
      } else if (command == "reload") {
        if (auto ok = context.reload(); ok) codec::encode(codec::CommandComplete{"RELOAD"}, reply);
        else reply = error("ERROR", "F0000", "reload failed, the previous configuration stays: " + ok.error());
      } else {
        reply = error("ERROR", "42601",
                      "unknown admin command; the console knows SHOW STATS, SHOW CLIENTS, SHOW RULES, SHOW CONFIG, RELOAD");
      }
      reply += ready();
    }
    if (!reply.empty())
      if (auto ec = co_await out.write(asio::buffer(reply)); ec) co_return "admin client disconnected";
  }
}

}  // namespace pgsoftdelete::proxy
