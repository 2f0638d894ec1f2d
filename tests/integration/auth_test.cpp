// Authentication is relayed untouched: the server checks md5 and SCRAM-SHA-256 passwords
// through the proxy, and a wrong password gets the server's own error.
#include <doctest/doctest.h>

#include "support/cluster.hpp"
#include "support/pq.hpp"
#include "support/process.hpp"

using namespace pgsoftdelete::test;

namespace {

/// Roles with md5 and SCRAM passwords, and pg_hba lines that make the server ask for them.
ProxyProcess& auth_proxy() {
  static bool roles = [] {
    cluster().sql("SET password_encryption = 'md5'; CREATE ROLE pgsd_md5 LOGIN PASSWORD 'md5-secret'");
    cluster().sql("SET password_encryption = 'scram-sha-256'; CREATE ROLE pgsd_scram LOGIN PASSWORD 'scram-secret'");
    cluster().prepend_hba("host all pgsd_md5 127.0.0.1/32 md5");
    cluster().prepend_hba("host all pgsd_scram 127.0.0.1/32 scram-sha-256");
    return true;
  }();
  (void)roles;
  static ProxyProcess p({"--upstream", cluster().endpoint()});
  return p;
}

}  // namespace

TEST_CASE("md5 login through the proxy") {
  Conn c(auth_proxy().conninfo("pgsd_md5", "password=md5-secret"));
  REQUIRE_MESSAGE(c.ok(), c.error());
  CHECK(c.scalar("SELECT current_user") == "pgsd_md5");
}

TEST_CASE("SCRAM-SHA-256 login through the proxy") {
  Conn c(auth_proxy().conninfo("pgsd_scram", "password=scram-secret"));
  REQUIRE_MESSAGE(c.ok(), c.error());
  CHECK(c.scalar("SELECT current_user") == "pgsd_scram");
}

TEST_CASE("a wrong password gets the server's error") {
  for (const char* user : {"pgsd_md5", "pgsd_scram"}) {
    CAPTURE(user);
    Conn c(auth_proxy().conninfo(user, "password=wrong"));
    CHECK_FALSE(c.ok());
    CHECK(c.error().find("password authentication failed for user \"" + std::string(user) + "\"") !=
          std::string::npos);
  }
}

TEST_CASE("psql connects through the proxy") {
  auto r = run_command(std::string(PGSD_PG_BIN) + "/psql \"" + auth_proxy().conninfo() +
                       "\" -X -A -t -c \"SELECT 'via psql'\"");
  CHECK(r.status == 0);
  CHECK(r.output == "via psql\n");
}
