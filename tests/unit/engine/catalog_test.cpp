// The engine with a database catalog: rules follow partitions and inheritance, unqualified names
// follow the search_path, foreign-key actions and DDL that would reach rule tables are refused,
// and the fast path lets nothing related through. The catalog is a plain value built here.
#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "rules/engine.hpp"
#include "rules/resolved_rules.hpp"
#include "test_support.hpp"

namespace pgsoftdelete::test {
namespace {

using rules::Catalog;
using rules::CatalogForeignKey;
using rules::CatalogRelation;
using rules::SearchPath;

// ph (rule) with partitions ph_1 and ph_2, ph_2 with ph_2a; rp (no rule) with child rc (rule);
// worlds <- people (rule, ON DELETE CASCADE, ON UPDATE CASCADE); galaxies <- worlds (CASCADE);
// moons -> worlds (RESTRICT); public.sq (rule) and other.sq (no rule); other.lone (no rule); ev (no
// rule, partitioned) with partition ev_1 (rule); a view hv; a rule table named excluded; rule tables
// referenced by plain tables: accounts <- notes (CASCADE), wallets <- tags (SET NULL), logs (partitioned,
// partition logs_1) <- log_notes (SET DEFAULT), cards <- pins (RESTRICT) and <- stamps (rule, CASCADE).
std::shared_ptr<const Catalog> test_catalog() {
  auto c = std::make_shared<Catalog>();
  c->relations = {
      {1, "public", "ph", 'p', {}},       {2, "public", "ph_1", 'r', {1}}, {3, "public", "ph_2", 'p', {1}},
      {4, "public", "ph_2a", 'r', {3}},   {5, "public", "rp", 'r', {}},    {6, "public", "rc", 'r', {5}},
      {7, "public", "worlds", 'r', {}},   {8, "public", "people", 'r', {}}, {9, "public", "galaxies", 'r', {}},
      {10, "public", "moons", 'r', {}},   {11, "public", "sq", 'r', {}},   {12, "other", "sq", 'r', {}},
      {13, "public", "humans", 'r', {}},  {14, "public", "ev", 'p', {}},   {15, "public", "ev_1", 'r', {14}},
      {16, "public", "hv", 'v', {}},      {17, "public", "excluded", 'r', {}},
      {18, "public", "accounts", 'r', {}}, {19, "public", "notes", 'r', {}},   {20, "public", "wallets", 'r', {}},
      {21, "public", "tags", 'r', {}},     {22, "public", "cards", 'r', {}},   {23, "public", "pins", 'r', {}},
      {24, "public", "log_notes", 'r', {}}, {25, "public", "logs", 'p', {}},  {26, "public", "logs_1", 'r', {25}},
      {27, "public", "stamps", 'r', {}},   {28, "public", "accounts_b", 'r', {}},
  };
  c->foreign_keys = {
      {"people_world", 8, 7, 'c', 'c', {"id"}},
      {"worlds_galaxy", 7, 9, 'c', 'a', {"id"}},
      {"moons_world", 10, 7, 'r', 'a', {"id"}},
      {"notes_account", 19, 18, 'c', 'a', {"id"}},
      {"tags_wallet", 21, 20, 'n', 'a', {"id"}},
      {"pins_card", 23, 22, 'r', 'a', {"id"}},
      {"log_notes_log", 24, 25, 'd', 'a', {"id"}},
      {"stamps_card", 27, 22, 'c', 'a', {"id"}, {"card_id"}},
      {"stamps_account_b", 27, 28, 'c', 'a', {"id"}},
  };
  return c;
}

constexpr const char* catalog_rules = R"(
[[table]]
name = "ph"
[[table]]
name = "rc"
[[table]]
name = "people"
[[table]]
name = "public.sq"
[[table]]
name = "humans"
[[table]]
name = "ev_1"
[[table]]
name = "excluded"
[[table]]
name = "accounts"
[[table]]
name = "wallets"
[[table]]
name = "logs"
[[table]]
name = "cards"
[[table]]
name = "stamps"
[[table]]
name = "accounts_b"
)";

struct Case {
  const char* name;
  const char* sql;
  const char* expected;  // nullptr: unchanged; "0A000": refused with that SQLSTATE
  std::vector<std::string> path = {"pg_catalog", "public"};
};

std::expected<rules::RewriteResult, parser::Error> rewrite_with(const rules::Engine& engine,
                                                                const rules::ResolvedRules& resolved,
                                                                const std::string& sql,
                                                                const std::vector<std::string>& schemas) {
  SearchPath path{.known = true, .schemas = schemas};
  return engine.rewrite(sql, {}, "app", rules::Scope{.resolved = &resolved, .search_path = &path});
}

const std::vector<Case> cases = {
    {"partition read", "SELECT name FROM ph_1", "SELECT name FROM ph_1 WHERE NOT ph_1.is_deleted"},
    {"sub-partition read", "SELECT * FROM ph_2a a", "SELECT * FROM ph_2a a WHERE NOT a.is_deleted"},
    {"child of a plain parent", "SELECT * FROM rc", "SELECT * FROM rc WHERE NOT rc.is_deleted"},
    {"partition DELETE", "DELETE FROM ph_1 WHERE id = 1",
     "UPDATE ph_1 SET is_deleted = true WHERE (id = 1) AND NOT ph_1.is_deleted"},
    {"partition TRUNCATE", "TRUNCATE ph_2a", "0A000"},
    {"plain parent of a rule table", "SELECT * FROM rp", "0A000"},
    {"plain parent with ONLY", "SELECT * FROM ONLY rp", nullptr},
    {"plain parent TRUNCATE", "TRUNCATE rp", "0A000"},
    {"plain parent TRUNCATE ONLY", "TRUNCATE ONLY rp", nullptr},
    {"DELETE cascading into a rule table", "DELETE FROM worlds WHERE id = 1", "0A000"},
    {"DELETE cascading through a chain", "DELETE FROM galaxies", "0A000"},
    {"DELETE with a RESTRICT key", "DELETE FROM moons", nullptr},
    {"TRUNCATE CASCADE reaching a rule table", "TRUNCATE worlds CASCADE", "0A000"},
    {"TRUNCATE without CASCADE", "TRUNCATE moons", nullptr},
    {"UPDATE of a referenced column", "UPDATE worlds SET id = 2 WHERE id = 1", "0A000"},
    {"UPDATE of another column", "UPDATE worlds SET name = 'x'", nullptr},
    {"MERGE … DELETE cascading", "MERGE INTO worlds w USING moons m ON m.world_id = w.id WHEN MATCHED THEN DELETE", "0A000"},
    {"MERGE … UPDATE of a referenced column", "MERGE INTO worlds w USING moons m ON m.world_id = w.id WHEN MATCHED THEN UPDATE SET id = 9", "0A000"},
    {"MERGE … UPDATE of another column", "MERGE INTO worlds w USING moons m ON m.world_id = w.id WHEN MATCHED THEN UPDATE SET name = 'x'", nullptr},
    {"soft DELETE fires no action", "DELETE FROM people WHERE id = 1",
     "UPDATE people SET is_deleted = true WHERE (id = 1) AND NOT people.is_deleted"},
    {"search_path: public first", "SELECT * FROM sq", "SELECT * FROM sq WHERE NOT sq.is_deleted"},
    {"search_path: other first", "SELECT * FROM sq", nullptr, {"pg_catalog", "other", "public"}},
    {"search_path: qualified other", "SELECT * FROM other.sq", nullptr},
    {"search_path: qualified public under other", "SELECT * FROM public.sq",
     "SELECT * FROM public.sq WHERE NOT public.sq.is_deleted", {"other", "public"}},
    {"RENAME of a rule table", "ALTER TABLE people RENAME TO persons", "0A000"},
    {"RENAME of a partition", "ALTER TABLE ph_1 RENAME TO ph_one", nullptr},
    {"RENAME of the column", "ALTER TABLE people RENAME COLUMN is_deleted TO gone", "0A000"},
    {"column type", "ALTER TABLE people ALTER COLUMN is_deleted TYPE int USING 0", "0A000"},
    {"column dropped", "ALTER TABLE ph DROP COLUMN is_deleted", "0A000"},
    {"column default", "ALTER TABLE people ALTER COLUMN is_deleted SET DEFAULT true", "0A000"},
    {"SET SCHEMA", "ALTER TABLE public.people SET SCHEMA other", "0A000"},
    {"DROP TABLE", "DROP TABLE IF EXISTS moons, people", "0A000"},
    {"DROP TABLE of a partition", "DROP TABLE ph_2a", "0A000"},
    {"DROP TABLE of a plain parent with CASCADE", "DROP TABLE rp CASCADE", "0A000"},
    {"DROP SCHEMA CASCADE", "DROP SCHEMA public CASCADE", "0A000"},
    {"DROP SCHEMA without rule tables", "DROP SCHEMA other CASCADE", nullptr},
    {"DETACH PARTITION", "ALTER TABLE ph DETACH PARTITION ph_1", "0A000"},
    {"NO INHERIT", "ALTER TABLE rc NO INHERIT rp", "0A000"},
    {"ADD COLUMN", "ALTER TABLE people ADD COLUMN note text", nullptr},
    {"other column dropped", "ALTER TABLE people DROP COLUMN note", nullptr},
    {"query_to_xml rewritten", "SELECT query_to_xml('select * from people', true, false, '')",
     "SELECT query_to_xml('select * from people WHERE NOT people.is_deleted', true, false, '')"},
    {"query_to_xml of a partition, quotes doubled", "SELECT query_to_xml('select ''x'' from ph_1', true, false, '')",
     "SELECT query_to_xml('select ''x'' from ph_1 WHERE NOT ph_1.is_deleted', true, false, '')"},
    {"query_to_xml not a literal", "SELECT query_to_xml(q, true, false, '') FROM queries", "0A000"},
    {"table_to_xml of a rule table", "SELECT table_to_xml('ph_2a', true, false, '')", "0A000"},
    {"table_to_xml of another table", "SELECT table_to_xml('worlds', true, false, '')", nullptr},
    {"schema_to_xml", "SELECT schema_to_xml('public', true, false, '')", "0A000"},
    {"database_to_xml", "SELECT database_to_xml(true, false, '')", "0A000"},
    {"soft DELETE, a plain table's ON DELETE CASCADE", "DELETE FROM accounts WHERE id = 1", "0A000"},
    {"soft DELETE, a plain table's ON DELETE SET NULL", "DELETE FROM wallets WHERE id = 1", "0A000"},
    {"soft DELETE of a partition, a plain table's SET DEFAULT on the parent", "DELETE FROM logs_1 WHERE id = 1", "0A000"},
    {"soft DELETE of the partitioned table", "DELETE FROM logs", "0A000"},
    {"soft DELETE, RESTRICT not followed, a soft-delete table's CASCADE followed", "DELETE FROM cards WHERE id = 1",
     "WITH __pgsd_rows AS (SELECT cards.tableoid AS __pgsd_tableoid, cards.ctid AS __pgsd_ctid, cards.id "
     "FROM cards WHERE (id = 1) AND NOT cards.is_deleted FOR UPDATE OF cards), __pgsd_1 AS (UPDATE ONLY "
     "public.stamps AS __pgsd_t SET is_deleted = true WHERE NOT __pgsd_t.is_deleted AND (__pgsd_t.card_id "
     "= ANY (ARRAY(SELECT id FROM __pgsd_rows))) RETURNING __pgsd_t.tableoid AS __pgsd_tableoid) UPDATE "
     "cards SET is_deleted = true WHERE NOT cards.is_deleted AND (cards.ctid = ANY (ARRAY(SELECT "
     "__pgsd_ctid FROM __pgsd_rows)) AND (cards.tableoid, cards.ctid) IN (SELECT __pgsd_tableoid, "
     "__pgsd_ctid FROM __pgsd_rows))"},
    {"soft DELETE, a key whose columns the catalog lacks: refused", "DELETE FROM accounts_b WHERE id = 1", "0A000"},
    {"upsert into a partition", "INSERT INTO ph_1 (id) VALUES (1) ON CONFLICT (id) DO UPDATE SET v = 1",
     "INSERT INTO ph_1 (id) VALUES (1) ON CONFLICT (id) WHERE NOT is_deleted DO UPDATE SET v = 1 WHERE NOT ph_1.is_deleted"},
    {"upsert into a partitioned table of a rule partition", "INSERT INTO ev (id) VALUES (1) ON CONFLICT (id) DO UPDATE SET v = 1",
     "0A000"},
    {"upsert DO NOTHING into that table", "INSERT INTO ev (id) VALUES (1) ON CONFLICT (id) DO NOTHING", nullptr},
    {"plain INSERT into that table", "INSERT INTO ev (id) VALUES (1)", nullptr},
    {"upsert through a view", "INSERT INTO hv (id) VALUES (1) ON CONFLICT (id) DO UPDATE SET v = 1", "0A000"},
    {"INSERT through a view", "INSERT INTO hv (id) VALUES (1)", nullptr},
    {"upsert into a rule table named excluded",
     "INSERT INTO excluded (id, v) VALUES (1, 2) ON CONFLICT (id) DO UPDATE SET v = excluded.v",
     "INSERT INTO excluded (id, v) VALUES (1, 2) ON CONFLICT (id) WHERE NOT is_deleted DO UPDATE SET v = excluded.v "
     "WHERE NOT public.excluded.is_deleted"},
    {"upsert into a rule table named excluded, aliased",
     "INSERT INTO excluded AS x (id, v) VALUES (1, 2) ON CONFLICT (id) DO UPDATE SET v = excluded.v",
     "INSERT INTO excluded AS x (id, v) VALUES (1, 2) ON CONFLICT (id) WHERE NOT is_deleted DO UPDATE SET v = excluded.v "
     "WHERE NOT x.is_deleted"},
};

}  // namespace

