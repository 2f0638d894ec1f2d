// Soft delete in one session; see session_rewriter.hpp.
#include "session/session_rewriter.hpp"

#include <spdlog/spdlog.h>

#include <charconv>
#include <chrono>
#include <utility>

#include "codec/protocol.hpp"
#include "codec/wire.hpp"

namespace pgsoftdelete::proxy {

namespace fe = codec::frontend;
namespace be = codec::backend;

namespace {

/// Sent upstream in place of a refused statement: PostgreSQL rejects it while parsing, so it
/// fails the transaction or pipeline as the refused statement would have, and runs nothing.
constexpr std::string_view refused_placeholder = "pgsoftdelete refused this statement";
/// A name for refused Parse messages sent in place of a Bind; never created on the server.
constexpr std::string_view refused_statement = "pgsoftdelete_refused";

/// session_hints = "proxy": what the server runs for a string made only of hint settings. Each is
/// set back to its default there (the value lives in the proxy, not on whichever server connection
/// a pooler behind picks), with the tag and notices of the original. Nothing when other statements
/// share the string, or for RESET ALL / DISCARD ALL (the client's own, for every setting).
std::optional<std::string> server_side_hint_text(const std::vector<rules::StatementInfo>& statements) {
  if (statements.empty()) return std::nullopt;
  std::string text;
  for (const auto& s : statements) {
    if (!s.hint_setting || s.hint_setting->action == rules::HintSetting::Action::reset_all) return std::nullopt;
    const char* name = s.hint_setting->kind == rules::HintKind::skip           ? "pgsoftdelete.skip"
                       : s.hint_setting->kind == rules::HintKind::only_deleted ? "pgsoftdelete.only_deleted"
                                                                               : "pgsoftdelete.hard_delete";
    if (!text.empty()) text += "; ";
    if (s.hint_setting->action == rules::HintSetting::Action::reset) text += fmt::format("RESET {}", name);
    else text += fmt::format("SET {}{} TO DEFAULT", s.hint_setting->local ? "LOCAL " : "", name);
  }
  return text;
}
}  // namespace

SessionRewriter::SessionRewriter(asio::any_io_executor executor, const RuntimeHolder& runtime, Metrics& metrics,
                                 std::string user, std::uint64_t session_id, rules::Hints startup_hints,
                                 PipelineLimits limits, CatalogAccess catalog, PoolerSafety pooler)
    : runtime_(runtime),
      metrics_(metrics),
      user_(std::move(user)),
      id_(session_id),
      hints_(std::move(startup_hints)),
      barrier_(executor),
      limits_(limits),
      catalog_(std::move(catalog)),
      pooler_(pooler) {
  barrier_.expires_at(asio::steady_timer::time_point::max());
  refresh();
}

awaitable<void> SessionRewriter::ClientSide::until_released() {
  while (s_.holding_ || s_.throttled_ || s_.deferred_) {
    error_code ec;  // cancelled by release()
    co_await s_.barrier_.async_wait(no_throw(ec));
  }
}

void SessionRewriter::pop_front() {
  const bool barrier = pending_.front().barrier;
  pending_bytes_ -= pending_.front().bytes;
  pending_.pop_front();
  if (barrier) {
    holding_ = false;
    barrier_.cancel();
  }
  if (deferred_ && pending_.empty() && !fetch_) {
    deferred_ = false;
    barrier_.cancel();
  }
  unthrottle_if_drained();
}

void SessionRewriter::unthrottle_if_drained() {
  if (throttled_ && pending_.size() <= limits_.max_messages / 2 && pending_bytes_ <= limits_.max_bytes / 2) {
    throttled_ = false;
    barrier_.cancel();
  }
}

void SessionRewriter::skip_until_sync(std::uint64_t syncs_before) {
  bool barrier = false;
  while (!pending_.empty() && pending_.front().kind != Pending::Kind::sync) {
    barrier = barrier || pending_.front().barrier;
    skip_front();
  }
  // Only a Sync ends the server's skipping. If the client has sent none since the failing
  // message (counted as sent, not from entries, which COPY handling removes), what it sends next
  // is skipped too. Nothing is sent after a message that holds the client direction, so the Sync
  // that ends the skipping then inherits a hold.
  if (syncs_sent_ == syncs_before) {
    server_skipping_ = true;
    barrier_after_skip_ = barrier;
  }
}

bool SessionRewriter::needs_barrier(const Effect* e) const {
  if (e == nullptr) return false;
  if (e->changes_search_path && path_matters()) return true;
  if (e->changes_catalog) return true;  // what follows is resolved with the catalog it makes
  using K = StatementFacts::Kind;
  // Hint settings, and transaction ends that may undo them.
  return e->hint.has_value() ||
         ((hints_.changed_in_transaction() || !hints_.effective().empty()) &&
          (e->facts.kind == K::commit || e->facts.kind == K::rollback || e->facts.kind == K::rollback_to ||
           !e->classified));
}

bool SessionRewriter::needs_barrier(const std::vector<Effect>& effects, std::string_view sql) const {
  for (const auto& e : effects)
    if (needs_barrier(&e)) return true;
  return may_change_lexing(sql);
}

bool SessionRewriter::ends_transaction_midway(const std::vector<Effect>& effects) const {
  using K = StatementFacts::Kind;
  bool hints_change = hints_.changed_in_transaction();
  for (std::size_t i = 0; i + 1 < effects.size(); ++i) {
    hints_change = hints_change || effects[i].hint.has_value();
    const auto kind = effects[i].facts.kind;
    if (hints_change && (kind == K::commit || kind == K::rollback || kind == K::rollback_to)) return true;
  }
  return false;
}

void SessionRewriter::hold_for_last() {
  pending_.back().barrier = true;
  holding_ = true;
}

void SessionRewriter::refresh() {
  const Runtime& r = runtime_.get();
  engine_ = r.engine.get();
  mode_ = r.mode;
}

namespace {

void append_number(std::string& to, std::uint64_t n) {
  char digits[20];
  to.append(digits, std::to_chars(digits, digits + sizeof digits, n).ptr);
}

}  // namespace

// Both keys are built in place, into strings that keep their capacity: they are asked for at
// every Parse and Bind, and a new string each time was an allocation per message.
const std::string& SessionRewriter::variant_key() const {
  const std::string& scope = scope_key();
  variant_key_.clear();
  append_number(variant_key_, rules_version());
  variant_key_ += '/';
  variant_key_ += hints_.key();
  variant_key_ += '/';
  variant_key_ += scope;
  return variant_key_;
}

const std::string& SessionRewriter::scope_key() const {
  // What else a rewrite depends on: the catalog's content, and the search_path where it matters.
  scope_key_.clear();
  if (resolved_ == nullptr) return scope_key_;
  append_number(scope_key_, resolved_->fingerprint());
  if (resolved_->search_path_matters()) {
    scope_key_ += '/';
    if (path_stale_) scope_key_ += '?';
    else scope_key_ += search_path_.key();
  }
  return scope_key_;
}

// ---------------------------------------------------------------------------------------------
// Client to server

codec::StreamFramer::TypeSet SessionRewriter::ClientSide::inspected() const {
  return codec::type_set(fe::query, fe::parse, fe::bind, fe::describe, fe::execute, fe::close, fe::sync,
                         fe::function_call, fe::terminate, fe::copy_done, fe::copy_fail);
}

Verdict SessionRewriter::ClientSide::on_message(const codec::Header& header, std::string_view bytes, Outbox& out) {
  if (s_.server_skipping_ && header.type != fe::sync && header.type != fe::query && header.type != fe::parse) {
    // The server discards everything up to the next Sync: nothing to decide or remember. Text
    // that is SQL still goes through the engine, whatever the server will do with it.
    if (header.type == fe::terminate) return Verdict::stop_after;
    return Verdict::forward;
  }
  if (header.type == fe::query || header.type == fe::parse) {
    const auto body = bytes.substr(codec::header_size);
    std::string_view sql;
    if (header.type == fe::query) {
      sql = body.substr(0, body.find('\0'));
    } else if (auto nul = body.find('\0'); nul != std::string_view::npos) {
      sql = body.substr(nul + 1);
      sql = sql.substr(0, sql.find('\0'));
    }
    if (auto wait = s_.before_statement(sql, out)) return *wait;
  }
  s_.deferred_ = false;
  s_.flush_sent_ = false;
  if (header.type == fe::sync) s_.server_skipping_ = false;
  const std::size_t before = s_.pending_.size();
  Verdict verdict = dispatch(header, bytes, out);
  if (verdict == Verdict::defer) return verdict;
  s_.refreshed_for_statement_ = false;
  s_.at_ready_ = false;  // something was sent since the last ReadyForQuery
  switch (header.type) {
    case fe::query:
      s_.extended_open_ = false;
      s_.settings_known_ = false;
      break;
    case fe::execute:
    case fe::function_call:
      s_.extended_open_ = true;
      s_.settings_known_ = false;
      break;
    case fe::sync: s_.extended_open_ = false; break;
    case fe::parse:
    case fe::bind:
    case fe::describe:
    case fe::close: s_.extended_open_ = true; break;
    default: break;
  }
  for (std::size_t i = before; i < s_.pending_.size(); ++i) s_.pending_[i].syncs_before = s_.syncs_sent_;
  if (header.type == fe::sync) ++s_.syncs_sent_;
  if (s_.pending_.size() > before) {
    auto& entry = s_.pending_.back();
    if (header.type == fe::sync && s_.barrier_after_skip_) {
      s_.barrier_after_skip_ = false;
      s_.hold_for_last();
    }
    entry.bytes = static_cast<std::uint32_t>(bytes.size());
    s_.pending_bytes_ += bytes.size();
    if (!s_.throttled_ && (s_.pending_.size() >= s_.limits_.max_messages || s_.pending_bytes_ >= s_.limits_.max_bytes)) {
      s_.throttled_ = true;
      // The server may keep its answers until a Sync or Flush the client has not sent: ask for
      // them, or the pipeline would never drain.
      if (verdict == Verdict::forward) {
        out.send(std::string(bytes));
        verdict = Verdict::replace;
      }
      if (verdict == Verdict::replace) {
        std::string flush;
        codec::encode_raw(fe::flush, "", flush);
        out.send(std::move(flush));
      }
    }
  }
  return verdict;
}

Verdict SessionRewriter::ClientSide::dispatch(const codec::Header& header, std::string_view bytes, Outbox& out) {
  const auto body = bytes.substr(codec::header_size);
  switch (header.type) {
    case fe::query:
      s_.server_unnamed_.reset();  // a simple Query drops the server's unnamed statement
      return s_.on_query(body, out);
    case fe::parse: return s_.on_parse(bytes, out);
    case fe::bind: return s_.on_bind(body, out);
    case fe::close: return s_.on_close(bytes, out);
    case fe::execute: return s_.on_execute(body, out);
    case fe::describe: return s_.on_describe(body, out);
    case fe::sync:
      s_.server_unnamed_.reset();
      // During COPY FROM STDIN the server ignores Sync: it will not answer it.
      if (!s_.copy_in_) s_.pending_.push_back({.kind = Pending::Kind::sync});
      return Verdict::forward;
    case fe::copy_done:
    case fe::copy_fail:
      if (s_.copy_in_) s_.copy_in_ = false;
      else if (s_.pending_.empty() || s_.pending_.back().kind != Pending::Kind::copy_end)
        s_.pending_.push_back({.kind = Pending::Kind::copy_end});  // before the server said CopyIn; one marks it
      return Verdict::forward;
    case fe::function_call:
      // A fastpath call may be set_config('search_path', …): read it again afterwards.
      if (s_.catalog_.database != nullptr) s_.note_search_path_change();
      s_.pending_.push_back({.kind = Pending::Kind::function_call});
      return Verdict::forward;
    case fe::terminate: return Verdict::stop_after;
    default: return Verdict::forward;
  }
}

std::expected<rules::RewriteResult, parser::Error> SessionRewriter::rewrite(std::string_view sql, const char* protocol) {
  refresh();
  if (engine_ == nullptr) return rules::RewriteResult{};  // rules removed by a reload: relay
  const bool strings_off = nonstandard_strings_ && !only_sets(sql, "standard_conforming_strings");
  const bool bad_encoding = unsafe_encoding_ && !only_sets(sql, "client_encoding");
  if (strings_off || bad_encoding) {
    auto error = proxy_refusal(strings_off ? "pgsoftdelete: standard_conforming_strings is off; statements are refused "
                                             "until it is set back to on"
                                           : "pgsoftdelete: this client_encoding can hide quotes inside multibyte "
                                             "characters; statements are refused until it is set to UTF8 or another "
                                             "ASCII-safe encoding",
                               protocol);
    if (mode_ == Mode::observe) return rules::RewriteResult{};
    return std::unexpected(std::move(error));
  }
  const auto started = std::chrono::steady_clock::now();
  auto result = engine_->rewrite(sql, hints_.effective(), user_, scope());
  Metrics::add(metrics_.rewrite_nanoseconds,
               static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                   std::chrono::steady_clock::now() - started).count()));
  Metrics::add(metrics_.statements);
  if (!result) metrics_.count_refusal(result.error().sqlstate);
  else if (!result->unchanged) Metrics::add(metrics_.statements_rewritten);
  if (!result) {
    if (mode_ == Mode::observe) {
      spdlog::warn("s{} observe: would refuse {} statement: {} {}", id_, protocol, result.error().sqlstate,
                   result.error().message);
      spdlog::debug("s{} observe: would refuse: {}", id_, sql);
      return rules::RewriteResult{};
    }
    spdlog::warn("s{} refused {} statement: {} {}", id_, protocol, result.error().sqlstate, result.error().message);
    spdlog::debug("s{} refused: {}", id_, sql);
    return result;
  }
  if (!result->unchanged) {
    if (mode_ == Mode::observe) {
      spdlog::info("s{} observe: would rewrite {} statement", id_, protocol);
      spdlog::debug("s{} observe: would rewrite: {}\n  into: {}", id_, sql, result->sql);
      result->unchanged = true;
      result->sql.clear();
      for (auto& s : result->statements) s.delete_to_update = false, s.prepared_delete_to_update.clear();
    } else {
      spdlog::debug("s{} rewrote: {}\n  into: {}", id_, sql, result->sql);
    }
  }
  if (pooler_.hints_in_proxy)
    if (auto text = server_side_hint_text(result->statements)) {
      result->sql = std::move(*text);
      result->unchanged = false;
    }
  return result;
}

