// The session's view of its database's catalog and its search_path: when to read them (at login,
// after DDL, after a statement that may change the search_path, when a statement names a table the
// catalog does not know), how the proxy's own query is sent and its answer read, and the hold on
// statements whose reading an earlier statement may have changed. See session_rewriter.hpp.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "codec/protocol.hpp"
#include "codec/wire.hpp"
#include "session/session_rewriter.hpp"

namespace pgsoftdelete::proxy {

namespace fe = codec::frontend;
namespace be = codec::backend;

namespace {

using Clock = std::chrono::steady_clock;

/// A table name the catalog does not know makes it read again only if it is older than this: a
/// statement on a temporary table (never in the shared catalog) costs at most one read a second.
constexpr auto unknown_relation_refresh = std::chrono::seconds(1);
/// After a failed read, statements are decided with what is known for this long before trying again.
constexpr auto retry_delay = std::chrono::seconds(5);

/// A backslash or a non-ASCII byte: text whose reading depends on standard_conforming_strings and
/// client_encoding, which an earlier statement may change out of sight (a DO block, a function).
bool settings_dependent(std::string_view sql) {
  for (char c : sql)
    if (c == '\\' || static_cast<unsigned char>(c) >= 0x80) return true;
  return false;
}

/// A cheap scan: the statement may change the search_path (or $user in it).
bool mentions_search_path(std::string_view sql) {
  for (std::size_t i = 0; i < sql.size(); ++i) {
    const std::string_view rest = sql.substr(i);
    if (rules::starts_with_folded(rest, "search_path") || rules::starts_with_folded(rest, "role") ||
        rules::starts_with_folded(rest, "authorization") || rules::starts_with_folded(rest, "discard") ||
        rules::starts_with_folded(rest, "set_config"))
      return true;
  }
  return false;
}

}  // namespace

void SessionRewriter::update_scope() {
  if (catalog_.database == nullptr || engine_ == nullptr) return;
  if (private_resolved_ != nullptr) {
    if (private_resolved_->rules_ptr() != engine_->rules_ptr())
      private_resolved_ = std::make_shared<const rules::ResolvedRules>(engine_->rules_ptr(), private_resolved_->catalog_ptr());
    resolved_ = private_resolved_;
    return;
  }
  const auto generation = catalog_.database->generation();
  if (generation == catalog_generation_ && resolved_ != nullptr && resolved_->rules_ptr() == engine_->rules_ptr())
    return;
  const bool mattered = path_matters();
  resolved_ = catalog_.database->resolved(engine_->rules_ptr());
  catalog_generation_ = generation;
  if (!mattered && path_matters()) path_stale_ = true;  // changes went unwatched while it did not matter
}

rules::Scope SessionRewriter::scope() {
  const rules::SearchPath* path = search_path_.known && !path_stale_ ? &search_path_ : nullptr;
  if (catalog_.database == nullptr || engine_ == nullptr) return {resolved_.get(), path};
  if (resolved_ != nullptr && !ddl_unread_) return {resolved_.get(), path};
  // No catalog (it could not be read): an empty one, so that every table name is unknown and the
  // statements naming one are refused rather than guessed.
  if (blind_ == nullptr || blind_->rules_ptr() != engine_->rules_ptr())
    blind_ = std::make_shared<const rules::ResolvedRules>(engine_->rules_ptr(), std::make_shared<const rules::Catalog>());
  return {blind_.get(), path};
}

bool SessionRewriter::executing_pending() const {
  for (const auto& p : pending_)
    if (p.kind == Pending::Kind::query || p.kind == Pending::Kind::execute || p.kind == Pending::Kind::function_call)
      return true;
  return false;
}

Verdict SessionRewriter::defer(Outbox& out) {
  deferred_ = true;
  // The server may keep its answers until a Sync or Flush that the client sent after this message:
  // ask for them, or nothing would ever release it.
  if (!flush_sent_ && !pending_.empty()) {
    std::string flush;
    codec::encode_raw(fe::flush, "", flush);
    out.send(std::move(flush));
    flush_sent_ = true;
  }
  return Verdict::defer;
}

bool SessionRewriter::start_fetch(CatalogRequest request, Outbox* out) {
  request.in_transaction = tx_status_ == codec::transaction_status::in_block;
  std::string bytes;
  codec::encode(codec::Query{catalog_query_text(request)}, bytes);
  if (out != nullptr) {
    out->send(std::move(bytes));
  } else if (!catalog_.send_upstream || !catalog_.send_upstream(bytes)) {
    catalog_error_ = "could not send the catalog query";
    return false;
  }
  fetch_.emplace(Fetch{request, {}, false, catalog_.database != nullptr ? catalog_.database->epoch() : 0});
  pending_.push_back({.kind = Pending::Kind::catalog, .injected = true});
  at_ready_ = false;
  spdlog::debug("s{} reading the{}{} of the database", id_, request.catalog ? " catalog" : "",
                request.search_path ? (request.catalog ? " and search_path" : " search_path") : "");
  return true;
}

std::optional<Verdict> SessionRewriter::before_statement(std::string_view sql, Outbox& out) {
  refresh();
  if (engine_ == nullptr || mode_ == Mode::observe) return std::nullopt;
  // The server skips this statement (an error earlier in the batch): nothing to learn first.
  if (server_skipping_) return std::nullopt;
  // A probe the server skipped (an error earlier in the batch) has no answer coming.
  if (probe_ && std::none_of(pending_.begin(), pending_.end(), [](const Pending& p) { return p.kind == Pending::Kind::probe; }))
    probe_.reset();
  if (fetch_ || login_ready_ || probe_) return defer(out);  // our own query is under way
  // Text read differently under other settings, behind a statement that may have changed them.
  const bool ambiguous = !settings_known_ && settings_dependent(sql);
  update_scope();
  const auto now = Clock::now();
  // Once per message at most; inside a transaction that read its own, only after its own DDL.
  const bool want_catalog = catalog_.database != nullptr && now >= retry_after_ && !refreshed_for_statement_ &&
                            (private_resolved_ != nullptr ? ddl_unread_ : catalog_.database->claim_refresh(now));
  const bool want_path = catalog_.database != nullptr && path_stale_ && (want_catalog || path_matters());
  if (!want_catalog && !want_path && !ambiguous) return std::nullopt;
  if (extended_open_) {
    // Inside a batch a simple Query would commit the batch's implicit transaction: ask with extended
    // messages instead; the catalog waits for the next statement between batches.
    if (!want_path && !ambiguous) return std::nullopt;
    send_probe(out);
    return defer(out);
  }
  // Between batches: the answers owed end with a ReadyForQuery, and the settings reports come
  // before it; then the catalog can be asked with a Query.
  if (!pending_.empty()) return defer(out);
  if (!want_catalog && !want_path) return std::nullopt;
  if (!at_ready_ || tx_status_ == codec::transaction_status::failed) return std::nullopt;
  if (!start_fetch(CatalogRequest{.catalog = want_catalog, .search_path = want_path}, &out)) return std::nullopt;
  refreshed_for_statement_ = refreshed_for_statement_ || want_catalog;
  return defer(out);
}

void SessionRewriter::send_probe(Outbox& out) {
  const std::string name = std::string(reserved_prefix) + std::to_string(id_) + "_probe" + std::to_string(++next_probe_);
  std::string bytes;
  codec::encode(codec::Parse{name, std::string(settings_probe_text()), {}}, bytes);
  codec::encode(codec::Bind{name, name, std::string("\0\0\0\0\0\0", 6)}, bytes);
  std::string execute = name;
  execute.push_back('\0');
  execute.append(4, '\0');
  codec::encode_raw(fe::execute, execute, bytes);
  codec::encode(codec::Close{'P', name}, bytes);
  codec::encode(codec::Close{'S', name}, bytes);
  codec::encode_raw(fe::flush, "", bytes);
  out.send(std::move(bytes));
  flush_sent_ = true;
  pending_.push_back({.kind = Pending::Kind::parse, .injected = true});
  pending_.push_back({.kind = Pending::Kind::bind, .injected = true});
  pending_.push_back({.kind = Pending::Kind::probe, .injected = true});
  pending_.push_back({.kind = Pending::Kind::close, .injected = true});
  pending_.push_back({.kind = Pending::Kind::close, .injected = true});
  for (std::size_t i = pending_.size() - 5; i < pending_.size(); ++i) pending_[i].syncs_before = syncs_sent_;
  probe_.emplace();
  spdlog::debug("s{} probing the settings inside a batch", id_);
}

Verdict SessionRewriter::on_probe_answer(const codec::Header& header, std::string_view body, Outbox& out) {
  if (header.type == be::data_row) {
    if (probe_) probe_->on_data_row(body);
    return Verdict::replace;
  }
  if (header.type == be::error_response) {
    // The probe failed (a cancel, a timeout): the batch is failed now, as a failure of any of its
    // statements would leave it. The client gets the error; what follows goes the usual way.
    probe_.reset();
    probe_inspecting_ = false;
    out.inspect(server_side_.inspected());
    return on_error(out);
  }
  if (header.type != be::command_complete) return Verdict::forward;  // notices
  pop_front();
  probe_inspecting_ = false;
  out.inspect(server_side_.inspected());
  if (probe_ && !probe_->malformed()) {
    probe_->on_command_complete("SELECT 1");
    auto settings = read_settings_probe(*probe_);
    if (settings) {
      nonstandard_strings_ = settings->standard_conforming_strings != "on";
      unsafe_encoding_ = ascii_unsafe_encoding(settings->client_encoding);
      search_path_ = std::move(settings->search_path);
      path_stale_ = false;
      settings_known_ = true;
    } else {
      spdlog::warn("s{} unreadable settings probe: {}", id_, settings.error());
    }
  }
  probe_.reset();
  return Verdict::replace;
}

std::optional<Verdict> SessionRewriter::after_unknown_relation(Outbox& out) {
  if (catalog_.database == nullptr || !pending_.empty() || !at_ready_ ||
      tx_status_ == codec::transaction_status::failed)
    return std::nullopt;
  const auto now = Clock::now();
  // Once per statement, and at most once a second per database.
  if (refreshed_for_statement_ || now - catalog_.database->fetched() < unknown_relation_refresh || now < retry_after_)
    return std::nullopt;
  if (!start_fetch(CatalogRequest{.catalog = true, .search_path = path_stale_}, &out)) return std::nullopt;
  refreshed_for_statement_ = true;
  return defer(out);
}

std::optional<parser::Error> SessionRewriter::execute_refusal(const std::string& name, bool hints_change_before) {
  bool other_hints = false;
  if (auto it = sql_prepared_hints_.find(name); it != sql_prepared_hints_.end())
    other_hints = hints_change_before || it->second != hints_.key() + "/" + scope_key();
  if (auto it = statements_.find(name); it != statements_.end() && !it->second.hint_free)
    other_hints = other_hints || hints_change_before || it->second.hints_key != variant_key();
  if (!other_hints) return std::nullopt;
  return proxy_refusal("pgsoftdelete: prepared statement \"" + name +
                           "\" was prepared under other pgsoftdelete hints, or another catalog (DDL since), than those "
                           "it would run under; prepare it again (or send the SET and the EXECUTE as separate queries)",
                       "a simple-protocol");
}

bool SessionRewriter::prepared_delete(const std::string& name) const {
  if (sql_prepared_deletes_.contains(name)) return true;
  auto it = statements_.find(name);
  return it != statements_.end() && it->second.effect != nullptr && it->second.effect->delete_tag;
}

bool SessionRewriter::changes_search_path(const rules::RewriteResult& result, std::string_view sql) const {
  for (const auto& st : result.statements)
    if (st.changes_search_path) return true;
  // The text scan only where the path decides anything (update_scope marks it stale when a new
  // catalog makes it matter): it would cost every statement a pass over its text.
  return catalog_.database != nullptr && path_matters() && mentions_search_path(sql);
}

void SessionRewriter::note_search_path_change() {
  path_stale_ = true;
  path_changed_since_idle_ = true;
}

std::optional<parser::Error> SessionRewriter::catalog_refusal(const rules::RewriteResult& result,
                                                              const char* protocol) {
  if (catalog_.database == nullptr || (resolved_ != nullptr && !ddl_unread_) || mode_ == Mode::observe)
    return std::nullopt;
  // Any table might be a partition or child of a rule table: refuse what names one or is rewritten.
  if (result.unchanged && !result.unknown_relation) return std::nullopt;
  return proxy_refusal("pgsoftdelete: the catalog of this database could not be read (" +
                           (catalog_error_.empty() ? std::string("not read yet") : catalog_error_) +
                           "), so any table may be a partition or child of a soft-delete table; statements "
                           "naming tables are refused until it can be read",
                       protocol);
}

Verdict SessionRewriter::on_catalog_answer(const codec::Header& header, std::string_view body, Outbox& out) {
  Fetch& fetch = *fetch_;
  switch (header.type) {
    case be::row_description:
      // DataRows reach this handler only while our query runs; they stream past otherwise.
      out.inspect(codec::StreamFramer::TypeSet{}.set());
      return Verdict::replace;
    case be::data_row:
      fetch.collected.on_data_row(body);
      return Verdict::replace;
    case be::command_complete: {
      auto complete = codec::decode_command_complete(body);
      fetch.collected.on_command_complete(complete ? complete->tag : std::string());
      return Verdict::replace;
    }
    case be::empty_query_response:
      return Verdict::replace;
    case be::error_response: {
      auto fields = codec::decode_error_fields(body);
      fetch.collected.on_error(fields ? std::string(fields->message()) : std::string("an error"));
      return Verdict::replace;
    }
    case be::parameter_status:
      on_parameter_status(body);
      return Verdict::forward;
    case be::ready_for_query:
      break;
    default:
      return Verdict::forward;  // notices
  }
  // The end of our query.
  const char status = body.empty() ? codec::transaction_status::idle : body[0];
  tx_status_ = status;
  Fetch done = std::move(fetch);
  fetch_.reset();
  pop_front();
  out.inspect(server_side_.inspected());
  if (done.recovery) {
    if (status == codec::transaction_status::failed) catalog_error_ = "could not undo a failed catalog query";
  } else if (auto answer = read_catalog_answer(done.request, done.collected)) {
    if (answer->catalog && done.request.in_transaction && engine_ != nullptr)
      private_resolved_ = std::make_shared<const rules::ResolvedRules>(
          engine_->rules_ptr(), std::make_shared<const rules::Catalog>(std::move(*answer->catalog)));
    else if (answer->catalog)
      catalog_.database->store(std::move(*answer->catalog), Clock::now(), done.epoch);
    if (answer->search_path) {
      search_path_ = std::move(*answer->search_path);
      path_stale_ = false;
    }
    catalog_error_.clear();
    if (answer->catalog) ddl_unread_ = false;
    update_scope();
  } else {
    catalog_error_ = answer.error();
    retry_after_ = Clock::now() + retry_delay;
    spdlog::warn("s{} could not read the catalog: {}", id_, catalog_error_);
    if (done.request.in_transaction && status == codec::transaction_status::failed) {
      // The guarded query failed inside the client's transaction: roll back to our savepoint, so the
      // transaction goes on as if we had never asked.
      std::string bytes;
      codec::encode(codec::Query{std::string(catalog_recovery_text())}, bytes);
      if (catalog_.send_upstream && catalog_.send_upstream(bytes)) {
        fetch_.emplace(Fetch{{}, {}, true, 0});
        pending_.push_back({.kind = Pending::Kind::catalog, .injected = true});
        return Verdict::replace;
      }
    }
  }
  at_ready_ = pending_.empty() && !login_ready_;
  if (login_ready_) {
    at_ready_ = true;
    out.send(std::move(*login_ready_));
    login_ready_.reset();
  }
  if (deferred_ && pending_.empty()) {
    deferred_ = false;
    barrier_.cancel();
  }
  return Verdict::replace;
}

}  // namespace pgsoftdelete::proxy
