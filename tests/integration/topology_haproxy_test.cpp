// Several proxies side by side behind a TCP load balancer (issue 15): two pgsoftdelete processes
// (two ports standing for two hosts) with one rules file, behind Debian's haproxy checking GET /ready.
// A rules change reaches both with a reload each; an instance shutting down answers 503, haproxy
// takes it out, and a client loop through the balancer sees no failed connection.
#include <doctest/doctest.h>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "softdelete_support.hpp"

using namespace pgsoftdelete::test;

namespace {

/// haproxy in TCP mode in front of `backends` (port, metrics port), health-checked on /ready.
class HaProxy {
 public:
  explicit HaProxy(const std::vector<std::pair<std::uint16_t, std::uint16_t>>& backends) : port_(free_port()) {
    char dir_template[] = "/tmp/pgsd-haproxy-XXXXXX";
    if (::mkdtemp(dir_template) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = dir_template;
    std::ofstream cfg(dir_ / "haproxy.cfg");
    cfg << "global\n  maxconn 200\n"
        << "defaults\n  mode tcp\n  timeout connect 2s\n  timeout client 60s\n  timeout server 60s\n"
        << "  retries 3\n  option redispatch\n"
        << "frontend pg\n  bind 127.0.0.1:" << port_ << "\n  default_backend proxies\n"
        << "backend proxies\n  balance roundrobin\n  option httpchk GET /ready\n  http-check expect status 200\n"
        << "  default-server inter 100ms fall 1 rise 2\n";
    for (std::size_t i = 0; i < backends.size(); ++i)
      cfg << "  server p" << i + 1 << " 127.0.0.1:" << backends[i].first << " check port " << backends[i].second << "\n";
    cfg.close();
    const auto r = run_command("haproxy -D -p " + (dir_ / "haproxy.pid").string() + " -f " + (dir_ / "haproxy.cfg").string());
    if (r.status != 0 || !wait_for_port(port_, std::chrono::seconds(10)))
      throw std::runtime_error("cannot start haproxy: " + r.output);
  }
  ~HaProxy() {
    run_command("kill $(cat " + (dir_ / "haproxy.pid").string() + ") 2>/dev/null");
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  [[nodiscard]] std::string conninfo() const {
    return "host=127.0.0.1 port=" + std::to_string(port_) + " dbname=postgres user=postgres connect_timeout=5";
  }

 private:
  std::filesystem::path dir_;
  std::uint16_t port_;
};

struct Instance {
  std::uint16_t metrics = free_port();
  std::unique_ptr<ProxyProcess> process;
  std::size_t sessions() const {
    const std::string log = process->log();
    std::size_t n = 0;
    for (auto at = log.find("opened from"); at != std::string::npos; at = log.find("opened from", at + 1)) ++n;
    return n;
  }
};

Instance start_instance(const std::filesystem::path& rules, const std::string& name) {
  Instance i;
  const auto file = std::filesystem::temp_directory_path() / ("pgsd-" + name + ".toml");
  std::ofstream(file) << "metrics_listen = \"127.0.0.1:" << i.metrics << "\"\nshutdown_timeout_ms = 20000\nrules = \""
                      << rules.string() << "\"\nupstream = \"" << cluster().endpoint() << "\"\n";
  i.process = std::make_unique<ProxyProcess>(std::vector<std::string>{"--config", file.string()});
  return i;
}

/// Until `check` holds, for up to `seconds`.
template <class F>
bool eventually(F check, int seconds = 10) {
  for (int i = 0; i < seconds * 20; ++i) {
    if (check()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

}  // namespace

TEST_CASE("two proxies behind haproxy with one rules file: reloads, and an instance taken out while it drains") {
  reset_seed();
  const auto rules = std::filesystem::temp_directory_path() / "pgsd-haproxy-rules.toml";
  std::filesystem::copy_file(seed_rules(), rules, std::filesystem::copy_options::overwrite_existing);
  Instance one = start_instance(rules, "haproxy-1"), two = start_instance(rules, "haproxy-2");
  HaProxy balancer({{one.process->port(), one.metrics}, {two.process->port(), two.metrics}});
  // Both instances in service (rise 2 checks), then connections alternate between them.
  REQUIRE(eventually([&] {
    Conn c(balancer.conninfo());
    return c.ok() && one.sessions() > 0 && two.sessions() > 0;
  }));

  const auto counts_through_balancer = [&](const std::string& sql) {
    std::set<std::string> seen;
    for (int i = 0; i < 6; ++i) {
      Conn c(balancer.conninfo());
      seen.insert(c.ok() ? c.scalar(sql) : "error: " + c.error());
    }
    return seen;
  };
  const auto one_before = one.sessions(), two_before = two.sessions();
  CHECK(counts_through_balancer("SELECT count(*) FROM aliens") == std::set<std::string>{"3"});
  CHECK(one.sessions() >= one_before + 2);  // round robin: each instance served some
  CHECK(two.sessions() >= two_before + 2);

  // One rules file: aliens leave the rules; a reload of each instance and every connection agrees.
  std::ofstream(rules) << "[[table]]\nname = \"humans\"\n";
  one.process->signal(SIGHUP);
  two.process->signal(SIGHUP);
  REQUIRE(eventually([&] {
    return one.process->log().find("reloaded") != std::string::npos && two.process->log().find("reloaded") != std::string::npos;
  }));
  CHECK(counts_through_balancer("SELECT count(*) FROM aliens") == std::set<std::string>{"5"});
  CHECK(counts_through_balancer("SELECT count(*) FROM humans") == std::set<std::string>{"3"});

  // Instance one drains (SIGUSR2, as before an upgrade or a stop) with a transaction open: it answers
  // /ready with 503 until its clients leave, haproxy takes it out (connections it had already sent
  // there are redispatched: the listener is closed), and a client loop through the balancer sees no
  // failure. (SIGTERM would close its idle sessions at once, one just logged in among them.)
  Conn open_on_one(one.process->conninfo());
  REQUIRE(open_on_one.exec("BEGIN").ok());
  REQUIRE(open_on_one.exec("UPDATE humans SET name = name WHERE id = 2").ok());
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, failed{0};
  std::thread loop([&] {
    while (!stop) {
      Conn c(balancer.conninfo());
      if (c.ok() && c.scalar("SELECT count(*) FROM humans") == "3") ++ok;
      else ++failed;
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  one.process->signal(SIGUSR2);
  const auto ready = run_command("curl -s -i --max-time 5 http://127.0.0.1:" + std::to_string(one.metrics) + "/ready");
  CHECK(ready.output.starts_with("HTTP/1.1 503"));
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  const auto one_during = one.sessions();
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  CHECK(one.sessions() == one_during);  // out of rotation: nothing new reaches it
  CHECK(one.process->alive());          // still serving its transaction
  CHECK(open_on_one.exec("COMMIT").tag() == "COMMIT");
  open_on_one = Conn(two.process->conninfo());  // its client leaves: the drained instance exits
  CHECK(one.process->wait_exit(std::chrono::seconds(10)) == 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  stop = true;
  loop.join();
  CHECK(failed == 0);
  CHECK(ok > 10);
  MESSAGE("connections through the balancer during the drain: " << ok.load() << " ok, " << failed.load() << " failed");
}
