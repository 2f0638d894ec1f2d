// A soft DELETE follows the ON DELETE actions of foreign keys from soft-delete tables through the real
// proxy, against PostgreSQL 15: children are soft-deleted (CASCADE, down any depth, replies of replies
// included), or have their key set (SET NULL / SET DEFAULT), in the same statement, and the client still
// gets DELETE n of the rows it named. (The engine equivalence test compares the same statements with a
// database where the deleted rows are really gone.)
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <utility>

#include "softdelete_support.hpp"

using namespace pgsoftdelete::test;

namespace {

constexpr const char* schema_sql = R"(
CREATE TABLE cz_authors (id int PRIMARY KEY, name text, is_deleted boolean NOT NULL DEFAULT false);
CREATE TABLE cz_posts (id int PRIMARY KEY, author_id int REFERENCES cz_authors ON DELETE CASCADE, title text,
                       is_deleted boolean NOT NULL DEFAULT false);
CREATE TABLE cz_comments (id int PRIMARY KEY, post_id int REFERENCES cz_posts ON DELETE CASCADE,
                          reply_to int REFERENCES cz_comments ON DELETE CASCADE, is_deleted boolean NOT NULL DEFAULT false);
CREATE TABLE cz_reactions (id int PRIMARY KEY, post_id int REFERENCES cz_posts ON DELETE SET NULL,
                           is_deleted boolean NOT NULL DEFAULT false);
CREATE TABLE cz_orders (id int PRIMARY KEY, deleted_at timestamptz);
CREATE TABLE cz_lines (id int PRIMARY KEY, order_id int REFERENCES cz_orders ON DELETE CASCADE, deleted_at timestamptz);
)";
constexpr const char* rows_sql = R"(
INSERT INTO cz_authors VALUES (1, 'ann'), (2, 'bob');
INSERT INTO cz_posts VALUES (10, 1, 'a'), (11, 1, 'b'), (20, 2, 'c');
INSERT INTO cz_comments VALUES (100, 10, NULL), (101, 10, 100), (102, 20, 101), (103, 20, 102), (200, 20, NULL);
INSERT INTO cz_reactions VALUES (1, 10), (2, 20);
INSERT INTO cz_orders VALUES (1, NULL), (2, NULL);
INSERT INTO cz_lines VALUES (1, 1, NULL), (2, 1, NULL), (3, 2, NULL);
)";

std::filesystem::path cascade_rules(const std::string& policy) {
  const auto dir = std::filesystem::temp_directory_path() / "pgsd-cascade";
  std::filesystem::create_directories(dir);
  const auto file = dir / ("rules-" + std::to_string(std::hash<std::string>{}(policy)) + ".toml");
  std::ofstream(file) << policy << "\n"
                      << "[[table]]\nname = \"cz_authors\"\n[[table]]\nname = \"cz_posts\"\n"
                      << "[[table]]\nname = \"cz_comments\"\n[[table]]\nname = \"cz_reactions\"\n"
                      << "[[table]]\nname = \"cz_orders\"\ncolumn = \"deleted_at\"\nkind = \"timestamp\"\n"
                      << "[[table]]\nname = \"cz_lines\"\ncolumn = \"deleted_at\"\nkind = \"timestamp\"\n";
  return file;
}

/// The schema, made through `proxy` (so that its catalog knows the keys), and a connection to it.
Conn fresh(ProxyProcess& proxy) {
  cluster().sql("DROP TABLE IF EXISTS cz_lines, cz_orders, cz_reactions, cz_comments, cz_posts, cz_authors CASCADE");
  Conn c(proxy.conninfo());
  REQUIRE_MESSAGE(c.ok(), c.error());
  auto made = c.exec(schema_sql);  // DDL alone in its query string: the proxy reads the catalog it makes
  REQUIRE_MESSAGE(made.ok(), made.error());
  auto rows = c.exec(rows_sql);
  REQUIRE_MESSAGE(rows.ok(), rows.error());
  return c;
}

ProxyProcess& cascade_proxy() {
  static ProxyProcess p({"--upstream", cluster().endpoint(), "--rules", cascade_rules("").string()});
  return p;
}

std::string live(const std::string& table) {
  return direct("SELECT coalesce(string_agg(id::text, ',' ORDER BY id), '') FROM " + table +
                (table == "cz_orders" || table == "cz_lines" ? " WHERE deleted_at IS NULL" : " WHERE NOT is_deleted"));
}

}  // namespace

