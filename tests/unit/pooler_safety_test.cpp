// What the proxy sends the server when a transaction pooler sits behind it: statements prepared as
// the unnamed statement in the batch that uses them (prepared_statements = "unnamed"), and hint
// settings kept in the proxy (session_hints = "proxy"). Table-driven: client messages in, the
// messages sent upstream out.
#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "codec/frame.hpp"
#include "codec/messages.hpp"
#include "codec/protocol.hpp"
#include "codec/wire.hpp"
#include "rules/load_rules.hpp"
#include "session/session_rewriter.hpp"

using namespace pgsoftdelete;
using namespace pgsoftdelete::proxy;

namespace {

namespace fe = codec::frontend;
namespace be = codec::backend;

std::string message(char type, const std::string& body) {
  std::string out;
  codec::encode_raw(type, body, out);
  return out;
}

/// One step of a case: a client message, or the server's answers (which the proxy must see to
/// know what the server holds).
struct Step {
  enum Kind { client, server } kind;
  std::string bytes;
};

Step parse(const std::string& name, const std::string& sql) {
  std::string out;
  codec::encode(codec::Parse{name, sql, {}}, out);
  return {Step::client, out};
}
Step bind(const std::string& portal, const std::string& name) {
  std::string out;
  codec::encode(codec::Bind{portal, name, std::string(6, '\0')}, out);
  return {Step::client, out};
}
Step describe(const std::string& name) {
  std::string out;
  codec::encode(codec::Describe{'S', name}, out);
  return {Step::client, out};
}
Step close_statement(const std::string& name) {
  std::string out;
  codec::encode(codec::Close{'S', name}, out);
  return {Step::client, out};
}
Step query(const std::string& sql) { return {Step::client, message(fe::query, sql + '\0')}; }
Step sync_msg() { return {Step::client, message(fe::sync, "")}; }
Step answers(const std::vector<std::string>& messages) {
  std::string out;
  for (const auto& m : messages) out += m;
  return {Step::server, out};
}
std::string ok(char type) { return message(type, ""); }
std::string done(const std::string& tag) { return message(be::command_complete, tag + '\0'); }
std::string ready() { return message(be::ready_for_query, "I"); }

/// The messages as the server would read them: "Parse s1: SELECT 1", "Bind p/s1", "Describe S s1",
/// "Query: …", "Close S s1", "Sync".
std::string describe_messages(const std::vector<std::string>& sent) {
  std::string out;
  for (const auto& bytes : sent) {
    std::string_view rest = bytes;
    while (rest.size() >= codec::header_size) {
      const auto header = codec::decode_header(rest, 1u << 30);
      REQUIRE(header.status == codec::DecodeStatus::ok);
      const std::size_t size = codec::header_size + header.header.length - 4;
      const std::string_view body = rest.substr(codec::header_size, size - codec::header_size);
      if (!out.empty()) out += " | ";
      switch (header.header.type) {
        case fe::parse: {
          const auto p = codec::decode_parse(body);
          out += "Parse " + p->statement + ": " + p->sql;
          break;
        }
        case fe::bind: {
          codec::Reader reader(body);
          const auto portal = reader.cstring();
          const auto name = reader.cstring();
          out += "Bind " + std::string(*portal) + "/" + std::string(*name);
          break;
        }
        case fe::describe: out += "Describe S " + codec::decode_describe(body)->name; break;
        case fe::close: out += "Close S " + codec::decode_close(body)->name; break;
        case fe::query: out += "Query: " + std::string(body.substr(0, body.size() - 1)); break;
        case fe::sync: out += "Sync"; break;
        default: out += std::string("message ") + header.header.type;
      }
      rest.remove_prefix(size);
    }
  }
  return out;
}

struct Harness {
  explicit Harness(PoolerSafety pooler) : rewriter(io.get_executor(), runtime, metrics, "alice", 1, rules::Hints{}, {}, {}, pooler) {}
  asio::io_context io;
  Metrics metrics;
  RuntimeHolder runtime{[] {
    auto rules = rules::load_rules_from_string("[[table]]\nname = \"humans\"\n", "test.toml");
    REQUIRE(rules.has_value());
    return std::make_shared<const Runtime>(Runtime{std::make_shared<const rules::Engine>(*rules), Mode::enforce});
  }()};
  SessionRewriter rewriter;

