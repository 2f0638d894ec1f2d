// CachedPlan anchoring, cache keys, and the sharded LRU.
#include "rules/rewrite_cache.hpp"

#include <algorithm>
#include <charconv>
#include <functional>

namespace pgsoftdelete::rules {
namespace {

std::optional<CachedPlan::Anchor> anchor(const LexResult& lexed, std::size_t pos) {
  const auto& atoms = lexed.atoms;
  auto it = std::lower_bound(atoms.begin(), atoms.end(), pos, [](const Atom& a, std::size_t p) { return a.end < p; });
  for (; it != atoms.end() && it->start <= pos; ++it) {
    auto idx = static_cast<std::uint32_t>(it - atoms.begin());
    if (it->start == pos) return CachedPlan::Anchor{idx, false};
    if (it->end == pos) return CachedPlan::Anchor{idx, true};
  }
  return std::nullopt;
}

std::size_t position(const LexResult& lexed, CachedPlan::Anchor a) {
  const auto& atom = lexed.atoms[a.atom];
  return a.at_end ? atom.end : atom.start;
}

char literal_mark(AtomKind k) {
  switch (k) {
    case AtomKind::string_literal: return 's';
    case AtomKind::bit_literal: return 'b';
    case AtomKind::hex_literal: return 'x';
    case AtomKind::integer: return 'i';
    case AtomKind::numeric: return 'n';
    case AtomKind::word: break;
  }
  return 'w';
}

}  // namespace

std::optional<CachedPlan> CachedPlan::from(const RewritePlan& plan, const LexResult& lexed) {
  CachedPlan out;
  out.statements = plan.statements;
  out.unknown_relation = plan.unknown_relation;
  // Sorted here once (atoms keep their order in every statement of the same key), not per hit.
  std::vector<Edit> sorted = plan.edits;
  sort_edits(sorted);
  for (const auto& e : sorted) {
    auto b = anchor(lexed, e.begin);
    auto en = anchor(lexed, e.end);
    if (!b || !en) return std::nullopt;
    // Edits that copy a literal's text would be wrong for other literal values.
    for (std::size_t i = 0; i < lexed.atoms.size(); ++i) {
      const auto& a = lexed.atoms[i];
      if (a.kind != AtomKind::word && a.start < e.end && a.end > e.begin) return std::nullopt;
    }
    out.edits.push_back({*b, *en, e.text});
  }
  return out;
}

std::expected<std::string, parser::Error> CachedPlan::apply(std::string_view sql, const LexResult& lexed) const {
  return splice_sorted(sql, edits, [&lexed](const AnchoredEdit& e) {
    return std::pair{position(lexed, e.begin), position(lexed, e.end)};
  });
}

void cache_key(const LexResult& lexed, std::string_view sql, const RuleSet& rules, const Hints& hints,
               std::string_view user, std::string_view scope, std::string& key) {
  key.clear();
  key.reserve(sql.size() + 32 + scope.size());
  char digits[20];
  key.append(digits, std::to_chars(digits, digits + sizeof digits, rules.version()).ptr);
  key.push_back('\x01');
  key.append(scope);
  key.push_back('\x01');
  if (!hints.empty()) {
    key += hints.to_string();
    key.push_back('\x01');
    key.append(user);
  }
  key.push_back('\x01');
  for (const auto& a : lexed.atoms) {
    if (a.kind == AtomKind::word) key.append(sql.substr(a.start, a.end - a.start));
    else key.push_back(literal_mark(a.kind));
    key.push_back(' ');
  }
}

RewriteCache::RewriteCache(std::size_t capacity)
    : per_shard_capacity_(capacity == 0 ? 0 : std::max<std::size_t>(1, capacity / shard_count)) {}

RewriteCache::Shard& RewriteCache::shard_for(const std::string& key) {
  return shards_[std::hash<std::string>{}(key) % shard_count];
}

std::shared_ptr<const CachedPlan> RewriteCache::find(const std::string& key) {
  if (per_shard_capacity_ == 0) return nullptr;
  auto& shard = shard_for(key);
  std::lock_guard lock(shard.mutex);
  auto it = shard.index.find(key);
  if (it == shard.index.end()) return nullptr;
  shard.lru.splice(shard.lru.begin(), shard.lru, it->second);
  hits_.fetch_add(1, std::memory_order_relaxed);
  return it->second->second;
}

void RewriteCache::insert(const std::string& key, std::optional<CachedPlan> plan) {
  if (per_shard_capacity_ == 0 || !plan) return;
  auto value = std::make_shared<const CachedPlan>(std::move(*plan));
  auto& shard = shard_for(key);
  std::lock_guard lock(shard.mutex);
  if (shard.index.contains(key)) return;
  shard.lru.emplace_front(key, std::move(value));
  shard.index.emplace(shard.lru.front().first, shard.lru.begin());
  while (shard.lru.size() > per_shard_capacity_) {
    shard.index.erase(shard.lru.back().first);
    shard.lru.pop_back();
  }
}

EngineStats RewriteCache::stats() const {
  return EngineStats{fast_path_.load(), hits_.load(), parsed_.load()};
}

}  // namespace pgsoftdelete::rules
