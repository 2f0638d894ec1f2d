// ResolvedRules: the catalog indexed once, rules propagated down inheritance, foreign-key hazards
// followed through cascades.
#include "rules/resolved_rules.hpp"

#include <algorithm>
#include <atomic>

#include "rules/identifier.hpp"

namespace pgsoftdelete::rules {

namespace {

std::atomic<std::uint64_t> next_generation{1};

/// Actions that delete or change the referencing rows.
bool acts(char action) { return action == 'c' || action == 'n' || action == 'd'; }

}  // namespace

std::string SearchPath::key() const {
  if (!known) return "?";
  std::string k;
  for (const auto& s : schemas) {
    k += s;
    k += '\x1f';
  }
  return k;
}

ResolvedRules::ResolvedRules(std::shared_ptr<const RuleSet> rules, std::shared_ptr<const Catalog> catalog)
    : rules_(std::move(rules)), catalog_(std::move(catalog)), generation_(next_generation.fetch_add(1)) {
  const auto& rels = catalog_->relations;
  const std::size_t n = rels.size();
  {
    std::string text;  // every field that decides anything, then hashed once
    for (const auto& r : rels) {
      text += std::to_string(r.oid) + '\x1f' + r.schema + '\x1f' + r.name + '\x1f' + r.kind;
      for (auto p : r.parents) text += '\x1f' + std::to_string(p);
      text += '\x1e';
    }
    for (const auto& k : catalog_->foreign_keys) {
      text += k.name + '\x1f' + std::to_string(k.referencing) + '\x1f' + std::to_string(k.referenced) + '\x1f' +
              k.on_delete + k.on_update;
      for (const auto& c : k.referenced_columns) text += '\x1f' + c;
      text += '\x1e';
    }
    fingerprint_ = std::hash<std::string>{}(text) ^ (rules_->version() * 0x9E3779B97F4A7C15ull);
  }
  for (std::size_t i = 0; i < n; ++i) {
    by_oid_.emplace(rels[i].oid, i);
    by_name_[rels[i].name].push_back(i);
    names_.add(rels[i].name, known_flag);
  }
  children_.resize(n);
  for (std::size_t i = 0; i < n; ++i)
    for (auto parent : rels[i].parents)
      if (auto it = by_oid_.find(parent); it != by_oid_.end()) children_[it->second].push_back(i);

  // A rule names tables; partitions and inheritance children of a rule table are rule tables with
  // the same rule (they share its columns), down any depth. A table's own rule wins.
  rule_.assign(n, nullptr);
  std::vector<std::size_t> work;
  for (std::size_t i = 0; i < n; ++i)  // an unqualified rule matches the name in every schema
    if ((rule_[i] = rules_->find(rels[i].schema, rels[i].name)) != nullptr) work.push_back(i);
  while (!work.empty()) {
    const std::size_t i = work.back();
    work.pop_back();
    for (auto c : children_[i])
      if (rule_[c] == nullptr) {
        rule_[c] = rule_[i];
        work.push_back(c);
      }
  }
  // Ancestors without a rule of their own reach the rule tables below them.
  rule_descendant_.assign(n, nullptr);
  for (std::size_t i = 0; i < n; ++i) {
    if (rule_[i] == nullptr) continue;
    std::vector<std::size_t> up{i};
    while (!up.empty()) {
      const std::size_t j = up.back();
      up.pop_back();
      for (auto parent : rels[j].parents) {
        auto it = by_oid_.find(parent);
        if (it == by_oid_.end() || rule_[it->second] != nullptr || rule_descendant_[it->second] != nullptr) continue;
        rule_descendant_[it->second] = &rels[i];
        up.push_back(it->second);
      }
    }
  }

  const auto& keys = catalog_->foreign_keys;
  for (std::size_t k = 0; k < keys.size(); ++k) keys_by_referenced_.emplace(keys[k].referenced, k);
  stamp_.assign(n, 0);
  delete_hazard_ = propagate_hazards(false);
  truncate_hazard_ = propagate_hazards(true);

  // Names the fast path must not let through: rule tables under other names, their ancestors,
  // tables whose foreign-key actions reach them.
  for (std::size_t i = 0; i < n; ++i) {
    // Views too: DELETE / UPDATE / MERGE through one is refused, and must be parsed to be.
    if (rule_[i] != nullptr || rule_descendant_[i] != nullptr || delete_hazard_[i] || truncate_hazard_[i] ||
        rels[i].kind == 'v')
      names_.add(rels[i].name, related_flag);
  }
  for (const auto& key : keys) {
    auto it = by_oid_.find(key.referencing);
    if (it != by_oid_.end() && rule_[it->second] != nullptr && acts(key.on_update))
      if (auto r = by_oid_.find(key.referenced); r != by_oid_.end()) names_.add(rels[r->second].name, related_flag);
  }
  // The rules' own names count, whether or not the catalog has such a table yet.
  for (const auto& rule : rules_->tables()) names_.add(rule.name, related_flag);
  fingerprint_text_ = std::to_string(fingerprint_);
  // A name whose relations differ in rule (one schema's is a rule table, another's not).
  for (const auto& [name, list] : by_name_) {
    for (std::size_t k = 1; k < list.size() && !path_matters_; ++k)
      if (rule_[list[k]] != rule_[list[0]]) path_matters_ = true;
  }
}

Resolution ResolvedRules::resolve(std::string_view schema, std::string_view name, const SearchPath& path) const {
  schema = truncate_identifier(schema);
  name = truncate_identifier(name);
  const auto& rels = catalog_->relations;
  auto found = [&](std::size_t i) {
    return Resolution{.rule = rule_[i], .relation = &rels[i], .rule_descendant = rule_descendant_[i], .unknown = false};
  };
  auto by_name_only = [&] { return Resolution{.rule = rules_->find(schema, name), .unknown = true}; };
  auto it = by_name_.find(name);
  if (it == by_name_.end()) return by_name_only();
  if (!schema.empty()) {
    for (auto i : it->second)
      if (rels[i].schema == schema) return found(i);
    return by_name_only();
  }
  if (path.known) {
    for (const auto& s : path.schemas)
      for (auto i : it->second)
        if (rels[i].schema == s) return found(i);
    return by_name_only();  // in no schema of the path: the server will not find it either (or a temp table)
  }
  // The search_path is not known: assume the worst of the candidates.
  for (auto i : it->second)
    if (rule_[i] != nullptr) return found(i);
  for (auto i : it->second)
    if (rule_descendant_[i] != nullptr) return found(i);
  return found(it->second.front());
}

std::vector<std::size_t> ResolvedRules::with_descendants(std::uint32_t oid) const {
  std::vector<std::size_t> out;
  auto it = by_oid_.find(oid);
  if (it == by_oid_.end()) return out;
  // A child of two parents (multiple inheritance) is reached twice: a stamp per walk skips it.
  const std::uint32_t walk = ++walk_;
  out.push_back(it->second);
  stamp_[it->second] = walk;
  for (std::size_t k = 0; k < out.size(); ++k)
    for (auto c : children_[out[k]])
      if (stamp_[c] != walk) {
        stamp_[c] = walk;
        out.push_back(c);
      }
  return out;
}

// Which relations' deletion reaches a rule table, found backwards from the rule tables in one pass:
// a key whose action deletes or changes rows of a rule table makes its referenced relation
// dangerous; a relation is dangerous when a descendant is (its rows go with the parent's); a
// CASCADE key whose referencing relation is dangerous makes its referenced relation dangerous
// (deleting there deletes there). For TRUNCATE … CASCADE every key counts, whatever its action.
// Each relation carries the key that touches the rule table, for the message. Linear in relations
// and keys, whatever the depth of partitioning.
std::vector<ForeignKeyHazard> ResolvedRules::propagate_hazards(bool truncate) const {
  const auto& rels = catalog_->relations;
  const auto& keys = catalog_->foreign_keys;
  std::vector<ForeignKeyHazard> hazard(rels.size());
  std::unordered_multimap<std::uint32_t, std::size_t> keys_by_referencing;
  for (std::size_t k = 0; k < keys.size(); ++k) keys_by_referencing.emplace(keys[k].referencing, k);
  std::vector<std::size_t> work;
  auto mark = [&](std::size_t i, ForeignKeyHazard h) {
    if (hazard[i]) return;
    hazard[i] = h;
    work.push_back(i);
  };
  for (const auto& key : keys) {
    auto ref = by_oid_.find(key.referencing);
    auto target = by_oid_.find(key.referenced);
    if (ref == by_oid_.end() || target == by_oid_.end() || rule_[ref->second] == nullptr) continue;
    if (truncate || acts(key.on_delete)) mark(target->second, ForeignKeyHazard{&key, &rels[ref->second]});
  }
  while (!work.empty()) {
    const std::size_t i = work.back();
    work.pop_back();
    for (auto parent : rels[i].parents)
      if (auto p = by_oid_.find(parent); p != by_oid_.end()) mark(p->second, hazard[i]);
    const auto range = keys_by_referencing.equal_range(rels[i].oid);
    for (auto e = range.first; e != range.second; ++e) {
      const CatalogForeignKey& key = keys[e->second];
      if (!truncate && key.on_delete != 'c') continue;  // SET NULL / DEFAULT delete nothing further
      if (auto target = by_oid_.find(key.referenced); target != by_oid_.end()) mark(target->second, hazard[i]);
    }
  }
  return hazard;
}

ForeignKeyHazard ResolvedRules::delete_hazard(std::uint32_t oid) const {
  auto it = by_oid_.find(oid);
  return it == by_oid_.end() ? ForeignKeyHazard{} : delete_hazard_[it->second];
}

ForeignKeyHazard ResolvedRules::soft_delete_hazard(std::uint32_t oid) const {
  const auto& rels = catalog_->relations;
  const auto& keys = catalog_->foreign_keys;
  auto it = by_oid_.find(oid);
  if (it == by_oid_.end()) return {};
  // The rows deleted are rows of `oid`, of its descendants and, as a key sees them, of its ancestors
  // (a key on a partitioned table refers to its partitions' rows).
  std::vector<std::size_t> rows_of;
  {
    std::lock_guard lock(walk_mutex_);  // with_descendants marks shared state
    rows_of = with_descendants(oid);
  }
  std::vector<std::size_t> up{it->second};
  for (std::size_t k = 0; k < up.size() && up.size() <= rels.size(); ++k)
    for (auto parent : rels[up[k]].parents)
      if (auto p = by_oid_.find(parent); p != by_oid_.end() && std::find(up.begin(), up.end(), p->second) == up.end())
        up.push_back(p->second);
  rows_of.insert(rows_of.end(), up.begin() + 1, up.end());
  for (auto i : rows_of) {
    const auto range = keys_by_referenced_.equal_range(rels[i].oid);
    for (auto e = range.first; e != range.second; ++e) {
      const CatalogForeignKey& key = keys[e->second];
      if (!acts(key.on_delete)) continue;
      auto ref = by_oid_.find(key.referencing);
      if (ref == by_oid_.end() || rule_[ref->second] != nullptr) continue;  // a rule table's rows: not refused
      return ForeignKeyHazard{&key, &rels[ref->second]};
    }
  }
  return {};
}

ForeignKeyHazard ResolvedRules::truncate_hazard(std::uint32_t oid) const {
  auto it = by_oid_.find(oid);
  return it == by_oid_.end() ? ForeignKeyHazard{} : truncate_hazard_[it->second];
}

ForeignKeyHazard ResolvedRules::update_hazard(std::uint32_t oid, const std::vector<std::string>& columns) const {
  const auto& keys = catalog_->foreign_keys;
  std::lock_guard lock(walk_mutex_);  // with_descendants marks shared state
  for (auto i : with_descendants(oid)) {
    const auto range = keys_by_referenced_.equal_range(catalog_->relations[i].oid);
    for (auto e = range.first; e != range.second; ++e) {
      const CatalogForeignKey& key = keys[e->second];
      if (!acts(key.on_update)) continue;
      auto ref = by_oid_.find(key.referencing);
      if (ref == by_oid_.end() || rule_[ref->second] == nullptr) continue;
      const bool touched =
          columns.empty() || std::any_of(key.referenced_columns.begin(), key.referenced_columns.end(), [&](const auto& c) {
            return std::find(columns.begin(), columns.end(), c) != columns.end();
          });
      if (touched) return ForeignKeyHazard{&key, &catalog_->relations[ref->second]};
    }
  }
  return {};
}

const CatalogRelation* ResolvedRules::rule_table_in_schema(std::string_view schema) const {
  for (std::size_t i = 0; i < catalog_->relations.size(); ++i)
    if (rule_[i] != nullptr && catalog_->relations[i].schema == schema) return &catalog_->relations[i];
  return nullptr;
}

}  // namespace pgsoftdelete::rules
