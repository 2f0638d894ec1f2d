// Soft deletes that follow foreign keys (issue 14): the plan ResolvedRules makes from a catalog, and
// the statement the engine writes for it. Whether that statement does what a real DELETE does is the
// equivalence test's work, against PostgreSQL; here: which tables, which refusals, which text.
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

CatalogForeignKey key(const char* name, std::uint32_t from, std::uint32_t to, char action,
                      std::vector<std::string> columns, std::vector<std::string> referenced = {"id"}) {
  CatalogForeignKey k{name, from, to, action, 'a', std::move(referenced), std::move(columns)};
  return k;
}

// authors <- posts (CASCADE) <- comments (CASCADE; comments also <- authors CASCADE and <- comments:
// replies, CASCADE); reactions -> posts SET NULL; pins -> posts SET DEFAULT; staff -> staff SET NULL;
// notes (no rule) -> books (rule) CASCADE; a <-> b CASCADE (a cycle); twice -> x by two SET NULL keys;
// orders (timestamp) <- lines (timestamp) CASCADE; parts (partitioned rule) with parts_1, <- fits CASCADE
// declared on parts (and its derived copy on parts_1).
std::shared_ptr<const Catalog> cascade_catalog() {
  auto c = std::make_shared<Catalog>();
  c->relations = {
      {1, "public", "authors", 'r', {}}, {2, "public", "posts", 'r', {}},  {3, "public", "comments", 'r', {}},
      {4, "public", "reactions", 'r', {}}, {5, "public", "pins", 'r', {}}, {6, "public", "staff", 'r', {}, {"id"}},
      {7, "public", "books", 'r', {}},   {8, "public", "notes", 'r', {}},  {9, "public", "a", 'r', {}},
      {10, "public", "b", 'r', {}},      {11, "public", "x", 'r', {}},     {12, "public", "twice", 'r', {}},
      {13, "public", "orders", 'r', {}}, {14, "public", "lines", 'r', {}}, {15, "public", "parts", 'p', {}},
      {16, "public", "parts_1", 'r', {15}}, {17, "public", "fits", 'r', {}},
      {18, "public", "tenants", 'r', {}},    {19, "public", "tenancy", 'r', {}},
      {20, "public", "users", 'r', {}},      {21, "public", "docs", 'r', {}},
      {22, "public", "writers", 'r', {}},    {23, "public", "essays", 'p', {}}, {24, "public", "essays_1", 'r', {23}},
  };
  c->foreign_keys = {
      key("posts_author", 2, 1, 'c', {"author_id"}),
      key("comments_post", 3, 2, 'c', {"post_id"}),
      key("comments_author", 3, 1, 'c', {"author_id"}),
      key("comments_reply", 3, 3, 'c', {"reply_to"}),
      key("reactions_post", 4, 2, 'n', {"post_id"}),
      key("pins_post", 5, 2, 'd', {"post_id"}),
      key("staff_manager", 6, 6, 'n', {"manager_id"}),
      key("notes_book", 8, 7, 'c', {"book_id"}),
      key("a_b", 9, 10, 'c', {"b_id"}),
      key("b_a", 10, 9, 'c', {"a_id"}),
      key("twice_one", 12, 11, 'n', {"one"}),
      key("twice_two", 12, 11, 'n', {"two"}),
      key("lines_order", 14, 13, 'c', {"order_id"}),
      key("fits_part", 17, 15, 'c', {"part_id", "part_kind"}, {"id", "kind"}),
      key("fits_part", 17, 16, 'c', {"part_id", "part_kind"}, {"id", "kind"}),
  };
  c->foreign_keys.back().derived = true;
  // What one UPDATE per table cannot say: SET NULL keys whose columns overlap (tenant), a SET NULL of a
  // column the soft delete assigns (docs.deleted_by), SET NULL keys on a partitioned table and on its
  // partition (essays).
  c->foreign_keys.push_back(key("tenancy_a", 19, 18, 'n', {"tenant", "a"}, {"tenant", "id"}));
  c->foreign_keys.push_back(key("tenancy_b", 19, 18, 'n', {"tenant", "b"}, {"tenant", "id"}));
  c->foreign_keys.push_back(key("docs_owner", 21, 20, 'c', {"owner_id"}));
  c->foreign_keys.push_back(key("docs_deleter", 21, 20, 'n', {"deleted_by"}));
  c->foreign_keys.push_back(key("essays_author", 23, 22, 'n', {"author_id"}));
  c->foreign_keys.push_back(key("essays_1_editor", 24, 22, 'n', {"editor_id"}));
  return c;
}