parser::Error SessionRewriter::proxy_refusal(std::string message, const char* protocol) {
  parser::Error error{parser::sqlstate::feature_not_supported, std::move(message), 0};
  metrics_.count_refusal(error.sqlstate);
  spdlog::warn("s{} {} {} statement: {} {}", id_, mode_ == Mode::observe ? "observe: would refuse" : "refused",
               protocol, error.sqlstate, error.message);
  return error;
}

parser::Error SessionRewriter::reserved_name_refusal(std::string_view name, const char* protocol) {
  return proxy_refusal("pgsoftdelete: prepared statement name \"" + std::string(name) + "\" is reserved: names starting with \"" +
                           std::string(reserved_prefix) + "\" belong to the proxy",
                       protocol);
}

std::vector<SessionRewriter::Effect> SessionRewriter::effects_of(const rules::RewriteResult& result,
                                                                 std::string_view sql) {
  std::vector<Effect> effects;
  bool hint_settings = false;
  for (const auto& s : result.statements) {
    effects.push_back(Effect{.delete_tag = s.delete_to_update, .hint = s.hint_setting,
                             .prepared_delete = s.prepared_delete_to_update, .facts = {},
                             .changes_catalog = s.changes_catalog && catalog_.database != nullptr});
    hint_settings = hint_settings || s.hint_setting.has_value();
  }
  // Savepoint names, transaction ends and EXECUTE targets only matter while hints are in force or
  // changed in this transaction, or SQL-level prepared DELETEs exist. Even then a string without
  // any of their keywords needs no parse to know it has none.
  if (hint_settings || hints_.changed_in_transaction() || !hints_.effective().empty() ||
      !sql_prepared_deletes_.empty() || !sql_prepared_hints_.empty() ||
      (!statements_.empty() && may_execute(sql)) || path_matters()) {
    if (!may_be_session_control(sql)) {
      for (auto& e : effects) e.classified = true;
      return effects;
    }
    auto facts = statement_facts(sql);
    if (effects.empty()) effects.resize(facts.size());
    if (facts.size() == effects.size())
      for (std::size_t i = 0; i < facts.size(); ++i) {
        effects[i].facts = std::move(facts[i]);
        effects[i].classified = true;
      }
  }
  return effects;
}

