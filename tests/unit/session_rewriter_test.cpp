// SessionRewriter driven message by message, without sockets: what it remembers about portals.
// (What it sends is tested end to end through the proxy in tests/integration.)
#include <doctest/doctest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "codec/frame.hpp"
#include "codec/messages.hpp"
#include "codec/protocol.hpp"
#include "rules/load_rules.hpp"
#include "session/session_rewriter.hpp"

using namespace pgsoftdelete;
using namespace pgsoftdelete::proxy;

namespace {

std::shared_ptr<const Runtime> humans_runtime() {
  auto rules = rules::load_rules_from_string("[[table]]\nname = \"humans\"\n", "test.toml");
  REQUIRE(rules.has_value());
  return std::make_shared<const Runtime>(Runtime{std::make_shared<const rules::Engine>(*rules), Mode::enforce});
}

std::string parse_msg(const std::string& statement, const std::string& sql) {
  std::string out;
  codec::encode(codec::Parse{statement, sql, {}}, out);
  return out;
}
std::string bind_msg(const std::string& portal, const std::string& statement) {
  std::string out;
  codec::encode(codec::Bind{portal, statement, std::string(6, '\0')}, out);  // no formats, no parameters
  return out;
}
std::string execute_msg(const std::string& portal) {
  std::string out;
  codec::encode_raw(codec::frontend::execute, portal + std::string(5, '\0'), out);  // name, max rows 0
  return out;
}
std::string sync_msg() {
  std::string out;
  codec::encode_raw(codec::frontend::sync, "", out);
  return out;
}
std::string answer(char type, const std::string& body = "") {
  std::string out;
  codec::encode_raw(type, body, out);
  return out;
}
std::string ready(char status) { return answer(codec::backend::ready_for_query, std::string(1, status)); }
std::string complete(const std::string& tag) { return answer(codec::backend::command_complete, tag + '\0'); }

struct Harness {
  asio::io_context io;
  Metrics metrics;
  RuntimeHolder runtime{humans_runtime()};
  PipelineLimits limits{};
  SessionRewriter rewriter{io.get_executor(), runtime, metrics, "alice", 1, rules::Hints{}, limits};

  Verdict feed(MessageHandler& side, const std::string& message) {
    const auto header = codec::decode_header(message, 1u << 30);
    REQUIRE(header.status == codec::DecodeStatus::ok);
    Outbox out;
    return side.on_message(header.header, message, out);
  }
  Verdict client(const std::string& m) { return feed(rewriter.client_side(), m); }
  Verdict server(const std::string& m) { return feed(rewriter.server_side(), m); }

  /// Execute/Sync of `portal`, bound first to `statement` when given, and the server's answers: `tag`,
  /// then ReadyForQuery `status`. Returns the verdict on the tag (replace: the proxy fixed it).
  Verdict run(const std::string& portal, const std::optional<std::string>& statement, const std::string& tag,
              char status) {
    if (statement) client(bind_msg(portal, *statement));
    client(execute_msg(portal));
    client(sync_msg());
    if (statement) server(answer(codec::backend::bind_complete));
    const Verdict verdict = server(complete(tag));
    server(ready(status));
    return verdict;
  }

  /// One Bind/Execute/Sync of `portal` to the unnamed statement, ending with ReadyForQuery `status`.
  void round_trip(const std::string& portal, char status) { run(portal, "", "SELECT 1", status); }

  /// Bind/Sync of `portal` to `statement`, answered, ending with ReadyForQuery `status`.
  void bind(const std::string& portal, const std::string& statement, char status) {
    client(bind_msg(portal, statement));
    client(sync_msg());
    server(answer(codec::backend::bind_complete));
    server(ready(status));
  }
};

}  // namespace