TEST_CASE("a soft DELETE follows CASCADE and SET NULL keys of soft-delete tables in the same statement") {
  auto c = fresh(cascade_proxy());
  SUBCASE("simple protocol, two levels and a chain of replies") {
    auto r = c.exec("DELETE FROM cz_authors WHERE id = 1");
    REQUIRE_MESSAGE(r.ok(), r.error());
    CHECK(r.tag() == "DELETE 1");
    CHECK(live("cz_authors") == "2");
    CHECK(live("cz_posts") == "20");
    // 100 and 101 are on post 10; 102 and 103 reply to them (on post 20): gone with them, as a hard
    // DELETE's cascade would take them; 200 stays.
    CHECK(live("cz_comments") == "200");
    CHECK(direct("SELECT coalesce(post_id::text, 'null') FROM cz_reactions WHERE id = 1") == "null");
    CHECK(direct("SELECT post_id FROM cz_reactions WHERE id = 2") == "20");
    CHECK(direct("SELECT count(*) FROM cz_posts") == "3");  // nothing really deleted
    // What the application reads through the proxy: the children are gone.
    CHECK(c.scalar("SELECT count(*) FROM cz_comments") == "1");
  }
  SUBCASE("extended protocol, RETURNING, a parameter") {
    auto r = c.exec_params("DELETE FROM cz_posts p WHERE p.id = $1 RETURNING p.title", {"20"});
    REQUIRE_MESSAGE(r.ok(), r.error());
    CHECK(r.tag() == "DELETE 1");
    REQUIRE(r.rows() == 1);
    CHECK(r.value(0, 0) == "c");
    CHECK(live("cz_comments") == "100,101");
    CHECK(direct("SELECT coalesce(post_id::text, 'null') FROM cz_reactions WHERE id = 2") == "null");
    // A second time: nothing left to delete, nothing else changes.
    auto again = c.exec_params("DELETE FROM cz_posts p WHERE p.id = $1 RETURNING p.title", {"20"});
    CHECK(again.tag() == "DELETE 0");
    CHECK(live("cz_comments") == "100,101");
  }
  SUBCASE("timestamp kind: the children get the parent's deleted_at") {
    auto r = c.exec("DELETE FROM cz_orders WHERE id = 1");
    CHECK(r.tag() == "DELETE 1");
    CHECK(live("cz_lines") == "3");
    CHECK(direct("SELECT count(DISTINCT deleted_at) FROM (SELECT deleted_at FROM cz_orders WHERE id = 1 UNION ALL "
                 "SELECT deleted_at FROM cz_lines WHERE order_id = 1) d") == "1");
  }
  SUBCASE("a DELETE inside WITH cannot carry the cascade: refused, nothing changed") {
    auto r = c.exec("WITH d AS (DELETE FROM cz_posts WHERE id = 10 RETURNING id) SELECT count(*) FROM d");
    CHECK(r.sqlstate() == "0A000");
    CHECK(r.error().find("cascade") != std::string::npos);
    CHECK(live("cz_posts") == "10,11,20");
    CHECK(live("cz_comments") == "100,101,102,103,200");
  }
  SUBCASE("a plain child table's CASCADE is still refused") {
    REQUIRE(c.exec("CREATE TABLE cz_plain (post_id int CONSTRAINT cz_plain_post REFERENCES cz_posts ON DELETE CASCADE)").ok());
    auto r = c.exec("DELETE FROM cz_authors WHERE id = 1");
    CHECK(r.sqlstate() == "0A000");
    CHECK(r.error().find("cz_plain_post") != std::string::npos);
    CHECK(live("cz_posts") == "10,11,20");
  }
}

TEST_CASE("[policy] cascade = \"off\": a soft DELETE leaves the children as they are") {
  ProxyProcess off({"--upstream", cluster().endpoint(), "--rules", cascade_rules("[policy]\ncascade = \"off\"").string()});
  auto c = fresh(off);
  auto r = c.exec("DELETE FROM cz_authors WHERE id = 1");
  CHECK(r.tag() == "DELETE 1");
  CHECK(live("cz_authors") == "2");
  CHECK(live("cz_posts") == "10,11,20");
  CHECK(live("cz_comments") == "100,101,102,103,200");
}

TEST_CASE("restoring a timestamp-kind row restores the children its cascade deleted, not others") {
  auto c = fresh(cascade_proxy());
  // Line 2 deleted on its own first (an earlier time), then order 1 with its remaining line 1.
  REQUIRE(c.exec("DELETE FROM cz_lines WHERE id = 2").tag() == "DELETE 1");
  REQUIRE(c.exec("DELETE FROM cz_orders WHERE id = 1").tag() == "DELETE 1");
  CHECK(live("cz_lines") == "3");
  auto restored = c.exec("/* pgsoftdelete: only_deleted=cz_orders */ UPDATE cz_orders SET deleted_at = NULL "
                         "WHERE id = 1 RETURNING id");
  REQUIRE_MESSAGE(restored.ok(), restored.error());
  CHECK(restored.tag() == "UPDATE 1");
  CHECK(restored.value(0, 0) == "1");
  CHECK(live("cz_orders") == "1,2");
  CHECK(live("cz_lines") == "1,3");  // line 2 was deleted by its own statement: it stays deleted
  // The extended protocol with the time as a parameter, NULL (what drivers send): the same.
  REQUIRE(c.exec("DELETE FROM cz_orders WHERE id = 2").tag() == "DELETE 1");
  CHECK(live("cz_lines") == "1");
  const char* values[] = {nullptr, "2"};
  Result by_parameter(PQexecParams(c.get(), "/* pgsoftdelete: only_deleted=cz_orders */ UPDATE cz_orders SET "
                                            "deleted_at = $1 WHERE id = $2",
                                   2, nullptr, values, nullptr, nullptr, 0));
  REQUIRE_MESSAGE(by_parameter.ok(), by_parameter.error());
  CHECK(by_parameter.tag() == "UPDATE 1");
  CHECK(live("cz_orders") == "1,2");
  CHECK(live("cz_lines") == "1,3");
  // Flag kind: only the row named comes back.
  REQUIRE(c.exec("DELETE FROM cz_posts WHERE id = 10").tag() == "DELETE 1");
  CHECK(live("cz_comments") == "200");
  auto post = c.exec("/* pgsoftdelete: only_deleted=cz_posts */ UPDATE cz_posts SET is_deleted = false WHERE id = 10");
  CHECK(post.tag() == "UPDATE 1");
  CHECK(live("cz_posts") == "10,11,20");
  CHECK(live("cz_comments") == "200");
}

