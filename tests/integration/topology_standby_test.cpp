// Several upstream hosts with target_session_attrs (issue 15): a real primary and a streaming standby
// (pg_basebackup), each session sent where libpq would send it, and a promotion of the standby while
// clients reconnect: new connections reach the new primary without a reload.
#include <doctest/doctest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "support/cluster.hpp"
#include "support/pq.hpp"
#include "support/process.hpp"
#include "support/raw_client.hpp"
#include "codec/startup.hpp"

using namespace pgsoftdelete::test;

namespace {

/// A proxy in front of `hosts` with `attrs`, from a configuration file (as operators write it).
std::unique_ptr<ProxyProcess> proxy_for(const std::vector<const Cluster*>& hosts, const std::string& attrs,
                                        const std::string& name) {
  std::string list;
  for (const auto* c : hosts) list += (list.empty() ? "\"" : ", \"") + c->endpoint() + "\"";
  const auto file = std::filesystem::temp_directory_path() / ("pgsd-" + name + ".toml");
  std::ofstream(file) << "upstream = [" << list << "]\ntarget_session_attrs = \"" << attrs
                      << "\"\nserver_connect_timeout_ms = 2000\n";
  return std::make_unique<ProxyProcess>(std::vector<std::string>{"--config", file.string()});
}

/// Which server a new connection through `proxy` reaches: its port, or the error.
std::string lands_on(const ProxyProcess& proxy) {
  Conn c(proxy.conninfo("postgres", "connect_timeout=5"));
  if (!c.ok()) return "error: " + c.error();
  return c.scalar("SELECT current_setting('port')");
}

bool eventually_in_log(const ProxyProcess& proxy, const std::string& text) {
  for (int i = 0; i < 100; ++i) {
    if (proxy.log().find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

void wait_for_replay(const Cluster& standby, const std::string& table) {
  for (int i = 0; i < 200; ++i) {
    Conn c(standby.conninfo());
    if (c.ok() && c.scalar("SELECT to_regclass('" + table + "') IS NOT NULL") == "t") return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  FAIL("the standby did not replay " << table);
}

}  // namespace

TEST_CASE("target_session_attrs over a primary and a streaming standby, then a promotion while clients reconnect") {
  Cluster primary;
  Cluster standby(StandbyOf{primary});
  primary.sql("CREATE TABLE failover (n int PRIMARY KEY, at text)");
  wait_for_replay(standby, "failover");
  const std::string p = std::to_string(primary.port()), s = std::to_string(standby.port());
  {
    Conn check(standby.conninfo());
    REQUIRE(check.scalar("SELECT pg_is_in_recovery()") == "t");
  }

  SUBCASE("each attribute reaches the server libpq would choose") {
    auto any = proxy_for({&standby, &primary}, "any", "tsa-any");
    CHECK(lands_on(*any) == s);  // the first host that accepts
    {
      // A cancel request goes to the host of the session it names, and to it alone.
      Conn c(any->conninfo());
      REQUIRE(c.ok());
      CHECK(c.cancel_long_query() == "57014");
      CHECK(eventually_in_log(*any, "cancel request to " + standby.endpoint() + " forwarded"));
      CHECK(any->log().find("cancel request to " + standby.endpoint() + " forwarded, ") == std::string::npos);
    }
    auto rw = proxy_for({&primary, &standby}, "read-write", "tsa-rw");
    for (int i = 0; i < 3; ++i) CHECK(lands_on(*rw) == p);
    auto primary_only = proxy_for({&primary, &standby}, "primary", "tsa-primary");
    CHECK(lands_on(*primary_only) == p);
    {
      Conn c(rw->conninfo());
      REQUIRE(c.ok());
      CHECK(c.exec("INSERT INTO failover VALUES (1, 'primary')").ok());
    }
  }

  SUBCASE("a host found not to fit after the login ends that session with 08001; the next ones skip it") {
    // The standby is first: the client's own login went to it, so the proxy cannot move it.
    auto rw = proxy_for({&standby, &primary}, "read-write", "tsa-rw-order");
    const std::string first = lands_on(*rw);
    CHECK(first.find("server is in hot standby mode (target_session_attrs = read-write)") != std::string::npos);
    CHECK(first.find("connect again") != std::string::npos);
    for (int i = 0; i < 3; ++i) CHECK(lands_on(*rw) == p);  // learned: the standby is tried last

    auto standby_only = proxy_for({&primary, &standby}, "standby", "tsa-standby");
    {
      // What the client reads: the login's messages, then FATAL 08001 in place of ReadyForQuery.
      RawClient raw(standby_only->port());
      raw.send(pgsoftdelete::proxy::codec::encode_startup_message({{"user", "postgres"}, {"database", "postgres"}}));
      std::optional<RawMessage> m;
      while ((m = raw.read()) && m->type != 'E' && m->type != 'Z') {}
      REQUIRE(m);
      CHECK(m->type == 'E');
      CHECK(sqlstate_of(*m) == "08001");
      CHECK(message_of(*m).find("server is not in hot standby mode (target_session_attrs = standby)") != std::string::npos);
      CHECK(raw.closed_by_peer());
    }
    for (int i = 0; i < 3; ++i) CHECK(lands_on(*standby_only) == s);

    auto read_only = proxy_for({&primary, &standby}, "read-only", "tsa-ro");
    CHECK(lands_on(*read_only).find("session is not read-only") != std::string::npos);
    CHECK(lands_on(*read_only) == s);

    // prefer-standby never fails for a role: the first login lands where it lands, later ones on
    // the standby once it is known.
    auto prefer = proxy_for({&primary, &standby}, "prefer-standby", "tsa-prefer");
    CHECK(lands_on(*prefer) == p);
    for (int i = 0; i < 3; ++i) CHECK(lands_on(*prefer) == s);
    // The log says which host did not fit, and why.
    CHECK(rw->log().find("does not fit target_session_attrs = read-write: server is in hot standby mode") !=
          std::string::npos);
  }

  SUBCASE("promotion: the primary stops, the standby is promoted, new connections reach it without a reload") {
    auto rw = proxy_for({&primary, &standby}, "read-write", "tsa-failover");
    REQUIRE(lands_on(*rw) == p);
    std::atomic<bool> stop{false};
    std::atomic<int> on_primary{0}, on_promoted{0}, failed{0};
    std::atomic<int> written_after{0};
    std::thread clients([&] {
      for (int n = 100; !stop; ++n) {
        Conn c(rw->conninfo("postgres", "connect_timeout=3"));
        const std::string port = c.ok() ? c.scalar("SELECT current_setting('port')") : "";
        const bool wrote = c.ok() && c.exec("INSERT INTO failover VALUES (" + std::to_string(n) + ", '" + port + "')").ok();
        if (!wrote) ++failed;
        else if (port == p) ++on_primary;
        else if (port == s) ++on_promoted, ++written_after;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    primary.stop();
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    // Meanwhile: the primary refuses, the standby is read-only: no session may write there.
    standby.promote();
    for (int i = 0; i < 100 && on_promoted < 5; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    stop = true;
    clients.join();
    CHECK(on_primary > 0);
    CHECK(on_promoted >= 5);
    MESSAGE("writes on the primary: " << on_primary.load() << ", failed during the switch: " << failed.load()
                                      << ", on the promoted standby: " << on_promoted.load());
    // Every write that succeeded after the switch is on the promoted server, none was lost.
    Conn promoted(standby.conninfo());
    CHECK(promoted.scalar("SELECT count(*) FROM failover WHERE at = '" + s + "'") == std::to_string(written_after.load()));
    CHECK(promoted.scalar("SELECT pg_is_in_recovery()") == "f");
    CHECK(rw->log().find("reload") == std::string::npos);
  }
}