TEST_CASE("session rewriter: portals are forgotten when their transaction has ended") {
  Harness h;
  SUBCASE("a new portal name per query does not grow the map") {
    for (int i = 0; i < 1000; ++i) h.round_trip("C_" + std::to_string(i), codec::transaction_status::idle);
    CHECK(h.rewriter.portal_count() == 0);
  }
  SUBCASE("inside a transaction block they are kept until it ends") {
    h.round_trip("C_1", codec::transaction_status::in_block);
    h.round_trip("C_2", codec::transaction_status::in_block);
    CHECK(h.rewriter.portal_count() == 2);
    h.round_trip("C_3", codec::transaction_status::idle);
    CHECK(h.rewriter.portal_count() == 0);
  }
  SUBCASE("not while later messages still await their answers") {
    h.client(bind_msg("a", ""));
    h.client(execute_msg("a"));
    h.client(sync_msg());
    h.client(bind_msg("b", ""));  // pipelined behind the first Sync
    h.server(answer(codec::backend::bind_complete));
    h.server(complete("SELECT 1"));
    h.server(ready(codec::transaction_status::idle));
    CHECK(h.rewriter.portal_count() == 2);
    h.client(execute_msg("b"));
    h.client(sync_msg());
    h.server(answer(codec::backend::bind_complete));
    h.server(complete("SELECT 1"));
    h.server(ready(codec::transaction_status::idle));
    CHECK(h.rewriter.portal_count() == 0);
  }
}

TEST_CASE("session rewriter: a pipelined DELETE keeps its tag across another transaction's end") {
  Harness h;
  REQUIRE(h.client(parse_msg("del", "DELETE FROM humans WHERE id = $1")) == Verdict::replace);  // rewritten
  h.server(answer(codec::backend::parse_complete));
  h.server(ready(codec::transaction_status::idle));
  // Bind/Execute/Sync of a SELECT, then of the DELETE, all sent before any answer.
  h.client(bind_msg("s", ""));
  h.client(execute_msg("s"));
  h.client(sync_msg());
  h.client(bind_msg("d", "del"));
  h.client(execute_msg("d"));
  h.client(sync_msg());
  h.server(answer(codec::backend::bind_complete));
  CHECK(h.server(complete("SELECT 1")) == Verdict::forward);
  h.server(ready(codec::transaction_status::idle));
  h.server(answer(codec::backend::bind_complete));
  CHECK(h.server(complete("UPDATE 1")) == Verdict::replace);  // answered as DELETE 1
  h.server(ready(codec::transaction_status::idle));
  CHECK(h.rewriter.portal_count() == 0);
}

namespace {

std::string describe_msg(const std::string& statement) {
  std::string out;
  codec::encode(codec::Describe{'S', statement}, out);
  return out;
}
std::string close_msg(char target, const std::string& name) {
  std::string out;
  codec::encode(codec::Close{target, name}, out);
  return out;
}
std::string error() {
  static constexpr char fields[] = "SERROR\0C26000\0Mno such statement\0";  // and the final \0
  return answer(codec::backend::error_response, std::string(fields, sizeof fields));
}

/// Prepares `del` as a rewritten DELETE of humans.
void prepare_delete(Harness& h) {
  REQUIRE(h.client(parse_msg("del", "DELETE FROM humans WHERE id = $1")) == Verdict::replace);
  h.client(sync_msg());
  h.server(answer(codec::backend::parse_complete));
  h.server(ready(codec::transaction_status::idle));
}

/// A batch the server rejects at its first message (a Describe of a statement that does not exist) and
/// skips until its Sync: `skipped` are sent in between. Ends with ReadyForQuery `status`.
void failing_batch(Harness& h, const std::vector<std::string>& skipped, char status) {
  h.client(describe_msg("nope"));
  for (const auto& m : skipped) h.client(m);
  h.client(sync_msg());
  h.server(error());
  h.server(ready(status));
}

}  // namespace

