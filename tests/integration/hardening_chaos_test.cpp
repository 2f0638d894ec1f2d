// A server that misbehaves on purpose (bad lengths, huge headers, unknown authentication
// requests, silence, closing mid-login), and the timeouts: each client gets a clear error,
// the proxy keeps serving others, and its memory stays bounded.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "codec/messages.hpp"
#include "codec/wire.hpp"
#include "codec/startup.hpp"
#include "support/cluster.hpp"
#include "support/fake_upstream.hpp"
#include "support/pq.hpp"
#include "support/process.hpp"
#include "support/raw_client.hpp"
#include "support/seed.hpp"

using namespace pgsoftdelete::test;
using namespace std::chrono_literals;
namespace codec = pgsoftdelete::proxy::codec;

namespace {

/// A proxy with these configuration lines, in front of `upstream`.
struct ConfiguredProxy {
  ConfiguredProxy(const std::string& upstream, const std::string& lines)
      : dir(std::filesystem::temp_directory_path() /
            ("pgsd-chaos-" + std::to_string(::getpid()) + "-" + std::to_string(counter++))),
        proxy((write(upstream, lines), std::vector<std::string>{"--config", (dir / "proxy.toml").string()})) {}
  ~ConfiguredProxy() { std::filesystem::remove_all(dir); }
  void write(const std::string& upstream, const std::string& lines) const {
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "proxy.toml") << "upstream = \"" << upstream << "\"\n" << lines;
  }
  static inline int counter = 0;
  std::filesystem::path dir;
  ProxyProcess proxy;
};

std::string auth(std::uint32_t code) {
  std::string body;
  codec::put_u32(body, code);
  std::string out;
  codec::encode_raw('R', body, out);
  return out;
}

/// Connects with libpq and returns its error ("" if it connected).
std::string connect_error(const ProxyProcess& p) {
  Conn c(p.conninfo("postgres", "connect_timeout=10"));
  return c.ok() ? "" : c.error();
}

}  // namespace

