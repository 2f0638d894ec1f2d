// Statements the engine refuses are answered by the proxy with the right SQLSTATE, nothing of
// them runs, and the session stays usable, in and out of transactions, in both protocols.
// Observe mode changes nothing on the wire and logs what it would do.
#include <doctest/doctest.h>

#include "softdelete_support.hpp"

using namespace pgsoftdelete::test;

TEST_CASE("a refused simple query, then the next one works") {
  auto c = seeded_connection();
  auto r = c.exec("TRUNCATE humans");
  CHECK(r.sqlstate() == "0A000");
  CHECK(r.error().find("humans") != std::string::npos);
  CHECK(PQtransactionStatus(c.get()) == PQTRANS_IDLE);
  CHECK(direct("SELECT count(*) FROM humans") == "5");
  CHECK(c.scalar("SELECT 'next'") == "next");
  CHECK(rules_proxy().log().find("refused a simple-protocol statement: 0A000") != std::string::npos);
}

TEST_CASE("a refused statement inside a transaction leaves it failed, as the server would") {
  auto c = seeded_connection();
  REQUIRE(c.exec("BEGIN").ok());
  REQUIRE(c.exec("DELETE FROM aliens WHERE id = 1").ok());
  CHECK(c.exec("TRUNCATE aliens").sqlstate() == "0A000");
  CHECK(PQtransactionStatus(c.get()) == PQTRANS_INERROR);
  CHECK(c.exec("SELECT 1").sqlstate() == "25P02");
  CHECK(c.exec("COMMIT").tag() == "ROLLBACK");
  CHECK(direct("SELECT is_deleted FROM aliens WHERE id = 1") == "f");
  CHECK(c.scalar("SELECT count(*) FROM aliens") == "3");
}

TEST_CASE("a statement that does not parse gets 42601 with its position") {
  auto c = seeded_connection();
  auto r = c.exec("SELECT * FROM humans WHERE");
  CHECK(r.sqlstate() == "42601");
  const char* position = PQresultErrorField(r.get(), PG_DIAG_STATEMENT_POSITION);
  REQUIRE(position != nullptr);
  CHECK(std::string(position) == "27");
  CHECK(c.scalar("SELECT 1") == "1");
}

TEST_CASE("a refused extended-protocol statement, then the next one works") {
  auto c = seeded_connection();
  CHECK(c.exec_params("TRUNCATE humans", {}).sqlstate() == "0A000");
  CHECK(c.exec_params("SELECT count(*) FROM humans", {}).value() == "3");
  CHECK(rules_proxy().log().find("refused an extended-protocol statement: 0A000") != std::string::npos);
  Result prep(PQprepare(c.get(), "bad", "TRUNCATE aliens", 0, nullptr));
  CHECK(prep.sqlstate() == "0A000");
  Result exec(PQexecPrepared(c.get(), "bad", 0, nullptr, nullptr, nullptr, 0));
  CHECK(exec.sqlstate() == "26000");  // the statement does not exist, as after any failed Parse
  CHECK(direct("SELECT count(*) FROM aliens") == "5");
}

TEST_CASE("prepared statement names starting with pgsd_ are the proxy's own: refused in both protocols") {
  auto c = seeded_connection();
  Result prep(PQprepare(c.get(), "pgsd_1_1", "SELECT 1", 0, nullptr));
  CHECK(prep.sqlstate() == "0A000");
  CHECK(prep.error().find("reserved") != std::string::npos);
  CHECK(c.exec("PREPARE PGSD_x AS SELECT 1").sqlstate() == "0A000");  // folded to pgsd_x
  CHECK(c.exec("SELECT 1; PREPARE pgsd_y AS SELECT 2").sqlstate() == "0A000");
  CHECK(c.exec("PREPARE \"PGSD_x\" AS SELECT 1").ok());  // quoted upper case: not the proxy's
  Result mine(PQprepare(c.get(), "mine", "SELECT count(*) FROM humans", 0, nullptr));
  CHECK(mine.ok());
  Result run(PQexecPrepared(c.get(), "mine", 0, nullptr, nullptr, nullptr, 0));
  CHECK(run.value() == "3");
}

TEST_CASE("a refused Parse in the middle of a pipeline: error, then discard until Sync") {
  auto c = seeded_connection();
  CHECK(pipeline(c, {"DELETE FROM humans WHERE id = 1", "TRUNCATE humans", "DELETE FROM humans WHERE id = 2"}) ==
        std::vector<std::string>{"DELETE 1", "error 0A000", "aborted", "sync"});
  // The implicit transaction was rolled back: the first DELETE did not happen either.
  CHECK(direct("SELECT count(*) FROM humans WHERE NOT is_deleted") == "3");
  CHECK(c.exec("DELETE FROM humans WHERE id = 1").tag() == "DELETE 1");
}

TEST_CASE("observe mode changes nothing on the wire and logs what it would do") {
  reset_seed();
  ProxyProcess observe({"--upstream", cluster().endpoint(), "--rules", seed_rules().string(), "--mode", "observe"});
  Conn c(observe.conninfo());
  REQUIRE_MESSAGE(c.ok(), c.error());
  CHECK(c.scalar("SELECT count(*) FROM humans") == "5");
  CHECK(c.exec("DELETE FROM aliens WHERE id = 5").tag() == "DELETE 1");
  CHECK(direct("SELECT count(*) FROM aliens") == "4");
  CHECK(c.exec("TRUNCATE aliens").ok());
  const auto log = observe.log();
  CHECK(log.find("observe: would rewrite a simple-protocol statement") != std::string::npos);
  CHECK(log.find("observe: would refuse a simple-protocol statement: 0A000") != std::string::npos);
  // Statement text is logged at debug only.
  CHECK(log.find("SELECT count(*) FROM humans") == std::string::npos);
}

TEST_CASE("with standard_conforming_strings off, statements are refused until it is back on") {
  auto c = seeded_connection();
  REQUIRE(c.exec("SET standard_conforming_strings = off").ok());
  auto r = c.exec("SELECT count(*) FROM humans");
  CHECK(r.sqlstate() == "0A000");
  CHECK(r.error().find("standard_conforming_strings is off") != std::string::npos);
  CHECK(c.exec("SELECT 1").sqlstate() == "0A000");
  REQUIRE(c.exec("SET standard_conforming_strings = on").ok());
  CHECK(c.scalar("SELECT count(*) FROM humans") == "3");
  // Set at connection time, too.
  Conn off(rules_proxy().conninfo("postgres", "options='-c standard_conforming_strings=off'"));
  REQUIRE(off.ok());
  CHECK(off.exec("SELECT count(*) FROM humans").sqlstate() == "0A000");
}

TEST_CASE("a client encoding that can hide quotes in multibyte characters is refused until changed") {
  auto c = seeded_connection();
  REQUIRE(c.exec("SET client_encoding = 'SJIS'").ok());
  auto r = c.exec("SELECT count(*) FROM humans");
  CHECK(r.sqlstate() == "0A000");
  CHECK(r.error().find("client_encoding") != std::string::npos);
  REQUIRE(c.exec("SET client_encoding = 'UTF8'").ok());
  CHECK(c.scalar("SELECT count(*) FROM humans") == "3");
  REQUIRE(c.exec("SET client_encoding = 'LATIN1'").ok());  // single-byte: safe
  CHECK(c.scalar("SELECT count(*) FROM humans") == "3");
}