TEST_CASE("session rewriter: messages skipped after an error change nothing") {
  Harness h;
  prepare_delete(h);

  using codec::transaction_status::failed;
  using codec::transaction_status::idle;
  using codec::transaction_status::in_block;

  SUBCASE("a skipped Close of a portal: the portal still runs its DELETE") {
    h.bind("p", "del", in_block);
    failing_batch(h, {close_msg('P', "p")}, failed);  // then ROLLBACK TO a savepoint older than p
    CHECK(h.run("p", std::nullopt, "UPDATE 1", in_block) == Verdict::replace);  // answered as DELETE 1
  }

  SUBCASE("a skipped Close then Parse of one name (a statement cache's eviction): the old statement stays") {
    failing_batch(h, {close_msg('S', "del"), parse_msg("del", "SELECT 1")}, idle);
    // The server still has the DELETE under that name.
    CHECK(h.run("", "del", "UPDATE 1", idle) == Verdict::replace);
  }

  SUBCASE("a skipped Parse of the unnamed statement: the server's unnamed statement stays") {
    REQUIRE(h.client(parse_msg("", "DELETE FROM humans WHERE id = $1")) == Verdict::replace);
    h.client(sync_msg());
    h.server(answer(codec::backend::parse_complete));
    h.server(ready(idle));
    failing_batch(h, {parse_msg("", "SELECT 1")}, idle);
    CHECK(h.run("", "", "UPDATE 1", idle) == Verdict::replace);
  }

  SUBCASE("the unnamed statement parsed again as it was, then skipped: it stays") {
    REQUIRE(h.client(parse_msg("", "DELETE FROM humans WHERE id = $1")) == Verdict::replace);
    h.client(sync_msg());
    h.server(answer(codec::backend::parse_complete));
    h.server(ready(idle));
    failing_batch(h, {parse_msg("", "DELETE FROM humans WHERE id = $1")}, idle);
    CHECK(h.run("", "", "UPDATE 1", idle) == Verdict::replace);  // still the DELETE: answered as DELETE 1
  }

  SUBCASE("the unnamed statement parsed again as it was, and failing: it is gone, as on the server") {
    REQUIRE(h.client(parse_msg("", "DELETE FROM humans WHERE id = $1")) == Verdict::replace);
    h.client(sync_msg());
    h.server(answer(codec::backend::parse_complete));
    h.server(ready(idle));
    REQUIRE(h.client(parse_msg("", "DELETE FROM humans WHERE id = $1")) == Verdict::replace);  // rewritten again
    h.client(sync_msg());
    h.server(error());  // e.g. the table was dropped on the server meanwhile
    h.server(ready(idle));
    CHECK(h.run("", "", "UPDATE 1", idle) == Verdict::forward);  // no DELETE known here any more
  }

  SUBCASE("a failed Bind leaves the portal's earlier binding") {
    h.bind("p", "del", in_block);
    h.client(bind_msg("p", "unknown"));  // fails: the portal exists
    h.client(sync_msg());
    h.server(error());
    h.server(ready(failed));
    CHECK(h.run("p", std::nullopt, "UPDATE 1", in_block) == Verdict::replace);
  }
}

namespace {

std::string copy_done_msg() { return answer(codec::frontend::copy_done); }

}  // namespace

TEST_CASE("session rewriter: a client that does not read its answers is throttled, then read again") {
  SUBCASE("by the number of messages awaiting answers") {
    Harness h{.limits = PipelineLimits{16, 1u << 20}};
    for (int i = 0; i < 15; ++i) h.client(sync_msg());
    CHECK_FALSE(h.rewriter.client_side().holding());
    h.client(sync_msg());
    CHECK(h.rewriter.throttled());
    CHECK(h.rewriter.client_side().holding());
    for (int i = 0; i < 7; ++i) h.server(ready(codec::transaction_status::idle));
    CHECK(h.rewriter.throttled());  // 9 still owed: more than half
    h.server(ready(codec::transaction_status::idle));
    CHECK_FALSE(h.rewriter.throttled());
    CHECK_FALSE(h.rewriter.client_side().holding());
    for (int i = 0; i < 8; ++i) h.server(ready(codec::transaction_status::idle));
    CHECK(h.rewriter.pending_count() == 0);
    CHECK(h.rewriter.pending_bytes() == 0);
  }
  SUBCASE("by their bytes") {
    Harness h{.limits = PipelineLimits{1000, 64u * 1024}};
    const std::string big = parse_msg("", "SELECT '" + std::string(10000, 'x') + "'");
    int sent = 0;
    while (!h.rewriter.throttled() && sent < 100) {
      h.client(big);
      ++sent;
    }
    CHECK(sent == 7);  // 7 × 10 kB reach 64 KiB
    CHECK(h.rewriter.pending_bytes() == 7 * big.size());
    for (int i = 0; i < 4; ++i) h.server(answer(codec::backend::parse_complete));
    CHECK_FALSE(h.rewriter.throttled());
    CHECK(h.rewriter.pending_bytes() == 3 * big.size());
  }
}

