// Upgrades and restarts without refusing clients (issue 15): with so_reuseport a new process listens
// on the port of the running one; SIGUSR2 makes the old one take what the kernel queued for it, close
// its listener and leave once its clients have. A client loop connecting all the while sees no
// refused connection and no transaction cut.
#include <doctest/doctest.h>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>

#include "softdelete_support.hpp"

using namespace pgsoftdelete::test;

TEST_CASE("so_reuseport: a new process takes over the port while the old one drains on SIGUSR2") {
  cluster().sql("DROP TABLE IF EXISTS handoff; CREATE TABLE handoff (n int PRIMARY KEY)");
  const auto file = std::filesystem::temp_directory_path() / "pgsd-handoff.toml";
  std::ofstream(file) << "so_reuseport = true\nshutdown_timeout_ms = 20000\n";
  const std::vector<std::string> args{"--config", file.string(), "--upstream", cluster().endpoint(), "--rules",
                                      seed_rules().string()};
  const auto port = free_port();
  auto old_proxy = std::make_unique<ProxyProcess>(args, port);
  const std::string conninfo = old_proxy->conninfo("postgres", "connect_timeout=5");

  // A transaction open on the old process across the whole switch.
  Conn long_lived(conninfo);
  REQUIRE(long_lived.exec("BEGIN").ok());
  REQUIRE(long_lived.exec("INSERT INTO handoff VALUES (-1)").ok());
  // And a client between transactions (a pooled connection): not cut either.
  Conn idle(conninfo);
  REQUIRE(idle.exec("SELECT 1").ok());

  std::atomic<bool> stop{false};
  std::atomic<int> committed{0}, failed{0};
  std::string first_failure;
  std::thread loop([&] {
    for (int n = 0; !stop; ++n) {
      Conn c(conninfo);
      bool ok = c.ok() && c.exec("BEGIN").ok() && c.exec("INSERT INTO handoff VALUES (" + std::to_string(n) + ")").ok() &&
                c.exec("COMMIT").tag() == "COMMIT";
      if (ok) {
        ++committed;
      } else if (failed++ == 0) {
        first_failure = c.error();
      }
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  ProxyProcess new_proxy(args, port);
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  old_proxy->signal(SIGUSR2);
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  // The old process still serves its transaction, then leaves when its client does.
  CHECK(old_proxy->alive());
  CHECK(idle.exec("SELECT 2").ok());
  idle = Conn(new_proxy.conninfo());
  CHECK(long_lived.exec("INSERT INTO handoff VALUES (-2)").ok());
  CHECK(long_lived.exec("COMMIT").tag() == "COMMIT");
  long_lived = Conn(new_proxy.conninfo());
  CHECK(old_proxy->wait_exit(std::chrono::seconds(10)) == 0);
  const int before_exit = committed;
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  stop = true;
  loop.join();
  CHECK_MESSAGE(failed == 0, first_failure);
  CHECK(committed > before_exit);  // the new process served the loop after the old one left
  CHECK(committed > 20);
  // Every COMMIT the loop saw is in the table, and the long transaction's two rows.
  CHECK(direct("SELECT count(*) FROM handoff WHERE n >= 0") == std::to_string(committed.load()));
  CHECK(direct("SELECT count(*) FROM handoff WHERE n < 0") == "2");
  CHECK(old_proxy->log().find("draining: listener closed") != std::string::npos);
}
