// Configuration: defaults, the TOML file, and errors naming file, line and key.
#include <doctest/doctest.h>

#include <string>

#include "ops/config.hpp"

using namespace pgsoftdelete::proxy;

namespace {

std::string error_of(std::string_view text) {
  auto c = parse_config(text, "proxy.toml");
  REQUIRE_FALSE(c);
  return c.error().to_string();
}

}  // namespace

TEST_CASE("an empty file gives the defaults") {
  auto c = parse_config("", "proxy.toml");
  REQUIRE(c);
  CHECK(to_string(c->listen) == "127.0.0.1:6432");
  CHECK(to_string(c->upstream) == "127.0.0.1:5432");
  CHECK(c->target_session_attrs == TargetSessionAttrs::any);
  CHECK_FALSE(c->load_balance_hosts);
  CHECK(c->io_threads == 0);
  CHECK(c->log_level == "info");
  CHECK_FALSE(c->rules);
  CHECK(c->mode == Mode::enforce);
  CHECK_FALSE(c->so_reuseport);
}

TEST_CASE("every key is read") {
  auto c = parse_config(R"(
listen = "0.0.0.0:7000"
upstream = "[::1]:5433"
io_threads = 3
max_message_size = 2048
connect_timeout_ms = 250
startup_timeout_ms = 9000
log_level = "debug"
rules = "rules.toml"
mode = "observe"
so_reuseport = true
)",
                        "proxy.toml", "/etc/pgsoftdelete");
  REQUIRE(c);
  REQUIRE(c->listen.size() == 1);
  CHECK(c->listen[0].host == "0.0.0.0");
  CHECK(c->listen[0].port == 7000);
  REQUIRE(c->upstream.size() == 1);
  CHECK(c->upstream[0].host == "::1");
  CHECK(to_string(c->upstream) == "[::1]:5433");
  CHECK(c->io_threads == 3);
  CHECK(c->max_message_size == 2048);
  CHECK(c->connect_timeout.count() == 250);
  CHECK(c->startup_timeout.count() == 9000);
  CHECK(c->log_level == "debug");
  CHECK(c->rules == std::filesystem::path("/etc/pgsoftdelete/rules.toml"));
  CHECK(c->mode == Mode::observe);
  CHECK(c->so_reuseport);
}

TEST_CASE("errors name the file, the line and the key") {
  struct Case {
    const char* name;
    const char* text;
    const char* expected;
  };
  const Case cases[] = {
      {"unknown key", "listen = \"a:1\"\n\nlisten_port = 5", "proxy.toml:3: unknown key \"listen_port\""},
      {"wrong type", "\nio_threads = \"four\"", "proxy.toml:2: key \"io_threads\" must be an integer"},
      {"out of range", "max_message_size = 10", "proxy.toml:1: key \"max_message_size\" must be between 1024"},
      {"bad endpoint", "\n\nupstream = \"localhost\"", "proxy.toml:3: key \"upstream\": \"localhost\" is not of the form host:port"},
      {"bad port", "listen = \"h:70000\"", "proxy.toml:1: key \"listen\": \"h:70000\" has no valid port"},
      {"bad level", "log_level = \"loud\"", "proxy.toml:1: key \"log_level\" must be one of"},
      {"bad mode", "\nmode = \"strict\"", "proxy.toml:2: key \"mode\": must be \"enforce\" or \"observe\""},
      {"empty rules path", "rules = \"\"", "proxy.toml:1: key \"rules\" must not be empty"},
      {"syntax error", "listen = \n", "proxy.toml:1: "},
      {"duplicate key", "io_threads = 1\nio_threads = 2", "proxy.toml:2: "},
      {"not a boolean", "\nso_reuseport = \"yes\"", "proxy.toml:2: key \"so_reuseport\" must be true or false"},
      {"bad host in a list", "upstream = [\"db1:5432\",\n  \"db2\"]",
       "proxy.toml:2: key \"upstream\": \"db2\" is not of the form host:port or unix:/path"},
      {"empty host list", "\nupstream = []", "proxy.toml:2: key \"upstream\" must not be empty"},
      {"number in a host list", "upstream = [5432]", "proxy.toml:1: key \"upstream\" must be a string"},
      {"relative socket", "listen = \"unix:run/x\"", "proxy.toml:1: key \"listen\": \"unix:run/x\": a Unix socket needs an absolute path"},
      {"bad socket port", "upstream = \"unix:/tmp/.s.PGSQL.x\"",
       "proxy.toml:1: key \"upstream\": \"unix:/tmp/.s.PGSQL.x\": a socket named .s.PGSQL.PORT needs a valid port"},
      {"bad target", "\n\ntarget_session_attrs = \"master\"",
       "proxy.toml:3: key \"target_session_attrs\" must be one of any, read-write, read-only, primary, standby, "
       "prefer-standby; not \"master\""},
      {"bad balance", "load_balance_hosts = \"yes\"",
       "proxy.toml:1: key \"load_balance_hosts\" must be one of disable, random; not \"yes\""},
      {"metrics on a socket", "metrics_listen = \"unix:/tmp/m\"",
       "proxy.toml: metrics_listen must be host:port (HTTP over TCP), not a Unix socket"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    CHECK(error_of(c.text).starts_with(c.expected));
  }
}

TEST_CASE("a missing file is an error naming it") {
  auto c = load_config("/nonexistent/pgsoftdelete.toml");
  REQUIRE_FALSE(c);
  CHECK(c.error().to_string().starts_with("/nonexistent/pgsoftdelete.toml: cannot read the file"));
}

TEST_CASE("parse_endpoint") {
  CHECK(parse_endpoint("localhost:5432")->host == "localhost");
  CHECK(parse_endpoint("[::1]:6432")->port == 6432);
  CHECK_FALSE(parse_endpoint("::1:6432"));
  CHECK_FALSE(parse_endpoint(":6432"));
  CHECK_FALSE(parse_endpoint("host:"));
  CHECK_FALSE(parse_endpoint("host:0"));
  CHECK_FALSE(parse_endpoint("host:12x"));
  CHECK_FALSE(parse_endpoint("unix:"));
  CHECK_FALSE(parse_endpoint("unix:/" + std::string(120, 'x')));
}

TEST_CASE("Unix sockets are written as libpq names them: a folder and a port, or the socket file") {
  struct Case {
    const char* name;
    const char* text;
    std::uint16_t default_port;
    const char* path;
    const char* host;
    std::uint16_t port;
  };
  const Case cases[] = {
      {"folder, upstream default port", "unix:/var/run/postgresql", 5432, "/var/run/postgresql/.s.PGSQL.5432",
       "/var/run/postgresql", 5432},
      {"folder with a trailing slash", "unix:/tmp/", 6432, "/tmp/.s.PGSQL.6432", "/tmp", 6432},
      {"socket file names its port", "unix:/run/pgsoftdelete/.s.PGSQL.6433", 6432, "/run/pgsoftdelete/.s.PGSQL.6433",
       "/run/pgsoftdelete", 6433},
      {"socket file in the root", "unix:/.s.PGSQL.7000", 5432, "/.s.PGSQL.7000", "/", 7000},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    const auto e = parse_endpoint(c.text, c.default_port);
    REQUIRE(e);
    CHECK(e->is_unix());
    CHECK(e->unix_path == c.path);
    CHECK(e->host == c.host);
    CHECK(e->port == c.port);
    CHECK(e->to_string() == std::string("unix:") + c.path);
  }
  CHECK_FALSE(parse_endpoint("db:5432")->is_unix());
}

TEST_CASE("several upstream hosts, target_session_attrs and load_balance_hosts are read") {
  auto c = parse_config(R"(
upstream = ["db1:5432", "[::1]:5433", "unix:/var/run/postgresql"]
target_session_attrs = "read-write"
load_balance_hosts = "random"
listen = ["127.0.0.1:6432", "unix:/run/pgsoftdelete"]
)",
                        "proxy.toml");
  REQUIRE(c);
  REQUIRE(c->upstream.size() == 3);
  CHECK(to_string(c->upstream) == "db1:5432, [::1]:5433, unix:/var/run/postgresql/.s.PGSQL.5432");
  CHECK(c->target_session_attrs == TargetSessionAttrs::read_write);
  CHECK(c->load_balance_hosts);
  CHECK(to_string(c->listen) == "127.0.0.1:6432, unix:/run/pgsoftdelete/.s.PGSQL.6432");
  for (const auto* attrs : {"any", "read-write", "read-only", "primary", "standby", "prefer-standby"}) {
    CAPTURE(attrs);
    auto parsed = parse_config(std::string("target_session_attrs = \"") + attrs + "\"", "proxy.toml");
    REQUIRE(parsed);
    CHECK(to_string(parsed->target_session_attrs) == attrs);
  }
}