SessionRewriter::EffectPtr SessionRewriter::single_effect(const rules::RewriteResult& result, std::string_view sql) {
  auto effects = effects_of(result, sql);
  if (changes_search_path(result, sql)) {  // its Execute must hold what follows until the answer is in
    if (effects.empty()) effects.emplace_back();
    if (effects.size() == 1) effects.front().changes_search_path = true;
  }
  if (effects.size() != 1 || effects.front().trivial()) return nullptr;
  return std::make_shared<const Effect>(std::move(effects.front()));
}

SessionRewriter::PortalBefore SessionRewriter::set_portal(std::string_view portal, EffectPtr effect) {
  PortalBefore before{std::string(portal), std::nullopt};
  if (auto it = portals_.find(portal); it != portals_.end()) before.second = std::exchange(it->second, std::move(effect));
  else portals_.emplace(before.first, std::move(effect));
  return before;
}

void SessionRewriter::refuse(const parser::Error& error, Pending::Kind kind, std::string_view statement,
                             Outbox& out) {
  std::string bytes;
  if (kind == Pending::Kind::query)
    codec::encode(codec::Query{std::string(refused_placeholder)}, bytes);
  else
    codec::encode(codec::Parse{std::string(statement), std::string(refused_placeholder), {}}, bytes);
  out.send(std::move(bytes));
  pending_.push_back({.kind = kind, .refusal = error});
}

Verdict SessionRewriter::on_query(std::string_view body, Outbox& out) {
  // A Query drops the unnamed prepared statement on the server, whatever becomes of it (and we
  // close its variants, queued before the Query).
  if (statements_.contains(std::string_view())) forget_statement(std::string(), out);
  const bool closes = !out.empty();
  const Verdict verdict = on_query_text(body, out);
  if (verdict != Verdict::forward || !closes) return verdict;
  out.send(std::string(body.data() - codec::header_size, body.size() + codec::header_size));
  return Verdict::replace;
}

