// Session and statement hints with PostgreSQL's own SET semantics: rollback, SET LOCAL,
// savepoints, RESET, startup options, prepared statements executed under the hints in force,
// and who may use them.
#include <doctest/doctest.h>

#include "softdelete_support.hpp"
#include "support/raw_client.hpp"
#include "support/wire.hpp"

using namespace pgsoftdelete::test;

namespace {

std::string humans(const Conn& c) { return c.scalar("SELECT count(*) FROM humans"); }

}  // namespace

TEST_CASE("SET pgsoftdelete.skip shows deleted rows; RESET hides them again") {
  auto c = seeded_connection();
  CHECK(humans(c) == "3");
  REQUIRE(c.exec("SET pgsoftdelete.skip = 'humans'").ok());
  CHECK(humans(c) == "5");
  CHECK(c.scalar("SELECT count(*) FROM aliens") == "3");  // not named: still filtered
  CHECK(c.scalar("SHOW pgsoftdelete.skip") == "humans");
  CHECK(c.scalar("SELECT current_setting('pgsoftdelete.skip')") == "humans");
  REQUIRE(c.exec("RESET pgsoftdelete.skip").ok());
  CHECK(humans(c) == "3");
  REQUIRE(c.exec("SET pgsoftdelete.skip = '*'").ok());
  CHECK(c.scalar("SELECT count(*) FROM aliens") == "5");
  REQUIRE(c.exec("RESET ALL").ok());
  CHECK(c.scalar("SELECT count(*) FROM aliens") == "3");
  REQUIRE(c.exec("SET pgsoftdelete.skip = '*'").ok());
  CHECK(c.scalar("SELECT count(*) FROM aliens") == "5");
  REQUIRE(c.exec("DISCARD ALL").ok());
  CHECK(c.scalar("SELECT count(*) FROM aliens") == "3");
  CHECK(c.scalar("SHOW pgsoftdelete.skip").empty());
}

TEST_CASE("a SET applies to the statements after it in the same query string") {
  auto c = seeded_connection();
  CHECK(c.scalar("SET pgsoftdelete.skip = 'humans'; SELECT count(*) FROM humans") == "5");
  CHECK(c.scalar("RESET pgsoftdelete.skip; SELECT count(*) FROM humans") == "3");
  CHECK(c.scalar("SELECT count(*) FROM humans") == "3");
}

TEST_CASE("a SET in a transaction that rolls back is undone") {
  auto c = seeded_connection();
  REQUIRE(c.exec("BEGIN").ok());
  REQUIRE(c.exec("SET pgsoftdelete.skip = '*'").ok());
  CHECK(humans(c) == "5");
  REQUIRE(c.exec("ROLLBACK").ok());
  CHECK(humans(c) == "3");
  CHECK(c.scalar("SHOW pgsoftdelete.skip").empty());
  // Committed, it stays.
  REQUIRE(c.exec("BEGIN; SET pgsoftdelete.skip = '*'; COMMIT").ok());
  CHECK(humans(c) == "5");
}

TEST_CASE("a failed transaction undoes its SET, whether ended by ROLLBACK or COMMIT") {
  auto c = seeded_connection();
  REQUIRE(c.exec("BEGIN").ok());
  REQUIRE(c.exec("SET pgsoftdelete.skip = '*'").ok());
  CHECK(c.exec("SELECT 1/0").sqlstate() == "22012");
  CHECK(c.exec("COMMIT").tag() == "ROLLBACK");
  CHECK(humans(c) == "3");
  // In one multi-statement string: an implicit transaction.
  CHECK(tags_of(c, "SET pgsoftdelete.skip = '*'; SELECT 1/0").back() == "error 22012");
  CHECK(humans(c) == "3");
}

TEST_CASE("SET LOCAL ends with its transaction") {
  auto c = seeded_connection();
  REQUIRE(c.exec("BEGIN").ok());
  REQUIRE(c.exec("SET LOCAL pgsoftdelete.skip = 'humans'").ok());
  CHECK(humans(c) == "5");
  REQUIRE(c.exec("COMMIT").ok());
  CHECK(humans(c) == "3");
}

