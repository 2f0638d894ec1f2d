// Pooling behind the proxy (issue 15): application -> pgsoftdelete -> PgBouncer 1.18 (Debian's,
// transaction mode) -> PostgreSQL. With one server connection for every client, what a pooler mixes
// between clients shows at once: what holds and what does not with the defaults, and what
// session_hints = "proxy" and prepared_statements = "unnamed" make work.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "softdelete_support.hpp"
#include "support/pgbouncer.hpp"

using namespace pgsoftdelete::test;

namespace {

std::unique_ptr<ProxyProcess> proxy_before(const PgBouncer& bouncer, const std::string& extra_config) {
  const auto file = std::filesystem::temp_directory_path() / "pgsd-pgbouncer.toml";
  std::ofstream(file) << extra_config;
  return std::make_unique<ProxyProcess>(std::vector<std::string>{
      "--config", file.string(), "--upstream", bouncer.endpoint(), "--rules", seed_rules().string()});
}

Result prepare(const Conn& c, const std::string& name, const std::string& sql) {
  return Result(PQprepare(c.get(), name.c_str(), sql.c_str(), 0, nullptr));
}

Result run(const Conn& c, const std::string& name, const std::vector<std::string>& params) {
  std::vector<const char*> values;
  for (const auto& p : params) values.push_back(p.c_str());
  return Result(PQexecPrepared(c.get(), name.c_str(), static_cast<int>(values.size()), values.data(), nullptr, nullptr, 0));
}

std::string python_clients(const ProxyProcess& proxy) {
  return run_command("/usr/bin/python3 " + std::string(PGSD_SOURCE_DIR) + "/tests/integration/topology_pgbouncer_clients.py 127.0.0.1 " +
                     std::to_string(proxy.port()))
      .output;
}

}  // namespace

TEST_CASE("behind PgBouncer in transaction mode, defaults: rewriting holds; server-side state is shared") {
  reset_seed();
  PgBouncer bouncer("transaction", 1);
  auto proxy = proxy_before(bouncer, "");
  Conn a(proxy->conninfo()), b(proxy->conninfo());
  REQUIRE_MESSAGE(a.ok(), a.error());
  REQUIRE_MESSAGE(b.ok(), b.error());

  // What holds: every statement is rewritten, and each client's hints act for it alone.
  CHECK(a.scalar("SELECT count(*) FROM humans") == "3");
  CHECK(a.exec("DELETE FROM humans WHERE id = 1").tag() == "DELETE 1");
  CHECK(direct("SELECT is_deleted FROM humans WHERE id = 1") == "t");
  REQUIRE(a.exec("SET pgsoftdelete.skip = 'humans'").ok());
  CHECK(a.scalar("SELECT count(*) FROM humans") == "5");
  CHECK(b.scalar("SELECT count(*) FROM humans") == "2");
  CHECK(a.exec_params("SELECT count(*) FROM humans WHERE id > $1", {"0"}).value() == "5");  // unnamed statements

  // What does not: the SET reached the one server connection, which every client now shares...
  CHECK(b.scalar("SHOW pgsoftdelete.skip") == "humans");
  // ... PgBouncer refuses startup parameters it does not know ...
  Conn hinted(proxy->conninfo("postgres", "options='-c pgsoftdelete.skip=humans'"));
  CHECK_FALSE(hinted.ok());
  CHECK(hinted.error().find("unsupported startup parameter") != std::string::npos);
  // ... and a name one client prepares is taken for the next, on the server they share.
  CHECK(prepare(a, "s1", "SELECT count(*) FROM humans").ok());
  const auto taken = prepare(b, "s1", "SELECT 1");
  CHECK(taken.sqlstate() == "42P05");
  // Drivers that prepare by name fail the same way (psycopg 3 names its statements _pg3_0, _pg3_1, ...
  // in every connection; asyncpg's names are unique in the process, so on one server connection they
  // happen to work, and break once the pool has two).
  const auto drivers = python_clients(*proxy);
  MESSAGE(drivers);
  CHECK(drivers.find("psycopg error DuplicatePreparedStatement") != std::string::npos);
}