Verdict SessionRewriter::on_query_text(std::string_view body, Outbox& out) {
  codec::Reader reader(body);
  const auto sql = reader.cstring();
  if (!sql || !reader.empty()) {  // the server reports malformed messages itself
    pending_.push_back({.kind = Pending::Kind::query});
    return Verdict::forward;
  }
  auto result = rewrite(*sql, "a simple-protocol");
  if (result && result->unknown_relation)
    if (auto wait = after_unknown_relation(out)) return *wait;
  if (result)
    if (auto refusal = catalog_refusal(*result, "a simple-protocol")) result = std::unexpected(std::move(*refusal));
  if (!result) {
    refuse(result.error(), Pending::Kind::query, {}, out);
    return Verdict::replace;
  }
  auto effects = effects_of(*result, *sql);
  if (mode_ == Mode::enforce) {
    std::optional<parser::Error> refusal;
    bool hints_change = false;
    for (const auto& e : effects) {
      if (e.facts.kind == StatementFacts::Kind::execute && !refusal) refusal = execute_refusal(e.facts.name, hints_change);
      hints_change = hints_change || e.hint.has_value();
    }
    if (!refusal && may_use_reserved_name(*sql))
      for (const auto& f : statement_facts(*sql))
        if (f.kind == StatementFacts::Kind::prepare && is_reserved_name(f.name))
          refusal = reserved_name_refusal(f.name, "a simple-protocol");
    // The engine rewrote the later statements under hints that a transaction end midway may undo.
    if (!refusal && ends_transaction_midway(effects))
      refusal = proxy_refusal("pgsoftdelete: a transaction end followed by more statements in the same query "
                              "string, while pgsoftdelete hints change in the transaction; send them as separate "
                              "queries",
                              "a simple-protocol");
    if (refusal) {
      refuse(*refusal, Pending::Kind::query, {}, out);
      return Verdict::replace;
    }
  }
  pending_.push_back({.kind = Pending::Kind::query, .effects = std::move(effects)});
  const bool path_change = changes_search_path(*result, *sql);
  if (path_change) note_search_path_change();
  if (needs_barrier(pending_.back().effects, *sql) || (path_change && path_matters())) hold_for_last();
  if (result->unchanged) return Verdict::forward;
  std::string bytes;
  codec::encode(codec::Query{std::move(result->sql)}, bytes);
  out.send(std::move(bytes));
  return Verdict::replace;
}

Verdict SessionRewriter::on_parse(std::string_view bytes, Outbox& out) {
  auto parse = codec::decode_parse(bytes.substr(codec::header_size));
  if (!parse) {
    pending_.push_back({.kind = Pending::Kind::parse});
    return Verdict::forward;
  }
  // A Parse of the unnamed statement drops the previous one first, on the server as here,
  // and the variants we prepared for it with it (kept aside: if the server skips this Parse after
  // an earlier error, the statement lives on).
  // Drivers that use the unnamed statement send the same Parse again and again: then the entry
  // stays as it is (no copy of it kept aside, no new one built).
  const bool again = parse->statement.empty() && same_unnamed(*parse);
  std::unique_ptr<Prepared> before;
  if (parse->statement.empty() && !again) before = forget_statement(parse->statement, out);
  auto result = rewrite(parse->sql, "an extended-protocol");
  if (result && result->unknown_relation)
    if (auto wait = after_unknown_relation(out)) {
      if (parse->statement.empty() && before) statements_[parse->statement] = std::move(*before);
      return *wait;
    }
  // The server never sees the client's names here: its error for a name in use is ours to give.
  if (result && pooler_.unnamed_statements && !parse->statement.empty() && statements_.contains(parse->statement))
    result = std::unexpected(parser::Error{"42P05", "prepared statement \"" + parse->statement + "\" already exists", 0});
  if (result)
    if (auto refusal = catalog_refusal(*result, "an extended-protocol")) result = std::unexpected(std::move(*refusal));
  if (result && changes_search_path(*result, parse->sql)) note_search_path_change();
  if (result && mode_ == Mode::enforce && is_reserved_name(parse->statement))
    result = std::unexpected(reserved_name_refusal(parse->statement, "an extended-protocol"));
  if (!result) {
    // Under the client's own name: a named statement that exists stays, as PostgreSQL keeps it
    // when a Parse of the same name fails; the unnamed one is gone, as above.
    if (again) statements_.erase(parse->statement);
    refuse(result.error(), Pending::Kind::parse, pooler_.unnamed_statements ? refused_statement : parse->statement, out);
    return Verdict::replace;
  }
  if (pooler_.unnamed_statements) server_unnamed_.emplace(parse->statement, variant_key());
  if (again) {
    if (!result->unchanged) {
      std::string rewritten;
      codec::encode(codec::Parse{parse->statement, std::move(result->sql), parse->parameter_types}, rewritten);
      out.send(std::move(rewritten));
    }
    pending_.push_back({.kind = Pending::Kind::parse, .kept = true});
    return out.empty() ? Verdict::forward : Verdict::replace;
  }
  Prepared prepared{.sql = parse->sql,
                    .parameter_types = parse->parameter_types,
                    .hint_free = result->unchanged && result->statements.empty(),
                    .scope_key = scope_key(),
                    .rules_version = rules_version(),
                    .hints_key = variant_key(),
                    .effect = single_effect(*result, parse->sql),
                    .variants = {}};

  Pending p{.kind = Pending::Kind::parse, .statement = parse->statement, .replaced = std::move(before)};
  if (auto it = statements_.find(parse->statement); it != statements_.end())
    p.replaced = std::make_unique<Prepared>(std::move(it->second));  // overwritten below
  const bool unchanged = result->unchanged;
  if (pooler_.unnamed_statements) {
    // Prepared as the server's unnamed statement, which answers for the client's name.
    prepared.server_sql = unchanged ? parse->sql : std::move(result->sql);
    if (!unchanged || !parse->statement.empty() || !out.empty()) {
      std::string sent;
      codec::encode(codec::Parse{std::string(), prepared.server_sql, parse->parameter_types}, sent);
      out.send(std::move(sent));
    }
  } else if (!unchanged) {
    std::string rewritten;
    codec::encode(codec::Parse{parse->statement, std::move(result->sql), parse->parameter_types}, rewritten);
    out.send(std::move(rewritten));
  } else if (!out.empty()) {
    out.send(std::string(bytes));  // after the Closes already queued
  }
  statements_[parse->statement] = std::move(prepared);
  pending_.push_back(std::move(p));
  return out.empty() ? Verdict::forward : Verdict::replace;
}

