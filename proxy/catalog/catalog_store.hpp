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
  /// needs_refresh(), except that of the sessions finding the catalog merely old (the interval passed)
  /// one at a time reads it (the others go on with it for the seconds that takes). A session that
  /// finds none yet, or one made stale by DDL, always reads it.
  [[nodiscard]] bool claim_refresh(Clock::time_point now) {
    if (generation() == 0 || stale_.load(std::memory_order_acquire)) return true;
    if (!needs_refresh(now)) return false;
    auto claimed = claimed_until_.load(std::memory_order_acquire);
    if (now.time_since_epoch().count() < claimed) return false;
    return claimed_until_.compare_exchange_strong(claimed, (now + std::chrono::seconds(5)).time_since_epoch().count());
  }
  /// When the catalog was last read.
  [[nodiscard]] Clock::time_point fetched() const {
    return Clock::time_point(Clock::duration(fetched_.load(std::memory_order_acquire)));
  }

  /// The stored catalog resolved against `rules` (resolved once per rules version, then shared); null
  /// before the first catalog is stored.
  std::shared_ptr<const rules::ResolvedRules> resolved(const std::shared_ptr<const rules::RuleSet>& rules);
  /// Stores a catalog just read by a query sent at `epoch` (see epoch()): it clears the stale mark
  /// only if no DDL marked it since the query was sent.
  void store(rules::Catalog catalog, Clock::time_point now, std::uint64_t epoch);
  /// DDL went through the proxy: read the catalog again before the next statement.
  void mark_stale() {
    epoch_.fetch_add(1, std::memory_order_acq_rel);
    stale_.store(true, std::memory_order_release);
  }
  /// Counts the stale marks; taken when a catalog query is sent.
  [[nodiscard]] std::uint64_t epoch() const { return epoch_.load(std::memory_order_acquire); }

 private:
  std::chrono::milliseconds interval_;
  std::mutex mutex_;
  std::shared_ptr<const rules::Catalog> catalog_;
  std::shared_ptr<const rules::ResolvedRules> resolved_;
  std::atomic<std::uint64_t> generation_{0};
  std::atomic<bool> stale_{false};
  std::atomic<std::uint64_t> epoch_{0};
  std::atomic<Clock::rep> expires_{0};
  std::atomic<Clock::rep> fetched_{0};
  std::atomic<Clock::rep> claimed_until_{0};
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
