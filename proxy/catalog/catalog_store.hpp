// The catalogs of the databases sessions use, shared by those sessions: the last one read, when it
// was read, whether DDL through the proxy made it stale, and the rules resolved against it.
// Thread-safe; a session looks at two atomics per statement and locks only when something changed.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "rules/catalog.hpp"
#include "rules/resolved_rules.hpp"
#include "rules/rule_set.hpp"

namespace pgsoftdelete::proxy {

/// One database's catalog.
class DatabaseCatalog {
 public:
  using Clock = std::chrono::steady_clock;

  explicit DatabaseCatalog(std::chrono::milliseconds refresh_interval) : interval_(refresh_interval) {}

  /// Changes whenever a catalog is stored: a session holding an older one takes the new one.
  [[nodiscard]] std::uint64_t generation() const { return generation_.load(std::memory_order_acquire); }
  /// True when the catalog must be read again before the next statement is decided: none yet, DDL
  /// went through the proxy since, or it is older than the refresh interval.
  [[nodiscard]] bool needs_refresh(Clock::time_point now) const {
    return generation() == 0 || stale_.load(std::memory_order_acquire) ||
           (interval_.count() > 0 && now.time_since_epoch().count() > expires_.load(std::memory_order_acquire));
  }
  /// When the catalog was last read.
  [[nodiscard]] Clock::time_point fetched() const {
    return Clock::time_point(Clock::duration(fetched_.load(std::memory_order_acquire)));
  }

  /// The stored catalog resolved against `rules` (resolved once per rules version, then shared); null
  /// before the first catalog is stored.
  std::shared_ptr<const rules::ResolvedRules> resolved(const std::shared_ptr<const rules::RuleSet>& rules);
  /// Stores a catalog just read.
  void store(rules::Catalog catalog, Clock::time_point now);
  /// DDL went through the proxy: read the catalog again before the next statement.
  void mark_stale() { stale_.store(true, std::memory_order_release); }

 private:
  std::chrono::milliseconds interval_;
  std::mutex mutex_;
  std::shared_ptr<const rules::Catalog> catalog_;
  std::shared_ptr<const rules::ResolvedRules> resolved_;
  std::atomic<std::uint64_t> generation_{0};
  std::atomic<bool> stale_{false};
  std::atomic<Clock::rep> expires_{0};
  std::atomic<Clock::rep> fetched_{0};
};

/// All databases' catalogs, by name.
class CatalogStore {
 public:
  explicit CatalogStore(std::chrono::milliseconds refresh_interval) : interval_(refresh_interval) {}
  /// The entry of `database`, made on first use; it lives as long as the store.
  std::shared_ptr<DatabaseCatalog> database(const std::string& name);
  /// Every database's catalog is read again before its next statement (a reload).
  void mark_all_stale();

 private:
  std::chrono::milliseconds interval_;
  std::mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<DatabaseCatalog>> databases_;
};

}  // namespace pgsoftdelete::proxy