TEST_CASE("session rewriter: what the server answers with nothing is not remembered one by one") {
  Harness h{.limits = PipelineLimits{16, 1u << 20}};
  SUBCASE("messages after an error, before Sync") {
    for (int i = 0; i < 10; ++i) h.client(describe_msg("nope"));  // sent before the error is known
    h.server(error());
    CHECK(h.rewriter.pending_count() == 0);  // the rest will be skipped: moved aside at once
    CHECK(h.rewriter.skipped_count() == 10);
    CHECK_FALSE(h.rewriter.throttled());
    for (int i = 0; i < 100000; ++i) h.client(describe_msg("nope"));
    h.client(bind_msg("", "nope"));
    h.client(close_msg('S', "del"));
    CHECK(h.rewriter.pending_count() == 0);
    CHECK(h.rewriter.skipped_count() == 10);
    CHECK_FALSE(h.rewriter.throttled());
    h.client(sync_msg());
    CHECK(h.rewriter.pending_count() == 1);
    h.server(ready(codec::transaction_status::idle));
    CHECK(h.rewriter.pending_count() == 0);
    CHECK(h.rewriter.skipped_count() == 0);
    CHECK(h.rewriter.pending_bytes() == 0);
  }
  SUBCASE("CopyDone and CopyFail outside COPY") {
    for (int i = 0; i < 100000; ++i) h.client(copy_done_msg());
    CHECK(h.rewriter.pending_count() == 1);
    CHECK_FALSE(h.rewriter.throttled());
  }
}

TEST_CASE("session rewriter: Syncs pipelined behind a COPY are forgotten in one pass") {
  constexpr int n = 200000;  // quadratic removal would take minutes here
  Harness h{.limits = PipelineLimits{10'000'000, 1u << 30}};
  h.client(bind_msg("", ""));
  h.client(execute_msg(""));
  for (int i = 0; i < n; ++i) h.client(sync_msg());
  CHECK(h.rewriter.pending_count() == n + 2);
  h.server(answer(codec::backend::bind_complete));
  h.server(answer(codec::backend::copy_in_response, std::string(3, '\0')));
  CHECK(h.rewriter.pending_count() == 1);  // the Execute: its COPY is running
  h.client(copy_done_msg());
  h.client(sync_msg());
  h.server(complete("COPY 0"));
  h.server(ready(codec::transaction_status::idle));
  CHECK(h.rewriter.pending_count() == 0);
  CHECK(h.rewriter.pending_bytes() == 0);
}

TEST_CASE("session rewriter: a client that ended its COPY before the server started it") {
  Harness h;
  h.client(bind_msg("", ""));
  h.client(execute_msg(""));
  h.client(sync_msg());
  h.client(copy_done_msg());
  h.client(sync_msg());
  h.server(answer(codec::backend::bind_complete));
  h.server(answer(codec::backend::copy_in_response, std::string(3, '\0')));
  CHECK(h.rewriter.pending_count() == 2);  // the Execute and the Sync after CopyDone
  h.server(complete("COPY 0"));
  h.server(ready(codec::transaction_status::idle));
  CHECK(h.rewriter.pending_count() == 0);
  CHECK(h.rewriter.pending_bytes() == 0);
}