TEST_CASE("soft DELETEs that cascade leave through the proxy what real DELETEs leave in a database without deleted rows") {
  // The same schema and rows in a second database, where the statements run as written, for real.
  cluster().sql("DROP DATABASE IF EXISTS cz_clean");
  cluster().sql("CREATE DATABASE cz_clean");
  std::optional<Conn> clean(std::in_place, cluster().conninfo("postgres", "dbname=cz_clean"));
  REQUIRE_MESSAGE(clean->ok(), clean->error());
  REQUIRE(clean->exec(schema_sql).ok());
  REQUIRE(clean->exec(rows_sql).ok());
  auto c = fresh(cascade_proxy());
  // Every table's rows without its soft-delete column, as the application reads them.
  auto rows = [](const Conn& conn) {
    const std::pair<const char*, const char*> tables[] = {
        {"cz_authors", "id, name"},   {"cz_posts", "id, author_id, title"}, {"cz_comments", "id, post_id, reply_to"},
        {"cz_reactions", "id, post_id"}, {"cz_orders", "id"},               {"cz_lines", "id, order_id"}};
    std::string out;
    for (const auto& [table, columns] : tables)
      out += std::string(table) + ": " +
             conn.scalar(std::string("SELECT coalesce(string_agg(r::text, ' ' ORDER BY r::text), '') FROM (SELECT ") +
                         columns + " FROM " + table + ") r") +
             "\n";
    return out;
  };
  REQUIRE(rows(c) == rows(*clean));
  for (const std::string sql : {"DELETE FROM cz_comments WHERE id = 101", "DELETE FROM cz_posts WHERE title = 'c'",
                                "DELETE FROM cz_lines WHERE id = 3", "DELETE FROM cz_orders",
                                "DELETE FROM cz_authors a WHERE a.name LIKE 'a%' RETURNING a.id"}) {
    CAPTURE(sql);
    auto soft = c.exec(sql);
    auto hard = clean->exec(sql);
    REQUIRE_MESSAGE(soft.ok(), soft.error());
    REQUIRE_MESSAGE(hard.ok(), hard.error());
    CHECK(soft.tag() == hard.tag());
    CHECK(soft.rows() == hard.rows());
    CHECK(rows(c) == rows(*clean));
  }
  clean.reset();
  cluster().sql("DROP DATABASE IF EXISTS cz_clean");
}

TEST_CASE("a statement prepared before a foreign key was added follows it once the catalog knows the key") {
  auto a = fresh(cascade_proxy());
  Conn b(cascade_proxy().conninfo());
  REQUIRE(b.exec("ALTER TABLE cz_lines DROP CONSTRAINT cz_lines_order_id_fkey").ok());
  REQUIRE(b.exec("SELECT count(*) FROM cz_lines").ok());  // the catalog read again after the DDL
  Result prepared(PQprepare(a.get(), "del_order", "DELETE FROM cz_orders WHERE id = $1", 1, nullptr));
  REQUIRE_MESSAGE(prepared.ok(), prepared.error());
  const char* two[] = {"2"};
  Result first(PQexecPrepared(a.get(), "del_order", 1, two, nullptr, nullptr, 0));
  CHECK(first.tag() == "DELETE 1");
  CHECK(live("cz_lines") == "1,2,3");  // no key yet: nothing to follow
  REQUIRE(b.exec("ALTER TABLE cz_lines ADD CONSTRAINT cz_lines_order_id_fkey FOREIGN KEY (order_id) "
                 "REFERENCES cz_orders ON DELETE CASCADE NOT VALID").ok());
  REQUIRE(b.exec("SELECT count(*) FROM cz_lines").ok());
  const char* one[] = {"1"};
  Result second(PQexecPrepared(a.get(), "del_order", 1, one, nullptr, nullptr, 0));
  CHECK(second.tag() == "DELETE 1");
  CHECK(live("cz_lines") == "3");
}