TEST_CASE("chaos: each misbehaving server gives the client a clear error and the proxy lives on") {
  struct Case {
    const char* name;
    FakeUpstream::Script script;
    const char* expected;  // in the client's error
  };
  const Case cases[] = {
      {"a message length below four",
       [](FakeConnection& c) {
         c.read_startup();
         c.send(std::string("R\0\0\0\x02", 5));
         c.wait_closed();
       },
       "sent an invalid message"},
      {"an unknown authentication request",
       [](FakeConnection& c) {
         c.read_startup();
         c.send(auth(99));
         c.wait_closed();
       },
       "sent an invalid message"},
      {"AuthenticationOk twice",
       [](FakeConnection& c) {
         c.read_startup();
         c.send(auth(0) + auth(0));
         c.wait_closed();
       },
       "sent an invalid message"},
      {"closing during the login",
       [](FakeConnection& c) {
         c.read_startup();
         c.send(auth(3));
         c.read_message();
       },
       "lost connection to upstream"},
      {"silence after the startup packet",
       [](FakeConnection& c) {
         c.read_startup();
         c.wait_closed();
       },
       "did not answer the login within 300 ms"},
      {"silence after the password",
       [](FakeConnection& c) {
         c.read_startup();
         c.send(auth(3));
         c.read_message();
         c.wait_closed();
       },
       "did not answer the login within 300 ms"},
      {"silence after AuthenticationOk",
       [](FakeConnection& c) {
         c.read_startup();
         c.send(auth(0));
         c.wait_closed();
       },
       "did not answer the login within 300 ms"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    FakeUpstream upstream(c.script);
    ConfiguredProxy p(upstream.endpoint(), "server_login_timeout_ms = 300\n");
    Conn conn(p.proxy.conninfo("postgres", "password=x connect_timeout=10"));
    CHECK_FALSE(conn.ok());
    CHECK(conn.error().find(c.expected) != std::string::npos);
    CHECK(p.proxy.alive());
  }
}

TEST_CASE("chaos: a server whose header promises 1 GiB costs the proxy nothing") {
  FakeUpstream upstream([](FakeConnection& c) {
    c.read_startup();
    c.send(std::string("E\x3f\xf0\0\0", 5) + "SFATAL");  // an ErrorResponse of 1 GiB less 1 MiB, 6 bytes of it
    c.wait_closed();
  });
  // With rules the session inspects ErrorResponse whole: the case that once allocated up front.
  ConfiguredProxy p(upstream.endpoint(), "server_login_timeout_ms = 1000\nrules = \"" + seed_rules().string() + "\"\n");
  const long before = p.proxy.rss_kib();
  std::vector<std::unique_ptr<RawClient>> clients;
  for (int i = 0; i < 4; ++i) {
    clients.push_back(std::make_unique<RawClient>(p.proxy.port()));
    clients.back()->send(codec::encode_startup_message({{"user", "postgres"}}));
  }
  std::this_thread::sleep_for(300ms);
  CHECK(p.proxy.rss_kib() - before < 16 * 1024);
  for (auto& c : clients) {
    auto m = c->read();
    REQUIRE(m);
    CHECK(sqlstate_of(*m) == "08001");  // then the login timeout
  }
  CHECK(p.proxy.alive());
}

TEST_CASE("timeouts: a client that never completes its login is closed") {
  cluster().sql("SET password_encryption = 'scram-sha-256'; DROP ROLE IF EXISTS pgsd_slow; "
                "CREATE ROLE pgsd_slow LOGIN PASSWORD 'slow'");
  cluster().prepend_hba("host all pgsd_slow 127.0.0.1/32 scram-sha-256");
  ConfiguredProxy p(cluster().endpoint(), "startup_timeout_ms = 400\nadmin_password = \"pw\"\n");
  SUBCASE("at the server's password prompt") {
    RawClient client(p.proxy.port());
    client.send(codec::encode_startup_message({{"user", "pgsd_slow"}}));
    auto request = client.read();
    REQUIRE(request);
    CHECK(request->type == 'R');
    auto m = client.read(5000);
    REQUIRE(m);
    CHECK(sqlstate_of(*m) == "08P01");
    CHECK(message_of(*m).find("startup_timeout_ms") != std::string::npos);
    CHECK(client.closed_by_peer());
  }
  SUBCASE("at the admin console's password prompt") {
    RawClient client(p.proxy.port());
    client.send(codec::encode_startup_message({{"user", "pgsoftdelete"}, {"database", "pgsoftdelete"}}));
    auto request = client.read();
    REQUIRE(request);
    CHECK(request->type == 'R');
    CHECK(client.closed_by_peer(5000));
  }
  CHECK(p.proxy.log().find("did not complete its login") != std::string::npos);
}

TEST_CASE("timeouts: client_idle_timeout closes idle clients, not busy ones") {
  ConfiguredProxy p(cluster().endpoint(), "client_idle_timeout_ms = 400\n");
  Conn idle(p.proxy.conninfo());
  Conn busy(p.proxy.conninfo());
  REQUIRE(idle.ok());
  REQUIRE(busy.ok());
  for (int i = 0; i < 12; ++i) {
    std::this_thread::sleep_for(100ms);
    CHECK(busy.scalar("SELECT 1") == "1");
  }
  auto r = idle.exec("SELECT 1");
  CHECK_FALSE(r.ok());
  CHECK(idle.error().find("idle-session timeout") != std::string::npos);
  CHECK(busy.scalar("SELECT 2") == "2");
}

TEST_CASE("timeouts: off by default, a client idle for a while stays") {
  ConfiguredProxy p(cluster().endpoint(), "");
  Conn c(p.proxy.conninfo());
  REQUIRE(c.ok());
  std::this_thread::sleep_for(600ms);
  CHECK(c.scalar("SELECT 3") == "3");
}

TEST_CASE("server_connect_timeout_ms bounds the connection to the upstream") {
  // A listener that never accepts: its backlog is full after one connection.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(fd, 0) == 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const std::string endpoint = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  ConfiguredProxy p(endpoint, "server_connect_timeout_ms = 300\nserver_login_timeout_ms = 300\n");
  // The first connections fill the backlog; later ones wait in SYN and time out.
  for (int i = 0; i < 3; ++i) {
    const std::string error = connect_error(p.proxy);
    CHECK_FALSE(error.empty());
    CHECK((error.find("could not connect to upstream") != std::string::npos ||
           error.find("did not answer the login") != std::string::npos));
  }
  ::close(fd);
}