constexpr const char* cascade_rules = R"(
[[table]]
name = "authors"
[[table]]
name = "posts"
[[table]]
name = "comments"
[[table]]
name = "reactions"
[[table]]
name = "pins"
[[table]]
name = "staff"
[[table]]
name = "books"
[[table]]
name = "a"
[[table]]
name = "b"
[[table]]
name = "x"
[[table]]
name = "twice"
[[table]]
name = "orders"
column = "deleted_at"
kind = "timestamp"
[[table]]
name = "lines"
column = "deleted_at"
kind = "timestamp"
[[table]]
name = "parts"
[[table]]
name = "fits"
[[table]]
name = "tenants"
[[table]]
name = "tenancy"
[[table]]
name = "users"
[[table]]
name = "docs"
on_delete_set = { deleted_by = "42" }
[[table]]
name = "writers"
[[table]]
name = "essays"
)";

std::expected<rules::RewriteResult, parser::Error> rewrite(const std::string& rules_text, const std::string& sql,
                                                           const rules::Hints& hints = {}) {
  auto rules = rules_from(rules_text);
  static std::vector<std::shared_ptr<rules::ResolvedRules>> keep;  // the plans point into them
  keep.push_back(std::make_shared<rules::ResolvedRules>(rules, cascade_catalog()));
  rules::Engine engine(rules, rules::EngineOptions{.cache_capacity = 0});
  rules::SearchPath path{.known = true, .schemas = {"pg_catalog", "public"}};
  return engine.rewrite(sql, hints, "app", rules::Scope{.resolved = keep.back().get(), .search_path = &path});
}

struct Case {
  const char* name;
  const char* sql;
  const char* expected;  // the whole rewrite; "0A000": refused
};