TEST_CASE("ROLLBACK TO SAVEPOINT undoes what was set after the savepoint") {
  auto c = seeded_connection();
  REQUIRE(c.exec("BEGIN").ok());
  REQUIRE(c.exec("SAVEPOINT before_any").ok());
  REQUIRE(c.exec("SET pgsoftdelete.skip = '*'").ok());
  REQUIRE(c.exec("SAVEPOINT a").ok());
  REQUIRE(c.exec("SET pgsoftdelete.skip = ''").ok());
  CHECK(humans(c) == "3");
  REQUIRE(c.exec("ROLLBACK TO SAVEPOINT a").ok());
  CHECK(humans(c) == "5");
  REQUIRE(c.exec("RELEASE a").ok());
  CHECK(humans(c) == "5");
  REQUIRE(c.exec("ROLLBACK TO before_any").ok());
  CHECK(humans(c) == "3");
  REQUIRE(c.exec("SET pgsoftdelete.skip = 'humans'").ok());
  REQUIRE(c.exec("COMMIT").ok());
  CHECK(humans(c) == "5");
  CHECK(c.scalar("SHOW pgsoftdelete.skip") == "humans");
}

TEST_CASE("only_deleted shows the deleted rows alone; hard_delete really deletes") {
  auto c = seeded_connection();
  REQUIRE(c.exec("SET pgsoftdelete.only_deleted = 'humans'").ok());
  auto r = c.exec("SELECT name FROM humans ORDER BY id");
  REQUIRE(r.rows() == 2);
  CHECK(r.value(0) == "Alan");
  CHECK(r.value(1) == "Barbara");
  REQUIRE(c.exec("RESET pgsoftdelete.only_deleted").ok());
  // hard_delete alone removes visible rows for real; a deleted row stays invisible to it.
  REQUIRE(c.exec("SET pgsoftdelete.hard_delete = 'aliens'").ok());
  CHECK(c.exec("DELETE FROM aliens WHERE id = 4").tag() == "DELETE 1");
  CHECK(c.exec("DELETE FROM aliens WHERE id = 5").tag() == "DELETE 0");
  CHECK(direct("SELECT count(*) FROM aliens") == "4");
  // With skip too, deleted rows can be purged.
  REQUIRE(c.exec("SET pgsoftdelete.skip = 'aliens'").ok());
  CHECK(c.exec("DELETE FROM aliens WHERE is_deleted").tag() == "DELETE 2");
  CHECK(direct("SELECT count(*) FROM aliens") == "2");
}

TEST_CASE("hints as startup options in the connection string") {
  reset_seed();
  Conn c(rules_proxy().conninfo("postgres", "options='-c pgsoftdelete.skip=*'"));
  REQUIRE_MESSAGE(c.ok(), c.error());
  CHECK(humans(c) == "5");
  CHECK(c.scalar("SHOW pgsoftdelete.skip") == "*");
  // RESET returns to the value the session started with.
  REQUIRE(c.exec("SET pgsoftdelete.skip = ''").ok());
  CHECK(humans(c) == "3");
  REQUIRE(c.exec("RESET pgsoftdelete.skip").ok());
  CHECK(humans(c) == "5");
}

TEST_CASE("a statement comment hint, in both protocols") {
  auto c = seeded_connection();
  const std::string sql = "/* pgsoftdelete: skip=humans */ SELECT count(*) FROM humans";
  CHECK(c.scalar(sql) == "5");
  CHECK(c.exec_params(sql, {}).value() == "5");
  CHECK(humans(c) == "3");  // only that statement
}