Verdict SessionRewriter::on_bind(std::string_view body, Outbox& out) {
  codec::Reader reader(body);
  auto portal = reader.cstring();
  auto name = portal ? reader.cstring() : std::nullopt;
  if (!name) {
    pending_.push_back({.kind = Pending::Kind::bind});
    return Verdict::forward;
  }
  // Each Bind keeps what the portal's name meant before: if the server skips it, that still holds.
  auto it = statements_.find(*name);
  if (it == statements_.end()) {
    // Prepared before rules applied to it, or unknown to the server too: it answers for itself.
    pending_.push_back({.kind = Pending::Kind::bind, .portal_before = set_portal(*portal, nullptr)});
    return Verdict::forward;
  }
  Prepared& prepared = it->second;
  refresh();
  // The catalog may have changed since the Parse (DDL through another session): a statement
  // prepared under the old one runs as a variant rewritten under the new one (a new key to follow).
  update_scope();
  if ((prepared.hint_free && prepared.rules_version == rules_version() && prepared.scope_key == scope_key()) ||
      prepared.hints_key == variant_key()) {
    if (pooler_.unnamed_statements && !prepared.sql_level) {
      prepare_unnamed(*name, prepared.hints_key, prepared.server_sql, prepared.parameter_types, out);
      std::string bytes;
      codec::encode(codec::Bind{std::string(*portal), std::string(), std::string(reader.rest())}, bytes);
      out.send(std::move(bytes));
      pending_.push_back({.kind = Pending::Kind::bind, .portal_before = set_portal(*portal, prepared.effect)});
      return Verdict::replace;
    }
    pending_.push_back({.kind = Pending::Kind::bind, .portal_before = set_portal(*portal, prepared.effect)});
    return Verdict::forward;
  }
  // Hints changed since the statement was prepared: run the variant for the hints in force now,
  // preparing it on the server under a name of our own the first time. A statement made by SQL
  // PREPARE has no text here to prepare again: refused, as its EXECUTE would be.
  if (prepared.sql_level) {
    refuse(proxy_refusal("pgsoftdelete: prepared statement \"" + std::string(*name) +
                             "\" was prepared under other pgsoftdelete hints, or another catalog (DDL since); "
                             "PREPARE it again",
                         "an extended-protocol"),
           Pending::Kind::parse, refused_statement, out);
    return Verdict::replace;
  }
  // With prepared_statements = "unnamed", the variant is kept as its text, prepared again as the
  // unnamed statement whenever the server's unnamed statement holds something else.
  const bool unnamed = pooler_.unnamed_statements;
  const std::string key = variant_key();  // a copy: rewriting below may build the keys again
  auto variant = prepared.variants.find(key);
  if (variant == prepared.variants.end()) {
    auto result = rewrite(prepared.sql, "an extended-protocol");
    if (!result) {
      // The Bind fails where it stands, with the engine's error, as a failed Bind would.
      refuse(result.error(), Pending::Kind::parse, refused_statement, out);
      return Verdict::replace;
    }
    EffectPtr effect = single_effect(*result, prepared.sql);
    std::string text = result->unchanged ? prepared.sql : std::move(result->sql);
    if (!unnamed) {
      std::string variant_name =
          std::string(reserved_prefix) + std::to_string(id_) + "_" + std::to_string(++next_variant_);
      std::string bytes;
      codec::encode(codec::Parse{variant_name, std::move(text), prepared.parameter_types}, bytes);
      out.send(std::move(bytes));
      pending_.push_back({.kind = Pending::Kind::parse, .injected = true, .statement = std::string(*name),
                          .variant_key = key});
      text = std::move(variant_name);
    }
    variant = prepared.variants.emplace(key, std::make_pair(std::move(text), std::move(effect))).first;
  }
  if (unnamed) prepare_unnamed(*name, key, variant->second.first, prepared.parameter_types, out);
  auto before = set_portal(*portal, variant->second.second);
  std::string bytes;
  codec::encode(codec::Bind{std::string(*portal), unnamed ? std::string() : variant->second.first,
                            std::string(reader.rest())},
                bytes);
  out.send(std::move(bytes));
  pending_.push_back({.kind = Pending::Kind::bind, .portal_before = std::move(before)});
  return Verdict::replace;
}

void SessionRewriter::prepare_unnamed(std::string_view statement, const std::string& key, std::string_view text,
                                      const std::vector<std::uint32_t>& types, Outbox& out) {
  if (server_unnamed_ && server_unnamed_->first == statement && server_unnamed_->second == key) return;
  std::string bytes;
  codec::encode(codec::Parse{std::string(), std::string(text), types}, bytes);
  out.send(std::move(bytes));
  pending_.push_back({.kind = Pending::Kind::parse, .injected = true});
  server_unnamed_.emplace(std::string(statement), key);
}

Verdict SessionRewriter::on_describe(std::string_view body, Outbox& out) {
  if (pooler_.unnamed_statements) {
    auto describe = codec::decode_describe(body);
    if (describe && describe->target == 'S')
      if (auto it = statements_.find(describe->name); it != statements_.end() && !it->second.sql_level) {
        const Prepared& prepared = it->second;
        prepare_unnamed(describe->name, prepared.hints_key, prepared.server_sql, prepared.parameter_types, out);
        std::string bytes;
        codec::encode(codec::Describe{'S', std::string()}, bytes);
        out.send(std::move(bytes));
        pending_.push_back({.kind = Pending::Kind::describe});
        return Verdict::replace;
      }
  }
  pending_.push_back({.kind = Pending::Kind::describe});
  return Verdict::forward;
}

