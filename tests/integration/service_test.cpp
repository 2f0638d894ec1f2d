// Running as a service: --check, reload under live traffic (good and broken files), and a
// graceful shutdown that lets open transactions finish.
#include <doctest/doctest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "softdelete_support.hpp"
#include "support/raw_client.hpp"
#include "support/wire.hpp"

using namespace pgsoftdelete::test;
using namespace std::chrono_literals;

namespace {

std::filesystem::path write_rules(const std::string& name, const std::string& text) {
  const auto file = std::filesystem::temp_directory_path() / name;
  std::ofstream(file) << text;
  return file;
}

const std::string humans_only = "[[table]]\nname = \"humans\"\n";
const std::string both = "[[table]]\nname = \"humans\"\n[[table]]\nname = \"aliens\"\n";

bool wait_for_log(const ProxyProcess& p, const std::string& text) {
  for (int i = 0; i < 300; ++i) {
    if (p.log().find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

/// Runs queries on its own connection until stopped; counts failures.
class Traffic {
 public:
  explicit Traffic(const std::string& conninfo)
      : thread_([this, conninfo] {
          Conn c(conninfo);
          while (!stop_) {
            ++queries_;
            if (!c.exec("SELECT count(*) FROM humans h JOIN aliens a ON a.human_id = h.id").ok()) ++failures_;
          }
        }) {}
  ~Traffic() { finish(); }
  void finish() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int queries() const { return queries_; }
  int failures() const { return failures_; }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<int> queries_{0};
  std::atomic<int> failures_{0};
  std::thread thread_;
};

}  // namespace

TEST_CASE("--check validates the configuration and the rules") {
  const auto good = write_rules("pgsd-check-good.toml", both);
  auto ok = run_command(std::string(PGSD_BINARY) + " --check --rules " + good.string());
  CHECK(ok.status == 0);
  CHECK(ok.output.find("configuration OK (2 rule tables, mode enforce)") != std::string::npos);
  const auto bad = write_rules("pgsd-check-bad.toml", "[[table]]\nname = \"humans\"\ncolum = \"x\"\n");
  auto broken = run_command(std::string(PGSD_BINARY) + " --check --rules " + bad.string());
  CHECK(broken.status != 0);
  CHECK(broken.output.find(bad.string() + ":3:") != std::string::npos);
  const auto config = write_rules("pgsd-check.toml", "listen = \"127.0.0.1:1\"\nio_thread = 2\n");
  auto bad_config = run_command(std::string(PGSD_BINARY) + " --check --config " + config.string());
  CHECK(bad_config.status != 0);
  CHECK(bad_config.output.find(config.string() + ":2: unknown key \"io_thread\"") != std::string::npos);
}

TEST_CASE("SIGHUP reloads the rules under live traffic; a broken file keeps the old rules") {
  reset_seed();
  const auto rules = write_rules("pgsd-reload.toml", humans_only);
  ProxyProcess proxy({"--upstream", cluster().endpoint(), "--rules", rules.string()});
  Conn c(proxy.conninfo());
  REQUIRE(c.ok());
  CHECK(c.scalar("SELECT count(*) FROM aliens") == "5");  // not a rule table yet
  CHECK(c.scalar("SELECT count(*) FROM humans") == "3");  // rewritten, and now in the old rules' cache
  Traffic traffic(proxy.conninfo());

  write_rules("pgsd-reload.toml", both);
  proxy.signal(SIGHUP);
  REQUIRE(wait_for_log(proxy, "reloaded: 2 rule tables"));
  CHECK(c.scalar("SELECT count(*) FROM aliens") == "3");  // the same connection, the new rules

  write_rules("pgsd-reload.toml", "[[table]]\nname = \"humans\"\nkind = \"sometimes\"\n");
  proxy.signal(SIGHUP);
  REQUIRE(wait_for_log(proxy, "reload failed, keeping the previous configuration and rules"));
  CHECK(proxy.log().find("pgsd-reload.toml:3") != std::string::npos);
  CHECK(c.scalar("SELECT count(*) FROM aliens") == "3");

  // The old rules' cached plan for humans is never applied under rules that no longer list it.
  write_rules("pgsd-reload.toml", "[[table]]\nname = \"aliens\"\n");
  proxy.signal(SIGHUP);
  REQUIRE(wait_for_log(proxy, "reloaded: 1 rule tables"));
  CHECK(c.scalar("SELECT count(*) FROM humans") == "5");

  std::this_thread::sleep_for(100ms);
  traffic.finish();
  CHECK(traffic.queries() > 0);
  CHECK(traffic.failures() == 0);
  CHECK(proxy.alive());
  // Nobody was disconnected: the only sessions closed are the test's port probe and the
  // traffic connection, which said goodbye itself.
  REQUIRE(wait_for_log(proxy, "closed: client terminated"));
  const auto log = proxy.log();
  std::size_t closed = 0;
  for (auto at = log.find("closed: "); at != std::string::npos; at = log.find("closed: ", at + 1)) ++closed;
  CHECK(closed == 2);
  CHECK(log.find("closed: client terminated") != std::string::npos);
}

TEST_CASE("a prepared statement follows a reload of the rules") {
  reset_seed();
  const auto rules = write_rules("pgsd-reload-prepared.toml", humans_only);
  ProxyProcess proxy({"--upstream", cluster().endpoint(), "--rules", rules.string()});
  Conn c(proxy.conninfo());
  Result prep(PQprepare(c.get(), "count_aliens", "SELECT count(*) FROM aliens", 0, nullptr));
  REQUIRE(prep.ok());
  CHECK(Result(PQexecPrepared(c.get(), "count_aliens", 0, nullptr, nullptr, nullptr, 0)).value() == "5");
  write_rules("pgsd-reload-prepared.toml", both);
  proxy.signal(SIGHUP);
  REQUIRE(wait_for_log(proxy, "reloaded"));
  CHECK(Result(PQexecPrepared(c.get(), "count_aliens", 0, nullptr, nullptr, nullptr, 0)).value() == "3");
}

namespace {

/// Reads messages until ReadyForQuery; true if none was an error.
bool until_ready(RawClient& c) {
  bool ok = true;
  for (auto m = c.read(); m; m = c.read()) {
    if (m->type == 'E') ok = false;
    if (m->type == 'Z') return ok;
  }
  return false;
}

}  // namespace

TEST_CASE("SIGTERM lets an open transaction finish, closes idle sessions with 57P01, exits 0") {
  reset_seed();
  ProxyProcess proxy({"--upstream", cluster().endpoint(), "--rules", seed_rules().string()});
  Conn busy(proxy.conninfo());
  REQUIRE(busy.ok());
  RawClient idle(proxy.port());
  REQUIRE(idle.startup());
  REQUIRE(busy.exec("BEGIN").ok());
  REQUIRE(busy.exec("DELETE FROM aliens WHERE id = 1").ok());
  proxy.signal(SIGTERM);
  REQUIRE(wait_for_log(proxy, "shutting down"));
  // The idle session is told why it ends, as PostgreSQL's own shutdown does.
  auto m = idle.read();
  REQUIRE(m);
  CHECK(sqlstate_of(*m) == "57P01");
  CHECK(message_of(*m) == "terminating connection due to administrator command");
  CHECK(idle.closed_by_peer());
  // New clients are turned away.
  Conn late(proxy.conninfo());
  CHECK_FALSE(late.ok());
  // The open transaction goes on and commits.
  CHECK(busy.scalar("SELECT count(*) FROM aliens") == "2");
  CHECK(busy.exec("COMMIT").ok());
  CHECK(direct("SELECT is_deleted FROM aliens WHERE id = 1") == "t");
  CHECK(proxy.wait_exit(5s) == 0);
}

TEST_CASE("a transaction still open at the shutdown timeout is closed with 57P01") {
  reset_seed();
  const auto config = write_rules("pgsd-shutdown.toml", "shutdown_timeout_ms = 300\n");
  ProxyProcess proxy({"--config", config.string(), "--upstream", cluster().endpoint()});
  RawClient busy(proxy.port());
  REQUIRE(busy.startup());
  busy.send(wire::query("BEGIN"));
  REQUIRE(until_ready(busy));
  busy.send(wire::query("INSERT INTO humans VALUES (99, 'Temp', false)"));
  REQUIRE(until_ready(busy));
  proxy.signal(SIGTERM);
  CHECK(proxy.wait_exit(5s) == 0);
  CHECK(proxy.log().find("shutdown timeout: closing 1 sessions") != std::string::npos);
  auto m = busy.read();
  REQUIRE(m);
  CHECK(sqlstate_of(*m) == "57P01");
  CHECK(busy.closed_by_peer());
  CHECK(direct("SELECT count(*) FROM humans WHERE id = 99") == "0");
}
