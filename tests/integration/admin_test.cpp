// The admin console through psql and the Prometheus endpoint through curl.
#include <doctest/doctest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>

#include "codec/startup.hpp"
#include "softdelete_support.hpp"
#include "support/raw_client.hpp"

using namespace pgsoftdelete::test;

namespace {

struct AdminProxy {
  explicit AdminProxy(const std::string& password = "s3cret", const std::string& extra = "")
      : metrics_port(free_port()),
        config(write(password, extra)),
        proxy({"--config", config, "--upstream", cluster().endpoint(), "--rules", seed_rules().string()}) {}

  std::string write(const std::string& password, const std::string& extra) const {
    const auto file = std::filesystem::temp_directory_path() / "pgsd-admin.toml";
    std::ofstream(file) << "admin_users = [\"ops\"]\nadmin_password = \"" << password
                        << "\"\nmetrics_listen = \"127.0.0.1:" << metrics_port << "\"\n"
                        << extra;
    return file.string();
  }

  /// psql against the console; its output (unaligned, tuples only).
  CommandResult admin(const std::string& command, const std::string& user = "ops",
                      const std::string& password = "s3cret") const {
    return run_command("PGPASSWORD=" + password + " " + std::string(PGSD_PG_BIN) + "/psql \"host=127.0.0.1 port=" +
                       std::to_string(proxy.port()) + " dbname=pgsoftdelete user=" + user +
                       "\" -X -A -t -F '|' -c \"" + command + "\"");
  }

  CommandResult curl(const std::string& path, const std::string& options = "") const {
    return run_command("curl -s -S -i --max-time 5 " + options + " http://127.0.0.1:" + std::to_string(metrics_port) +
                       path);
  }

  std::uint16_t metrics_port;
  std::string config;
  ProxyProcess proxy;
};

}  // namespace

TEST_CASE("the admin console answers SHOW and RELOAD through psql") {
  reset_seed();
  AdminProxy p;
  Conn app(p.proxy.conninfo("postgres", "application_name=app"));
  REQUIRE(app.ok());
  REQUIRE(app.exec("BEGIN").ok());
  REQUIRE(app.exec("DELETE FROM humans WHERE id = 1").ok());
  CHECK(app.exec("TRUNCATE aliens").sqlstate() == "0A000");

  auto stats = p.admin("SHOW STATS");
  CHECK(stats.status == 0);
  CHECK(stats.output.find("statements_rewritten|1\n") != std::string::npos);
  CHECK(stats.output.find("statements_refused_0A000|1\n") != std::string::npos);
  CHECK(stats.output.find("connections_in_transaction|1\n") != std::string::npos);

  auto clients = p.admin("show clients;");
  CHECK(clients.status == 0);
  CHECK(clients.output.find("|postgres|postgres|127.0.0.1:") != std::string::npos);
  CHECK(clients.output.find("|in_transaction|") != std::string::npos);

  auto rules = p.admin("SHOW RULES");
  CHECK(rules.output == "humans|is_deleted|flag|\naliens|is_deleted|flag|\n");

  auto config = p.admin("SHOW CONFIG");
  CHECK(config.output.find("upstream|" + cluster().endpoint() + "\n") != std::string::npos);
  CHECK(config.output.find("mode|enforce\n") != std::string::npos);

  auto reload = p.admin("RELOAD");
  CHECK(reload.status == 0);
  CHECK(reload.output == "RELOAD\n");
  CHECK(p.admin("SHOW STATS").output.find("reloads|1\n") != std::string::npos);

  auto unknown = p.admin("DROP TABLE humans");
  CHECK(unknown.status != 0);
  CHECK(unknown.output.find("unknown admin command") != std::string::npos);
  REQUIRE(app.exec("ROLLBACK").ok());
}

TEST_CASE("the admin console refuses other users and wrong passwords") {
  AdminProxy p;
  auto stranger = p.admin("SHOW STATS", "postgres");
  CHECK(stranger.status != 0);
  CHECK(stranger.output.find("may not use the admin console") != std::string::npos);
  auto wrong = p.admin("SHOW STATS", "ops", "guess");
  CHECK(wrong.status != 0);
  CHECK(wrong.output.find("password authentication failed") != std::string::npos);
}

TEST_CASE("the Prometheus endpoint serves the same counters") {
  reset_seed();
  AdminProxy p;
  Conn app(p.proxy.conninfo());
  REQUIRE(app.ok());
  CHECK(app.scalar("SELECT count(*) FROM humans") == "3");
  CHECK(app.exec("SELECT h.ctid FROM humans h FULL JOIN humans g ON true").sqlstate() == "0A000");
  auto r = p.curl("/metrics");
  CHECK(r.status == 0);
  CHECK(r.output.starts_with("HTTP/1.1 200 OK"));
  CHECK(r.output.find("# TYPE pgsoftdelete_statements_rewritten_total counter") != std::string::npos);
  CHECK(r.output.find("pgsoftdelete_statements_rewritten_total 1\n") != std::string::npos);
  CHECK(r.output.find("pgsoftdelete_statements_refused_total{sqlstate=\"0A000\"} 1\n") != std::string::npos);
  CHECK(r.output.find("pgsoftdelete_connections{state=\"idle\"} 1\n") != std::string::npos);
  CHECK(r.output.find("pgsoftdelete_rewrite_cache_misses_total") != std::string::npos);
  CHECK(r.output.find("pgsoftdelete_bytes_total{direction=\"server_to_client\"}") != std::string::npos);
  CHECK(p.curl("/other").output.starts_with("HTTP/1.1 404"));
}

