// Soft delete in one session: rewrites client Query and Parse messages through the engine,
// runs prepared statements under the hints in force when they are executed, answers refused
// statements, and turns the UPDATE tags of rewritten DELETEs back into DELETE tags. It sees
// messages, never sockets: the pumps call its two handlers.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "catalog/catalog_query.hpp"
#include "catalog/catalog_store.hpp"
#include "codec/messages.hpp"
#include "ops/config.hpp"
#include "net/message_pump.hpp"
#include "ops/metrics.hpp"
#include "ops/runtime.hpp"
#include "parser/error.hpp"
#include "rules/engine.hpp"
#include "session/fifo.hpp"
#include "session/session_hints.hpp"
#include "session/statement_facts.hpp"

namespace pgsoftdelete::proxy {

/// What one session may keep while the server owes it answers.
struct PipelineLimits {
  std::size_t max_messages = 10000;        ///< client messages awaiting an answer
  std::size_t max_bytes = 16u << 20;        ///< their sizes added up
};

/// How a session learns its database's catalog: the shared entry, and a way to send the proxy's own
/// query upstream at login (when the client direction is idle).
struct CatalogAccess {
  std::shared_ptr<DatabaseCatalog> database;  ///< null: no catalog, names alone decide
  /// Writes bytes upstream now; false when they could not all be written at once.
  std::function<bool(std::string_view)> send_upstream;
};

/// What a transaction pooler behind the proxy (PgBouncer in transaction mode) needs: no state left on
/// server connections that another client may get next.
struct PoolerSafety {
  /// session_hints = "proxy": hint settings are not sent to the server.
  bool hints_in_proxy = false;
  /// prepared_statements = "unnamed": every statement (the client's named ones and the proxy's
  /// variants) is prepared as the server's unnamed statement in the batch that uses it.
  bool unnamed_statements = false;
};

class SessionRewriter {
 public:
  SessionRewriter(asio::any_io_executor executor, const RuntimeHolder& runtime, Metrics& metrics, std::string user,
                  std::uint64_t session_id, rules::Hints startup_hints, PipelineLimits limits = {},
                  CatalogAccess catalog = {}, PoolerSafety pooler = {});

  /// The search_path the session's statements are resolved with (known = false: not read yet, or
  /// changed since and not read again).
  [[nodiscard]] const rules::SearchPath& search_path() const { return search_path_; }

  /// No answer from the server is awaited, and no client message waits to be decided.
  [[nodiscard]] bool idle() const { return pending_.empty() && !deferred_; }

  /// Client messages awaiting an answer, and their bytes.
  [[nodiscard]] std::size_t pending_count() const { return pending_.size(); }
  [[nodiscard]] std::size_t pending_bytes() const { return pending_bytes_; }
  /// True while the client is not read because the pipeline is full.
  [[nodiscard]] bool throttled() const { return throttled_; }
  /// Messages the server will skip (after an error, before Sync) that are remembered to undo.
  [[nodiscard]] std::size_t skipped_count() const { return skipped_.size(); }

  /// Portals recorded (those bound and not yet known to be gone).
  [[nodiscard]] std::size_t portal_count() const { return portals_.size(); }

  /// Lets a held client direction go on (the session is ending).
  void release() {
    holding_ = false;
    throttled_ = false;
    deferred_ = false;
    barrier_.cancel();
  }

  /// Client to server.
  MessageHandler& client_side() { return client_side_; }
  /// Server to client.
  MessageHandler& server_side() { return server_side_; }

 private:
  /// What completing one statement means for the session.
  struct Effect {
    bool delete_tag = false;                        ///< answer DELETE n for UPDATE n
    std::optional<rules::HintSetting> hint;         ///< SET/RESET of a pgsoftdelete hint
    std::string prepared_delete;                    ///< PREPARE name AS DELETE… rewritten
    StatementFacts facts;                           ///< savepoints, EXECUTE, DEALLOCATE
    bool classified = false;                        ///< facts were computed (else unknown)
    bool changes_catalog = false;                   ///< DDL: the database's catalog is stale once it completed
    bool changes_search_path = false;               ///< the search_path must be read again after it