  /// Feeds `step`; for a client message, what goes upstream for it.
  std::string feed(const Step& step) {
    std::string_view rest = step.bytes;
    std::string sent;
    while (!rest.empty()) {
      const auto header = codec::decode_header(rest, 1u << 30);
      REQUIRE(header.status == codec::DecodeStatus::ok);
      const std::size_t size = codec::header_size + header.header.length - 4;
      const std::string_view one = rest.substr(0, size);
      Outbox out;
      MessageHandler& side = step.kind == Step::client ? rewriter.client_side() : rewriter.server_side();
      const Verdict verdict = side.on_message(header.header, one, out);
      if (step.kind == Step::client)
        sent = describe_messages(verdict == Verdict::forward ? std::vector<std::string>{std::string(one)} : out.queued());
      rest.remove_prefix(size);
    }
    return sent;
  }
};

struct Case {
  const char* name;
  std::vector<Step> before;  // fed first, what they send not checked
  Step step;
  const char* sent;  // what goes upstream for `step`
};

void run_cases(PoolerSafety pooler, const std::vector<Case>& cases) {
  for (const auto& c : cases) {
    const std::string name = c.name;
    CAPTURE(name);
    Harness h(pooler);
    for (const auto& s : c.before) h.feed(s);
    CHECK(h.feed(c.step) == std::string(c.sent));
  }
}

const std::string select_humans = "SELECT name FROM humans";

}  // namespace

TEST_CASE("prepared_statements = unnamed: the server only ever holds the unnamed statement") {
  const PoolerSafety unnamed{.hints_in_proxy = false, .unnamed_statements = true};
  const std::vector<Step> s1_prepared{parse("s1", "SELECT 1"), sync_msg(), answers({ok(be::parse_complete), ready()})};
  run_cases(unnamed, {
      {"a named Parse prepares the unnamed statement", {}, parse("s1", "SELECT 1"), "Parse : SELECT 1"},
      {"rewritten as it is prepared", {}, parse("s2", select_humans),
       "Parse : SELECT name FROM humans WHERE NOT humans.is_deleted"},
      {"a Bind in the same batch uses it as it is", {parse("s1", "SELECT 1")}, bind("p", "s1"), "Bind p/"},
      {"after a Sync the next batch prepares it again", s1_prepared, bind("p", "s1"), "Parse : SELECT 1 | Bind p/"},
      {"after a simple Query too (it drops the unnamed statement)",
       {parse("s1", "SELECT 1"), bind("", "s1"), query("SELECT 2")}, bind("p", "s1"), "Parse : SELECT 1 | Bind p/"},
      {"two statements in one batch take turns", {parse("s1", "SELECT 1"), parse("s2", "SELECT 2")}, bind("p", "s1"),
       "Parse : SELECT 1 | Bind p/"},
      {"Describe of a statement", s1_prepared, describe("s1"), "Parse : SELECT 1 | Describe S "},
      {"a name in use is refused as PostgreSQL does (42P05), the server holding nothing new",
       {parse("s1", "SELECT 1")}, parse("s1", "SELECT 3"), "Parse pgsoftdelete_refused: pgsoftdelete refused this statement"},
      {"an unknown name goes as it is: the server's own error", {}, bind("p", "nope"), "Bind p/nope"},
      {"the client's unnamed statement goes as it is", {}, parse("", "SELECT 1"), "Parse : SELECT 1"},
      {"and is prepared again after another took its place",
       {parse("", "SELECT 1"), parse("s2", "SELECT 2")}, bind("p", ""), "Parse : SELECT 1 | Bind p/"},
      {"Close of a statement goes as it is (the server answers CloseComplete)", {parse("s1", "SELECT 1")},
       close_statement("s1"), "Close S s1"},
      {"a Close of the unnamed statement empties the server's: the next Bind prepares again",
       {parse("s1", "SELECT 1"), close_statement("")}, bind("p", "s1"), "Parse : SELECT 1 | Bind p/"},
      {"a refused Parse that fails leaves the client's unnamed statement known",
       {parse("", select_humans), sync_msg(), answers({ok(be::parse_complete), ready()}), parse("pgsd_x", "SELECT 1"),
        sync_msg(), answers({message(be::error_response, std::string("SERROR\0C0A000\0Mrefused\0\0", 24)), ready()})},
       bind("p", ""), "Parse : SELECT name FROM humans WHERE NOT humans.is_deleted | Bind p/"},
      {"and so does one the server skips after an earlier error",
       {parse("", select_humans), sync_msg(), answers({ok(be::parse_complete), ready()}), bind("q", "nosuch"),
        parse("pgsd_x", "SELECT 1"), sync_msg(),
        answers({message(be::error_response, std::string("SERROR\0C26000\0Mnone\0\0", 21)), ready()})},
       bind("p", ""), "Parse : SELECT name FROM humans WHERE NOT humans.is_deleted | Bind p/"},
      {"a variant under other hints is prepared as the unnamed statement, never under a name",
       {parse("s3", select_humans), sync_msg(), answers({ok(be::parse_complete), ready()}),
        query("SET pgsoftdelete.skip = 'humans'"), answers({done("SET"), ready()})},
       bind("p", "s3"), "Parse : SELECT name FROM humans | Bind p/"},
  });
}