TEST_CASE("behind PgBouncer in transaction mode with session_hints = proxy and prepared_statements = unnamed") {
  reset_seed();
  PgBouncer bouncer("transaction", 1);
  auto proxy = proxy_before(bouncer, "session_hints = \"proxy\"\nprepared_statements = \"unnamed\"\n");
  Conn a(proxy->conninfo()), b(proxy->conninfo());
  REQUIRE_MESSAGE(a.ok(), a.error());
  REQUIRE_MESSAGE(b.ok(), b.error());

  // Hints stay in the proxy: they act for their client and reach no server connection.
  REQUIRE(a.exec("SET pgsoftdelete.skip = 'humans'").tag() == "SET");
  CHECK(a.scalar("SELECT count(*) FROM humans") == "5");
  CHECK(b.scalar("SELECT count(*) FROM humans") == "3");
  CHECK(b.scalar("SHOW pgsoftdelete.skip").empty());
  REQUIRE(a.exec("RESET pgsoftdelete.skip").tag() == "RESET");
  CHECK(a.scalar("SELECT count(*) FROM humans") == "3");
  // (options holding anything else PgBouncer still refuses: its ignore_startup_parameters decides.)
  Conn hinted(proxy->conninfo("postgres", "options='-c pgsoftdelete.skip=humans' application_name=hinted"));
  REQUIRE_MESSAGE(hinted.ok(), hinted.error());
  CHECK(hinted.scalar("SELECT count(*) FROM humans") == "5");
  CHECK(hinted.scalar("SELECT current_setting('application_name')") == "hinted");

  // Each client's named statements are its own, prepared again in each batch that uses them.
  REQUIRE(prepare(a, "s1", "SELECT count(*) FROM humans WHERE id > $1").ok());
  REQUIRE(prepare(b, "s1", "SELECT name FROM humans WHERE id = $1").ok());
  for (int i = 0; i < 3; ++i) {
    CHECK(run(a, "s1", {"1"}).value() == "2");
    CHECK(run(b, "s1", {"2"}).value() == "Grace");
  }
  Result described(PQdescribePrepared(b.get(), "s1"));
  REQUIRE(described.ok());
  CHECK(std::string(PQfname(described.get(), 0)) == "name");
  CHECK(PQnparams(described.get()) == 1);
  CHECK(prepare(a, "s1", "SELECT 1").sqlstate() == "42P05");  // as PostgreSQL answers a name in use
  CHECK(run(a, "missing", {}).sqlstate() == "26000");

  // A DELETE prepared by name is still a soft delete with its DELETE tag; a statement prepared
  // before a hint runs under it (a variant, unnamed too).
  REQUIRE(prepare(a, "del", "DELETE FROM humans WHERE id = $1").ok());
  CHECK(run(a, "del", {"4"}).tag() == "DELETE 1");
  CHECK(direct("SELECT is_deleted FROM humans WHERE id = 4") == "t");
  REQUIRE(prepare(a, "all", "SELECT count(*) FROM humans").ok());
  CHECK(run(a, "all", {}).value() == "2");
  REQUIRE(a.exec("SET pgsoftdelete.skip = 'humans'").ok());
  CHECK(run(a, "all", {}).value() == "5");
  CHECK(run(b, "s1", {"4"}).rows() == 0);  // b has no hint: Edsger is deleted for it

  // Drivers that prepare by name work.
  const auto drivers = python_clients(*proxy);
  CHECK(drivers.find("psycopg ok") != std::string::npos);
  CHECK(drivers.find("asyncpg ok") != std::string::npos);
  MESSAGE(drivers);
  CHECK(bouncer.log().find("unsupported startup parameter") == std::string::npos);
}
