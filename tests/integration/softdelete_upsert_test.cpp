// INSERT … ON CONFLICT into a soft-delete table through the proxy, against PostgreSQL 15: deleted rows
// neither block a key held unique among live rows, nor get updated or returned. (The equivalence test
// compares the same against a database without the deleted rows.)
#include <doctest/doctest.h>

#include "softdelete_support.hpp"

using namespace pgsoftdelete::test;

namespace {

Conn server() {
  Conn c(cluster().conninfo());
  REQUIRE_MESSAGE(c.ok(), c.error());
  return c;
}

}  // namespace

TEST_CASE("an upsert infers a unique index on live rows, and a deleted row's key is free again") {
  auto c = seeded_connection();
  // The seed: Ada, Grace, Edsger live; Alan (3) and Barbara (5) deleted.
  SUBCASE("index predicate written NOT is_deleted") {
    REQUIRE(server().exec("CREATE UNIQUE INDEX humans_live_name_key ON humans (name) WHERE NOT is_deleted").ok());
  }
  SUBCASE("index predicate written is_deleted = false") {
    REQUIRE(server().exec("CREATE UNIQUE INDEX humans_live_name_key ON humans (name) WHERE is_deleted = false").ok());
  }
  // As written, PostgreSQL finds no arbiter for (name): only the proxy's inference clause names the index.
  CHECK(server().exec("INSERT INTO humans (id, name) VALUES (20, 'Zed') ON CONFLICT (name) DO NOTHING").sqlstate() ==
        "42P10");

  auto inserted = c.exec("INSERT INTO humans (id, name) VALUES (10, 'Alan') ON CONFLICT (name) "
                         "DO UPDATE SET name = humans.name || '!' RETURNING id, name, is_deleted");
  REQUIRE_MESSAGE(inserted.ok(), inserted.error());
  CHECK(inserted.tag() == "INSERT 0 1");
  REQUIRE(inserted.rows() == 1);
  CHECK(inserted.value(0, 0) == "10");
  CHECK(inserted.value(0, 1) == "Alan");
  CHECK(direct("SELECT name FROM humans WHERE id = 3") == "Alan");  // the deleted Alan is untouched

  auto updated = c.exec("INSERT INTO humans (id, name) VALUES (11, 'Ada') ON CONFLICT (name) "
                        "DO UPDATE SET name = humans.name || '!' RETURNING id, name");
  REQUIRE_MESSAGE(updated.ok(), updated.error());
  REQUIRE(updated.rows() == 1);
  CHECK(updated.value(0, 0) == "1");
  CHECK(updated.value(0, 1) == "Ada!");

  auto nothing = c.exec("INSERT INTO humans (id, name) VALUES (12, 'Grace'), (13, 'Barbara') ON CONFLICT (name) "
                        "DO NOTHING RETURNING id");
  REQUIRE_MESSAGE(nothing.ok(), nothing.error());
  REQUIRE(nothing.rows() == 1);  // Grace is live: skipped; Barbara is deleted: inserted
  CHECK(nothing.value(0, 0) == "13");

  // The extended protocol, and an alias on the target.
  auto extended = c.exec_params("INSERT INTO humans AS h (id, name) VALUES ($1, $2) ON CONFLICT (name) "
                                "DO UPDATE SET name = h.name || '?' RETURNING h.id",
                                {"14", "Edsger"});
  REQUIRE_MESSAGE(extended.ok(), extended.error());
  CHECK(extended.value(0, 0) == "4");
  CHECK(direct("SELECT string_agg(id || ':' || name, ' ' ORDER BY id) FROM humans WHERE NOT is_deleted") ==
        "1:Ada! 2:Grace 4:Edsger? 10:Alan 13:Barbara");
}

TEST_CASE("an upsert whose key a deleted row holds in a full unique index changes nothing and returns nothing") {
  // The primary key is unique over all rows: the deleted Alan (3) still holds id 3. PostgreSQL sees the
  // conflict; the proxy's DO UPDATE condition keeps the deleted row as it is (no leak, no write that
  // vanishes), and nothing is inserted either. The fix is a key unique among live rows (README).
  auto c = seeded_connection();
  const std::string upsert =
      "INSERT INTO humans (id, name) VALUES (3, 'Alan T.') ON CONFLICT (id) DO UPDATE SET name = excluded.name "
      "RETURNING name, is_deleted";
  auto simple = c.exec(upsert);
  REQUIRE_MESSAGE(simple.ok(), simple.error());
  CHECK(simple.tag() == "INSERT 0 0");
  CHECK(simple.rows() == 0);
  auto extended = c.exec_params(upsert, {});
  REQUIRE_MESSAGE(extended.ok(), extended.error());
  CHECK(extended.rows() == 0);
  auto by_constraint = c.exec(
      "INSERT INTO humans (id, name) VALUES (3, 'Alan T.') ON CONFLICT ON CONSTRAINT humans_pkey "
      "DO UPDATE SET name = excluded.name RETURNING name");
  REQUIRE_MESSAGE(by_constraint.ok(), by_constraint.error());
  CHECK(by_constraint.rows() == 0);
  CHECK(direct("SELECT name || ' ' || is_deleted FROM humans WHERE id = 3") == "Alan true");
  // A live row with the key is updated as before.
  auto live = c.exec("INSERT INTO humans (id, name) VALUES (2, 'Grace H.') ON CONFLICT (id) DO UPDATE SET "
                     "name = excluded.name RETURNING name");
  REQUIRE_MESSAGE(live.ok(), live.error());
  CHECK(live.value(0, 0) == "Grace H.");
}

TEST_CASE("an upsert under the skip hint reaches deleted rows, as asked") {
  auto c = seeded_connection();
  REQUIRE(c.exec("SET pgsoftdelete.skip = 'humans'").ok());
  auto r = c.exec("INSERT INTO humans (id, name) VALUES (3, 'Alan T.') ON CONFLICT (id) DO UPDATE SET "
                  "name = excluded.name RETURNING name, is_deleted");
  REQUIRE_MESSAGE(r.ok(), r.error());
  REQUIRE(r.rows() == 1);
  CHECK(r.value(0, 0) == "Alan T.");
  CHECK(r.value(0, 1) == "t");
}