TEST_CASE("a prepared statement runs under the hints in force when it is executed") {
  auto c = seeded_connection();
  Result prep(PQprepare(c.get(), "count_humans", "SELECT count(*) FROM humans WHERE id > $1", 1, nullptr));
  REQUIRE(prep.ok());
  const char* values[] = {"0"};
  auto run = [&] { return Result(PQexecPrepared(c.get(), "count_humans", 1, values, nullptr, nullptr, 0)).value(); };
  CHECK(run() == "3");
  REQUIRE(c.exec("SET pgsoftdelete.skip = '*'").ok());
  CHECK(run() == "5");
  CHECK(run() == "5");
  REQUIRE(c.exec("RESET pgsoftdelete.skip").ok());
  CHECK(run() == "3");
  // Describe still answers for the client's own statement.
  Result desc(PQdescribePrepared(c.get(), "count_humans"));
  CHECK(PQnparams(desc.get()) == 1);
  // A prepared DELETE executed under hard_delete really deletes.
  Result del(PQprepare(c.get(), "del", "DELETE FROM aliens WHERE id = $1", 1, nullptr));
  REQUIRE(c.exec("SET pgsoftdelete.hard_delete = 'aliens'").ok());
  const char* four[] = {"4"};
  CHECK(Result(PQexecPrepared(c.get(), "del", 1, four, nullptr, nullptr, 0)).tag() == "DELETE 1");
  CHECK(direct("SELECT count(*) FROM aliens") == "4");
  // One server-side variant each, under proxy-owned names the client never sees.
  CHECK(c.scalar("SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'pgsd%'") == "2");
}

TEST_CASE("the unnamed statement sent again with the same text follows the hints in force") {
  // libpq's PQexecParams, like most drivers, parses the unnamed statement at every call.
  auto c = seeded_connection();
  const std::string sql = "SELECT count(*) FROM humans WHERE id > $1";
  CHECK(c.exec_params(sql, {"0"}).value() == "3");
  CHECK(c.exec_params(sql, {"0"}).value() == "3");
  REQUIRE(c.exec("SET pgsoftdelete.skip = 'humans'").ok());
  CHECK(c.exec_params(sql, {"0"}).value() == "5");
  CHECK(c.exec_params(sql, {"0"}).value() == "5");
  REQUIRE(c.exec("RESET pgsoftdelete.skip").ok());
  CHECK(c.exec_params(sql, {"0"}).value() == "3");
  // A DELETE sent twice the same way: soft both times, and tagged DELETE.
  const std::string del = "DELETE FROM humans WHERE id = $1";
  auto first = c.exec_params(del, {"1"});
  auto again = c.exec_params(del, {"2"});
  CHECK(first.tag() == "DELETE 1");
  CHECK(again.tag() == "DELETE 1");
  CHECK(direct("SELECT count(*) FROM humans WHERE id IN (1, 2) AND is_deleted") == "2");
  CHECK(direct("SELECT count(*) FROM humans") == "5");
}

TEST_CASE("users the rules file does not allow get 42501 and change nothing") {
  reset_seed();
  cluster().sql("DO $$ BEGIN CREATE ROLE pgsd_app LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;"
                "GRANT ALL ON humans, aliens TO pgsd_app");
  ProxyProcess strict({"--upstream", cluster().endpoint(), "--rules", seed_rules("postgres").string()});
  Conn app(strict.conninfo("pgsd_app"));
  REQUIRE_MESSAGE(app.ok(), app.error());
  auto r = app.exec("SET pgsoftdelete.skip = '*'");
  CHECK(r.sqlstate() == "42501");
  CHECK(humans(app) == "3");
  CHECK(app.scalar("SHOW pgsoftdelete.skip").empty());
  CHECK(app.exec("/* pgsoftdelete: skip=* */ SELECT count(*) FROM humans").sqlstate() == "42501");
  CHECK(app.exec("SET pgsoftdelete.hard_delete = 'humans'").sqlstate() == "42501");
  // At connection time, too.
  Conn startup(strict.conninfo("pgsd_app", "options='-c pgsoftdelete.skip=*'"));
  CHECK_FALSE(startup.ok());
  CHECK(startup.error().find("may not use the pgsoftdelete.skip hint") != std::string::npos);
  // The allowed user may.
  Conn admin(strict.conninfo("postgres"));
  REQUIRE(admin.exec("SET pgsoftdelete.skip = '*'").ok());
  CHECK(humans(admin) == "5");
}