    /// Nothing to do when it completes: stored as a null EffectPtr.
    [[nodiscard]] bool trivial() const {
      return !delete_tag && !hint && prepared_delete.empty() && !classified && !changes_catalog &&
             !changes_search_path;
    }
  };
  /// Shared by a statement, its portals and their Executes without copying; null when trivial.
  using EffectPtr = std::shared_ptr<const Effect>;
  /// A portal's name and what was recorded for it before a Bind or Close (none: absent).
  using PortalBefore = std::pair<std::string, std::optional<EffectPtr>>;

  /// Heterogeneous lookup by string_view: no allocation to find a name off the wire.
  struct NameHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  template <class T>
  using NameMap = std::unordered_map<std::string, T, NameHash, std::equal_to<>>;

  /// A statement prepared with Parse, as the client wrote it.
  struct Prepared {
    std::string sql;
    std::vector<std::uint32_t> parameter_types;
    bool hint_free = true;      ///< touches no rule table of rules_version: the same under any hints
    bool sql_level = false;     ///< made by SQL PREPARE: no text to prepare a variant from
    std::string scope_key;      ///< scope_key() when prepared: hint_free holds only under it
    std::uint64_t rules_version = 0;
    std::string hints_key;      ///< rules version and hints it was prepared under on the server
    EffectPtr effect;
    /// prepared_statements = "unnamed": the text the server prepares for it (as rewritten at its Parse).
    std::string server_sql;
    /// Server-side variants under other hints: hints key -> (proxy-owned name, effect); with
    /// prepared_statements = "unnamed", (the variant's text, effect).
    std::unordered_map<std::string, std::pair<std::string, EffectPtr>> variants;
  };

  /// A message sent upstream that the server will answer, in order.
  struct Pending {
    enum class Kind {
      query, function_call, parse, bind, describe, execute, close, sync,
      copy_end,  ///< not a message with an answer: where the client ended a COPY FROM STDIN
      catalog,   ///< the proxy's own catalog / search_path query: its answers are read here, not forwarded
      probe,     ///< the Execute of the proxy's settings probe inside a client's batch: DataRow read here
    } kind = Kind::query;
    bool injected = false;                 ///< sent by the proxy: its answer is not forwarded
    std::optional<parser::Error> refusal;  ///< the proxy refused it: report this instead of the server's error
    std::vector<Effect> effects;           ///< query: per statement
    EffectPtr effect;                      ///< execute: its portal's
    std::size_t next = 0;                  ///< query: statements completed so far
    std::string statement;                 ///< parse, close: the client's name, to undo if the server rejects it
    std::unique_ptr<Prepared> replaced;    ///< parse, close: what that name meant before
    std::string variant_key;               ///< injected parse of a variant: its key, to forget it on failure
    bool kept = false;                     ///< parse: the unnamed statement again, as it was (same_unnamed)
    /// bind, close of a portal: its name and what was recorded for it before (none: absent), to
    /// restore if the server skips the message.
    std::optional<PortalBefore> portal_before;
    bool barrier = false;                  ///< the client direction waits for this answer
    std::uint32_t bytes = 0;               ///< size of the client's message it stands for
    std::uint64_t syncs_before = 0;        ///< Syncs the client had sent before this message
  };

  class ClientSide final : public MessageHandler {
   public:
    explicit ClientSide(SessionRewriter& s) : s_(s) {}
    [[nodiscard]] codec::StreamFramer::TypeSet inspected() const override;
    Verdict on_message(const codec::Header& header, std::string_view bytes, Outbox& out) override;
    [[nodiscard]] bool holding() const override { return s_.holding_ || s_.throttled_ || s_.deferred_; }
    awaitable<void> until_released() override;

   private:
    /// The client's message by type; what it leaves in pending_ is accounted by on_message.
    Verdict dispatch(const codec::Header& header, std::string_view bytes, Outbox& out);
    SessionRewriter& s_;
  };

  class ServerSide final : public MessageHandler {
   public:
    explicit ServerSide(SessionRewriter& s) : s_(s) {}
    [[nodiscard]] codec::StreamFramer::TypeSet inspected() const override;
    Verdict on_message(const codec::Header& header, std::string_view bytes, Outbox& out) override;

   private:
    Verdict dispatch(const codec::Header& header, std::string_view bytes, Outbox& out);
    SessionRewriter& s_;
  };

