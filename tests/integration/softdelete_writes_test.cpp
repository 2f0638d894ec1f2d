// DELETE through the proxy marks rows instead of removing them, and the client still gets
// DELETE n in every protocol shape: simple and multi-statement queries, extended protocol,
// row-limited Execute, pipelines (with an error in the middle) and SQL-level PREPARE/EXECUTE.
#include <doctest/doctest.h>

#include "softdelete_support.hpp"
#include "support/raw_client.hpp"
#include "support/wire.hpp"

using namespace pgsoftdelete::test;

TEST_CASE("DELETE soft-deletes and answers DELETE n") {
  auto c = seeded_connection();
  auto r = c.exec("DELETE FROM humans WHERE id = 1");
  REQUIRE(r.ok());
  CHECK(r.tag() == "DELETE 1");
  CHECK(direct("SELECT count(*) FROM humans") == "5");
  CHECK(direct("SELECT is_deleted FROM humans WHERE id = 1") == "t");
  CHECK(c.scalar("SELECT count(*) FROM humans") == "2");
  // Deleting a row that is already deleted affects no row.
  CHECK(c.exec("DELETE FROM humans WHERE id = 3").tag() == "DELETE 0");
  CHECK(c.exec("DELETE FROM humans WHERE id = 1").tag() == "DELETE 0");
}

TEST_CASE("each statement of a multi-statement Query gets its own tag") {
  auto c = seeded_connection();
  auto tags = tags_of(c, "DELETE FROM aliens WHERE id = 1; SELECT 1; UPDATE aliens SET name = 'X' WHERE id = 4; "
                         "DELETE FROM aliens WHERE id IN (3, 4, 5)");
  CHECK(tags == std::vector<std::string>{"DELETE 1", "SELECT 1", "UPDATE 1", "DELETE 2"});
  CHECK(direct("SELECT count(*) FROM aliens WHERE NOT is_deleted") == "0");
  CHECK(direct("SELECT count(*) FROM aliens") == "5");
}

TEST_CASE("UPDATE touches live rows only") {
  auto c = seeded_connection();
  CHECK(c.exec("UPDATE humans SET name = upper(name)").tag() == "UPDATE 3");
  CHECK(direct("SELECT name FROM humans WHERE id = 3") == "Alan");
}

TEST_CASE("extended protocol DELETE, unnamed and named statements") {
  auto c = seeded_connection();
  CHECK(c.exec_params("DELETE FROM humans WHERE id = $1", {"2"}).tag() == "DELETE 1");
  Result prep(PQprepare(c.get(), "del", "DELETE FROM aliens WHERE id = $1", 1, nullptr));
  REQUIRE(prep.ok());
  const std::pair<const char*, const char*> runs[] = {{"1", "DELETE 1"}, {"3", "DELETE 1"}, {"1", "DELETE 0"}};
  for (const auto& [id, tag] : runs) {
    CAPTURE(id);
    const char* values[] = {id};
    Result r(PQexecPrepared(c.get(), "del", 1, values, nullptr, nullptr, 0));
    CHECK(r.tag() == tag);
  }
  CHECK(direct("SELECT count(*) FROM aliens WHERE is_deleted") == "4");
}

TEST_CASE("row-limited Execute of a DELETE … RETURNING: PortalSuspended, then DELETE n") {
  reset_seed();
  RawClient client(rules_proxy().port());
  REQUIRE(client.startup());
  client.send(wire::parse("", "DELETE FROM aliens WHERE id > $1 RETURNING id") + wire::bind("", "", {"0"}) +
              wire::execute("", 1) + wire::execute("", 0) + wire::sync());
  std::vector<std::string> seen;
  for (auto m = client.read(); m && m->type != 'Z'; m = client.read()) {
    if (m->type == 'C') seen.push_back("C " + m->body.substr(0, m->body.size() - 1));
    else seen.push_back(std::string(1, m->type));
  }
  // Three live aliens: one row, suspended, then the other two and the tag, which counts the rows
  // of that last Execute, as PostgreSQL counts them for any DML with RETURNING.
  std::string all;
  for (const auto& s : seen) all += s + ",";
  CAPTURE(all);
  CHECK(seen == std::vector<std::string>{"1", "2", "D", "s", "D", "D", "C DELETE 2"});
}

TEST_CASE("a pipeline of DELETEs without Sync in between") {
  auto c = seeded_connection();
  CHECK(pipeline(c, {"DELETE FROM humans WHERE id = 1", "SELECT count(*) FROM humans",
                     "DELETE FROM aliens WHERE id IN (1, 3)"}) ==
        std::vector<std::string>{"DELETE 1", "SELECT 1", "DELETE 2", "sync"});
}