TEST_CASE("a variant that failed to prepare in an aborted transaction is prepared again later") {
  auto c = seeded_connection();
  Result prep(PQprepare(c.get(), "q", "SELECT count(*) FROM humans", 0, nullptr));
  REQUIRE(prep.ok());
  REQUIRE(c.exec("SET pgsoftdelete.skip = '*'").ok());
  REQUIRE(c.exec("BEGIN").ok());
  CHECK(c.exec("SELECT 1/0").sqlstate() == "22012");
  Result failed(PQexecPrepared(c.get(), "q", 0, nullptr, nullptr, nullptr, 0));
  CHECK(failed.sqlstate() == "25P02");
  REQUIRE(c.exec("ROLLBACK").ok());
  Result again(PQexecPrepared(c.get(), "q", 0, nullptr, nullptr, nullptr, 0));
  REQUIRE_MESSAGE(again.ok(), again.error());
  CHECK(again.value() == "5");
}

namespace {

/// The first DataRow's first value of each result, until `results` ReadyForQuery messages.
std::vector<std::string> first_values(RawClient& c, int results) {
  std::vector<std::string> values;
  for (auto m = c.read(); m; m = c.read()) {
    if (m->type == 'D') {
      const auto length = pgsoftdelete::proxy::codec::read_u32(std::string_view(m->body).substr(2));
      values.push_back(m->body.substr(6, length));
    } else if (m->type == 'E') {
      values.push_back("error " + sqlstate_of(*m));
    } else if (m->type == 'Z' && --results == 0) {
      break;
    }
  }
  return values;
}

}  // namespace

TEST_CASE("statements pipelined behind a hint change are rewritten under the new hints") {
  reset_seed();
  RawClient c(rules_proxy().port());
  REQUIRE(c.startup());
  c.send(wire::query("SET pgsoftdelete.skip = 'humans'") + wire::query("SELECT count(*) FROM humans") +
         wire::query("RESET pgsoftdelete.skip") + wire::query("SELECT count(*) FROM humans"));
  CHECK(first_values(c, 4) == std::vector<std::string>{"5", "3"});
  // In the extended protocol, with no Sync until the end.
  c.send(wire::parse("", "SET pgsoftdelete.skip = 'humans'") + wire::bind("", "", {}) + wire::execute("", 0) +
         wire::parse("", "SELECT count(*) FROM humans") + wire::bind("", "", {}) + wire::execute("", 0) +
         wire::parse("", "RESET pgsoftdelete.skip") + wire::bind("", "", {}) + wire::execute("", 0) +
         wire::parse("", "SELECT count(*) FROM humans") + wire::bind("", "", {}) + wire::execute("", 0) +
         wire::sync());
  CHECK(first_values(c, 1) == std::vector<std::string>{"5", "3"});
}

TEST_CASE("a transaction end in the middle of a string, while hints change, is refused") {
  auto c = seeded_connection();
  REQUIRE(c.exec("BEGIN").ok());
  REQUIRE(c.exec("SET LOCAL pgsoftdelete.skip = 'humans'").ok());
  auto r = c.exec("COMMIT; SELECT name FROM humans WHERE is_deleted");
  CHECK(r.sqlstate() == "0A000");
  REQUIRE(c.exec("ROLLBACK").ok());
  CHECK(humans(c) == "3");
  // At the end of a string it is fine.
  REQUIRE(c.exec("BEGIN; SET LOCAL pgsoftdelete.skip = 'humans'; COMMIT").ok());
  CHECK(humans(c) == "3");
}

TEST_CASE("an SQL-level PREPARE made under hints is refused when executed under others") {
  auto c = seeded_connection();
  REQUIRE(c.exec("SET pgsoftdelete.skip = 'humans'").ok());
  REQUIRE(c.exec("PREPARE everyone AS SELECT count(*) FROM humans").ok());
  CHECK(c.scalar("EXECUTE everyone") == "5");
  REQUIRE(c.exec("RESET pgsoftdelete.skip").ok());
  CHECK(c.exec("EXECUTE everyone").sqlstate() == "0A000");
  REQUIRE(c.exec("DEALLOCATE everyone").ok());
  REQUIRE(c.exec("PREPARE everyone AS SELECT count(*) FROM humans").ok());
  CHECK(c.scalar("EXECUTE everyone") == "3");
}

