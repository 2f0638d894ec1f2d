// Bounded memory and time per session: pipelines that are never read, messages the server
// answers with nothing, work linear in what a client sends, headers that promise more than
// they bring, and connection limits.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <memory>
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

ProxyProcess& limits_proxy() {
  static ProxyProcess p({"--upstream", cluster().endpoint(), "--rules", seed_rules().string()});
  return p;
}

/// A proxy of its own for a memory measurement: memory another test freed, and the allocator
/// kept, must not hide growth.
ProxyProcess fresh_proxy() { return ProxyProcess({"--upstream", cluster().endpoint(), "--rules", seed_rules().string()}); }

std::string repeat(const std::string& message, std::size_t total_bytes) {
  std::string out;
  out.reserve(total_bytes + message.size());
  while (out.size() < total_bytes) out += message;
  return out;
}

std::string msg(char type, const std::string& body = "") {
  std::string out;
  codec::encode_raw(type, body, out);
  return out;
}

/// A second client on the same proxy still gets answers.
void others_are_served(const ProxyProcess& p = limits_proxy()) {
  Conn other(p.conninfo());
  REQUIRE_MESSAGE(other.ok(), other.error());
  CHECK(other.scalar("SELECT 41 + 1") == "42");
}

/// Reads messages until ReadyForQuery; their types in order (empty when it never came).
std::string types_until_ready(RawClient& client, int timeout_ms = 10000) {
  std::string types;
  while (auto m = client.read(timeout_ms)) {
    types += m->type;
    if (m->type == 'Z') return types;
  }
  return "";
}

constexpr std::size_t flood = 50u << 20;  // 50 MB, as in the measurements
constexpr long bounded_kib = 64 * 1024;

}  // namespace

TEST_CASE("a client that pipelines without reading is not read beyond the pipeline limit") {
  ProxyProcess p = fresh_proxy();
  const long before = p.rss_kib();
  RawClient client(p.port());
  REQUIRE(client.startup());
  const std::size_t sent = client.send_for(repeat(msg('S'), flood), 3000);
  CHECK(sent < flood);  // the proxy stopped reading: backpressure
  CHECK(p.rss_kib() - before < bounded_kib);
  others_are_served(p);
  client.reset();
  CHECK(p.alive());
  CHECK(p.rss_kib() - before < bounded_kib);
}

TEST_CASE("messages the server skips after an error are not remembered one by one") {
  ProxyProcess p = fresh_proxy();
  const long before = p.rss_kib();
  RawClient client(p.port());
  REQUIRE(client.startup());
  std::string describe;
  codec::encode(codec::Describe{'S', "pgsd_no_such_statement"}, describe);
  const std::string all = repeat(describe, flood);
  const std::size_t sent = client.send_for(all, 20000);
  CHECK(sent == all.size());  // the server reads on, and so does the proxy
  CHECK(p.rss_kib() - before < bounded_kib);
  client.send(msg('S'));
  CHECK(types_until_ready(client) == "EZ");
  others_are_served(p);
}

TEST_CASE("CopyDone and CopyFail outside COPY cost nothing per message") {
  ProxyProcess p = fresh_proxy();
  const long before = p.rss_kib();
  RawClient client(p.port());
  REQUIRE(client.startup());
  const std::string all = repeat(msg('c') + msg('f', std::string("x\0", 2)), flood);
  CHECK(client.send_for(all, 20000) == all.size());
  CHECK(p.rss_kib() - before < bounded_kib);
  std::string query;
  codec::encode(codec::Query{"SELECT 1"}, query);
  client.send(query);
  CHECK(types_until_ready(client) == "TDCZ");
}

TEST_CASE("100000 Syncs pipelined behind a COPY: one answer, and others are served meanwhile") {
  cluster().sql("DROP TABLE IF EXISTS pgsd_copy; CREATE TABLE pgsd_copy (x int)");
  RawClient client(limits_proxy().port());
  REQUIRE(client.startup());
  std::string batch;
  codec::encode(codec::Parse{"", "COPY pgsd_copy FROM STDIN", {}}, batch);
  codec::encode(codec::Bind{"", "", std::string(6, '\0')}, batch);
  codec::encode_raw('E', std::string(5, '\0'), batch);
  batch += repeat(msg('S'), 100000 * 5);
  client.send(batch);
  others_are_served();
  client.send(msg('d', "7\n") + msg('c') + msg('S'));
  CHECK(types_until_ready(client) == "12GCZ");
  CHECK_FALSE(client.read(300));  // the Syncs sent during the COPY got no answers
  Conn direct(cluster().conninfo());
  CHECK(direct.scalar("SELECT sum(x) FROM pgsd_copy") == "7");
}

TEST_CASE("a header that announces a huge message costs only the bytes that came") {
  ProxyProcess p = fresh_proxy();
  const long before = p.rss_kib();
  std::vector<std::unique_ptr<RawClient>> clients;
  for (int i = 0; i < 8; ++i) {
    clients.push_back(std::make_unique<RawClient>(p.port()));
    REQUIRE(clients.back()->startup());
    clients.back()->send(std::string("Q\x03\xc0\0\0", 5) + "SELECT 1");  // announces 60 MiB
  }
  std::this_thread::sleep_for(300ms);
  CHECK(p.rss_kib() - before < 32 * 1024);  // 8 × 60 MiB were allocated before
  others_are_served(p);
}

TEST_CASE("max_client_conn and max_user_conn refuse with 53300") {
  cluster().sql("DROP ROLE IF EXISTS pgsd_carol; CREATE ROLE pgsd_carol LOGIN SUPERUSER");
  const auto dir = std::filesystem::temp_directory_path() / "pgsd-limits-test";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "proxy.toml") << "upstream = \"" << cluster().endpoint()
                                     << "\"\nmax_client_conn = 3\nmax_user_conn = 2\n";
  ProxyProcess p({"--config", (dir / "proxy.toml").string()});
  auto a = std::make_unique<Conn>(p.conninfo("postgres"));
  Conn b(p.conninfo("postgres"));
  REQUIRE(a->ok());
  REQUIRE(b.ok());
  Conn third_postgres(p.conninfo("postgres"));
  CHECK_FALSE(third_postgres.ok());
  CHECK(third_postgres.error().find("too many connections for role \"postgres\"") != std::string::npos);
  Conn carol(p.conninfo("pgsd_carol"));
  REQUIRE_MESSAGE(carol.ok(), carol.error());
  Conn fourth(p.conninfo("pgsd_carol"));
  CHECK_FALSE(fourth.ok());
  CHECK(fourth.error().find("too many clients already") != std::string::npos);
  RawClient raw(p.port());
  raw.send(codec::encode_startup_message({{"user", "pgsd_carol"}}));
  auto m = raw.read();
  REQUIRE(m);
  CHECK(sqlstate_of(*m) == "53300");
  a.reset();  // a place frees up
  bool admitted = false;
  for (int i = 0; i < 100 && !admitted; ++i) {
    Conn again(p.conninfo("postgres"));
    admitted = again.ok();
    if (!admitted) std::this_thread::sleep_for(20ms);
  }
  CHECK(admitted);
  std::filesystem::remove_all(dir);
}