TEST_CASE("the admin console logs in with SCRAM-SHA-256, never a cleartext password") {
  AdminProxy p;
  RawClient client(p.proxy.port());
  client.send(pgsoftdelete::proxy::codec::encode_startup_message({{"user", "ops"}, {"database", "pgsoftdelete"}}));
  auto request = client.read();
  REQUIRE(request);
  CHECK(request->type == 'R');
  CHECK(request->body == std::string("\0\0\0\x0aSCRAM-SHA-256\0\0", 19));  // AuthenticationSASL, no cleartext
  CHECK(p.admin("SHOW STATS").status == 0);
}

TEST_CASE("admin_password may be a SCRAM verifier as PostgreSQL stores it") {
  cluster().sql("SET password_encryption = 'scram-sha-256'; DROP ROLE IF EXISTS pgsd_verifier; "
                "CREATE ROLE pgsd_verifier PASSWORD 'from-postgres'");
  Conn direct(cluster().conninfo());
  const std::string verifier = direct.scalar("SELECT rolpassword FROM pg_authid WHERE rolname = 'pgsd_verifier'");
  REQUIRE(verifier.starts_with("SCRAM-SHA-256$4096:"));
  AdminProxy p(verifier);
  auto ok = p.admin("SHOW CONFIG", "ops", "from-postgres");
  CHECK(ok.status == 0);
  CHECK(ok.output.find("max_client_conn|1000") != std::string::npos);
  auto wrong = p.admin("SHOW CONFIG", "ops", verifier);  // the verifier is not the password
  CHECK(wrong.status != 0);
  CHECK(wrong.output.find("password authentication failed") != std::string::npos);
}

TEST_CASE("the metrics endpoint serves others while one client never finishes its request") {
  AdminProxy p;
  RawClient stuck(p.metrics_port);
  stuck.send("GET /met");  // and nothing more
  for (int i = 0; i < 3; ++i) {
    auto r = p.curl("/metrics");
    CHECK(r.status == 0);
    CHECK(r.output.starts_with("HTTP/1.1 200 OK"));
  }
}

TEST_CASE("metrics behind HTTP basic authentication when a password is set") {
  AdminProxy p("s3cret", "metrics_user = \"scraper\"\nmetrics_password = \"m3trics\"\n");
  CHECK(p.curl("/metrics").output.starts_with("HTTP/1.1 401"));
  CHECK(p.curl("/metrics", "-u scraper:wrong").output.starts_with("HTTP/1.1 401"));
  auto r = p.curl("/metrics", "-u scraper:m3trics");
  CHECK(r.output.starts_with("HTTP/1.1 200 OK"));
  CHECK(r.output.find("pgsoftdelete_statements_rewritten_total") != std::string::npos);
}

TEST_CASE("/ready: 200 when the upstream accepts connections, without credentials; 503 when it does not, or while draining") {
  AdminProxy p("s3cret", "metrics_user = \"scraper\"\nmetrics_password = \"m3trics\"\n");
  auto ready = p.curl("/ready");  // no credentials: balancers and probes send none
  CHECK(ready.output.starts_with("HTTP/1.1 200 OK"));
  CHECK(ready.output.find("\r\n\r\nready") != std::string::npos);
  CHECK(p.curl("/metrics").output.starts_with("HTTP/1.1 401"));  // the rest still asks

  // An upstream nobody listens on.
  const auto metrics = free_port();
  const auto file = std::filesystem::temp_directory_path() / "pgsd-ready.toml";
  std::ofstream(file) << "metrics_listen = \"127.0.0.1:" << metrics << "\"\nserver_connect_timeout_ms = 1000\n";
  ProxyProcess down({"--config", file.string(), "--upstream", "127.0.0.1:" + std::to_string(free_port()), "--rules",
                     seed_rules().string()});
  auto refused = run_command("curl -s -S -i --max-time 5 http://127.0.0.1:" + std::to_string(metrics) + "/ready");
  CHECK(refused.output.starts_with("HTTP/1.1 503"));
  CHECK(refused.output.find("not ready: upstream 127.0.0.1:") != std::string::npos);

  // Draining: a session in a transaction keeps the proxy alive after SIGTERM; /ready says so.
  Conn busy(p.proxy.conninfo());
  REQUIRE(busy.exec("BEGIN").ok());
  p.proxy.signal(SIGTERM);
  std::string answer;
  for (int i = 0; i < 50 && answer.find("503") == std::string::npos; ++i) {
    answer = p.curl("/ready").output;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  CHECK(answer.starts_with("HTTP/1.1 503"));
  CHECK(answer.find("not ready: shutting down") != std::string::npos);
  CHECK(busy.exec("SELECT 1").ok());  // the transaction goes on
  CHECK(busy.exec("COMMIT").ok());
}
