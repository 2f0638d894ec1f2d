// Hints and replication requests read from a StartupMessage as the server reads them.
#include <doctest/doctest.h>

#include <string>
#include <utility>
#include <vector>

#include "codec/startup.hpp"
#include "session/startup_hints.hpp"

using namespace pgsoftdelete;
using namespace pgsoftdelete::proxy;

namespace {

codec::StartupPacket packet(std::vector<std::pair<std::string, std::string>> parameters) {
  codec::StartupPacket p;
  p.protocol = codec::startup_code::protocol_3_0;
  p.parameters = std::move(parameters);
  return p;
}

}  // namespace

TEST_CASE("startup hints: every spelling the server accepts is read") {
  struct Case {
    const char* name;
    std::vector<std::pair<std::string, std::string>> parameters;
    bool skip = false, only_deleted = false, hard_delete = false;
  };
  const Case cases[] = {
      {"key", {{"pgsoftdelete.skip", "*"}}, true},
      {"key in upper case", {{"PGSOFTDELETE.SKIP", "*"}}, true},
      {"key in mixed case", {{"PgSoftDelete.Hard_Delete", "humans"}}, false, false, true},
      {"-c with a space", {{"options", "-c pgsoftdelete.skip=*"}}, true},
      {"-c attached", {{"options", "-cpgsoftdelete.only_deleted=humans"}}, false, true},
      {"--name=value", {{"options", "--pgsoftdelete.hard_delete=*"}}, false, false, true},
      {"dashes for underscores in options", {{"options", "-c pgsoftdelete.only-deleted=humans"}}, false, true},
      {"upper case in options", {{"options", "-c PGSOFTDELETE.SKIP=*"}}, true},
      {"other settings are not hints", {{"options", "-c search_path=x"}, {"application_name", "pgsoftdelete.skip"}}},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    auto hints = startup_hints(packet(c.parameters));
    REQUIRE(hints.has_value());
    CHECK(hints->skip.empty() == !c.skip);
    CHECK(hints->only_deleted.empty() == !c.only_deleted);
    CHECK(hints->hard_delete.empty() == !c.hard_delete);
  }
}

TEST_CASE("startup hints: one hint set twice is refused with 08P01") {
  const std::vector<std::pair<std::string, std::string>> cases[] = {
      {{"options", "-c pgsoftdelete.skip= -c pgsoftdelete.skip=*"}},
      {{"pgsoftdelete.skip", ""}, {"options", "-c pgsoftdelete.skip=*"}},
      {{"options", "-c pgsoftdelete.skip=*"}, {"pgsoftdelete.skip", ""}},
      {{"options", "--pgsoftdelete.hard-delete=* -c pgsoftdelete.hard_delete=humans"}},
  };
  for (const auto& c : cases) {
    auto hints = startup_hints(packet(c));
    REQUIRE_FALSE(hints.has_value());
    CHECK(hints.error().sqlstate == "08P01");
  }
}

TEST_CASE("replication connections are recognised as the server recognises them") {
  CHECK_FALSE(wants_replication(packet({{"user", "u"}})));
  for (const char* off : {"false", "off", "no", "0", "OFF"}) CHECK_FALSE(wants_replication(packet({{"replication", off}})));
  for (const char* on : {"true", "on", "yes", "1", "database", "Database"})
    CHECK(wants_replication(packet({{"replication", on}})));
}

TEST_CASE("session_hints = proxy: the startup packet sent on keeps everything but the hints") {
  struct Case {
    const char* name;
    std::vector<std::pair<std::string, std::string>> parameters;
    std::vector<std::pair<std::string, std::string>> expected;
  };
  const std::pair<std::string, std::string> user{"user", "app"};
  const Case cases[] = {
      {"no hints: unchanged", {user, {"options", "-c search_path=x"}}, {user, {"options", "-c search_path=x"}}},
      {"hint key dropped", {user, {"pgsoftdelete.skip", "*"}, {"application_name", "a"}},
       {user, {"application_name", "a"}}},
      {"hint key in upper case dropped", {{"PGSOFTDELETE.HARD_DELETE", "*"}, user}, {user}},
      {"options with only hints dropped", {user, {"options", "-c pgsoftdelete.skip=* --pgsoftdelete.only-deleted=x"}},
       {user}},
      {"other settings in options kept, in order",
       {user, {"options", "-c statement_timeout=5s -cpgsoftdelete.skip=humans -c search_path=app"}},
       {user, {"options", "-c statement_timeout=5s -c search_path=app"}}},
      {"escapes kept", {user, {"options", "-c application_name=a\\ b -c pgsoftdelete.skip=*"}},
       {user, {"options", "-c application_name=a\\ b"}}},
      {"a look-alike is not a hint", {user, {"pgsoftdelete.other", "1"}}, {user, {"pgsoftdelete.other", "1"}}},
  };
  auto newer = packet({{"user", "app"}, {"pgsoftdelete.skip", "*"}});
  newer.protocol = (3 << 16) | 2;  // a client asking for protocol 3.2 still does, the server answering
  const auto newer_sent = codec::decode_startup(without_startup_hints(newer));
  REQUIRE(newer_sent.status == codec::DecodeStatus::ok);
  CHECK(newer_sent.packet.protocol == newer.protocol);
  for (const auto& c : cases) {
    CAPTURE(c.name);
    const auto sent = codec::decode_startup(without_startup_hints(packet(c.parameters)));
    REQUIRE(sent.status == codec::DecodeStatus::ok);
    CHECK(sent.packet.parameters == c.expected);
  }
}
