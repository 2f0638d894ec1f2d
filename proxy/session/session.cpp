// Startup phase and working phase of one client session; see session.hpp.
#include "session/session.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <chrono>

#include "codec/auth.hpp"
#include "codec/protocol.hpp"
#include "codec/wire.hpp"
#include "net/connect.hpp"
#include "net/run_both.hpp"
#include "session/session_handlers.hpp"
#include "session/session_rewriter.hpp"
#include "session/startup_hints.hpp"

namespace pgsoftdelete::proxy {

namespace {

/// SQLSTATEs the proxy itself reports (https://www.postgresql.org/docs/15/errcodes-appendix.html).
namespace sqlstate {
constexpr std::string_view protocol_violation = "08P01";
constexpr std::string_view unable_to_connect = "08001";
constexpr std::string_view connection_failure = "08006";
constexpr std::string_view feature_not_supported = "0A000";
constexpr std::string_view admin_shutdown = "57P01";
constexpr std::string_view idle_session_timeout = "57P05";
constexpr std::string_view too_many_connections = "53300";
}  // namespace sqlstate

/// Encryption requests a client may make before its StartupMessage (SSL, then GSS).
constexpr int max_encryption_requests = 2;
constexpr char reject_encryption = 'N';

}  // namespace

Session::Session(Socket client, SessionContext context, std::uint64_t id)
    : client_(std::move(client)),
      upstream_(client_.get_executor()),
      client_io_(client_),
      upstream_io_(upstream_),
      tls_(std::move(context.tls)),
      client_writer_(client_io_, &context.metrics->bytes_server_to_client),
      upstream_writer_(upstream_io_, &context.metrics->bytes_client_to_server),
      config_(std::move(context.config)),
      runtime_(std::move(context.runtime)),
      id_(id),
      registry_(context.registry),
      metrics_(context.metrics),
      admin_(context.admin),
      catalogs_(context.catalogs),
      upstreams_(context.upstreams),
      login_timer_(client_.get_executor()),
      server_timer_(client_.get_executor()),
      idle_timer_(client_.get_executor()) {}

void Session::set_state(SessionState next) {
  if (next == state_) return;
  metrics_->leave(state_);
  metrics_->enter(next);
  state_ = next;
  if (registry_ != nullptr) registry_->describe(id_, [next](SessionRow& row) { row.state = next; });
}

/// Sees ReadyForQuery before the inner handler does; stops the pump after one that ends the
/// last transaction of a session that is shutting down.
class Session::ReadyTap final : public MessageHandler {
 public:
  ReadyTap(Session& session, MessageHandler& inner) : session_(session), inner_(inner) {}
  [[nodiscard]] codec::StreamFramer::TypeSet inspected() const override {
    return inner_.inspected() | own_types();
  }
  Verdict on_message(const codec::Header& header, std::string_view bytes, Outbox& out) override {
    if (header.type == codec::backend::parameter_status) session_.on_parameter_status(bytes);
    if (header.type == codec::backend::backend_key_data) session_.on_backend_key(bytes);
    // Before anything else sees the login's end: a server that does not fit is not used at all.
    if (header.type == codec::backend::ready_for_query && !session_.logged_in_ && !session_.server_fits())
      return Verdict::replace;
    if (header.type == codec::backend::authentication) {
      // A request the client cannot answer, or one after the login, is the server misbehaving.
      const auto code = bytes.size() >= codec::header_size + 4
                            ? std::optional(codec::read_u32(bytes.substr(codec::header_size)))
                            : std::nullopt;
      if (!code || !codec::known_auth_code(*code) || session_.authenticated_)
        return out.reject(code ? fmt::format("unexpected authentication request (code {})", *code)
                               : std::string("truncated authentication request"));
      if (code == codec::auth_code::ok) session_.on_logged_in();
      if (code == codec::auth_code::ok || code == codec::auth_code::sasl_final) session_.await_server_login_step();
      else session_.stop_server_login_wait();  // the client answers next
      // Channel binding would bind the login to our TLS connection with the server, which the
      // client cannot see: offer plain SCRAM only (libpq's channel_binding=prefer then logs in).
      auto edited = codec::without_channel_binding(bytes.substr(codec::header_size));
      if (!edited) return Verdict::forward;
      out.send(std::move(*edited));
      return Verdict::replace;
    }
    // Every handler forwards what it does not know, so the inner one sees all that reaches us (more
    // than its own types while the rewriter reads the answer to its catalog query).
    const Verdict verdict = inner_.on_message(header, bytes, out);
    if (auto& types = out.inspect_request()) *types |= own_types();
    if (header.type == codec::backend::ready_for_query && bytes.size() > codec::header_size) {
      session_.status_ = bytes[codec::header_size];
      session_.set_state(session_.status_ == codec::transaction_status::idle ? SessionState::idle
                                                                           : SessionState::in_transaction);
      session_.client_bytes_at_ready_ = session_.client_pump_->bytes_read();
      if (!session_.logged_in_) session_.on_login_complete();
      if (session_.shutting_down_ && session_.status_ == codec::transaction_status::idle && verdict == Verdict::forward)
        return Verdict::stop_after;
    }
    return verdict;
  }