TEST_CASE("timeouts, connection limits and pipeline limits are read, with PgBouncer-like defaults") {
  auto d = parse_config("", "proxy.toml");
  REQUIRE(d);
  CHECK(d->server_login_timeout.count() == 10000);
  CHECK(d->client_idle_timeout.count() == 0);
  CHECK(d->max_client_conn == 1000);
  CHECK(d->max_user_conn == 0);
  CHECK(d->max_pending_messages == 10000);
  CHECK(d->max_pending_bytes == 16u << 20);
  auto c = parse_config(R"(
server_connect_timeout_ms = 300
server_login_timeout_ms = 400
client_idle_timeout_ms = 500
max_client_conn = 7
max_user_conn = 3
max_pending_messages = 100
max_pending_bytes = 1048576
)",
                        "proxy.toml");
  REQUIRE(c);
  CHECK(c->connect_timeout.count() == 300);
  CHECK(c->server_login_timeout.count() == 400);
  CHECK(c->client_idle_timeout.count() == 500);
  CHECK(c->max_client_conn == 7);
  CHECK(c->max_user_conn == 3);
  CHECK(c->max_pending_messages == 100);
  CHECK(c->max_pending_bytes == 1048576);
}

TEST_CASE("limits out of range, metrics beyond loopback without a password, a malformed verifier") {
  struct Case {
    const char* name;
    const char* text;
    const char* expected;
  };
  const Case cases[] = {
      {"no clients", "max_client_conn = 0", "proxy.toml:1: key \"max_client_conn\" must be between 1"},
      {"tiny pipeline", "max_pending_messages = 1", "proxy.toml:1: key \"max_pending_messages\" must be between 16"},
      {"negative idle timeout", "client_idle_timeout_ms = -1", "proxy.toml:1: key \"client_idle_timeout_ms\" must be between 0"},
      {"zero login timeout", "server_login_timeout_ms = 0", "proxy.toml:1: key \"server_login_timeout_ms\" must be between 1"},
      {"open metrics", "metrics_listen = \"0.0.0.0:9187\"",
       "proxy.toml: metrics_listen = \"0.0.0.0:9187\" is not a loopback address: set metrics_password"},
      {"bad verifier", "admin_password = \"SCRAM-SHA-256$4096:abc\"",
       "proxy.toml: admin_password is not a valid SCRAM-SHA-256 verifier"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    CHECK(error_of(c.text).starts_with(c.expected));
  }
  CHECK(parse_config("metrics_listen = \"0.0.0.0:9187\"\nmetrics_password = \"x\"", "proxy.toml"));
  CHECK(parse_config("metrics_listen = \"[::1]:9187\"", "proxy.toml"));
}