const std::vector<Case> cases = {
    {"SET NULL of the table's own rows: those the statement deletes are left out", "DELETE FROM staff WHERE id = 2",
     "WITH __pgsd_rows AS (SELECT staff.tableoid AS __pgsd_tableoid, staff.ctid AS __pgsd_ctid, staff.id "
     "FROM staff WHERE (id = 2) AND NOT staff.is_deleted FOR UPDATE OF staff), __pgsd_s0 AS (UPDATE ONLY "
     "public.staff AS __pgsd_t SET manager_id = NULL WHERE NOT __pgsd_t.is_deleted AND "
     "(__pgsd_t.manager_id = ANY (ARRAY(SELECT id FROM __pgsd_rows))) AND NOT ((__pgsd_t.tableoid, "
     "__pgsd_t.ctid) IN (SELECT __pgsd_tableoid, __pgsd_ctid FROM __pgsd_rows))) UPDATE staff SET "
     "is_deleted = true WHERE NOT staff.is_deleted AND (staff.id) IN (SELECT id FROM __pgsd_rows)"},
    {"timestamp kind, the client's WITH and USING kept", "WITH x AS (SELECT 1 AS id) DELETE FROM orders o USING x WHERE o.id = x.id",
     "WITH x AS (SELECT 1 AS id) , __pgsd_rows AS (SELECT o.tableoid AS __pgsd_tableoid, o.ctid AS "
     "__pgsd_ctid, o.id FROM orders o , x WHERE (o.id = x.id) AND o.deleted_at IS NULL FOR UPDATE OF o), "
     "__pgsd_1 AS (UPDATE ONLY public.lines AS __pgsd_t SET deleted_at = now() WHERE __pgsd_t.deleted_at "
     "IS NULL AND (__pgsd_t.order_id = ANY (ARRAY(SELECT id FROM __pgsd_rows))) RETURNING "
     "__pgsd_t.tableoid AS __pgsd_tableoid) UPDATE orders o SET deleted_at = now() WHERE o.deleted_at IS "
     "NULL AND (o.ctid = ANY (ARRAY(SELECT __pgsd_ctid FROM __pgsd_rows)) AND (o.tableoid, o.ctid) IN "
     "(SELECT __pgsd_tableoid, __pgsd_ctid FROM __pgsd_rows))"},
    {"a partition: the key declared on its parent, two columns", "DELETE FROM parts_1 WHERE id = 1",
     "WITH __pgsd_rows AS (SELECT parts_1.tableoid AS __pgsd_tableoid, parts_1.ctid AS __pgsd_ctid, "
     "parts_1.id, parts_1.kind FROM parts_1 WHERE (id = 1) AND NOT parts_1.is_deleted FOR UPDATE OF "
     "parts_1), __pgsd_1 AS (UPDATE ONLY public.fits AS __pgsd_t SET is_deleted = true WHERE NOT "
     "__pgsd_t.is_deleted AND ((__pgsd_t.part_id, __pgsd_t.part_kind) IN (SELECT id, kind FROM "
     "__pgsd_rows)) RETURNING __pgsd_t.tableoid AS __pgsd_tableoid) UPDATE parts_1 SET is_deleted = true "
     "WHERE NOT parts_1.is_deleted AND (parts_1.ctid = ANY (ARRAY(SELECT __pgsd_ctid FROM __pgsd_rows)) "
     "AND (parts_1.tableoid, parts_1.ctid) IN (SELECT __pgsd_tableoid, __pgsd_ctid FROM __pgsd_rows))"},
    {"a cycle of CASCADE keys", "DELETE FROM a WHERE id = 1", "0A000"},
    {"inside WITH", "WITH d AS (DELETE FROM posts WHERE id = 1 RETURNING id) SELECT * FROM d", "0A000"},
    {"inside COPY", "COPY (DELETE FROM posts WHERE id = 1 RETURNING id) TO STDOUT", "0A000"},
    {"WHERE CURRENT OF", "DELETE FROM posts WHERE CURRENT OF c", "0A000"},
    {"USING and RETURNING", "DELETE FROM posts p USING authors a WHERE a.id = p.author_id RETURNING a.name", "0A000"},
    {"beside a data-modifying WITH query (a row updated twice in one statement is updated once)",
     "WITH u AS (UPDATE comments SET body = 'x' WHERE post_id = 1 RETURNING id) DELETE FROM posts WHERE id = 1", "0A000"},
    {"a plain table's CASCADE", "DELETE FROM books WHERE id = 1", "0A000"},
    {"SET NULL keys sharing a column (PostgreSQL's triggers, one after the other, differ)", "DELETE FROM tenants", "0A000"},
    {"a SET NULL of a column the soft delete assigns", "DELETE FROM users WHERE id = 1", "0A000"},
    {"SET NULL keys on a partitioned table and on its partition", "DELETE FROM writers WHERE id = 1", "0A000"},
    {"no keys: the plain soft delete", "DELETE FROM lines WHERE id = 1",
     "UPDATE lines SET deleted_at = now() WHERE (id = 1) AND lines.deleted_at IS NULL"},
    {"a child with no key to follow: the plain soft delete", "DELETE FROM fits WHERE id = 1",
     "UPDATE fits SET is_deleted = true WHERE (id = 1) AND NOT fits.is_deleted"},
};