  // The catalog and the search_path (session_catalog.cpp).
  /// Before a Query or Parse is decided: waits for earlier answers when the statement's reading may
  /// depend on what they changed, and reads the catalog or search_path first when they are stale.
  /// A verdict (defer) when the message must wait; nullopt to decide it now.
  std::optional<Verdict> before_statement(std::string_view sql, Outbox& out);
  /// After the engine decided: a table name the catalog did not know makes it read once more.
  std::optional<Verdict> after_unknown_relation(Outbox& out);
  /// Takes the database's newest catalog, resolved against the current rules.
  void update_scope();
  /// The scope for the engine now.
  [[nodiscard]] rules::Scope scope();
  /// Sends the proxy's query (through `out`, or straight upstream at login when out is null).
  bool start_fetch(CatalogRequest request, Outbox* out);
  Verdict defer(Outbox& out);
  /// Inside an extended-protocol batch (no Sync yet), where a simple Query would commit the batch:
  /// asks for the settings and search_path with extended messages of the proxy's own, answered in
  /// order after everything sent before them.
  void send_probe(Outbox& out);
  Verdict on_probe_answer(const codec::Header& header, std::string_view body, Outbox& out);
  Verdict on_catalog_answer(const codec::Header& header, std::string_view body, Outbox& out);
  /// True when an answer owed by the server is to a message that runs SQL (its effects unknown yet).
  [[nodiscard]] bool executing_pending() const;
  /// A statement that may change the search_path was sent: read it again before the next statement.
  void note_search_path_change();
  /// The engine's verdict or a cheap scan says `sql` may change the search_path.
  [[nodiscard]] bool changes_search_path(const rules::RewriteResult& result, std::string_view sql) const;
  /// Whether the search_path decides anything in this database (a name in two schemas).
  [[nodiscard]] bool path_matters() const { return resolved_ != nullptr && resolved_->search_path_matters(); }
  /// Statements refused because the catalog could not be read.
  std::optional<parser::Error> catalog_refusal(const rules::RewriteResult& result, const char* protocol);

  // Client messages.
  Verdict on_query(std::string_view body, Outbox& out);
  Verdict on_query_text(std::string_view body, Outbox& out);
  Verdict on_parse(std::string_view bytes, Outbox& out);
  Verdict on_bind(std::string_view body, Outbox& out);
  Verdict on_close(std::string_view bytes, Outbox& out);
  Verdict on_execute(std::string_view body, Outbox& out);

  // Server messages.
  Verdict on_command_complete(std::string_view body, Outbox& out);
  Verdict on_error(Outbox& out);
  Verdict on_ready(std::string_view body);
  void on_parameter_status(std::string_view body);
  void on_copy_in_response();
  /// Removes the oldest pending entry, releasing the client direction if it waited for it.
  void pop_front();
  /// Reads the client again once half of what the pipeline may hold has been answered.
  void unthrottle_if_drained();
  /// After an extended-protocol error in a message sent after `syncs_before` Syncs: the server
  /// skips everything up to the next Sync, so the entries before it will get no answer; they move
  /// to skipped_ at once.
  void skip_until_sync(std::uint64_t syncs_before);
  /// Whether the statements a message carries change what later statements mean (hints, or how
  /// text is read): then nothing after it is rewritten before its answer is back.
  bool needs_barrier(const std::vector<Effect>& effects, std::string_view sql) const;
  bool needs_barrier(const Effect* effect) const;
  void hold_for_last();
  /// A COMMIT/ROLLBACK [TO] before the last statement of a string, while hints change in the
  /// transaction: the statements after it would be rewritten under the wrong hints.
  bool ends_transaction_midway(const std::vector<Effect>& effects) const;
  /// Copy-end markers at the head answer nothing: drop them before matching an answer.
  void drop_copy_markers();
  /// Pops the oldest pending entry if it is of `kind`; returns whether its answer is forwarded.
  bool complete(Pending::Kind kind);