TEST_CASE("catalog: rules follow partitions, inheritance, foreign keys, the search_path and DDL") {
  auto rules = rules_from(catalog_rules);
  rules::ResolvedRules resolved(rules, test_catalog());
  rules::Engine engine(rules, rules::EngineOptions{.cache_capacity = 0});
  rules::Engine cached(rules);  // the fast path and the cache must agree
  for (const auto& c : cases) {
    CAPTURE(std::string(c.name));
    for (const rules::Engine* e : {&engine, &cached, &cached}) {
      auto r = rewrite_with(*e, resolved, c.sql, c.path);
      if (c.expected != nullptr && std::string(c.expected) == "0A000") {
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().sqlstate == std::string("0A000"));
      } else if (c.expected == nullptr) {
        REQUIRE_MESSAGE(r.has_value(), r.error().message);
        CHECK(r->unchanged);
      } else {
        REQUIRE_MESSAGE(r.has_value(), r.error().message);
        CHECK(r->sql == c.expected);
      }
    }
  }
}

TEST_CASE("catalog: refusals name the constraint and the table") {
  auto rules = rules_from(catalog_rules);
  rules::ResolvedRules resolved(rules, test_catalog());
  rules::Engine engine(rules);
  auto r = rewrite_with(engine, resolved, "DELETE FROM galaxies WHERE id = 1", {"public"});
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().message.find("people_world") != std::string::npos);
  CHECK(r.error().message.find("public.people") != std::string::npos);
  auto soft = rewrite_with(engine, resolved, "DELETE FROM wallets WHERE id = 1", {"public"});
  REQUIRE_FALSE(soft.has_value());
  CHECK(soft.error().message.find("tags_wallet") != std::string::npos);
  CHECK(soft.error().message.find("ON DELETE SET NULL") != std::string::npos);
  CHECK(soft.error().message.find("public.tags") != std::string::npos);
  auto parent = rewrite_with(engine, resolved, "SELECT * FROM rp", {"public"});
  REQUIRE_FALSE(parent.has_value());
  CHECK(parent.error().message.find("public.rc") != std::string::npos);
}