TEST_CASE("a hint comment counts wherever it stands in the statement, in both protocols") {
  auto c = seeded_connection();
  struct Case {
    const char* name;
    const char* sql;
    const char* count;
  };
  const Case cases[] = {
      {"at the end", "SELECT count(*) FROM humans /* pgsoftdelete: skip=humans */", "5"},
      {"after SELECT, as SQLAlchemy's prefix_with",
       "SELECT count(*) AS count_1 FROM (SELECT /* pgsoftdelete: skip=* */ humans.id FROM humans) AS anon_1", "5"},
      {"-- lines before, as EF Core's TagWith", "-- List humans\n-- pgsoftdelete: skip=humans\nSELECT count(*) FROM humans",
       "5"},
      {"sqlcommenter", "SELECT count(*) FROM humans /*pgsoftdelete.only_deleted='humans',traceparent='00-1-2-01'*/", "2"},
      {"after the final ';', as Sequelize's sqlcommenter",
       "SELECT count(*) FROM humans; /*pgsoftdelete.skip='humans%2Caliens'*/", "5"},
      {"none", "SELECT count(*) FROM humans /* an ordinary comment */", "3"},
      {"in a literal: not a hint", "SELECT count(*) FROM humans WHERE name <> '/* pgsoftdelete: skip=humans */'", "3"},
  };
  for (const auto& k : cases) {
    const std::string name = k.name;
    CAPTURE(name);
    CHECK(c.scalar(k.sql) == k.count);
    auto extended = c.exec_params(k.sql, {});
    REQUIRE(extended.ok());
    CHECK(extended.value() == k.count);
  }
  // In a multi-statement string, a hint belongs to the statement that holds it.
  auto tags = tags_of(c, "SELECT 1 FROM humans; SELECT 2 FROM humans /* pgsoftdelete: skip=humans */; SELECT 3 FROM humans");
  CHECK(tags == std::vector<std::string>{"SELECT 3", "SELECT 5", "SELECT 3"});
}

TEST_CASE("a hint in a prepared statement's text applies to every execution of it") {
  auto c = seeded_connection();
  Result prepared(PQprepare(c.get(), "with_hint", "SELECT count(*) FROM humans WHERE id > $1 /* pgsoftdelete: skip=humans */",
                            1, nullptr));
  REQUIRE(prepared.ok());
  for (int i = 0; i < 3; ++i) {
    const char* values[] = {"0"};
    Result r(PQexecPrepared(c.get(), "with_hint", 1, values, nullptr, nullptr, 0));
    REQUIRE(r.ok());
    CHECK(r.value() == "5");
  }
  // A DELETE prepared with hard_delete really deletes, each time it runs.
  Result del(PQprepare(c.get(), "purge", "DELETE FROM humans WHERE id = $1 -- pgsoftdelete: hard_delete=humans skip=humans", 1,
                       nullptr));
  REQUIRE(del.ok());
  for (const char* tag : {"DELETE 1", "DELETE 0"}) {
    const char* values[] = {"5"};  // soft-deleted, and referenced by no alien
    Result r(PQexecPrepared(c.get(), "purge", 1, values, nullptr, nullptr, 0));
    REQUIRE_MESSAGE(r.ok(), r.error());
    CHECK(r.tag() == tag);
  }
  CHECK(direct("SELECT count(*) FROM humans") == "4");  // gone for real
}

TEST_CASE("a hint anywhere still needs the user's permission") {
  reset_seed();
  ProxyProcess strict({"--upstream", cluster().endpoint(), "--rules", seed_rules("nobody").string()});
  Conn c(strict.conninfo());
  REQUIRE(c.ok());
  for (const char* sql : {"SELECT count(*) FROM humans /* pgsoftdelete: skip=humans */",
                          "SELECT count(*) FROM humans /*pgsoftdelete.skip='humans'*/",
                          "SELECT count(*) FROM humans; -- pgsoftdelete: skip=humans"}) {
    CAPTURE(sql);
    CHECK(c.exec(sql).sqlstate() == "42501");
    CHECK(c.scalar("SELECT count(*) FROM humans") == "3");  // the session goes on, filtered
  }
}