TEST_CASE("cascade: the statement a soft DELETE becomes, and what is refused") {
  for (const auto& c : cases) {
    CAPTURE(std::string(c.name));
    auto r = rewrite(cascade_rules, c.sql);
    if (std::string(c.expected) == "0A000") {
      REQUIRE_FALSE(r.has_value());
      CHECK(r.error().sqlstate == std::string("0A000"));
    } else {
      REQUIRE_MESSAGE(r.has_value(), r.error().message);
      CHECK(r->sql == c.expected);
      CHECK(r->statements.at(0).delete_to_update);
    }
  }
}

TEST_CASE("cascade: the plan orders tables after those they reference, one step per table") {
  auto rules = rules_from(cascade_rules);
  rules::ResolvedRules resolved(rules, cascade_catalog());
  auto plan = resolved.cascade_plan(1, true);  // authors
  CHECK(plan.problem.empty());
  CHECK_FALSE(plan.refused);
  REQUIRE(plan.nodes.size() == 3);
  CHECK(plan.nodes[0].table->name == "authors");
  CHECK(plan.nodes[1].table->name == "posts");
  CHECK(plan.nodes[2].table->name == "comments");
  CHECK(plan.nodes[2].sources.size() == 2);  // from authors and from posts: one UPDATE, two conditions
  CHECK(plan.nodes[2].self_keys.size() == 1);  // replies
  REQUIRE(plan.sets.size() == 2);               // reactions, pins
  for (const auto& set : plan.sets) {
    REQUIRE(set.sources.size() == 1);
    CHECK(set.sources[0].node == 1);
  }
  auto off = resolved.cascade_plan(1, false);
  CHECK_FALSE(off.follows_anything());
  // Refusals still found with cascading off, in tables the cascade would reach only when on.
  CHECK(resolved.cascade_plan(7, false).refused.key->name == "notes_book");
}

TEST_CASE("cascade: the statement names what it cannot follow, and the policy turns it off") {
  auto cycle = rewrite(cascade_rules, "DELETE FROM a");
  REQUIRE_FALSE(cycle.has_value());
  CHECK(cycle.error().message.find("cycle") != std::string::npos);
  CHECK(cycle.error().message.find("cascade = \"off\"") != std::string::npos);
  auto twice = rewrite(cascade_rules, "DELETE FROM x");  // two SET NULL keys into one table: one UPDATE
  REQUIRE_MESSAGE(twice.has_value(), twice.error().message);
  CHECK(twice->sql.find("__pgsd_s0 AS (UPDATE ONLY public.twice AS __pgsd_t SET ") != std::string::npos);
  CHECK(twice->sql.find("one = CASE WHEN (__pgsd_t.one = ANY (ARRAY(SELECT id FROM __pgsd_rows))) THEN NULL ELSE __pgsd_t.one END") !=
        std::string::npos);
  CHECK(twice->sql.find("two = CASE WHEN (__pgsd_t.two = ANY (ARRAY(SELECT id FROM __pgsd_rows))) THEN NULL ELSE __pgsd_t.two END") !=
        std::string::npos);
  CHECK(twice->sql.find("__pgsd_s1") == std::string::npos);
  for (const auto& [sql, words] : std::vector<std::pair<std::string, std::string>>{
           {"DELETE FROM tenants", "that foreign key tenancy_"},
           {"DELETE FROM users", "docs_deleter would set a column of public.docs that its soft delete assigns"},
           {"DELETE FROM writers", "would set columns of the same rows"}}) {
    CAPTURE(sql);
    auto r = rewrite(cascade_rules, sql);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().message.find(words) != std::string::npos);
  }
  const std::string off = std::string("[policy]\ncascade = \"off\"\n") + cascade_rules;
  for (const char* sql : {"DELETE FROM a", "DELETE FROM posts WHERE id = 1"}) {
    CAPTURE(std::string(sql));
    auto r = rewrite(off, sql);
    REQUIRE_MESSAGE(r.has_value(), r.error().message);
    CHECK(r->sql.starts_with("UPDATE "));
    CHECK(r->sql.find("__pgsd") == std::string::npos);
  }
}

