// SQL-level PREPARE and protocol-level Parse share one namespace, as in PostgreSQL: DELETE tags,
// hints and refusals follow a statement whichever way it is run, EXECUTE hidden inside EXPLAIN or
// CREATE TABLE AS is checked like EXECUTE, and the unnamed statement ends where the server ends it.
#include <doctest/doctest.h>

#include "softdelete_support.hpp"

using namespace pgsoftdelete::test;

TEST_CASE("a DELETE prepared in one protocol and run in the other answers DELETE") {
  auto c = seeded_connection();
  Result parsed(PQprepare(c.get(), "pd", "DELETE FROM humans WHERE id = $1", 0, nullptr));
  REQUIRE(parsed.ok());
  CHECK(c.exec("EXECUTE pd(1)").tag() == "DELETE 1");
  CHECK(direct("SELECT is_deleted FROM humans WHERE id = 1") == "t");

  REQUIRE(c.exec("PREPARE sd(int) AS DELETE FROM humans WHERE id = $1").ok());
  const char* two[] = {"2"};
  Result run(PQexecPrepared(c.get(), "sd", 1, two, nullptr, nullptr, 0));
  CHECK(run.tag() == "DELETE 1");
  CHECK(direct("SELECT count(*) FROM humans") == "5");
}

TEST_CASE("a statement PREPAREd under a hint is refused when run under others, in either protocol") {
  auto c = seeded_connection();
  REQUIRE(c.exec("SET pgsoftdelete.skip = 'humans'").ok());
  REQUIRE(c.exec("PREPARE everyone AS SELECT count(*) FROM humans").ok());
  CHECK(c.exec("EXECUTE everyone").value() == "5");
  REQUIRE(c.exec("RESET pgsoftdelete.skip").ok());
  Result bound(PQexecPrepared(c.get(), "everyone", 0, nullptr, nullptr, nullptr, 0));
  CHECK(bound.sqlstate() == "0A000");
  CHECK(c.exec("EXECUTE everyone").sqlstate() == "0A000");
  CHECK(c.exec("EXPLAIN ANALYZE EXECUTE everyone").sqlstate() == "0A000");
  CHECK(c.exec("CREATE TEMP TABLE copied AS EXECUTE everyone").sqlstate() == "0A000");
  REQUIRE(c.exec("SET pgsoftdelete.skip = 'humans'").ok());
  CHECK(c.exec("RESET pgsoftdelete.skip; EXECUTE everyone").sqlstate() == "0A000");
  CHECK(c.exec("EXECUTE everyone").value() == "5");  // under its own hints it runs
}

TEST_CASE("a hard delete prepared under hard_delete does not run under other hints") {
  auto c = seeded_connection();
  REQUIRE(c.exec("SET pgsoftdelete.hard_delete = 'humans'").ok());
  REQUIRE(c.exec("PREPARE purge AS DELETE FROM humans WHERE id = 3").ok());
  REQUIRE(c.exec("RESET pgsoftdelete.hard_delete").ok());
  CHECK(c.exec("EXPLAIN ANALYZE EXECUTE purge").sqlstate() == "0A000");
  Result bound(PQexecPrepared(c.get(), "purge", 0, nullptr, nullptr, nullptr, 0));
  CHECK(bound.sqlstate() == "0A000");
  CHECK(direct("SELECT count(*) FROM humans WHERE id = 3") == "1");
}

TEST_CASE("a Query drops the unnamed statement, here as on the server") {
  auto c = seeded_connection();
  Result parsed(PQprepare(c.get(), "", "SELECT count(*) FROM humans", 0, nullptr));
  REQUIRE(parsed.ok());
  REQUIRE(c.exec("SET pgsoftdelete.skip = 'humans'").ok());
  Result bound(PQexecPrepared(c.get(), "", 0, nullptr, nullptr, nullptr, 0));
  CHECK(bound.sqlstate() == "26000");
  CHECK(c.scalar("SELECT count(*) FROM humans") == "5");
}