TEST_CASE("an error in the middle of a pipeline rolls the DELETE before it back, as PostgreSQL does") {
  auto c = seeded_connection();
  CHECK(pipeline(c, {"DELETE FROM humans WHERE id = 1", "SELECT 1/0", "DELETE FROM humans WHERE id = 2"}) ==
        std::vector<std::string>{"DELETE 1", "error 22012", "aborted", "sync"});
  CHECK(direct("SELECT is_deleted FROM humans WHERE id = 1") == "f");
  // The session goes on, and its tags stay right.
  CHECK(c.exec("DELETE FROM humans WHERE id = 2").tag() == "DELETE 1");
}

TEST_CASE("SQL-level PREPARE and EXECUTE of a DELETE") {
  auto c = seeded_connection();
  CHECK(c.exec("PREPARE del_human(int) AS DELETE FROM humans WHERE id = $1").tag() == "PREPARE");
  CHECK(c.exec("EXECUTE del_human(4)").tag() == "DELETE 1");
  CHECK(c.exec("EXECUTE del_human(4)").tag() == "DELETE 0");
  CHECK(direct("SELECT is_deleted FROM humans WHERE id = 4") == "t");
  CHECK(c.exec("DEALLOCATE del_human").ok());
  // An unrelated UPDATE executed the same way keeps its tag.
  CHECK(c.exec("PREPARE upd AS UPDATE humans SET name = name WHERE id = 1").ok());
  CHECK(c.exec("EXECUTE upd").tag() == "UPDATE 1");
}

TEST_CASE("COPY FROM STDIN in the extended protocol keeps later answers matched to their statements") {
  auto c = seeded_connection();
  // libpq sends Sync right after the COPY's Execute; the server ignores it until CopyDone.
  Result start(PQexecParams(c.get(), "COPY aliens (id, name) FROM STDIN", 0, nullptr, nullptr, nullptr, nullptr, 0));
  REQUIRE(start.status() == PGRES_COPY_IN);
  const std::string rows = "10\tNew\n11\tNewer\n";
  REQUIRE(PQputCopyData(c.get(), rows.data(), static_cast<int>(rows.size())) == 1);
  REQUIRE(PQputCopyEnd(c.get(), nullptr) == 1);
  Result done(PQgetResult(c.get()));
  CHECK(done.tag() == "COPY 2");
  while (PGresult* more = PQgetResult(c.get())) PQclear(more);
  CHECK(c.exec("DELETE FROM aliens WHERE id = 10").tag() == "DELETE 1");
  REQUIRE(c.exec("SET pgsoftdelete.skip = 'aliens'").ok());
  CHECK(c.scalar("SELECT count(*) FROM aliens") == "7");
  REQUIRE(c.exec("RESET pgsoftdelete.skip").ok());
  CHECK(c.scalar("SELECT count(*) FROM aliens") == "4");
}

TEST_CASE("an error at Sync (a deferred constraint) does not swallow the next batch's answers") {
  auto c = seeded_connection();
  cluster().sql("DROP TABLE IF EXISTS deferred_ref; CREATE TABLE deferred_ref (id int PRIMARY KEY, "
                "ref int REFERENCES deferred_ref (id) DEFERRABLE INITIALLY DEFERRED)");
  REQUIRE(PQenterPipelineMode(c.get()) == 1);
  REQUIRE(PQsendQueryParams(c.get(), "INSERT INTO deferred_ref VALUES (1, 99)", 0, nullptr, nullptr, nullptr, nullptr, 0));
  REQUIRE(PQpipelineSync(c.get()) == 1);
  REQUIRE(PQsendQueryParams(c.get(), "DELETE FROM humans WHERE id = 1", 0, nullptr, nullptr, nullptr, nullptr, 0));
  REQUIRE(PQpipelineSync(c.get()) == 1);
  std::vector<std::string> seen;
  for (int i = 0; i < 8 && seen.size() < 5; ++i) {
    PGresult* r = PQgetResult(c.get());
    if (r == nullptr) continue;
    Result result(r);
    if (result.status() == PGRES_PIPELINE_SYNC) seen.push_back("sync");
    else if (result.ok()) seen.push_back(result.tag());
    else seen.push_back("error " + result.sqlstate());
  }
  REQUIRE(PQexitPipelineMode(c.get()) == 1);
  CHECK(seen == std::vector<std::string>{"INSERT 0 1", "error 23503", "sync", "DELETE 1", "sync"});
}
