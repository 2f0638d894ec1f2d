// The startup phase against a hostile client: keys given twice, hints spelled as the server
// reads them, replication connections, and nothing but authentication before the login.
#include <doctest/doctest.h>

#include <thread>
#include <vector>

#include "codec/messages.hpp"
#include "codec/startup.hpp"
#include "support/cluster.hpp"
#include "support/pq.hpp"
#include "support/process.hpp"
#include "support/raw_client.hpp"
#include "support/seed.hpp"

using namespace pgsoftdelete::test;
using namespace std::chrono_literals;
namespace codec = pgsoftdelete::proxy::codec;

namespace {

/// Hints only for postgres: pgsd_bob may not skip the filter.
ProxyProcess& strict_proxy() {
  static bool roles = [] {
    cluster().sql("DROP ROLE IF EXISTS pgsd_bob; CREATE ROLE pgsd_bob LOGIN SUPERUSER");
    cluster().sql("SET password_encryption = 'scram-sha-256'; DROP ROLE IF EXISTS pgsd_pw; "
                  "CREATE ROLE pgsd_pw LOGIN PASSWORD 'pw-secret'");
    cluster().prepend_hba("host all pgsd_pw 127.0.0.1/32 scram-sha-256");
    return true;
  }();
  (void)roles;
  static ProxyProcess p({"--upstream", cluster().endpoint(), "--rules", seed_rules("postgres").string()});
  return p;
}

/// Sends a startup packet and returns the first message back (the refusal, if any).
std::optional<RawMessage> first_answer(RawClient& client, const std::vector<std::pair<std::string, std::string>>& p) {
  client.send(codec::encode_startup_message(p));
  return client.read();
}

int backends_named(const std::string& name) {
  Conn direct(cluster().conninfo());
  return std::stoi(direct.scalar("SELECT count(*) FROM pg_stat_activity WHERE application_name = '" + name + "'"));
}

}  // namespace

TEST_CASE("a startup packet with a key twice gets FATAL 08P01 and is not forwarded") {
  reset_seed();
  const std::vector<std::vector<std::pair<std::string, std::string>>> packets = {
      {{"user", "postgres"}, {"user", "pgsd_bob"}, {"application_name", "pgsd_dup"}},
      {{"user", "pgsd_bob"}, {"database", "postgres"}, {"database", "template1"}, {"application_name", "pgsd_dup"}},
      {{"user", "pgsd_bob"}, {"application_name", "pgsd_dup"}, {"Application_Name", "other"}},
      {{"user", "pgsd_bob"}, {"pgsoftdelete.skip", ""}, {"PgSoftDelete.Skip", "*"}, {"application_name", "pgsd_dup"}},
  };
  for (const auto& packet : packets) {
    RawClient client(strict_proxy().port());
    auto m = first_answer(client, packet);
    REQUIRE(m);
    CHECK(m->type == 'E');
    CHECK(sqlstate_of(*m) == "08P01");
    CHECK(message_of(*m).find("given twice") != std::string::npos);
    CHECK(client.closed_by_peer());
  }
  CHECK(backends_named("pgsd_dup") == 0);
  CHECK(strict_proxy().log().find("given twice") != std::string::npos);
}

TEST_CASE("hints in any spelling the server reads are checked against skip_users") {
  reset_seed();
  // Each would make the server set the hint; each must be refused for pgsd_bob.
  for (const std::string& extra : {std::string("options='-c PGSOFTDELETE.SKIP=*'"),
                                   std::string("options='--pgsoftdelete.hard-delete=*'"),
                                   std::string("options='-cpgsoftdelete.only_deleted=humans'")}) {
    CAPTURE(extra);
    Conn c(strict_proxy().conninfo("pgsd_bob", extra));
    CHECK_FALSE(c.ok());
    CHECK(c.error().find("may not use the pgsoftdelete") != std::string::npos);
  }
  RawClient client(strict_proxy().port());
  auto m = first_answer(client, {{"user", "pgsd_bob"}, {"PGSOFTDELETE.SKIP", "*"}});
  REQUIRE(m);
  CHECK(sqlstate_of(*m) == "42501");
  // Allowed for postgres, and then really in force.
  Conn ok(strict_proxy().conninfo("postgres", "options='-c PgSoftDelete.Skip=humans'"));
  REQUIRE_MESSAGE(ok.ok(), ok.error());
  CHECK(ok.scalar("SELECT count(*) FROM humans") == "5");
}

TEST_CASE("a hint set twice in one startup packet gets FATAL 08P01") {
  for (const auto& packet : std::vector<std::vector<std::pair<std::string, std::string>>>{
           {{"user", "postgres"}, {"options", "-c pgsoftdelete.skip= -c pgsoftdelete.skip=*"}},
           {{"user", "postgres"}, {"pgsoftdelete.skip", ""}, {"options", "-c pgsoftdelete.skip=*"}}}) {
    RawClient client(strict_proxy().port());
    auto m = first_answer(client, packet);
    REQUIRE(m);
    CHECK(sqlstate_of(*m) == "08P01");
    CHECK(message_of(*m).find("more than once") != std::string::npos);
  }
}

TEST_CASE("replication connections are refused while rules are loaded") {
  for (const char* kind : {"database", "true"}) {
    RawClient client(strict_proxy().port());
    auto m = first_answer(client, {{"user", "postgres"}, {"replication", kind}});
    REQUIRE(m);
    CHECK(sqlstate_of(*m) == "0A000");
    CHECK(message_of(*m).find("replication connections") != std::string::npos);
  }
}

TEST_CASE("before the login completes, a client may send only authentication messages") {
  SUBCASE("a Query instead of a password") {
    RawClient client(strict_proxy().port());
    auto request = first_answer(client, {{"user", "pgsd_pw"}});
    REQUIRE(request);
    REQUIRE(request->type == 'R');  // the server asks for the password
    std::string query;
    codec::encode(codec::Query{"DELETE FROM humans"}, query);
    client.send(query);
    auto m = client.read();
    REQUIRE(m);
    CHECK(sqlstate_of(*m) == "08P01");
    CHECK(message_of(*m).find("before authentication completed") != std::string::npos);
    CHECK(client.closed_by_peer());
  }
  SUBCASE("a password message longer than PostgreSQL allows") {
    RawClient client(strict_proxy().port());
    REQUIRE(first_answer(client, {{"user", "pgsd_pw"}}));
    std::string big;
    codec::encode_raw('p', std::string(70000, 'x'), big);
    client.send(big);
    auto m = client.read();
    REQUIRE(m);
    CHECK(sqlstate_of(*m) == "08P01");
    CHECK(message_of(*m).find("above the maximum of 65539") != std::string::npos);
  }
  SUBCASE("clients sending the start of huge queries before logging in cost no memory") {
    const long before = strict_proxy().rss_kib();
    std::vector<std::unique_ptr<RawClient>> clients;
    for (int i = 0; i < 8; ++i) {
      clients.push_back(std::make_unique<RawClient>(strict_proxy().port()));
      REQUIRE(first_answer(*clients.back(), {{"user", "pgsd_pw"}}));
      std::string start("Q\x04\0\0\0", 5);  // announces 64 MiB
      clients.back()->send(start + std::string(1 << 20, 'x'));
    }
    for (auto& c : clients) CHECK(c->closed_by_peer());
    CHECK(strict_proxy().rss_kib() - before < 16 * 1024);
  }
  // The password itself still works, and nothing was parsed for those clients.
  Conn c(strict_proxy().conninfo("pgsd_pw", "password=pw-secret"));
  CHECK_MESSAGE(c.ok(), c.error());
  CHECK(strict_proxy().alive());
}