bool SessionRewriter::same_unnamed(const codec::Parse& parse) const {
  auto it = statements_.find(std::string_view());
  if (it == statements_.end()) return false;
  const Prepared& p = it->second;
  // hints_key is variant_key() at its Parse: rules version, hints and scope in one.
  return !p.sql_level && p.variants.empty() && p.sql == parse.sql && p.parameter_types == parse.parameter_types &&
         p.hints_key == variant_key();
}

std::unique_ptr<SessionRewriter::Prepared> SessionRewriter::forget_statement(const std::string& name, Outbox& out) {
  auto it = statements_.find(name);
  if (it == statements_.end()) return nullptr;
  if (server_unnamed_ && server_unnamed_->first == name) server_unnamed_.reset();
  // prepared_statements = "unnamed": the variants are texts, nothing on the server to close.
  if (!pooler_.unnamed_statements) {
    for (auto& [key, variant] : it->second.variants) {
      std::string bytes;
      codec::encode(codec::Close{'S', variant.first}, bytes);
      out.send(std::move(bytes));
      pending_.push_back({.kind = Pending::Kind::close, .injected = true});
    }
  }
  auto forgotten = std::make_unique<Prepared>(std::move(it->second));
  statements_.erase(it);
  return forgotten;
}

Verdict SessionRewriter::on_close(std::string_view bytes, Outbox& out) {
  auto close = codec::decode_close(bytes.substr(codec::header_size));
  Pending p{.kind = Pending::Kind::close};
  if (close && close->target == 'S') {
    // The server's unnamed statement goes with a Close of it, whatever it held.
    if (close->name.empty()) server_unnamed_.reset();
    // Kept aside: if the server skips this Close (after an error), the statement lives on.
    p.statement = close->name;
    p.replaced = forget_statement(close->name, out);
  }
  if (close && close->target == 'P') {
    PortalBefore before{close->name, std::nullopt};  // likewise
    if (auto it = portals_.find(close->name); it != portals_.end()) {
      before.second = std::move(it->second);
      portals_.erase(it);
    }
    p.portal_before = std::move(before);
  }
  pending_.push_back(std::move(p));
  if (out.empty()) return Verdict::forward;
  out.send(std::string(bytes));  // our Closes first, then the client's, whose answer it awaits
  return Verdict::replace;
}

Verdict SessionRewriter::on_execute(std::string_view body, Outbox& out) {
  Pending p{.kind = Pending::Kind::execute};
  codec::Reader reader(body);
  if (auto portal = reader.cstring()) {
    if (auto it = portals_.find(*portal); it != portals_.end()) p.effect = it->second;
  }
  const bool barrier = needs_barrier(p.effect.get());
  pending_.push_back(std::move(p));
  if (!barrier) return Verdict::forward;
  // The server may keep the answer until a Sync or Flush the client has not sent yet: ask for it.
  hold_for_last();
  out.send(std::string(body.data() - codec::header_size, body.size() + codec::header_size));
  std::string flush;
  codec::encode_raw(fe::flush, "", flush);
  out.send(std::move(flush));
  return Verdict::replace;
}

// ---------------------------------------------------------------------------------------------
// Server to client

codec::StreamFramer::TypeSet SessionRewriter::ServerSide::inspected() const {
  return codec::type_set(be::parse_complete, be::bind_complete, be::close_complete, be::command_complete,
                         be::empty_query_response, be::error_response, be::no_data, be::portal_suspended,
                         be::ready_for_query, be::row_description, be::parameter_status, be::copy_in_response);
}

Verdict SessionRewriter::ServerSide::on_message(const codec::Header& header, std::string_view bytes, Outbox& out) {
  const auto body = bytes.substr(codec::header_size);
  using Kind = Pending::Kind;
  s_.drop_copy_markers();
  if (!s_.pending_.empty() && s_.pending_.front().kind == Kind::catalog) return s_.on_catalog_answer(header, body, out);
  if (!s_.pending_.empty() && s_.pending_.front().kind == Kind::probe) return s_.on_probe_answer(header, body, out);
  const Verdict verdict = dispatch(header, bytes, out);
  // The probe's DataRow comes next: have it delivered whole.
  if (!s_.probe_inspecting_ && !s_.pending_.empty() && s_.pending_.front().kind == Kind::probe) {
    s_.probe_inspecting_ = true;
    out.inspect(codec::StreamFramer::TypeSet{}.set());
  }
  return verdict;
}

Verdict SessionRewriter::ServerSide::dispatch(const codec::Header& header, std::string_view bytes, Outbox& out) {
  const auto body = bytes.substr(codec::header_size);
  using Kind = Pending::Kind;
  if (header.type == be::ready_for_query && !s_.login_seen_) {
    // The login's ReadyForQuery: learn the catalog (and search_path) before the client may send
    // anything, on this connection and with the client's own privileges; the client gets its
    // ReadyForQuery after our answer.
    s_.login_seen_ = true;
    s_.refresh();
    if (s_.engine_ != nullptr && s_.catalog_.database != nullptr && s_.pending_.empty()) {
      s_.update_scope();
      const bool want_catalog = s_.catalog_.database->claim_refresh(std::chrono::steady_clock::now());
      const bool want_path = want_catalog || s_.path_matters();
      s_.tx_status_ = body.empty() ? codec::transaction_status::idle : body[0];
      if ((want_catalog || want_path) &&
          s_.start_fetch(CatalogRequest{.catalog = want_catalog, .search_path = want_path}, nullptr)) {
        s_.login_ready_ = std::string(bytes);
        return Verdict::replace;
      }
    }
  }
  switch (header.type) {
    case be::copy_in_response: s_.on_copy_in_response(); return Verdict::forward;
    case be::parse_complete: return s_.complete(Kind::parse) ? Verdict::forward : Verdict::replace;
    case be::bind_complete: return s_.complete(Kind::bind) ? Verdict::forward : Verdict::replace;
    case be::close_complete: return s_.complete(Kind::close) ? Verdict::forward : Verdict::replace;
    case be::row_description:
    case be::no_data:
      // The end of a Describe; in a simple query RowDescription starts a result instead.
      if (!s_.pending_.empty() && s_.pending_.front().kind == Kind::describe) s_.complete(Kind::describe);
      return Verdict::forward;
    case be::empty_query_response:
    case be::portal_suspended:
      if (!s_.pending_.empty() && s_.pending_.front().kind == Kind::query) ++s_.pending_.front().next;
      else s_.complete(Kind::execute);
      return Verdict::forward;
    case be::command_complete: return s_.on_command_complete(body, out);
    case be::error_response: return s_.on_error(out);
    case be::ready_for_query: return s_.on_ready(body);
    case be::parameter_status: s_.on_parameter_status(body); return Verdict::forward;
    default: return Verdict::forward;
  }
}