TEST_CASE("session rewriter: a pipeline full of Syncs behind a COPY is read again once the COPY starts") {
  Harness h{.limits = PipelineLimits{100, 1u << 20}};
  h.client(bind_msg("", ""));
  h.client(execute_msg(""));
  while (!h.rewriter.throttled()) h.client(sync_msg());
  h.server(answer(codec::backend::bind_complete));
  h.server(answer(codec::backend::copy_in_response, std::string(3, '\0')));
  CHECK_FALSE(h.rewriter.throttled());  // the server will not answer those Syncs: nothing to wait for
}

TEST_CASE("session rewriter: after an error that ends a COPY, later statements are still rewritten") {
  // P(COPY) B E S P B E S in one write: the server ignores the first Sync inside the COPY, fails at
  // the second Parse, skips to the last Sync and answers it. Syncs were sent since the failing
  // message: what the client sends next is carried out, so it must be decided, never passed raw.
  Harness h;
  h.client(parse_msg("", "COPY humans FROM STDIN"));
  h.client(bind_msg("", ""));
  h.client(execute_msg(""));
  h.client(sync_msg());
  h.client(parse_msg("", "SELECT 1"));
  h.client(bind_msg("", ""));
  h.client(execute_msg(""));
  h.client(sync_msg());
  h.server(answer(codec::backend::parse_complete));
  h.server(answer(codec::backend::bind_complete));
  h.server(answer(codec::backend::copy_in_response, std::string(3, '\0')));
  h.server(error());
  h.server(ready(codec::transaction_status::idle));
  CHECK(h.client(parse_msg("", "DELETE FROM humans WHERE id = 1")) == Verdict::replace);  // rewritten
  h.client(sync_msg());
  h.server(answer(codec::backend::parse_complete));
  h.server(ready(codec::transaction_status::idle));
  CHECK(h.rewriter.pending_count() == 0);
}

TEST_CASE("session rewriter: a Sync sent after the failing message ends the skipping, even before its answer") {
  Harness h;
  h.client(describe_msg("nope"));
  h.client(sync_msg());
  h.server(error());  // the Sync is on its way: what follows it is carried out
  CHECK(h.client(parse_msg("", "DELETE FROM humans WHERE id = 1")) == Verdict::replace);
  CHECK(h.client(bind_msg("", "")) == Verdict::forward);
  h.client(execute_msg(""));
  h.client(sync_msg());
  h.server(ready(codec::transaction_status::idle));
  h.server(answer(codec::backend::parse_complete));
  h.server(answer(codec::backend::bind_complete));
  CHECK(h.server(complete("UPDATE 1")) == Verdict::replace);  // answered as DELETE 1
  h.server(ready(codec::transaction_status::idle));
  CHECK(h.rewriter.pending_count() == 0);
}

TEST_CASE("session rewriter: reaching the pipeline limit asks the server for its answers (Flush)") {
  Harness h{.limits = PipelineLimits{16, 1u << 20}};
  for (int i = 0; i < 15; ++i) CHECK(h.client(describe_msg("s")) == Verdict::forward);
  CHECK(h.client(describe_msg("s")) == Verdict::replace);  // the Describe, then a Flush
  CHECK(h.rewriter.throttled());
}

TEST_CASE("session rewriter: the unnamed statement sent again and again keeps its DELETE tag") {
  Harness h;
  for (int i = 0; i < 3; ++i) {
    CAPTURE(i);
    REQUIRE(h.client(parse_msg("", "DELETE FROM humans WHERE id = $1")) == Verdict::replace);
    h.server(answer(codec::backend::parse_complete));
    CHECK(h.run("", "", "UPDATE 1", codec::transaction_status::idle) == Verdict::replace);
  }
  // Another text under the same name is a new statement.
  REQUIRE(h.client(parse_msg("", "SELECT 1")) == Verdict::forward);
  h.server(answer(codec::backend::parse_complete));
  CHECK(h.run("", "", "SELECT 1", codec::transaction_status::idle) == Verdict::forward);
}