TEST_CASE("catalog: policies allow foreign-key actions and DDL") {
  auto rules = rules_from(std::string("[policy]\nforeign_key_actions = \"allow\"\nddl = \"allow\"\n") + catalog_rules);
  rules::ResolvedRules resolved(rules, test_catalog());
  rules::Engine engine(rules);
  for (const char* sql : {"DELETE FROM worlds WHERE id = 1", "TRUNCATE worlds CASCADE", "DROP TABLE people",
                          "ALTER TABLE people RENAME TO persons"}) {
    CAPTURE(std::string(sql));
    auto r = rewrite_with(engine, resolved, sql, {"public"});
    REQUIRE_MESSAGE(r.has_value(), r.error().message);
    CHECK(r->unchanged);
  }
  // A soft delete whose plain children's actions are not followed: soft all the same.
  auto soft = rewrite_with(engine, resolved, "DELETE FROM accounts WHERE id = 1", {"public"});
  REQUIRE_MESSAGE(soft.has_value(), soft.error().message);
  CHECK(soft->sql == "UPDATE accounts SET is_deleted = true WHERE (id = 1) AND NOT accounts.is_deleted");
}

TEST_CASE("catalog: unknown names, unknown search_path, and what the fast path must parse") {
  auto rules = rules_from(catalog_rules);
  rules::ResolvedRules resolved(rules, test_catalog());
  rules::Engine engine(rules);
  CHECK(resolved.names_related("ph_2a"));
  CHECK(resolved.names_related("rp"));
  CHECK(resolved.names_related("galaxies"));
  CHECK(resolved.names_related("worlds"));
  CHECK_FALSE(resolved.names_related("moons"));
  CHECK(resolved.search_path_matters());
  // An unknown search_path errs on the filtered side.
  auto unknown = engine.rewrite("SELECT * FROM sq", {}, "app", rules::Scope{.resolved = &resolved});
  REQUIRE(unknown.has_value());
  CHECK_FALSE(unknown->unchanged);
  // A name the catalog lacks is decided by name, and said so.
  auto missing = rewrite_with(engine, resolved, "SELECT * FROM newtable", {"public"});
  REQUIRE(missing.has_value());
  CHECK(missing->unknown_relation);
  // Also after a comma in a FROM list (not in a select list or a function's arguments).
  auto listed = rewrite_with(engine, resolved, "SELECT * FROM (SELECT 1) x, newtable", {"public"});
  REQUIRE(listed.has_value());
  CHECK(listed->unknown_relation);
  auto nested = rewrite_with(engine, resolved, "SELECT * FROM (SELECT * FROM moons) x, newtable", {"public"});
  REQUIRE(nested.has_value());
  CHECK(nested->unknown_relation);
  rules::Engine counting(rules);
  (void)rewrite_with(counting, resolved, "SELECT a, b FROM moons m, generate_series(1, 3) g WHERE f(a, b)", {"public"});
  CHECK(counting.stats().fast_path == 0);  // generate_series after the comma: unknown, parsed
  (void)rewrite_with(counting, resolved, "SELECT a, b FROM moons WHERE f(a, b) > 1", {"public"});
  CHECK(counting.stats().fast_path == 1);  // commas outside the FROM list: fast path
  auto known = rewrite_with(engine, resolved, "SELECT * FROM moons", {"public"});
  REQUIRE(known.has_value());
  CHECK_FALSE(known->unknown_relation);
  // Rules of another load are not resolved with this catalog: names decide.
  auto other_rules = rules_from(catalog_rules);
  rules::Engine other(other_rules);
  auto r = rewrite_with(other, resolved, "SELECT * FROM ph_1", {"public"});
  REQUIRE(r.has_value());
  CHECK(r->unchanged);
}

}  // namespace pgsoftdelete::test
