// The shared catalogs; see catalog_store.hpp.
#include "catalog/catalog_store.hpp"

namespace pgsoftdelete::proxy {

std::shared_ptr<const rules::ResolvedRules> DatabaseCatalog::resolved(
    const std::shared_ptr<const rules::RuleSet>& rules) {
  std::lock_guard lock(mutex_);
  if (catalog_ == nullptr || rules == nullptr) return nullptr;
  if (resolved_ == nullptr || resolved_->rules_ptr() != rules)
    resolved_ = std::make_shared<const rules::ResolvedRules>(rules, catalog_);
  return resolved_;
}

void DatabaseCatalog::store(rules::Catalog catalog, Clock::time_point now, std::uint64_t epoch) {
  std::lock_guard lock(mutex_);
  catalog_ = std::make_shared<const rules::Catalog>(std::move(catalog));
  resolved_ = nullptr;
  if (epoch_.load(std::memory_order_acquire) == epoch) stale_.store(false, std::memory_order_release);
  fetched_.store(now.time_since_epoch().count(), std::memory_order_release);
  expires_.store((now + interval_).time_since_epoch().count(), std::memory_order_release);
  generation_.fetch_add(1, std::memory_order_acq_rel);
}

std::shared_ptr<DatabaseCatalog> CatalogStore::database(const std::string& name) {
  std::lock_guard lock(mutex_);
  auto& entry = databases_[name];
  if (entry == nullptr) entry = std::make_shared<DatabaseCatalog>(interval_);
  return entry;
}

void CatalogStore::mark_all_stale() {
  std::lock_guard lock(mutex_);
  for (auto& [name, entry] : databases_) entry->mark_stale();
}

}  // namespace pgsoftdelete::proxy
