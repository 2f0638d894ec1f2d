// The rewrite cache: plans keyed by a statement's token structure (literals replaced by their kind), the
// rules version, the hints and (when hints are set) the user; bounded, sharded LRU, thread-safe.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "rules/engine.hpp"
#include "rules/hints.hpp"
#include "rules/rewriter.hpp"
#include "rules/sql_lexer.hpp"

namespace pgsoftdelete::rules {

/// A rewrite plan with positions expressed as atom boundaries, so it applies to any statement with the
/// same atoms (same text except literal values, whitespace and comments).
struct CachedPlan {
  struct Anchor {
    std::uint32_t atom = 0;  ///< index into LexResult::atoms
    bool at_end = false;     ///< false: the atom's start; true: its end
  };
  struct AnchoredEdit {
    Anchor begin, end;
    std::string text;
  };
  std::vector<AnchoredEdit> edits;  ///< sorted by position
  std::vector<StatementInfo> statements;
  bool unknown_relation = false;

  /// Anchors `plan` to `lexed`; nullopt when an edit does not fall on an atom boundary (not cacheable).
  static std::optional<CachedPlan> from(const RewritePlan& plan, const LexResult& lexed);
  /// The rewritten text of `sql`, whose atoms are `lexed` (same key as the one this plan came from):
  /// spliced straight from the cached edits, nothing copied or sorted per statement.
  std::expected<std::string, parser::Error> apply(std::string_view sql, const LexResult& lexed) const;
};

/// The cache key: rules version, hints, user when hints are set, then every atom with literals replaced.
/// `scope` names the catalog and search_path the plan was made under (empty: names alone). Written
/// into `key` (cleared first), so that a caller's buffer is reused from one statement to the next.
void cache_key(const LexResult& lexed, std::string_view sql, const RuleSet& rules, const Hints& hints,
               std::string_view user, std::string_view scope, std::string& key);

/// Bounded LRU cache split into shards, each behind its own mutex.
class RewriteCache {
 public:
  explicit RewriteCache(std::size_t capacity);

  std::shared_ptr<const CachedPlan> find(const std::string& key);
  void insert(const std::string& key, std::optional<CachedPlan> plan);

  void count_fast_path() { fast_path_.fetch_add(1, std::memory_order_relaxed); }
  void count_parsed() { parsed_.fetch_add(1, std::memory_order_relaxed); }
  EngineStats stats() const;

 private:
  static constexpr std::size_t shard_count = 16;
  struct Shard {
    std::mutex mutex;
    std::list<std::pair<std::string, std::shared_ptr<const CachedPlan>>> lru;  // front: most recent
    std::unordered_map<std::string_view, decltype(lru)::iterator> index;       // views into lru keys
  };
  Shard& shard_for(const std::string& key);

  std::size_t per_shard_capacity_;
  std::array<Shard, shard_count> shards_;
  std::atomic<std::size_t> fast_path_{0}, hits_{0}, parsed_{0};
};

}  // namespace pgsoftdelete::rules