bool SessionRewriter::complete(Pending::Kind kind) {
  if (pending_.empty() || pending_.front().kind != kind) return true;  // not ours to judge
  const bool forward = !pending_.front().injected;
  pop_front();
  return forward;
}

void SessionRewriter::apply(const Effect& effect, std::string& tag) {
  using Facts = StatementFacts::Kind;
  if (effect.changes_catalog) {
    catalog_.database->mark_stale();
    ddl_in_transaction_ = true;
    ddl_unread_ = true;
  }
  if (effect.changes_search_path) note_search_path_change();
  if (effect.delete_tag || (effect.facts.kind == Facts::execute && prepared_delete(effect.facts.name))) {
    if (tag.starts_with("UPDATE ")) tag.replace(0, 6, "DELETE");
  }
  if (effect.hint) hints_.apply(*effect.hint);
  if (!effect.prepared_delete.empty() && tag == "PREPARE") sql_prepared_deletes_.insert(effect.prepared_delete);
  if (effect.facts.kind == Facts::prepare && tag == "PREPARE") {
    if (hints_.effective().empty() && !path_matters()) sql_prepared_hints_.erase(effect.facts.name);
    else sql_prepared_hints_[effect.facts.name] = hints_.key() + "/" + scope_key();
  }
  if (tag == "PREPARE" && (!effect.prepared_delete.empty() ||
                           (effect.facts.kind == Facts::prepare && (!hints_.effective().empty() || path_matters())))) {
    // One namespace with the protocol's statements: a Bind to it must know its tag and hints.
    const std::string& name = effect.prepared_delete.empty() ? effect.facts.name : effect.prepared_delete;
    auto delete_effect = effect.prepared_delete.empty() ? nullptr : std::make_shared<const Effect>(Effect{.delete_tag = true});
    statements_[name] = Prepared{.sql = {}, .parameter_types = {}, .hint_free = false, .sql_level = true,
                                 .rules_version = rules_version(), .hints_key = variant_key(),
                                 .effect = std::move(delete_effect), .variants = {}};
  }
  if (tag == "COMMIT" || tag == "PREPARE TRANSACTION") {  // also END
    hints_.on_commit();
  } else if (tag == "ROLLBACK") {
    // ROLLBACK, ROLLBACK TO SAVEPOINT and COMMIT of a failed transaction all answer ROLLBACK.
    if (!effect.classified) pending_rollback_ = hints_.changed_in_transaction();  // ReadyForQuery tells
    else if (effect.facts.kind == Facts::rollback_to) hints_.on_rollback_to(effect.facts.name);
    else hints_.on_rollback();
  } else if (tag == "SAVEPOINT") {
    if (effect.facts.kind == Facts::savepoint) hints_.on_savepoint(effect.facts.name);
  } else if (tag == "RELEASE") {
    if (effect.facts.kind == Facts::release) hints_.on_release(effect.facts.name);
  } else if (tag == "DEALLOCATE") {
    if (effect.facts.kind == Facts::deallocate) {
      sql_prepared_deletes_.erase(effect.facts.name);
      sql_prepared_hints_.erase(effect.facts.name);
      statements_.erase(effect.facts.name);
    }
  } else if (tag == "DEALLOCATE ALL" || tag == "DISCARD ALL") {
    // Both drop every prepared statement, those of the extended protocol included.
    sql_prepared_deletes_.clear();
    statements_.clear();
    portals_.clear();
  }
}

Verdict SessionRewriter::on_command_complete(std::string_view body, Outbox& out) {
  if (pending_.empty()) return Verdict::forward;
  // Whatever statement said it (even one the engine let pass untouched), these drop every
  // prepared statement on the server, variants included.
  if (body == std::string_view("DEALLOCATE ALL\0", 15) || body == std::string_view("DISCARD ALL\0", 12)) {
    sql_prepared_deletes_.clear();
    sql_prepared_hints_.clear();
    statements_.clear();
    portals_.clear();
  }
  Pending& head = pending_.front();
  const Effect* effect = nullptr;
  if (head.kind == Pending::Kind::query) {
    const std::size_t index = head.next++;
    if (index < head.effects.size()) effect = &head.effects[index];
  } else if (head.kind == Pending::Kind::execute) {
    effect = head.effect.get();
  }
  Verdict verdict = Verdict::forward;
  if (effect != nullptr) {
    auto complete = codec::decode_command_complete(body);
    if (complete) {
      std::string tag = complete->tag;
      apply(*effect, tag);
      if (tag != complete->tag) {
        std::string bytes;
        codec::encode(codec::CommandComplete{std::move(tag)}, bytes);
        out.send(std::move(bytes));
        verdict = Verdict::replace;
      }
    }
  }
  if (head.kind == Pending::Kind::execute) pop_front();
  return verdict;
}

void SessionRewriter::undo(Pending& p, bool failed) {
  // A refusal's placeholder stands for no statement of the client's (its own name was dealt with
  // when it was refused): whether it fails or is skipped, the client's statements stay as they are.
  if (p.refusal) return;
  if (p.kind == Pending::Kind::parse && p.injected) {
    // A variant the server did not prepare must be prepared again next time.
    if (auto it = statements_.find(p.statement); it != statements_.end()) it->second.variants.erase(p.variant_key);
  } else if (p.kind == Pending::Kind::parse && p.kept) {
    if (failed) statements_.erase(p.statement);  // skipped: the server's statement is what it was
  } else if (p.kind == Pending::Kind::parse) {
    // A failed Parse of the unnamed statement has still dropped the previous one; a skipped one
    // has not, nor a Parse of a named statement in either case.
    if (p.replaced && !(failed && p.statement.empty())) statements_[p.statement] = std::move(*p.replaced);
    else statements_.erase(p.statement);
  } else if (p.kind == Pending::Kind::close && p.replaced) {
    statements_[p.statement] = std::move(*p.replaced);  // the server kept it
  }
  if (p.portal_before) {
    auto& [portal, effect] = *p.portal_before;
    if (effect) portals_.insert_or_assign(portal, *effect);
    else portals_.erase(portal);
  }
}

