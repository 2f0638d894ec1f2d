// Faults: malformed and oversized client messages, an unreachable or vanishing upstream, a
// client that terminates or vanishes. The proxy answers with the right SQLSTATE, logs why, and
// never crashes.
#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>

#include "codec/messages.hpp"
#include "codec/startup.hpp"
#include "support/cluster.hpp"
#include "support/fake_upstream.hpp"
#include "support/pq.hpp"
#include "support/process.hpp"
#include "support/raw_client.hpp"

using namespace pgsoftdelete::test;
using namespace std::chrono_literals;
namespace codec = pgsoftdelete::proxy::codec;

namespace {

ProxyProcess& proxy() {
  static ProxyProcess p({"--upstream", cluster().endpoint()});
  return p;
}

/// Server backends of the test cluster whose application_name is `name`.
int backends_named(const std::string& name) {
  Conn direct(cluster().conninfo());
  return std::stoi(direct.scalar("SELECT count(*) FROM pg_stat_activity WHERE application_name = '" + name + "'"));
}

bool eventually(const std::function<bool()>& condition) {
  for (int i = 0; i < 500; ++i) {
    if (condition()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

/// A fake upstream that completes a trust login, then closes the socket when the first query
/// arrives, as a crashed server would: at once, or after half a DataRow.
FakeUpstream::Script vanishing(bool half_row) {
  return [half_row](FakeConnection& c) {
    if (!c.read_startup()) return;
    c.login_ok();
    c.read_message();  // the query
    if (half_row) c.send(std::string("D\0\0\0\x40\0\x01", 7));
  };
}

}  // namespace

TEST_CASE("a message length below four gets 08P01 and a closed connection") {
  RawClient client(proxy().port());
  REQUIRE(client.startup());
  client.send(std::string("Q\0\0\0\x02", 5));
  auto m = client.read();
  REQUIRE(m);
  CHECK(sqlstate_of(*m) == "08P01");
  CHECK(message_of(*m).find("invalid length 2") != std::string::npos);
  CHECK(client.closed_by_peer());
  CHECK(proxy().log().find("malformed message from client") != std::string::npos);
}

TEST_CASE("a message above the maximum size gets 08P01 without being read") {
  // A small cap from a configuration file.
  const auto dir = std::filesystem::temp_directory_path() / "pgsd-config-test";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "proxy.toml") << "upstream = \"" << cluster().endpoint() << "\"\nmax_message_size = 4096\n";
  ProxyProcess small({"--config", (dir / "proxy.toml").string()});
  RawClient client(small.port());
  REQUIRE(client.startup());
  std::string ok;
  codec::encode(codec::Query{"SELECT '" + std::string(3000, 'a') + "'"}, ok);
  client.send(ok);
  bool ready = false;
  while (auto m = client.read())
    if (m->type == 'Z') {
      ready = true;
      break;
    }
  REQUIRE(ready);
  std::string big;
  codec::encode(codec::Query{"SELECT '" + std::string(5000, 'a') + "'"}, big);
  client.send(big);
  auto m = client.read();
  REQUIRE(m);
  CHECK(sqlstate_of(*m) == "08P01");
  CHECK(message_of(*m).find("above the maximum of 4096") != std::string::npos);
  CHECK(client.closed_by_peer());
  std::filesystem::remove_all(dir);
}

TEST_CASE("garbage instead of a startup packet gets 08P01 and the proxy lives on") {
  for (const std::string& garbage : {std::string("GET / HTTP/1.1\r\n\r\n"), std::string("\0\0\0\x02", 4),
                                    std::string("\x7f\xff\xff\xff", 4), std::string("\0\0\0\x09\0\x02\0\0\0", 9)}) {
    RawClient client(proxy().port());
    client.send(garbage);
    auto m = client.read();
    REQUIRE(m);
    CHECK((sqlstate_of(*m) == "08P01" || sqlstate_of(*m) == "0A000"));
    CHECK(client.closed_by_peer());
  }
  CHECK(proxy().alive());
  Conn c(proxy().conninfo());
  CHECK(c.ok());
}

TEST_CASE("SSLRequest and GSSENCRequest are answered N, then the startup proceeds") {
  RawClient client(proxy().port());
  client.send(std::string("\0\0\0\x08\x04\xd2\x16\x2f", 8));
  CHECK(client.read_byte() == 'N');
  client.send(std::string("\0\0\0\x08\x04\xd2\x16\x30", 8));
  CHECK(client.read_byte() == 'N');
  CHECK(client.startup());
  Conn c(proxy().conninfo("postgres", "sslmode=prefer gssencmode=prefer"));
  CHECK(c.ok());
}

TEST_CASE("an unreachable upstream gets 08001 naming it") {
  const auto dead = free_port();
  ProxyProcess lonely({"--upstream", "127.0.0.1:" + std::to_string(dead)});
  RawClient client(lonely.port());
  client.send(codec::encode_startup_message({{"user", "postgres"}}));
  auto m = client.read();
  REQUIRE(m);
  CHECK(sqlstate_of(*m) == "08001");
  CHECK(message_of(*m).find("could not connect to upstream 127.0.0.1:" + std::to_string(dead)) !=
        std::string::npos);
  Conn c(lonely.conninfo());
  CHECK_FALSE(c.ok());
  CHECK(c.error().find("could not connect to upstream") != std::string::npos);
}

TEST_CASE("an upstream that vanishes mid-query gets the client 08006") {
  FakeUpstream upstream(vanishing(false));
  ProxyProcess p({"--upstream", "127.0.0.1:" + std::to_string(upstream.port())});
  Conn c(p.conninfo());
  REQUIRE_MESSAGE(c.ok(), c.error());
  REQUIRE(PQsendQuery(c.get(), "SELECT 1") == 1);
  Result r(PQgetResult(c.get()));
  INFO(r.error(), p.log());
  CHECK(r.status() == PGRES_FATAL_ERROR);
  CHECK(r.sqlstate() == "08006");
  CHECK(r.error().find("lost connection to upstream 127.0.0.1:" + std::to_string(upstream.port())) !=
        std::string::npos);
  CHECK(p.log().find("upstream connection lost") != std::string::npos);
}

TEST_CASE("an upstream that vanishes inside a message: the client connection is closed, not corrupted") {
  FakeUpstream upstream(vanishing(true));
  ProxyProcess p({"--upstream", "127.0.0.1:" + std::to_string(upstream.port())});
  Conn c(p.conninfo());
  REQUIRE_MESSAGE(c.ok(), c.error());
  auto r = c.exec("SELECT 1");
  CHECK(r.status() == PGRES_FATAL_ERROR);
  CHECK(PQstatus(c.get()) == CONNECTION_BAD);
  CHECK(p.log().find("upstream connection lost in the middle of a message") != std::string::npos);
  CHECK(p.alive());
}

TEST_CASE("a backend terminated mid-query: the server's own FATAL reaches the client") {
  Conn c(proxy().conninfo("postgres", "application_name=pgsd_victim"));
  REQUIRE(c.ok());
  REQUIRE(PQsendQuery(c.get(), "SELECT pg_sleep(30)") == 1);
  std::this_thread::sleep_for(200ms);
  cluster().sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'pgsd_victim'");
  Result r(PQgetResult(c.get()));
  CHECK(r.status() == PGRES_FATAL_ERROR);
  CHECK(r.sqlstate() == "57P01");  // admin_shutdown
  while (PGresult* more = PQgetResult(c.get())) PQclear(more);
  CHECK_FALSE(c.exec("SELECT 1").ok());
  CHECK(PQstatus(c.get()) == CONNECTION_BAD);
}

TEST_CASE("Terminate closes both sides cleanly") {
  RawClient client(proxy().port());
  client.send(codec::encode_startup_message({{"user", "postgres"}, {"application_name", "pgsd_terminate"}}));
  while (auto m = client.read())
    if (m->type == 'Z') break;
  CHECK(backends_named("pgsd_terminate") == 1);
  client.send(std::string("X\0\0\0\x04", 5));
  CHECK(client.closed_by_peer());
  CHECK(eventually([] { return backends_named("pgsd_terminate") == 0; }));
}

TEST_CASE("a client that vanishes closes its upstream connection") {
  RawClient client(proxy().port());
  client.send(codec::encode_startup_message({{"user", "postgres"}, {"application_name", "pgsd_vanish"}}));
  while (auto m = client.read())
    if (m->type == 'Z') break;
  CHECK(backends_named("pgsd_vanish") == 1);
  client.reset();
  CHECK(eventually([] { return backends_named("pgsd_vanish") == 0; }));
  CHECK(proxy().alive());
}