 private:
  /// ParameterStatus too when the server's role matters (target_session_attrs), BackendKeyData
  /// when there are several hosts (cancel requests find the session's).
  [[nodiscard]] codec::StreamFramer::TypeSet own_types() const {
    auto types = codec::type_set(codec::backend::ready_for_query, codec::backend::authentication);
    if (session_.upstreams_->attrs() != TargetSessionAttrs::any) types |= codec::type_set(codec::backend::parameter_status);
    if (session_.upstreams_->size() > 1) types |= codec::type_set(codec::backend::backend_key_data);
    return types;
  }

  Session& session_;
  MessageHandler& inner_;
};

/// Until the server says AuthenticationOk, a client may send only what authentication needs
/// (password, SASL and GSS messages, all of type 'p', capped as PostgreSQL caps them) or
/// Terminate. Nothing reaches the rewriter before then: a client that has not logged in cannot
/// make the proxy parse SQL or hold large messages.
class Session::LoginGate final : public MessageHandler {
 public:
  LoginGate(Session& session, MessageHandler& inner) : session_(session), inner_(inner) {}
  [[nodiscard]] codec::StreamFramer::TypeSet inspected() const override {
    return open_ ? inner_.inspected() : codec::StreamFramer::TypeSet{}.set();
  }
  Verdict on_message(const codec::Header& header, std::string_view bytes, Outbox& out) override {
    if (open_) return inner_.on_message(header, bytes, out);
    if (header.type == codec::frontend::password) {
      session_.await_server_login_step();
      return Verdict::forward;
    }
    if (header.type == codec::frontend::terminate) return Verdict::stop_after;
    return out.reject(fmt::format("message of type 0x{:02x} before authentication completed",
                                  static_cast<unsigned char>(header.type)));
  }
  [[nodiscard]] bool holding() const override { return open_ && inner_.holding(); }
  awaitable<void> until_released() override { return inner_.until_released(); }
  void open() { open_ = true; }