  /// The engine's answer, logged; in observe mode always "unchanged".
  /// `protocol` names the protocol for the log, with its article ("a simple-protocol").
  std::expected<rules::RewriteResult, parser::Error> rewrite(std::string_view sql, const char* protocol);
  /// A refusal the proxy decides itself (0A000), counted and logged like the engine's.
  parser::Error proxy_refusal(std::string message, const char* protocol);
  /// The refusal of a prepared statement name reserved for the proxy's variants.
  parser::Error reserved_name_refusal(std::string_view name, const char* protocol);
  /// Why EXECUTE of `name` (SQL) must be refused: it was prepared, in either protocol, under other
  /// hints than those in force (or than those an earlier statement of the same string sets).
  std::optional<parser::Error> execute_refusal(const std::string& name, bool hints_change_before);
  /// `name` is a prepared statement whose DELETE became an UPDATE (SQL PREPARE or Parse).
  [[nodiscard]] bool prepared_delete(const std::string& name) const;
  /// Effects of each statement, with facts when the session needs them.
  std::vector<Effect> effects_of(const rules::RewriteResult& result, std::string_view sql);
  /// The one statement's effect of a Parse, or null.
  EffectPtr single_effect(const rules::RewriteResult& result, std::string_view sql);
  /// Records `portal`'s effect; returns what it replaced (one lookup, the old effect moved out).
  PortalBefore set_portal(std::string_view portal, EffectPtr effect);
  /// Replaces a refused message by one the server rejects at once, so that its transaction and
  /// pipeline end up exactly as if the statement had failed there.
  /// `statement` names the Parse sent instead of a refused Parse or Bind.
  void refuse(const parser::Error& error, Pending::Kind kind, std::string_view statement, Outbox& out);
  /// Undoes what the client side assumed about a message the server did not carry out: it failed
  /// (`failed`), or was skipped after an earlier error.
  void undo(Pending& p, bool failed);
  /// Moves the oldest pending entry to skipped_: the server did not carry it out.
  void skip_front();
  /// Undoes the skipped messages, newest first (a Close then a Parse of one name, both skipped,
  /// must leave the name as it was before either).
  void undo_skipped();
  void apply(const Effect& effect, std::string& tag);
  /// Drops a statement and closes its variants on the server; returns what it was (null: unknown).
  /// The unnamed statement exists with this text and types, prepared under the keys in force now.
  [[nodiscard]] bool same_unnamed(const codec::Parse& parse) const;
  std::unique_ptr<Prepared> forget_statement(const std::string& name, Outbox& out);

  /// Takes the current rules and mode for the next statement (they change on reload).
  void refresh();
  /// Rules version and hints: prepared statements are re-prepared when either changed.
  [[nodiscard]] const std::string& variant_key() const;
  /// The catalog's fingerprint and, where it matters, the search_path: rewrites depend on them.
  [[nodiscard]] const std::string& scope_key() const;
  [[nodiscard]] std::uint64_t rules_version() const { return engine_ != nullptr ? engine_->rules().version() : 0; }