TEST_CASE("cascade: hints — only_deleted and hard_delete follow nothing; EXPLAIN and PREPARE carry it") {
  rules::Hints only_deleted;
  only_deleted.only_deleted.all = true;
  auto od = rewrite(cascade_rules, "DELETE FROM posts WHERE id = 1", only_deleted);
  REQUIRE_MESSAGE(od.has_value(), od.error().message);
  CHECK(od->sql == "UPDATE posts SET is_deleted = true WHERE (id = 1) AND posts.is_deleted");
  // A real DELETE: PostgreSQL's own cascade, which would delete comments for good, is refused as before.
  auto hard = rewrite(cascade_rules, "/* pgsoftdelete: hard_delete=posts */ DELETE FROM posts WHERE id = 1");
  REQUIRE_FALSE(hard.has_value());
  CHECK(hard.error().message.find("comments_post") != std::string::npos);
  auto hard_leaf = rewrite(cascade_rules, "/* pgsoftdelete: hard_delete=lines */ DELETE FROM lines WHERE id = 1");
  REQUIRE_MESSAGE(hard_leaf.has_value(), hard_leaf.error().message);
  CHECK(hard_leaf->sql == "/* pgsoftdelete: hard_delete=lines */ DELETE FROM lines WHERE (id = 1) AND lines.deleted_at IS NULL");
  for (const char* sql : {"EXPLAIN DELETE FROM posts WHERE id = 1", "PREPARE p AS DELETE FROM posts WHERE id = $1"}) {
    CAPTURE(std::string(sql));
    auto r = rewrite(cascade_rules, sql);
    REQUIRE_MESSAGE(r.has_value(), r.error().message);
    // comments has replies: their closure first, then its one UPDATE.
    const auto closure = r->sql.find("__pgsd_1_w AS (WITH RECURSIVE");
    const auto update = r->sql.find("__pgsd_1 AS (UPDATE ONLY public.comments");
    REQUIRE(closure != std::string::npos);
    REQUIRE(update != std::string::npos);
    CHECK(closure < update);
  }
}