void SessionRewriter::skip_front() {
  skipped_.push_back(std::move(pending_.front()));
  pop_front();  // reads only `barrier` and `bytes`, which the move leaves as they were
}

void SessionRewriter::undo_skipped() {
  for (std::size_t i = skipped_.size(); i-- > 0;) undo(skipped_[i], i == 0 && first_skipped_failed_);
  skipped_.clear();
  first_skipped_failed_ = false;
}

Verdict SessionRewriter::on_error(Outbox& out) {
  hints_.on_error();
  copy_in_ = false;  // an error ends a COPY FROM STDIN
  if (pending_.empty()) return Verdict::forward;  // startup, or a FATAL of the server's own
  Pending& head = pending_.front();
  Verdict verdict = Verdict::forward;
  const bool refused = head.refusal.has_value();
  if (refused) {
    // The placeholder fails while parsing, before any other check: the error is always ours to give.
    std::string ours;
    codec::encode_error_response(
        codec::ErrorFields::make("ERROR", head.refusal->sqlstate, head.refusal->message, head.refusal->position), ours);
    out.send(std::move(ours));
    verdict = Verdict::replace;
    head.refusal.reset();
  }
  // An error at Sync (a deferred constraint failing at the implicit commit) is answered by the
  // ReadyForQuery that follows it; nothing after the Sync is skipped.
  if (head.kind == Pending::Kind::sync) return verdict;
  if (head.kind != Pending::Kind::query && head.kind != Pending::Kind::function_call) {
    // Extended protocol: the server skips everything up to the next Sync. What the failed message
    // and the skipped ones changed here is undone at the ReadyForQuery, newest first.
    const std::uint64_t syncs_before = head.syncs_before;
    if (refused) {
      pop_front();  // it changed nothing here
    } else {
      skip_front();
      first_skipped_failed_ = true;
    }
    skip_until_sync(syncs_before);
    discarding_ = true;
  }
  return verdict;
}

void SessionRewriter::drop_copy_markers() {
  while (!pending_.empty() && pending_.front().kind == Pending::Kind::copy_end) pop_front();
}

void SessionRewriter::on_copy_in_response() {
  // The server ignores Syncs while the COPY runs: those the client sent right after the COPY's
  // Execute (libpq sends one at once) get no answer; forget them, and the client's end of the COPY
  // if it is already here (later ones the client side will not record). A message of another kind
  // ends the COPY with an error, and Syncs after it are answered again: they stay. One erase.
  if (pending_.empty()) return;
  std::size_t end = 1;
  for (; end < pending_.size() && pending_[end].kind == Pending::Kind::sync; ++end) pending_bytes_ -= pending_[end].bytes;
  const bool ended = end < pending_.size() && pending_[end].kind == Pending::Kind::copy_end;
  if (ended) pending_bytes_ -= pending_[end++].bytes;
  pending_.erase(pending_.begin() + 1, pending_.begin() + static_cast<std::ptrdiff_t>(end));
  if (!ended) copy_in_ = true;
  unthrottle_if_drained();
}

void SessionRewriter::on_parameter_status(std::string_view body) {
  codec::Reader r(body);
  auto name = r.cstring();
  auto value = name ? r.cstring() : std::nullopt;
  if (value && *name == "standard_conforming_strings") reported_nonstandard_ = nonstandard_strings_ = *value != "on";
  if (value && *name == "client_encoding") reported_unsafe_encoding_ = unsafe_encoding_ = ascii_unsafe_encoding(*value);
}

Verdict SessionRewriter::on_ready(std::string_view body) {
  if (discarding_) {
    // Whatever was sent between the error and the Sync was never carried out.
    while (!pending_.empty()) {
      const bool sync = pending_.front().kind == Pending::Kind::sync;
      if (sync) {
        pop_front();
        break;
      }
      skip_front();
    }
    undo_skipped();
    discarding_ = false;
  } else if (!pending_.empty()) {
    const auto kind = pending_.front().kind;
    if (kind == Pending::Kind::sync || kind == Pending::Kind::query || kind == Pending::Kind::function_call)
      pop_front();
  }
  // The server has just answered a Sync or a Query: it skips nothing and is in no COPY now.
  copy_in_ = false;
  const char status = body.empty() ? codec::transaction_status::idle : body[0];
  tx_status_ = status;
  at_ready_ = pending_.empty();
  if (!executing_pending()) settings_known_ = true;  // ParameterStatus reports come before ReadyForQuery
  // What a probe saw inside a batch may have been rolled back with it; the reports are exact now.
  nonstandard_strings_ = reported_nonstandard_;
  unsafe_encoding_ = reported_unsafe_encoding_;
  // A transaction end or rollback may take back a search_path set inside it; DDL is seen by other
  // sessions once committed.
  if (path_changed_since_idle_) path_stale_ = true;
  if (status == codec::transaction_status::idle) {
    path_changed_since_idle_ = false;
    if (private_resolved_ != nullptr) {  // back to the database's shared catalog
      private_resolved_ = nullptr;
      resolved_ = nullptr;
      catalog_generation_ = 0;
      update_scope();
    }
    if (ddl_in_transaction_ && catalog_.database != nullptr) catalog_.database->mark_stale();
    ddl_in_transaction_ = false;
  }
  if (pending_rollback_) {
    // Still in a transaction: it was ROLLBACK TO a savepoint older than every change we saw.
    if (status == codec::transaction_status::idle) hints_.on_rollback();
    else hints_.on_rollback_to("");
    pending_rollback_ = false;
  }
  hints_.on_ready(status);
  // Portals made by Bind end with their transaction. Once the session is idle and every message
  // sent has its answer, none of those recorded exists on the server any more: forget them, or a
  // client naming a new portal per query (pgjdbc's C_1, C_2…) would grow the map for ever.
  if (status == codec::transaction_status::idle && pending_.empty()) portals_.clear();
  return Verdict::forward;
}

}  // namespace pgsoftdelete::proxy