 private:
  Session& session_;
  MessageHandler& inner_;
  bool open_ = false;
};

void Session::on_logged_in() {
  authenticated_ = true;
  if (login_gate_ == nullptr) return;
  login_gate_->open();
  client_pump_->reframe(config_->max_message_size, login_gate_->inspected());
  login_gate_ = nullptr;
}

namespace {

/// Runs `on_expiry` when `timer` expires after `after`, unless it is re-armed or cancelled first
/// (a handler already queued when the timer is re-armed sees a later expiry and does nothing).
template <class F>
void arm(asio::steady_timer& timer, const bool& ended, std::chrono::milliseconds after, F on_expiry) {
  timer.expires_after(after);
  timer.async_wait([&timer, &ended, on_expiry = std::move(on_expiry)](error_code ec) mutable {
    if (ec || ended || timer.expiry() > asio::steady_timer::clock_type::now()) return;
    on_expiry();
  });
}

}  // namespace

void Session::await_server_login_step() {
  if (logged_in_) return;
  arm(server_timer_, ended_, config_->server_login_timeout, [this] {
    server_timed_out_ = true;
    const std::string reason =
        fmt::format("upstream did not answer the login within {} ms", config_->server_login_timeout.count());
    spdlog::warn("s{} {}", id_, reason);
    if (server_pump_ == nullptr) {  // connecting: the failed read or handshake reports it
      error_code ignored;
      upstream_.close(ignored);
      return;
    }
    end_with(sqlstate::unable_to_connect,
             fmt::format("pgsoftdelete: upstream {} did not answer the login within {} ms (server_login_timeout_ms)",
                         upstream_name(), config_->server_login_timeout.count()),
             reason);
  });
}

void Session::on_login_complete() {
  logged_in_ = true;
  login_timer_.cancel();
  server_timer_.cancel();
  if (config_->client_idle_timeout.count() > 0) {
    idle_bytes_seen_ = client_pump_->bytes_read();
    last_activity_ = std::chrono::steady_clock::now();
    watch_idle();
  }
}

void Session::watch_idle() {
  const auto timeout = config_->client_idle_timeout;
  arm(idle_timer_, ended_, std::max(timeout / 4, std::chrono::milliseconds(1)), [this, timeout] {
    if (client_pump_ == nullptr) return;  // the session is ending
    const auto now = std::chrono::steady_clock::now();
    // Between transactions, and nothing sent since the last ReadyForQuery (a query may be running).
    const bool idle = status_ == codec::transaction_status::idle && client_pump_->bytes_read() == client_bytes_at_ready_ &&
                      (rewriter_ == nullptr || rewriter_->idle());
    if (client_pump_->bytes_read() != idle_bytes_seen_ || !idle) {
      idle_bytes_seen_ = client_pump_->bytes_read();
      last_activity_ = now;
    } else if (now - last_activity_ >= timeout) {
      end_with(sqlstate::idle_session_timeout,
               fmt::format("terminating connection due to idle-session timeout (pgsoftdelete client_idle_timeout_ms "
                           "= {})", timeout.count()),
               "client idle timeout");
      return;
    }
    watch_idle();
  });
}

void Session::end_with(std::string_view code, std::string message, std::string reason) {
  if (stop_error_ || !close_reason_.empty()) return;
  stop_error_ = StopError{std::string(code), std::move(message), std::move(reason)};
  if (server_pump_ != nullptr) server_pump_->request_stop();
  else close_both();
}

void Session::begin_shutdown(bool force) {
  shutting_down_ = true;
  if (server_pump_ == nullptr) {  // still starting up: nothing to finish
    close_both();
    return;
  }
  const bool idle = status_ == codec::transaction_status::idle &&
                    client_pump_->bytes_read() == client_bytes_at_ready_ && (rewriter_ == nullptr || rewriter_->idle());
  if (force || idle) server_pump_->request_stop();
}

awaitable<void> Session::run() {
  const auto started = std::chrono::steady_clock::now();
  peer_ = describe_peer(client_);
  spdlog::info("s{} opened from {}", id_, peer_);
  auto control = std::make_shared<SessionControl>();
  control->shutdown = [this](bool force) { begin_shutdown(force); };
  std::shared_ptr<void> registration;
  if (registry_ != nullptr) {
    registration = registry_->add(id_, client_.get_executor(), control);
    registry_->describe(id_, [this](SessionRow& row) { row.peer = peer_; });
  }
  Metrics::add(metrics_->connections_opened);
  metrics_->enter(state_);
  error_code ignored;
  if (is_tcp(client_)) client_.set_option(tcp::no_delay(true), ignored);

  // A client that never finishes its login must not hold a session forever.
  bool timed_out = false;
  arm(login_timer_, ended_, config_->startup_timeout, [this, &timed_out] {
    timed_out = true;
    spdlog::warn("s{} the client did not complete its login within {} ms", id_, config_->startup_timeout.count());
    if (server_pump_ == nullptr) close_both();
    else end_with(sqlstate::protocol_violation, "pgsoftdelete: login not completed within startup_timeout_ms",
                  "login timeout");
  });

  auto startup = co_await read_startup();
  if (startup && !timed_out) {
    const bool admitted = co_await admit();  // not inside &&: GCC 12's coroutines mishandle that
    if (!admitted) startup.reset();
  }
  if (registry_ != nullptr && startup)
    registry_->describe(id_, [this](SessionRow& row) {
      row.user = user_;
      row.database = database_;
    });
  if (startup && !timed_out && admin_ != nullptr && database_ == admin_database) {
    close_reason_ = co_await run_admin_console(client_io_, client_writer_, *admin_, user_, id_,
                                               [this] { login_timer_.cancel(); });
  } else if (startup && !timed_out) {
    std::optional<std::string> failure = co_await connect_upstream();
    if (!failure) {
      await_server_login_step();  // TLS negotiation, then the answer to the startup packet
      failure = co_await upstream_tls();
      if (failure && server_timed_out_)
        failure = fmt::format("no answer within {} ms (server_login_timeout_ms)", config_->server_login_timeout.count());
    }
    if (failure) {
      Metrics::add(metrics_->upstream_connect_failures);
      spdlog::warn("s{} cannot connect to upstream {}: {}", id_, upstream_name(), *failure);
      co_await send_fatal(sqlstate::unable_to_connect,
                          "pgsoftdelete: could not connect to upstream " + upstream_name() + ": " + *failure);
      close_reason_ = "upstream unreachable";
    } else {
      co_await upstream_writer_.write(asio::buffer(*startup));
      co_await relay();
    }
  }
  ended_ = true;
  if (backend_key_) upstreams_->forget_key(backend_key_->first, backend_key_->second);
  login_timer_.cancel();
  server_timer_.cancel();
  idle_timer_.cancel();
  // A timer that expired as the session ended has its handler queued already, past cancelling:
  // let it run (and find the session over) while the session still exists.
  co_await asio::post(client_.get_executor(), use_awaitable);
  if (timed_out && close_reason_.empty()) close_reason_ = "startup timeout";
  close_both();
  metrics_->leave(state_);
  Metrics::add(metrics_->connections_closed);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
  spdlog::info("s{} closed: {} (user={} database={} sent={} received={} duration={}ms)", id_, close_reason_, user_,
               database_, upstream_writer_.bytes(), client_writer_.bytes(), ms);
}

awaitable<std::optional<std::string>> Session::read_startup_packet() {
  std::string packet(4, '\0');
  error_code ec;
  co_await client_io_.async_read(asio::buffer(packet), no_throw(ec));
  if (ec) {
    close_reason_ = "client closed the connection during startup";
    co_return std::nullopt;
  }
  const std::uint32_t length = codec::read_u32(packet);
  if (length < 8 || length > codec::max_startup_packet_length) {
    close_reason_ = "invalid startup packet length " + std::to_string(length);
    spdlog::warn("s{} {}", id_, close_reason_);
    co_await send_fatal(sqlstate::protocol_violation, "invalid startup packet length");
    co_return std::nullopt;
  }
  packet.resize(length);
  co_await client_io_.async_read(asio::buffer(packet.data() + 4, length - 4), no_throw(ec));
  if (ec) {
    close_reason_ = "client closed the connection during startup";
    co_return std::nullopt;
  }
  co_return packet;
}

awaitable<std::optional<std::string>> Session::read_startup() {
  for (int encryption_requests = 0;;) {
    auto packet = co_await read_startup_packet();
    if (!packet) co_return std::nullopt;
    auto decoded = codec::decode_startup(*packet);
    if (decoded.status != codec::DecodeStatus::ok) {
      close_reason_ = "invalid startup packet: " + decoded.error;
      spdlog::warn("s{} {}", id_, close_reason_);
      const bool unsupported = decoded.error.starts_with("unsupported frontend protocol");
      co_await send_fatal(unsupported ? sqlstate::feature_not_supported : sqlstate::protocol_violation,
                          decoded.error);
      co_return std::nullopt;
    }
    switch (decoded.packet.kind) {
      case codec::StartupKind::ssl_request:
      case codec::StartupKind::gssenc_request: {
        if (++encryption_requests > max_encryption_requests) {
          close_reason_ = "too many encryption requests";
          co_await send_fatal(sqlstate::protocol_violation, "too many encryption requests");
          co_return std::nullopt;
        }
        if (decoded.packet.kind == codec::StartupKind::ssl_request) {
          if (!co_await answer_ssl_request()) co_return std::nullopt;
          continue;
        }
        const char answer = reject_encryption;
        if (error_code ec = co_await client_writer_.write(asio::buffer(&answer, 1)); ec) {
          close_reason_ = "client disconnected during startup";
          co_return std::nullopt;
        }
        continue;
      }
      case codec::StartupKind::cancel_request:
        co_await forward_cancel(decoded.packet, *packet);
        co_return std::nullopt;
      case codec::StartupKind::startup_message:
        user_ = decoded.packet.parameter("user").value_or("");
        database_ = decoded.packet.parameter("database").value_or(user_);
        spdlog::debug("s{} startup user={} database={}", id_, user_, database_);
        if (runtime_->current()->engine && wants_replication(decoded.packet)) {
          close_reason_ = "replication connection refused";
          spdlog::warn("s{} {}", id_, close_reason_);
          co_await send_fatal(sqlstate::feature_not_supported,
                              "pgsoftdelete: replication connections cannot pass through the proxy: they read "
                              "below SQL, where soft-deleted rows cannot be hidden");
          co_return std::nullopt;
        }
        if (!co_await accept_startup_hints(decoded.packet)) co_return std::nullopt;
        // session_hints = "proxy": the server (a pooler behind, which refuses parameters it does not
        // know) never sees them.
        if (config_->hints_in_proxy && runtime_->current()->engine) co_return without_startup_hints(decoded.packet);
        co_return std::move(*packet);
    }
  }
}

awaitable<bool> Session::admit() {
  if (registry_ == nullptr) co_return true;
  auto admitted = registry_->admit(id_, user_, config_->max_client_conn, config_->max_user_conn);
  if (admitted) co_return true;
  const bool total = admitted.error() == "max_client_conn";
  close_reason_ = "refused: " + admitted.error() + " reached";
  spdlog::warn("s{} {}", id_, close_reason_);
  // Built before the co_await: GCC 12 destroys a temporary of ?: inside a co_await twice.
  const std::string message =
      total ? fmt::format("sorry, too many clients already (pgsoftdelete max_client_conn = {})", config_->max_client_conn)
            : fmt::format("too many connections for role \"{}\" (pgsoftdelete max_user_conn = {})", user_,
                          config_->max_user_conn);
  co_await send_fatal(sqlstate::too_many_connections, message);
  co_return false;
}

awaitable<bool> Session::accept_startup_hints(const codec::StartupPacket& packet) {
  const auto runtime = runtime_->current();
  if (!runtime->engine) co_return true;
  auto hints = startup_hints(packet);
  std::expected<void, parser::Error> allowed;
  if (hints) allowed = check_hint_users(*hints, runtime->engine->rules(), user_);
  const parser::Error* error = !hints ? &hints.error() : !allowed ? &allowed.error() : nullptr;
  if (error == nullptr) {
    startup_hints_ = std::move(*hints);
    co_return true;
  }
  close_reason_ = "startup hints refused: " + error->message;
  spdlog::warn("s{} {} ({})", id_, close_reason_, error->sqlstate);
  co_await send_fatal(error->sqlstate, error->message);
  co_return false;
}

awaitable<bool> Session::answer_ssl_request() {
  const bool offer = tls_.clients && !client_io_.tls();
  const char answer = offer ? 'S' : reject_encryption;
  if (error_code ec = co_await client_writer_.write(asio::buffer(&answer, 1)); ec) {
    close_reason_ = "client disconnected during startup";
    co_return false;
  }
  if (!offer) co_return true;
  error_code ec;
  co_await client_io_.start_tls(*tls_.clients).async_handshake(ssl::stream_base::server, no_throw(ec));
  if (ec) {
    // No ErrorResponse: the client is not speaking the protocol in clear, nor in TLS with us.
    close_reason_ = "TLS handshake with the client failed: " + ec.message();
    spdlog::warn("s{} {}", id_, close_reason_);
    co_return false;
  }
  co_return true;
}

awaitable<std::optional<std::string>> Session::upstream_tls() {
  const UpstreamTls mode = config_->upstream_tls;
  const Endpoint& upstream = upstreams_->host(*host_);
  // PostgreSQL offers no TLS on Unix sockets, and libpq asks for none there.
  if (mode == UpstreamTls::disable || !tls_.upstream || upstream.is_unix()) co_return std::nullopt;
  // SSLRequest, then one byte: 'S' to go on in TLS, 'N' to stay in clear.
  std::string request;
  codec::put_u32(request, 8);
  codec::put_u32(request, static_cast<std::uint32_t>(codec::startup_code::ssl_request));
  error_code ec = co_await upstream_writer_.write(asio::buffer(request));
  char answer = 0;
  if (!ec) co_await upstream_io_.async_read(asio::buffer(&answer, 1), no_throw(ec));
  if (ec) co_return "TLS negotiation failed: " + ec.message();
  if (answer == 'N') {
    if (mode == UpstreamTls::prefer) co_return std::nullopt;
    co_return std::string("the server does not support TLS (upstream_tls requires it)");
  }
  if (answer != 'S') co_return "unexpected answer to SSLRequest";
  auto& stream = upstream_io_.start_tls(*tls_.upstream);
  const std::string& host = upstream.host;
  error_code not_an_address;
  asio::ip::make_address(host, not_an_address);
  if (not_an_address) SSL_set_tlsext_host_name(stream.native_handle(), host.c_str());  // SNI: names only
  if (mode == UpstreamTls::verify_full) stream.set_verify_callback(ssl::host_name_verification(host));
  co_await stream.async_handshake(ssl::stream_base::client, no_throw(ec));
  if (ec) co_return "TLS handshake failed: " + ec.message();
  co_return std::nullopt;
}

awaitable<void> Session::forward_cancel(const codec::StartupPacket& cancel, const std::string& packet) {
  // The client holds the server's own BackendKeyData (it was relayed untouched), so the request
  // goes to the upstream as it is, on a connection of its own: to the host that gave the key, or,
  // when this process does not know it (another proxy behind the same balancer served that
  // session), to each host (a server ignores a key that is not its own).
  std::vector<std::size_t> hosts;
  if (const auto known = upstreams_->host_of_key(cancel.process_id, cancel.secret_key)) hosts.push_back(*known);
  else for (std::size_t i = 0; i < upstreams_->size(); ++i) hosts.push_back(i);
  std::string outcome;
  for (const std::size_t i : hosts) {
    Socket socket(client_.get_executor());
    error_code ec = co_await connect_within(socket, upstreams_->host(i), config_->connect_timeout);
    if (!ec) {
      Transport transport(socket);
      SerialWriter writer(transport);
      ec = co_await writer.write(asio::buffer(packet));
    }
    if (upstreams_->size() > 1) outcome += (outcome.empty() ? "to " : ", ") + upstreams_->host(i).to_string() + " ";
    outcome += ec ? "not forwarded: " + ec.message() : "forwarded";
    socket.close(ec);
  }
  close_reason_ = "cancel request " + outcome;
  spdlog::info("s{} {}", id_, close_reason_);
}

awaitable<std::optional<std::string>> Session::connect_upstream() {
  std::string failures;
  for (const std::size_t i : upstreams_->order()) {
    error_code ignored;
    upstream_.close(ignored);
    const error_code ec = co_await connect_within(upstream_, upstreams_->host(i), config_->connect_timeout);
    if (!ec) {
      host_ = i;
      co_return std::nullopt;
    }
    if (upstreams_->size() > 1) failures += (failures.empty() ? "" : "; ") + upstreams_->host(i).to_string() + ": ";
    failures += ec.message();
    if (shutting_down_ || ended_) break;
  }
  co_return failures;
}

std::string Session::upstream_name() const {
  return host_ ? upstreams_->host(*host_).to_string() : to_string(config_->upstream);
}

void Session::on_backend_key(std::string_view bytes) {
  const std::string_view body = bytes.substr(codec::header_size);
  if (body.size() < 8 || !host_ || backend_key_) return;
  backend_key_.emplace(codec::read_u32(body), codec::read_u32(body.substr(4)));
  upstreams_->remember_key(backend_key_->first, backend_key_->second, *host_);
}

void Session::on_parameter_status(std::string_view bytes) {
  // ParameterStatus: name NUL value NUL.
  const std::string_view body = bytes.substr(codec::header_size);
  const auto nul = body.find('\0');
  if (nul == std::string_view::npos) return;
  const std::string_view name = body.substr(0, nul);
  std::string_view value = body.substr(nul + 1);
  value = value.substr(0, value.find('\0'));
  if (name == "in_hot_standby") {
    server_role_.hot_standby = value == "on";
    role_reported_ = true;
  } else if (name == "default_transaction_read_only") {
    server_role_.read_only = value == "on";
  } else {
    return;
  }
  // After the login: the server changed (a promoted standby reports in_hot_standby = off).
  if (logged_in_ && role_reported_) upstreams_->learn(*host_, server_role_);
}

bool Session::server_fits() {
  const auto attrs = upstreams_->attrs();
  if (attrs == TargetSessionAttrs::any) return true;
  std::string problem;
  if (!role_reported_) {
    problem = "the server does not report in_hot_standby (PostgreSQL 14 or later does)";
  } else {
    upstreams_->learn(*host_, server_role_);
    if (const auto why = mismatch(attrs, server_role_)) problem = *why;
  }
  if (problem.empty()) return true;
  const bool others = upstreams_->size() > 1;
  spdlog::warn("s{} upstream {} does not fit target_session_attrs = {}: {}", id_, upstream_name(), to_string(attrs), problem);
  // The client logged in to this server itself (its password went to it, not to the proxy), so the
  // proxy cannot log in to another host for it: it ends this session, and the next ones try the
  // hosts known to fit first.
  end_with(sqlstate::unable_to_connect,
           fmt::format("pgsoftdelete: upstream {}: {} (target_session_attrs = {}){}", upstream_name(), problem,
                       to_string(attrs), others ? "; connect again: new connections try the other hosts first" : ""),
           "upstream does not fit target_session_attrs");
  return false;
}

awaitable<void> Session::relay() {
  // Without rules the session is a plain relay and inspects nothing but Terminate; a session
  // started with rules follows reloads, one started without stays a relay.
  ClientHandler plain_client;
  ServerHandler plain_server;
  std::optional<SessionRewriter> rewriter;
  if (runtime_->current()->engine) {
    // The proxy's own catalog query at login is written while the client direction is idle; a
    // socket that does not take a few hundred bytes at once then is not worth a session.
    auto send_upstream = [this](std::string_view bytes) {
      std::vector<asio::const_buffer> buffers{asio::buffer(bytes.data(), bytes.size())};
      error_code ec;
      const bool done = upstream_writer_.try_write(buffers, ec);
      if (!done) end_with(sqlstate::connection_failure, "pgsoftdelete: could not write to the upstream", "upstream write stalled");
      return done && !ec;
    };
    rewriter.emplace(client_.get_executor(), *runtime_, *metrics_, user_, id_, startup_hints_,
                     PipelineLimits{config_->max_pending_messages, config_->max_pending_bytes},
                     CatalogAccess{catalogs_ != nullptr ? catalogs_->database(database_) : nullptr, send_upstream},
                     PoolerSafety{config_->hints_in_proxy, config_->unnamed_statements});
  }
  LoginGate client_handler(*this, rewriter ? rewriter->client_side() : plain_client);
  ReadyTap server_handler(*this, rewriter ? rewriter->server_side() : plain_server);
  MessagePump client_pump(client_io_, upstream_writer_, codec::max_auth_message_length, client_handler);
  MessagePump server_pump(upstream_io_, client_writer_, codec::max_backend_message_length, server_handler);
  client_pump_ = &client_pump;
  server_pump_ = &server_pump;
  login_gate_ = &client_handler;
  rewriter_ = rewriter ? &*rewriter : nullptr;
  if (shutting_down_) server_pump.request_stop();  // asked while connecting
  co_await run_both(client_to_server(client_pump), server_to_client(server_pump), [this, &rewriter] {
    close_both();
    if (rewriter) rewriter->release();  // a client direction held at a barrier must end too
  });
  client_pump_ = server_pump_ = nullptr;
  login_gate_ = nullptr;
  rewriter_ = nullptr;
}

awaitable<void> Session::client_to_server(MessagePump& pump) {
  const PumpEnd end = co_await pump.run();
  if (!close_reason_.empty()) co_return;  // the other direction ended first
  switch (end.kind) {
    case PumpEnd::Kind::stopped:
      close_reason_ = "client terminated";
      break;
    case PumpEnd::Kind::eof:
    case PumpEnd::Kind::read_error:
      close_reason_ = "client disconnected: " + end.detail;
      break;
    case PumpEnd::Kind::write_error:
      close_reason_ = "upstream write failed: " + end.detail;
      co_await send_fatal(sqlstate::connection_failure,
                          "pgsoftdelete: lost connection to upstream " + upstream_name());
      break;
    case PumpEnd::Kind::malformed:
      close_reason_ = "malformed message from client: " + end.detail;
      spdlog::warn("s{} {}", id_, close_reason_);
      co_await send_fatal(sqlstate::protocol_violation, "invalid message from client: " + end.detail);
      break;
  }
}

awaitable<void> Session::server_to_client(MessagePump& pump) {
  const PumpEnd end = co_await pump.run();
  if (!close_reason_.empty()) co_return;
  if (stop_error_ && end.kind == PumpEnd::Kind::stopped) {
    close_reason_ = stop_error_->reason;
    co_await send_fatal(stop_error_->sqlstate, stop_error_->message);
    co_return;
  }
  if (shutting_down_ && end.kind == PumpEnd::Kind::stopped) {
    close_reason_ = "shutdown";
    co_await send_fatal(sqlstate::admin_shutdown, "terminating connection due to administrator command");
    co_return;
  }
  switch (end.kind) {
    case PumpEnd::Kind::stopped:
    case PumpEnd::Kind::eof:
    case PumpEnd::Kind::read_error:
      // A server that ends a session says why in a FATAL ErrorResponse first; pass that on
      // alone. Otherwise the client must still learn that its connection is gone.
      if (end.mid_message) {
        // Part of a message already went to the client: anything added now would be read as
        // the rest of it. Closing is the only honest signal left.
        close_reason_ = "upstream connection lost in the middle of a message: " + end.detail;
        spdlog::warn("s{} {}", id_, close_reason_);
      } else if (end.last_type == codec::backend::error_response) {
        close_reason_ = "upstream closed the connection after an error";
      } else {
        close_reason_ = "upstream connection lost: " + end.detail;
        spdlog::warn("s{} {}", id_, close_reason_);
        co_await send_fatal(sqlstate::connection_failure,
                            "pgsoftdelete: lost connection to upstream " + upstream_name());
      }
      break;
    case PumpEnd::Kind::write_error:
      close_reason_ = "client disconnected: " + end.detail;
      break;
    case PumpEnd::Kind::malformed:
      close_reason_ = "malformed message from upstream: " + end.detail;
      spdlog::warn("s{} {}", id_, close_reason_);
      co_await send_fatal(sqlstate::connection_failure,
                          "pgsoftdelete: upstream " + upstream_name() + " sent an invalid message");
      break;
  }
}

awaitable<void> Session::send_fatal(std::string_view code, std::string_view message) {
  if (server_pump_ != nullptr && server_pump_->mid_message()) co_return;
  std::string bytes;
  codec::encode_error_response(codec::ErrorFields::make("FATAL", code, message), bytes);
  co_await client_writer_.write(asio::buffer(bytes));
}

void Session::close_both() {
  error_code ignored;
  client_.shutdown(Socket::shutdown_both, ignored);
  client_.close(ignored);
  upstream_.shutdown(Socket::shutdown_both, ignored);
  upstream_.close(ignored);
}

}  // namespace pgsoftdelete::proxy
