// Drivers and ORMs through the proxy: each folder of tests/clients holds a run.sh that talks to
// the proxy with real client libraries and checks what it sees (filtered reads, DELETE counts,
// hints in the ORM's own way, a refusal and a usable connection after it). The seed tables are
// fresh for each; run.sh exits 0 only when every check held.
#include <doctest/doctest.h>

#include <filesystem>

#include "softdelete_support.hpp"

using namespace pgsoftdelete::test;

namespace {

/// Runs tests/clients/<name>/run.sh against a proxy with the seed rules; its output on failure.
void run_client(const std::string& name) {
  reset_seed();
  const auto script = std::filesystem::path(PGSD_SOURCE_DIR) / "tests" / "clients" / name / "run.sh";
  INFO("missing: ", script.string());
  REQUIRE(std::filesystem::exists(script));
  const std::string env = "PGSD_HOST=127.0.0.1 PGSD_PORT=" + std::to_string(rules_proxy().port()) +
                          " PGSD_DIRECT_PORT=" + std::to_string(cluster().port()) +
                          " PGSD_USER=postgres PGSD_DB=postgres";
  auto r = run_command(env + " bash " + script.string());
  INFO(r.output);
  CHECK(r.status == 0);
  CHECK(r.output.find("PASS") != std::string::npos);
}

}  // namespace

TEST_CASE("client matrix: Python (psycopg 3, asyncpg, SQLAlchemy, Django)") { run_client("python"); }
TEST_CASE("client matrix: JavaScript (node-postgres, knex, Sequelize)") { run_client("node"); }
TEST_CASE("client matrix: Java (pgjdbc)") { run_client("java"); }
TEST_CASE("client matrix: Go (pgx)") { run_client("go"); }
TEST_CASE("client matrix: Ruby (ruby-pg, ActiveRecord)") { run_client("ruby"); }
TEST_CASE("client matrix: PHP (PDO, Laravel's query builder)") { run_client("php"); }