TEST_CASE("prepared_statements = named (the default): the client's names and the proxy's variants") {
  run_cases(PoolerSafety{}, {
      {"a named Parse keeps its name", {}, parse("s1", "SELECT 1"), "Parse s1: SELECT 1"},
      {"a Bind goes as it is", {parse("s1", "SELECT 1")}, bind("p", "s1"), "Bind p/s1"},
      {"a variant gets a name of the proxy's",
       {parse("s3", select_humans), sync_msg(), answers({ok(be::parse_complete), ready()}),
        query("SET pgsoftdelete.skip = 'humans'"), answers({done("SET"), ready()})},
       bind("p", "s3"), "Parse pgsd_1_1: SELECT name FROM humans | Bind p/pgsd_1_1"},
  });
}

TEST_CASE("session_hints = proxy: hint settings stay in the proxy; the server sets nothing") {
  const PoolerSafety hints{.hints_in_proxy = true, .unnamed_statements = false};
  run_cases(hints, {
      {"SET", {}, query("SET pgsoftdelete.skip = 'humans'"), "Query: SET pgsoftdelete.skip TO DEFAULT"},
      {"SET LOCAL", {}, query("SET LOCAL pgsoftdelete.only_deleted TO humans"),
       "Query: SET LOCAL pgsoftdelete.only_deleted TO DEFAULT"},
      {"RESET", {}, query("RESET pgsoftdelete.hard_delete"), "Query: RESET pgsoftdelete.hard_delete"},
      {"several in one string", {}, query("SET pgsoftdelete.skip = '*'; SET pgsoftdelete.hard_delete = 'humans'"),
       "Query: SET pgsoftdelete.skip TO DEFAULT; SET pgsoftdelete.hard_delete TO DEFAULT"},
      {"extended protocol", {}, parse("", "SET pgsoftdelete.skip = 'humans'"), "Parse : SET pgsoftdelete.skip TO DEFAULT"},
      {"RESET ALL is the client's own, for every setting", {}, query("RESET ALL"), "Query: RESET ALL"},
      {"mixed with other statements: as it is", {}, query("SET pgsoftdelete.skip = 'humans'; SELECT 1"),
       "Query: SET pgsoftdelete.skip = 'humans'; SELECT 1"},
      {"other settings untouched", {}, query("SET search_path = app"), "Query: SET search_path = app"},
      {"the hint still acts in the proxy",
       {query("SET pgsoftdelete.skip = 'humans'"), answers({done("SET"), ready()})}, query(select_humans),
       "Query: SELECT name FROM humans"},
  });
  run_cases(PoolerSafety{}, {
      {"forward (the default): SET goes as it is", {}, query("SET pgsoftdelete.skip = 'humans'"),
       "Query: SET pgsoftdelete.skip = 'humans'"},
  });
}
