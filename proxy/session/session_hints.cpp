// Session hints with transaction semantics; see session_hints.hpp.
#include "session/session_hints.hpp"

#include <algorithm>

namespace pgsoftdelete::proxy {

namespace {

rules::TableSet& field(rules::Hints& h, rules::HintKind kind) {
  switch (kind) {
    case rules::HintKind::skip: return h.skip;
    case rules::HintKind::only_deleted: return h.only_deleted;
    case rules::HintKind::hard_delete: return h.hard_delete;
  }
  return h.skip;
}

std::size_t index(rules::HintKind kind) { return static_cast<std::size_t>(kind); }

constexpr std::array all_kinds{rules::HintKind::skip, rules::HintKind::only_deleted, rules::HintKind::hard_delete};

}  // namespace

SessionHints::SessionHints(rules::Hints defaults) : defaults_(std::move(defaults)) {
  values_.session = defaults_;
  recompute();
}

void SessionHints::touch() {
  if (dirty_) return;
  start_ = values_;
  dirty_ = true;
}

void SessionHints::apply(const rules::HintSetting& setting) {
  touch();
  using Action = rules::HintSetting::Action;
  switch (setting.action) {
    case Action::set:
      if (setting.local) {
        values_.local[index(setting.kind)] = setting.value;
      } else {
        // A plain SET replaces an earlier SET LOCAL of the same transaction, as in PostgreSQL.
        field(values_.session, setting.kind) = setting.value;
        values_.local[index(setting.kind)].reset();
      }
      break;
    case Action::reset:
      field(values_.session, setting.kind) = field(defaults_, setting.kind);
      values_.local[index(setting.kind)].reset();
      break;
    case Action::reset_all:
      values_.session = defaults_;
      values_.local = {};
      break;
  }
  recompute();
}

void SessionHints::end_transaction(bool committed) {
  if (dirty_ && !committed) values_ = start_;
  values_.local = {};
  savepoints_.clear();
  dirty_ = false;
  error_ = false;
  recompute();
}

void SessionHints::on_commit() { end_transaction(true); }

void SessionHints::on_rollback() { end_transaction(false); }

void SessionHints::on_savepoint(const std::string& name) {
  if (dirty_) savepoints_.push_back(Savepoint{name, values_});
}

void SessionHints::on_release(const std::string& name) {
  // Releasing a savepoint releases every later one too. A name we did not record was set before
  // the first change of this transaction, so it is older than all we recorded.
  auto it = std::find_if(savepoints_.rbegin(), savepoints_.rend(), [&](const Savepoint& s) { return s.name == name; });
  savepoints_.erase(it == savepoints_.rend() ? savepoints_.begin() : std::prev(it.base()), savepoints_.end());
}

void SessionHints::on_rollback_to(const std::string& name) {
  if (!dirty_) return;
  auto it = std::find_if(savepoints_.rbegin(), savepoints_.rend(), [&](const Savepoint& s) { return s.name == name; });
  if (it == savepoints_.rend()) {
    // Older than the first change: back to how the transaction started.
    values_ = start_;
    savepoints_.clear();
  } else {
    values_ = it->values;
    savepoints_.erase(it.base(), savepoints_.end());  // keeps the savepoint itself, as PostgreSQL does
  }
  recompute();
}

void SessionHints::on_ready(char status) {
  if (status == 'I') {
    if (dirty_) end_transaction(!error_);
    error_ = false;
  }
}

void SessionHints::recompute() {
  effective_ = values_.session;
  for (auto kind : all_kinds)
    if (const auto& local = values_.local[index(kind)]) field(effective_, kind) = *local;
  key_ = effective_.to_string();
}

}  // namespace pgsoftdelete::proxy
