// The relay against a real PostgreSQL through libpq: both query protocols, prepared statements,
// pipelining, COPY, LISTEN/NOTIFY, cancel, transactions, and a large result read slowly.
#include <doctest/doctest.h>
#include <poll.h>

#include <chrono>
#include <thread>

#include "support/cluster.hpp"
#include "support/pq.hpp"
#include "support/process.hpp"

using namespace pgsoftdelete::test;
using namespace std::chrono_literals;

namespace {

ProxyProcess& proxy() {
  static ProxyProcess p({"--upstream", cluster().endpoint()});
  return p;
}

Conn connect() {
  Conn c(proxy().conninfo());
  REQUIRE_MESSAGE(c.ok(), c.error());
  return c;
}

}  // namespace

TEST_CASE("simple query protocol, several statements in one Query") {
  auto c = connect();
  auto r = c.exec("SELECT 1 AS a, 'x' AS b");
  REQUIRE(r.ok());
  CHECK(r.value(0, 0) == "1");
  CHECK(r.value(0, 1) == "x");
  // PQexec returns the last statement's result.
  auto last = c.exec("CREATE TEMP TABLE t(i int); INSERT INTO t VALUES (1), (2); SELECT count(*) FROM t");
  REQUIRE(last.ok());
  CHECK(last.value() == "2");
  CHECK(c.exec("").status() == PGRES_EMPTY_QUERY);
}

TEST_CASE("extended query protocol with parameters") {
  auto c = connect();
  auto r = c.exec_params("SELECT $1::int + $2::int, $3::text", {"40", "2", "hé"});
  REQUIRE(r.ok());
  CHECK(r.value(0, 0) == "42");
  CHECK(r.value(0, 1) == "hé");
}

TEST_CASE("named prepared statements") {
  auto c = connect();
  Result prep(PQprepare(c.get(), "s_add", "SELECT $1::int * 2", 1, nullptr));
  REQUIRE(prep.ok());
  for (int i = 0; i < 5; ++i) {
    const std::string arg = std::to_string(i);
    const char* values[] = {arg.c_str()};
    Result r(PQexecPrepared(c.get(), "s_add", 1, values, nullptr, nullptr, 0));
    REQUIRE(r.ok());
    CHECK(r.value() == std::to_string(i * 2));
  }
  Result desc(PQdescribePrepared(c.get(), "s_add"));
  REQUIRE(desc.ok());
  CHECK(PQnparams(desc.get()) == 1);
  CHECK(c.scalar("SELECT count(*) FROM pg_prepared_statements WHERE name = 's_add'") == "1");
}

TEST_CASE("a pipelined batch") {
  auto c = connect();
  REQUIRE(PQenterPipelineMode(c.get()) == 1);
  constexpr int n = 50;
  for (int i = 0; i < n; ++i) {
    const std::string arg = std::to_string(i);
    const char* values[] = {arg.c_str()};
    REQUIRE(PQsendQueryParams(c.get(), "SELECT $1::int + 1000", 1, nullptr, values, nullptr, nullptr, 0) == 1);
  }
  REQUIRE(PQpipelineSync(c.get()) == 1);
  for (int i = 0; i < n; ++i) {
    Result r(PQgetResult(c.get()));
    REQUIRE(r.ok());
    CHECK(r.value() == std::to_string(i + 1000));
    CHECK(PQgetResult(c.get()) == nullptr);  // end of this query's results
  }
  Result sync(PQgetResult(c.get()));
  CHECK(sync.status() == PGRES_PIPELINE_SYNC);
  REQUIRE(PQexitPipelineMode(c.get()) == 1);
}

TEST_CASE("COPY FROM STDIN and COPY TO STDOUT") {
  auto c = connect();
  REQUIRE(c.exec("CREATE TEMP TABLE copied(i int, s text)").ok());
  Result start(PQexec(c.get(), "COPY copied FROM STDIN"));
  REQUIRE(start.status() == PGRES_COPY_IN);
  std::string data;
  for (int i = 0; i < 20000; ++i) data += std::to_string(i) + "\trow " + std::to_string(i) + "\n";
  // Many small CopyData messages, as a client streaming a file sends them.
  for (std::size_t at = 0; at < data.size(); at += 1000) {
    auto chunk = data.substr(at, 1000);
    REQUIRE(PQputCopyData(c.get(), chunk.data(), static_cast<int>(chunk.size())) == 1);
  }
  REQUIRE(PQputCopyEnd(c.get(), nullptr) == 1);
  Result done(PQgetResult(c.get()));
  REQUIRE(done.ok());
  CHECK(done.tag() == "COPY 20000");
  CHECK(c.scalar("SELECT sum(i) FROM copied") == "199990000");

  Result out(PQexec(c.get(), "COPY (SELECT i, s FROM copied ORDER BY i) TO STDOUT"));
  REQUIRE(out.status() == PGRES_COPY_OUT);
  std::string received;
  for (;;) {
    char* buf = nullptr;
    const int n = PQgetCopyData(c.get(), &buf, 0);
    if (n < 0) break;
    received.append(buf, static_cast<std::size_t>(n));
    PQfreemem(buf);
  }
  Result end(PQgetResult(c.get()));
  CHECK(end.ok());
  CHECK(received == data);
}