const std::vector<Case> restore_cases = {
    {"timestamp kind: the children the cascade marked with the same time",
     "/* pgsoftdelete: only_deleted=orders */ UPDATE orders o SET deleted_at = NULL, note = 'back' WHERE o.id = 1 RETURNING o.id",
     "/* pgsoftdelete: only_deleted=orders */ WITH __pgsd_rows AS (SELECT o.tableoid AS __pgsd_tableoid, "
     "o.ctid AS __pgsd_ctid, o.id, o.deleted_at AS __pgsd_at, (CASE WHEN false THEN o.deleted_at ELSE (NULL) END) IS NULL AS __pgsd_restore FROM "
     "orders o  WHERE (o.id = 1) AND o.deleted_at IS NOT NULL FOR UPDATE OF o), __pgsd_1 AS (UPDATE ONLY "
     "public.lines AS __pgsd_t SET deleted_at = NULL FROM __pgsd_rows AS __pgsd_s WHERE "
     "(__pgsd_t.order_id) = (__pgsd_s.id) AND __pgsd_t.deleted_at = __pgsd_s.__pgsd_at AND "
     "__pgsd_s.__pgsd_restore RETURNING __pgsd_s.__pgsd_at, __pgsd_t.tableoid AS __pgsd_tableoid) UPDATE "
     "orders o SET deleted_at = NULL, note = 'back' WHERE o.deleted_at IS NOT NULL AND (o.ctid = ANY "
     "(ARRAY(SELECT __pgsd_ctid FROM __pgsd_rows)) AND (o.tableoid, o.ctid) IN (SELECT __pgsd_tableoid, "
     "__pgsd_ctid FROM __pgsd_rows)) RETURNING o.id"},
    {"no children to restore", "/* pgsoftdelete: only_deleted=lines */ UPDATE lines SET deleted_at = NULL WHERE id = 1",
     "/* pgsoftdelete: only_deleted=lines */ UPDATE lines SET deleted_at = NULL WHERE (id = 1) AND lines.deleted_at IS NOT NULL"},
    {"flag kind restores only the row",
     "/* pgsoftdelete: only_deleted=posts */ UPDATE posts SET is_deleted = false WHERE id = 1",
     "/* pgsoftdelete: only_deleted=posts */ UPDATE posts SET is_deleted = false WHERE (id = 1) AND posts.is_deleted"},
    {"an UPDATE of deleted rows that keeps them deleted",
     "/* pgsoftdelete: only_deleted=orders */ UPDATE orders SET note = 'x' WHERE id = 1",
     "/* pgsoftdelete: only_deleted=orders */ UPDATE orders SET note = 'x' WHERE (id = 1) AND orders.deleted_at IS NOT NULL"},
    {"live rows: nothing to restore", "UPDATE orders SET deleted_at = NULL WHERE id = 1",
     "UPDATE orders SET deleted_at = NULL WHERE (id = 1) AND orders.deleted_at IS NULL"},
    {"with FROM", "/* pgsoftdelete: only_deleted=orders */ UPDATE orders o SET deleted_at = NULL FROM x WHERE x.id = o.id",
     "0A000"},
    {"the mark set to DEFAULT", "/* pgsoftdelete: only_deleted=orders */ UPDATE orders SET deleted_at = DEFAULT", "0A000"},
    {"a literal time: deleted again, not restored",
     "/* pgsoftdelete: only_deleted=orders */ UPDATE orders SET deleted_at = '2026-01-01' WHERE id = 1",
     "/* pgsoftdelete: only_deleted=orders */ UPDATE orders SET deleted_at = '2026-01-01' WHERE (id = 1) AND "
     "orders.deleted_at IS NOT NULL"},
    {"inside WITH", "WITH r AS (/* pgsoftdelete: only_deleted=orders */ UPDATE orders SET deleted_at = NULL RETURNING id) SELECT 1",
     "0A000"},
    {"a SET list reading a soft-delete table",
     "/* pgsoftdelete: only_deleted=orders */ UPDATE orders SET deleted_at = NULL, note = (SELECT max(title) FROM posts)",
     "0A000"},
};

TEST_CASE("cascade: a restore by parameter or expression decides in the statement whether the value is NULL") {
  for (const char* value : {"$1", "NULL::timestamptz", "CASE WHEN $1 THEN NULL ELSE now() END"}) {
    CAPTURE(std::string(value));
    auto r = rewrite(cascade_rules, std::string("/* pgsoftdelete: skip=orders */ UPDATE orders SET deleted_at = ") +
                                        value + ", note = 'n' WHERE id = 1");
    REQUIRE_MESSAGE(r.has_value(), r.error().message);
    CHECK(r->sql.find(std::string("(CASE WHEN false THEN orders.deleted_at ELSE (") + value +
                      ") END) IS NULL AS __pgsd_restore") != std::string::npos);
    CHECK(r->sql.find("AND __pgsd_s.__pgsd_restore") != std::string::npos);
    CHECK(r->sql.find(std::string("UPDATE orders SET deleted_at = ") + value + ", note = 'n' WHERE") != std::string::npos);
  }
}

TEST_CASE("cascade: a restore of timestamp-kind rows restores what their cascade deleted") {
  for (const auto& c : restore_cases) {
    CAPTURE(std::string(c.name));
    auto r = rewrite(cascade_rules, c.sql);
    if (std::string(c.expected) == "0A000") {
      REQUIRE_FALSE(r.has_value());
      CHECK(r.error().sqlstate == std::string("0A000"));
      CHECK(r.error().message.find("restores rows") != std::string::npos);
    } else {
      REQUIRE_MESSAGE(r.has_value(), r.error().message);
      CHECK(r->sql == c.expected);
    }
  }
}

}  // namespace
}  // namespace pgsoftdelete::test
