// The session's pgsoftdelete.* hints with PostgreSQL's own SET semantics: SET and RESET take
// effect at once, SET LOCAL ends with its transaction, a rolled-back transaction or savepoint
// undoes what was set after it. The session feeds it what the server confirmed (command tags,
// ReadyForQuery), so it follows the server's state rather than guessing ahead of it.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "rules/hints.hpp"

namespace pgsoftdelete::proxy {

class SessionHints {
 public:
  /// `defaults` are the values from the startup packet: what RESET returns to.
  explicit SessionHints(rules::Hints defaults = {});

  /// The hints in force now.
  [[nodiscard]] const rules::Hints& effective() const { return effective_; }
  /// A text that differs whenever effective() does (for prepared-statement variants).
  [[nodiscard]] const std::string& key() const { return key_; }
  /// True while a hint changed in the current transaction: savepoint and transaction
  /// statements must then be reported with their names.
  [[nodiscard]] bool changed_in_transaction() const { return dirty_; }

  /// A SET / SET LOCAL / RESET / RESET ALL / DISCARD ALL that the server completed.
  void apply(const rules::HintSetting& setting);
  /// An ErrorResponse from the server: an implicit transaction ending now is rolled back.
  void on_error() { error_ = true; }
  /// COMMIT (or PREPARE TRANSACTION) completed.
  void on_commit();
  /// ROLLBACK completed (also the tag of a COMMIT of a failed transaction).
  void on_rollback();
  void on_savepoint(const std::string& name);
  void on_release(const std::string& name);
  void on_rollback_to(const std::string& name);
  /// ReadyForQuery: with status 'I' any transaction is over; an implicit one that saw an
  /// error was rolled back.
  void on_ready(char status);

 private:
  /// Everything a rollback must restore.
  struct Values {
    rules::Hints session;                                ///< SET / RESET values
    std::array<std::optional<rules::TableSet>, 3> local; ///< SET LOCAL values, by HintKind
  };
  struct Savepoint {
    std::string name;
    Values values;
  };

  void touch();  // before a change: remember how the transaction started
  void end_transaction(bool committed);
  void recompute();

  rules::Hints defaults_;
  Values values_;
  Values start_;  // values when the current transaction started (valid while dirty_)
  std::vector<Savepoint> savepoints_;
  bool dirty_ = false;
  bool error_ = false;
  rules::Hints effective_;
  std::string key_;
};

}  // namespace pgsoftdelete::proxy
