// The sessions alive now, so that a shutdown can reach each of them on its own thread.
#pragma once

#include <algorithm>
#include <expected>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>

#include <chrono>
#include <string>
#include <vector>

#include "net/asio.hpp"
#include "ops/metrics.hpp"

namespace pgsoftdelete::proxy {

/// A session's handle for the server: asks it to end (now, or when its transaction is over).
struct SessionControl {
  std::function<void(bool force)> shutdown;  ///< run on the session's executor only
};

/// What SHOW CLIENTS lists about a session.
struct SessionRow {
  std::uint64_t id = 0;
  std::string peer;
  std::string user;
  std::string database;
  SessionState state = SessionState::startup;
  std::chrono::system_clock::time_point since;
};

class SessionRegistry {
 public:
  /// Registers a session; it stays registered while the returned token lives.
  [[nodiscard]] std::shared_ptr<void> add(std::uint64_t id, asio::any_io_executor executor,
                                          std::weak_ptr<SessionControl> control) {
    std::lock_guard lock(mutex_);
    sessions_[id] = Entry{std::move(executor), std::move(control),
                          SessionRow{id, {}, {}, {}, SessionState::startup, std::chrono::system_clock::now()}};
    return std::shared_ptr<void>(nullptr, [this, id](void*) {
      std::lock_guard guard(mutex_);
      if (auto it = sessions_.find(id); it != sessions_.end() && it->second.admitted) {
        --admitted_;
        if (auto u = per_user_.find(it->second.row.user); u != per_user_.end() && --u->second == 0) per_user_.erase(u);
      }
      sessions_.erase(id);
    });
  }

  /// Counts a session that has said who it is against the limits (0: none per user), at once
  /// for all threads; the error says which limit it met.
  std::expected<void, std::string> admit(std::uint64_t id, const std::string& user, std::size_t max_total,
                                         std::size_t max_per_user) {
    std::lock_guard lock(mutex_);
    auto it = sessions_.find(id);
    if (it == sessions_.end() || it->second.admitted) return {};
    if (admitted_ >= max_total) return std::unexpected(std::string("max_client_conn"));
    auto& mine = per_user_[user];
    if (max_per_user != 0 && mine >= max_per_user) {
      if (mine == 0) per_user_.erase(user);
      return std::unexpected(std::string("max_user_conn"));
    }
    ++mine;
    ++admitted_;
    it->second.admitted = true;
    it->second.row.user = user;
    return {};
  }

  /// Updates what SHOW CLIENTS shows of a session.
  void describe(std::uint64_t id, const std::function<void(SessionRow&)>& update) {
    std::lock_guard lock(mutex_);
    if (auto it = sessions_.find(id); it != sessions_.end()) update(it->second.row);
  }

  /// Every session's row, by id.
  [[nodiscard]] std::vector<SessionRow> rows() const {
    std::lock_guard lock(mutex_);
    std::vector<SessionRow> out;
    for (const auto& [id, entry] : sessions_) out.push_back(entry.row);
    std::sort(out.begin(), out.end(), [](const SessionRow& a, const SessionRow& b) { return a.id < b.id; });
    return out;
  }

  /// Asks every session to end; each is told on its own executor.
  void shutdown_all(bool force) {
    std::lock_guard lock(mutex_);
    for (auto& [id, entry] : sessions_)
      asio::post(entry.executor, [control = entry.control, force] {
        if (auto c = control.lock()) c->shutdown(force);
      });
  }

  [[nodiscard]] std::size_t size() const {
    std::lock_guard lock(mutex_);
    return sessions_.size();
  }

 private:
  struct Entry {
    asio::any_io_executor executor;
    std::weak_ptr<SessionControl> control;
    SessionRow row;
    bool admitted = false;  ///< counted in admitted_ and per_user_
  };
  mutable std::mutex mutex_;
  std::unordered_map<std::uint64_t, Entry> sessions_;
  std::size_t admitted_ = 0;
  std::unordered_map<std::string, std::size_t> per_user_;
};

}  // namespace pgsoftdelete::proxy
