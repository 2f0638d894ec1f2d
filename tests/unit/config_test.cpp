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
  CHECK(c->listen.to_string() == "127.0.0.1:6432");
  CHECK(c->upstream.to_string() == "127.0.0.1:5432");
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
  CHECK(c->listen.host == "0.0.0.0");
  CHECK(c->listen.port == 7000);
  CHECK(c->upstream.host == "::1");
  CHECK(c->upstream.to_string() == "[::1]:5433");
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