TEST_CASE("a notification reaches an idle client at once") {
  auto listener = connect();
  auto notifier = connect();
  REQUIRE(listener.exec("LISTEN pgsd_channel").ok());
  REQUIRE(notifier.exec("NOTIFY pgsd_channel, 'hello'").ok());
  // The listener sends nothing: the notification must arrive on its own.
  pollfd p{PQsocket(listener.get()), POLLIN, 0};
  REQUIRE(::poll(&p, 1, 5000) == 1);
  REQUIRE(PQconsumeInput(listener.get()) == 1);
  PGnotify* n = PQnotifies(listener.get());
  REQUIRE(n != nullptr);
  CHECK(std::string(n->relname) == "pgsd_channel");
  CHECK(std::string(n->extra) == "hello");
  CHECK(n->be_pid == notifier.backend_pid());
  PQfreemem(n);
}

TEST_CASE("a cancel request through the proxy stops pg_sleep(30)") {
  auto c = connect();
  const auto started = std::chrono::steady_clock::now();
  CHECK(c.cancel_long_query() == "57014");  // query_canceled (an ErrorResponse)
  CHECK(std::chrono::steady_clock::now() - started < 20s);
  CHECK(c.scalar("SELECT 'still usable'") == "still usable");
  CHECK(proxy().log().find("cancel request forwarded") != std::string::npos);
}

TEST_CASE("transactions commit and roll back") {
  auto c = connect();
  REQUIRE(c.exec("CREATE TEMP TABLE tx(i int)").ok());
  REQUIRE(c.exec("BEGIN").ok());
  CHECK(PQtransactionStatus(c.get()) == PQTRANS_INTRANS);
  REQUIRE(c.exec("INSERT INTO tx VALUES (1)").ok());
  REQUIRE(c.exec("ROLLBACK").ok());
  CHECK(PQtransactionStatus(c.get()) == PQTRANS_IDLE);
  CHECK(c.scalar("SELECT count(*) FROM tx") == "0");
  REQUIRE(c.exec("BEGIN; INSERT INTO tx VALUES (2); COMMIT").ok());
  CHECK(c.scalar("SELECT count(*) FROM tx") == "1");
}

TEST_CASE("a server error in the middle of a transaction") {
  auto c = connect();
  REQUIRE(c.exec("BEGIN").ok());
  auto err = c.exec("SELECT 1/0");
  CHECK(err.sqlstate() == "22012");
  CHECK(PQtransactionStatus(c.get()) == PQTRANS_INERROR);
  auto blocked = c.exec("SELECT 1");
  CHECK(blocked.sqlstate() == "25P02");  // in_failed_sql_transaction
  REQUIRE(c.exec("ROLLBACK").ok());
  CHECK(c.scalar("SELECT 2") == "2");
}

TEST_CASE("a 100 MB result read slowly keeps the proxy's memory flat") {
  auto c = connect();
  const long before = proxy().rss_kib();
  REQUIRE(before > 0);
  // 100,000 rows of 1000 bytes.
  REQUIRE(PQsendQuery(c.get(), "SELECT repeat('x', 1000) FROM generate_series(1, 100000)") == 1);
  REQUIRE(PQsetSingleRowMode(c.get()) == 1);
  // Read nothing for a while: the server keeps producing, the proxy must not buffer it all.
  std::this_thread::sleep_for(1500ms);
  long peak = proxy().rss_kib();
  std::size_t bytes = 0;
  int rows = 0;
  for (;;) {
    Result r(PQgetResult(c.get()));
    if (!r) break;
    if (r.status() != PGRES_SINGLE_TUPLE) continue;
    bytes += static_cast<std::size_t>(PQgetlength(r.get(), 0, 0));
    if (++rows % 5000 == 0) {
      peak = std::max(peak, proxy().rss_kib());
      std::this_thread::sleep_for(5ms);  // a slow reader
    }
  }
  CHECK(rows == 100000);
  CHECK(bytes == 100'000'000);
  MESSAGE("proxy RSS before " << before << " KiB, peak " << peak << " KiB");
  // Bounded, not proportional to the 100 MB result: a few buffers at most.
  CHECK(peak - before < 8 * 1024);
}