  RuntimeView runtime_;
  Metrics& metrics_;
  const rules::Engine* engine_ = nullptr;  // of the current runtime
  Mode mode_ = Mode::enforce;
  std::string user_;
  std::uint64_t id_;
  ClientSide client_side_{*this};
  ServerSide server_side_{*this};
  SessionHints hints_;
  Fifo<Pending> pending_;
  mutable std::string variant_key_, scope_key_;  // variant_key() and scope_key() build them here
  bool discarding_ = false;     // the server skips messages until Sync after an error
  std::vector<Pending> skipped_;  // the failed message and those skipped after it, undone at ReadyForQuery
  bool first_skipped_failed_ = false;  // skipped_[0] is the message that failed (not a refused one)
  bool pending_rollback_ = false;  // a ROLLBACK tag of unknown kind waits for ReadyForQuery
  NameMap<Prepared> statements_;
  NameMap<EffectPtr> portals_;
  std::unordered_set<std::string> sql_prepared_deletes_;
  // SQL-level PREPAREs made while hints were in force, with the hints' key: their EXECUTE under
  // other hints is refused, since the statement was rewritten for those.
  std::unordered_map<std::string, std::string> sql_prepared_hints_;
  std::uint64_t next_variant_ = 0;
  /// prepared_statements = "unnamed": puts `statement`'s text (for hints `key`) in the server's
  /// unnamed statement first, unless it is there already in this batch.
  void prepare_unnamed(std::string_view statement, const std::string& key, std::string_view text,
                       const std::vector<std::uint32_t>& types, Outbox& out);
  Verdict on_describe(std::string_view body, Outbox& out);
  // The engine reads string literals as PostgreSQL does with standard_conforming_strings on; while
  // the server reports it off, statements are refused rather than possibly misread.
  bool nonstandard_strings_ = false;
  bool reported_nonstandard_ = false;  // as the server last reported it (a probe may know better until ReadyForQuery)
  // Likewise for client encodings whose multibyte characters may contain ASCII bytes (SJIS, BIG5…).
  bool unsafe_encoding_ = false;
  bool reported_unsafe_encoding_ = false;
  // The server is in COPY FROM STDIN: it ignores Sync until the client's CopyDone or CopyFail.
  bool copy_in_ = false;
  // Barrier: the client direction waits until the answer of a hint-changing message is back.
  asio::steady_timer barrier_;
  bool holding_ = false;
  // Backpressure: the client is not read while the server owes answers to too many messages; it
  // is read again once half of them are in.
  PipelineLimits limits_;
  std::size_t pending_bytes_ = 0;
  bool throttled_ = false;
  // The server discards what the client sends now (an error, and no Sync sent since): messages
  // without SQL text are passed on and not remembered. The Sync that ends it waits for its answer
  // if a hint-changing message was among those skipped. Syncs are counted as they are sent,
  // whatever becomes of their entries, so that "no Sync since" is never a guess.
  bool server_skipping_ = false;
  std::uint64_t syncs_sent_ = 0;
  bool barrier_after_skip_ = false;

  // The catalog of the session's database, and the session's search_path.
  CatalogAccess catalog_;
  PoolerSafety pooler_;
  /// prepared_statements = "unnamed": which client statement (name, hints key) the server's unnamed
  /// statement holds now. Good until the client's next Sync or Query: a transaction pooler may
  /// hand the next batch to another server connection, and a Query drops the unnamed statement.
  std::optional<std::pair<std::string, std::string>> server_unnamed_;
  std::shared_ptr<const rules::ResolvedRules> resolved_;
  std::shared_ptr<const rules::ResolvedRules> blind_;  // an empty catalog, while none could be read
  std::uint64_t catalog_generation_ = 0;
  rules::SearchPath search_path_;
  bool path_stale_ = true;             // read current_schemas(true) before it is needed
  bool path_changed_since_idle_ = false;  // a transaction end or rollback may change it back
  bool login_seen_ = false;
  std::optional<std::string> login_ready_;  // the login's ReadyForQuery, held until the catalog answer
  struct Fetch {
    CatalogRequest request;
    ResultCollector collected;
    bool recovery = false;  // the ROLLBACK TO after a failed guarded fetch
    std::uint64_t epoch = 0;  // the database's stale marks when it was sent
  };
  // A catalog read inside the client's transaction: it may hold the transaction's own uncommitted
  // DDL (or, under REPEATABLE READ, an old state), so it serves this session alone, until the
  // transaction ends.
  std::shared_ptr<const rules::ResolvedRules> private_resolved_;
  std::optional<Fetch> fetch_;
  std::string catalog_error_;                       // why the last fetch failed (empty: it did not)
  std::chrono::steady_clock::time_point retry_after_{};  // no new fetch before then after a failure
  bool at_ready_ = false;       // the server answered everything and nothing was sent since
  char tx_status_ = 'I';
  bool ddl_in_transaction_ = false;  // the catalog is stale again when the transaction commits
  bool ddl_unread_ = false;  // DDL of this session completed and the catalog was not read since: decide blind
  bool deferred_ = false;       // a client message waits until every answer is in
  bool refreshed_for_statement_ = false;  // the catalog was read again for the message being decided
  bool extended_open_ = false;  // extended-protocol messages sent since the last Sync or Query
  bool settings_known_ = true;  // no statement whose effect on the settings is unknown since the last report
  bool probe_inspecting_ = false;  // DataRows are delivered whole for the probe
  std::uint64_t next_probe_ = 0;
  std::optional<ResultCollector> probe_;
  bool flush_sent_ = false;     // asked the server for its answers while a message waits
};

}  // namespace pgsoftdelete::proxy
