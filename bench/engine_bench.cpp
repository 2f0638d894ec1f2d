// Engine micro-benchmarks: the issue's three targets (fast path <= 1 us, first rewrite of a three-join query
// <= 60 us, cache hit <= 3 us), plus libpg_query's parse alone (protobuf and JSON forms) for reference.
// Run: pgsd_engine_bench --benchmark_repetitions=10 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "parser/json_tree.hpp"
#include "parser/parse.hpp"
#include "rules/engine.hpp"
#include "rules/load_rules.hpp"
#include "rules/resolved_rules.hpp"

namespace {

using namespace pgsoftdelete;

std::shared_ptr<const rules::RuleSet> bench_rules() {
  static auto r = *rules::load_rules_from_string(R"(
[[table]]
name = "humans"
[[table]]
name = "aliens"
column = "deleted_at"
kind = "timestamp"
[[table]]
name = "ships"
)", "bench.toml");
  return r;
}

// pgbench's -S statement with an inlined literal: touches no rule table.
const char* const pgbench_select = "SELECT abalance FROM pgbench_accounts WHERE aid = 48213;";

std::string three_join(int n) {
  return "SELECT h.id, h.name, a.name AS alien, s.name AS ship, p.name AS planet "
         "FROM humans h "
         "JOIN aliens a ON a.human_id = h.id "
         "LEFT JOIN ships s ON s.owner_id = a.id "
         "JOIN planets p ON p.id = h.planet_id "
         "WHERE h.created_at > '2024-01-" + std::to_string(10 + n % 18) + "' AND p.name <> 'mars' "
         "AND h.id IN (SELECT human_id FROM visits WHERE visited_at > now() - interval '" + std::to_string(n % 30 + 1) + " days') "
         "ORDER BY h.id DESC LIMIT " + std::to_string(10 + n % 90);
}

void BM_FastPathNoRuleTable(benchmark::State& state) {
  rules::Engine engine(bench_rules());
  rules::Hints hints;
  for (auto _ : state) {
    auto r = engine.rewrite(pgbench_select, hints, "app");
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_FastPathNoRuleTable);

void BM_FirstRewriteThreeJoins(benchmark::State& state) {
  rules::Engine engine(bench_rules(), rules::EngineOptions{.cache_capacity = 0});  // no cache: every call parses
  const std::string sql = three_join(1);
  rules::Hints hints;
  for (auto _ : state) {
    auto r = engine.rewrite(sql, hints, "app");
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_FirstRewriteThreeJoins);

void BM_CacheHitThreeJoinsOtherLiterals(benchmark::State& state) {
  rules::Engine engine(bench_rules());
  std::vector<std::string> variants;
  for (int i = 0; i < 512; ++i) variants.push_back(three_join(i));
  rules::Hints hints;
  (void)engine.rewrite(variants[0], hints, "app");  // the first one parses and fills the cache
  std::size_t i = 1;
  for (auto _ : state) {
    auto r = engine.rewrite(variants[i++ % variants.size()], hints, "app");
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_CacheHitThreeJoinsOtherLiterals);

// The same with the catalog of a database of 2000 tables (the rule tables among them, each with
// four partitions, and a foreign key into each), as a session of the proxy resolves statements.
const rules::ResolvedRules& bench_catalog() {
  static const auto resolved = [] {
    rules::Catalog c;
    std::uint32_t oid = 16384;
    for (const char* name : {"humans", "aliens", "ships", "planets", "visits", "pgbench_accounts"}) {
      const std::uint32_t parent = oid++;
      c.relations.push_back({parent, "public", name, 'p', {}});
      for (int p = 0; p < 4; ++p) c.relations.push_back({oid++, "public", std::string(name) + "_p" + std::to_string(p), 'r', {parent}});
      c.foreign_keys.push_back({std::string(name) + "_fk", parent, 16384, 'c', 'a', {"id"}});
    }
    while (c.relations.size() < 2000) c.relations.push_back({oid, "public", "table_" + std::to_string(oid), 'r', {}}), ++oid;
    return std::make_unique<const rules::ResolvedRules>(bench_rules(), std::make_shared<const rules::Catalog>(std::move(c)));
  }();
  return *resolved;
}

const rules::SearchPath bench_path{.known = true, .schemas = {"pg_catalog", "public"}};

void BM_FastPathNoRuleTableWithCatalog(benchmark::State& state) {
  rules::Engine engine(bench_rules());
  rules::Hints hints;
  const rules::Scope scope{.resolved = &bench_catalog(), .search_path = &bench_path};
  for (auto _ : state) {
    auto r = engine.rewrite(pgbench_select, hints, "app", scope);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_FastPathNoRuleTableWithCatalog);

void BM_CacheHitThreeJoinsWithCatalog(benchmark::State& state) {
  rules::Engine engine(bench_rules());
  std::vector<std::string> variants;
  for (int i = 0; i < 512; ++i) variants.push_back(three_join(i));
  rules::Hints hints;
  const rules::Scope scope{.resolved = &bench_catalog(), .search_path = &bench_path};
  (void)engine.rewrite(variants[0], hints, "app", scope);
  std::size_t i = 1;
  for (auto _ : state) {
    auto r = engine.rewrite(variants[i++ % variants.size()], hints, "app", scope);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_CacheHitThreeJoinsWithCatalog);

// A deep and wide hierarchy: 20000 partitions under one rule table, keys into a tenth of them.
void BM_ResolveCatalogOf20000Partitions(benchmark::State& state) {
  rules::Catalog c;
  c.relations.push_back({1, "public", "humans", 'p', {}});
  for (std::uint32_t i = 0; i < 20000; ++i) c.relations.push_back({i + 2, "public", "humans_" + std::to_string(i), 'r', {1}});
  for (std::uint32_t i = 0; i < 2000; ++i) c.foreign_keys.push_back({"k" + std::to_string(i), 1, i * 10 + 2, 'c', 'c', {"id"}});
  const auto catalog = std::make_shared<const rules::Catalog>(std::move(c));
  for (auto _ : state) {
    rules::ResolvedRules r(bench_rules(), catalog);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_ResolveCatalogOf20000Partitions)->Unit(benchmark::kMillisecond);

void BM_ResolveCatalogOf2000Tables(benchmark::State& state) {
  const auto& base = bench_catalog();
  for (auto _ : state) {
    rules::ResolvedRules r(bench_rules(), base.catalog_ptr());
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_ResolveCatalogOf2000Tables);

void BM_ReferenceParseProtobufThreeJoins(benchmark::State& state) {
  const std::string sql = three_join(1);
  for (auto _ : state) {
    auto t = parser::parse(sql);
    benchmark::DoNotOptimize(t);
  }
}
BENCHMARK(BM_ReferenceParseProtobufThreeJoins);

void BM_ReferenceParseJsonThreeJoins(benchmark::State& state) {
  const std::string sql = three_join(1);
  for (auto _ : state) {
    auto t = parser::parse_json(sql);
    benchmark::DoNotOptimize(t);
  }
}
BENCHMARK(BM_ReferenceParseJsonThreeJoins);

}  // namespace

BENCHMARK_MAIN();
