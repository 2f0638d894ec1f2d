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
      text += '\x1d';
      for (const auto& c : r.unique_key) text += '\x1f' + c;
      text += '\x1e';
    }
    for (const auto& k : catalog_->foreign_keys) {
      text += k.name + '\x1f' + std::to_string(k.referencing) + '\x1f' + std::to_string(k.referenced) + '\x1f' +
              k.on_delete + k.on_update;
      for (const auto& c : k.referenced_columns) text += '\x1f' + c;
      text += '\x1d';
      for (const auto& c : k.referencing_columns) text += '\x1f' + c;
      text += '\x1d';
      for (const auto& c : k.set_columns) text += '\x1f' + c;
      text += k.derived ? "\x1d" "d\x1e" : "\x1e";
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

std::vector<std::size_t> ResolvedRules::rows_of(std::size_t i) const {
  const auto& rels = catalog_->relations;
  std::vector<std::size_t> out;
  {
    std::lock_guard lock(walk_mutex_);  // with_descendants marks shared state
    out = with_descendants(rels[i].oid);
  }
  // Up through partitioning only: a key on an inheritance parent sees the parent's own rows.
  std::vector<std::size_t> up{i};
  for (std::size_t k = 0; k < up.size() && up.size() <= rels.size(); ++k)
    for (auto parent : rels[up[k]].parents)
      if (auto p = by_oid_.find(parent); p != by_oid_.end() && rels[p->second].kind == 'p' &&
                                         std::find(up.begin(), up.end(), p->second) == up.end())
        up.push_back(p->second);
  out.insert(out.end(), up.begin() + 1, up.end());
  return out;
}

std::vector<std::uint32_t> ResolvedRules::leaves_of(std::size_t i, bool inheritance) const {
  const auto& rels = catalog_->relations;
  std::vector<std::uint32_t> out;
  if (rels[i].kind != 'p' && !inheritance) return {rels[i].oid};
  std::vector<std::size_t> all;
  {
    std::lock_guard lock(walk_mutex_);  // with_descendants marks shared state
    all = with_descendants(rels[i].oid);
  }
  for (auto d : all)
    if (rels[d].kind != 'p') out.push_back(rels[d].oid);
  std::sort(out.begin(), out.end());
  return out;
}

// Breadth first from the target: each key from a rule table with an ON DELETE action on rows of a
// table reached (its rows, its descendants', and its ancestors' as keys see them) adds a step. A
// key declared on a partitioned table stands for its partitions' copies (derived keys are skipped).
// Each table is soft-deleted by one step at most, with every key that reaches it as a source, so that
// no row is updated twice in one statement; what would need that is refused with a reason.
CascadePlan ResolvedRules::cascade_plan(std::uint32_t oid, bool follow) const {
  const auto& rels = catalog_->relations;
  const auto& keys = catalog_->foreign_keys;
  CascadePlan plan;
  auto it = by_oid_.find(oid);
  if (it == by_oid_.end()) return plan;
  std::vector<std::size_t> node_rel{it->second};  // per node: its relation's index
  plan.nodes.push_back({&rels[it->second], rule_[it->second], {}, {}, nullptr, {}, {}});
  std::vector<std::vector<std::size_t>> rows{rows_of(it->second)};  // per node
  auto overlaps = [&](std::size_t node, std::size_t rel) {
    return std::find(rows[node].begin(), rows[node].end(), rel) != rows[node].end();
  };
  auto add_columns = [](std::vector<std::string>& to, const std::vector<std::string>& columns) {
    for (const auto& c : columns)
      if (std::find(to.begin(), to.end(), c) == to.end()) to.push_back(c);
  };
  auto fail = [&](std::string why) {
    if (plan.problem.empty()) plan.problem = std::move(why);
  };
  if (const auto& root = rels[it->second]; root.kind == 'p' || leaves_of(it->second, true).size() == 1)
    plan.identity = root.unique_key;
  std::vector<std::pair<std::size_t, std::size_t>> edges;  // node -> node, for the order
  std::vector<std::pair<std::size_t, CascadePlan::Source>> sets;  // (relation, key) SET NULL / SET DEFAULT
  for (std::size_t n = 0; n < plan.nodes.size(); ++n) {
    const auto deleted = leaves_of(node_rel[n], true);  // the tables holding the node's deleted rows
    for (auto i : std::vector<std::size_t>(rows[n])) {
      const auto range = keys_by_referenced_.equal_range(rels[i].oid);
      for (auto e = range.first; e != range.second; ++e) {
        const CatalogForeignKey& key = keys[e->second];
        if (key.derived || !acts(key.on_delete)) continue;
        auto ref = by_oid_.find(key.referencing);
        if (ref == by_oid_.end()) continue;
        const std::size_t r = ref->second;
        if (rule_[r] == nullptr) {
          if (!plan.refused) plan.refused = ForeignKeyHazard{&key, &rels[r]};
          continue;
        }
        if (!follow) continue;
        if (key.referencing_columns.empty() || key.referencing_columns.size() != key.referenced_columns.size()) {
          fail("the columns of foreign key " + key.name + " are not known");
          continue;
        }
        add_columns(plan.nodes[n].columns, key.referenced_columns);
        // Which of the node's deleted rows the key sees: filtered by tableoid when not all of them.
        std::vector<std::uint32_t> seen;
        if (auto visible = leaves_of(i, false);
            !std::includes(visible.begin(), visible.end(), deleted.begin(), deleted.end()))
          seen = std::move(visible);
        if (key.on_delete != 'c') {
          sets.emplace_back(r, CascadePlan::Source{n, &key, std::move(seen)});
          continue;
        }
        if (overlaps(n, r)) {
          auto& node = plan.nodes[n];
          if (node.closure_table != nullptr && node.closure_table != &rels[r])
            fail("its self-referencing foreign keys are declared on two tables");
          if (!seen.empty()) fail("its self-referencing foreign key " + key.name + " sees only some of its rows");
          node.closure_table = &rels[r];
          node.self_keys.push_back(&key);
          continue;
        }
        auto found = std::find(node_rel.begin(), node_rel.end(), r);
        std::size_t target = static_cast<std::size_t>(found - node_rel.begin());
        if (found == node_rel.end()) {
          for (std::size_t m = 0; m < plan.nodes.size(); ++m)
            if (overlaps(m, r))
              fail("the rows of " + rels[r].schema + "." + rels[r].name + " are reached through foreign key " +
                   key.name + " and as rows of " + plan.nodes[m].table->schema + "." + plan.nodes[m].table->name);
          node_rel.push_back(r);
          plan.nodes.push_back({&rels[r], rule_[r], {}, {}, nullptr, {}, {}});
          rows.push_back(rows_of(r));
        }
        plan.nodes[target].sources.push_back({n, &key, std::move(seen)});
        edges.emplace_back(n, target);
      }
    }
  }
  // Sets: into a table a step soft-deletes from, in that step (its rows set only where not deleted);
  // else one step per table. A row must not be updated by two steps; SET DEFAULT cannot be a CASE
  // branch, so it must be its table's only action; the target's own table (a self-referencing key)
  // gets its own step, leaving out the rows the statement deletes.
  for (auto& [rel, source] : sets) {
    const std::string where = rels[rel].schema + "." + rels[rel].name;
    auto node = std::find(node_rel.begin(), node_rel.end(), rel);
    const auto m = static_cast<std::size_t>(node - node_rel.begin());
    if (node != node_rel.end() && m != 0) {
      if (!plan.nodes[m].self_keys.empty() || source.node == m)
        fail("foreign key " + source.key->name + " would set columns of rows of " + where +
             ", which references its own rows");
      plan.nodes[m].sets.push_back(source);
      edges.emplace_back(source.node, m);
      continue;
    }
    for (std::size_t k = 0; k < plan.nodes.size(); ++k)
      if (overlaps(k, rel) && (k != 0 || node == node_rel.end() || !plan.nodes[0].self_keys.empty()))
        fail("foreign key " + source.key->name + " would set columns of rows of " + where +
             " that the same statement soft-deletes");
    auto group = std::find_if(plan.sets.begin(), plan.sets.end(), [&](const auto& g) { return g.table == &rels[rel]; });
    if (group == plan.sets.end()) {
      plan.sets.push_back({&rels[rel], rule_[rel], {}, overlaps(0, rel)});
      group = plan.sets.end() - 1;
    }
    group->sources.push_back(std::move(source));
  }
  // What one UPDATE per table cannot say as PostgreSQL's triggers, one after another, would do it.
  auto set_by = [](const CatalogForeignKey& k) -> const std::vector<std::string>& {
    return k.set_columns.empty() ? k.referencing_columns : k.set_columns;
  };
  auto intersects = [](const std::vector<std::string>& a, const std::vector<std::string>& b) {
    return std::any_of(a.begin(), a.end(), [&](const auto& c) { return std::find(b.begin(), b.end(), c) != b.end(); });
  };
  auto check_together = [&](const std::vector<CascadePlan::Source>& setters, const std::vector<CascadePlan::Source>& others,
                            const TableRule* deletes, const CatalogRelation& table) {
    const std::string where = table.schema + "." + table.name;
    std::vector<std::string> assigned;  // columns a soft delete of its rows assigns
    if (deletes != nullptr)
      for (auto& assignment : deletes->delete_assignment_list()) assigned.push_back(std::move(assignment.first));
    for (const auto& s : setters) {
      for (const auto& t : setters)
        if (&s != &t && intersects(set_by(*s.key), t.key->referencing_columns))
          fail("foreign key " + s.key->name + " would set columns of " + where + " that foreign key " + t.key->name +
               " looks at");
      for (const auto& t : others)
        if (intersects(set_by(*s.key), t.key->referencing_columns))
          fail("foreign key " + s.key->name + " would set columns of " + where + " that foreign key " + t.key->name +
               " looks at");
      std::vector<std::string> quoted;
      for (const auto& c : set_by(*s.key)) quoted.push_back(quote_identifier(c));
      if (intersects(quoted, assigned))
        fail("foreign key " + s.key->name + " would set a column of " + where + " that its soft delete assigns");
    }
  };
  for (const auto& node : plan.nodes) {
    check_together(node.sets, node.sources, node.rule, *node.table);
    for (const auto& set : node.sets)
      if (set.key->on_delete == 'd')
        fail("foreign key " + set.key->name + " (ON DELETE SET DEFAULT) into " + node.table->schema + "." +
             node.table->name + ", which the same statement soft-deletes from");
  }
  for (std::size_t g = 0; g < plan.sets.size(); ++g) {
    check_together(plan.sets[g].sources, {}, nullptr, *plan.sets[g].table);
    // Two groups whose rows overlap (a partitioned table and its partition) would update a row twice.
    const auto rel = static_cast<std::size_t>(plan.sets[g].table - rels.data());
    const auto below = rows_of(rel);
    for (std::size_t h = 0; h < plan.sets.size(); ++h) {
      const auto other = static_cast<std::size_t>(plan.sets[h].table - rels.data());
      if (h != g && std::find(below.begin(), below.end(), other) != below.end())
        fail("foreign keys into " + rels[rel].schema + "." + rels[rel].name + " and into " + rels[other].schema + "." +
             rels[other].name + " would set columns of the same rows");
    }
  }
  for (const auto& group : plan.sets)
    if (group.sources.size() > 1)
      for (const auto& source : group.sources)
        if (source.key->on_delete == 'd')
          fail("foreign key " + source.key->name + " (ON DELETE SET DEFAULT) into " + group.table->schema + "." +
               group.table->name + ", which other keys set too");
  // Order: every node after the nodes it reads (Kahn); a cycle cannot be followed in one statement.
  std::vector<std::size_t> indegree(plan.nodes.size(), 0), order;
  for (const auto& [from, to] : edges) ++indegree[to];
  for (std::size_t n = 0; n < plan.nodes.size(); ++n)
    if (indegree[n] == 0) order.push_back(n);
  for (std::size_t k = 0; k < order.size(); ++k)
    for (const auto& [from, to] : edges)
      if (from == order[k] && --indegree[to] == 0) order.push_back(to);
  if (order.size() != plan.nodes.size() || (!order.empty() && order[0] != 0)) {
    fail("the foreign keys between the tables it reaches form a cycle");
    return plan;
  }
  std::vector<std::size_t> position(order.size());
  for (std::size_t k = 0; k < order.size(); ++k) position[order[k]] = k;
  std::vector<CascadePlan::Node> sorted;
  for (auto n : order) sorted.push_back(std::move(plan.nodes[n]));
  for (auto& node : sorted) {
    for (auto& src : node.sources) src.node = position[src.node];
    for (auto& src : node.sets) src.node = position[src.node];
  }
  for (auto& group : plan.sets)
    for (auto& src : group.sources) src.node = position[src.node];
  plan.nodes = std::move(sorted);
  return plan;
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
