// Golden bytes for the messages the proxy decodes and encodes itself.
#include <doctest/doctest.h>

#include <string>

#include "codec/auth.hpp"
#include "codec/messages.hpp"

using namespace pgsoftdelete::proxy::codec;
using namespace std::string_literals;

TEST_CASE("Query golden bytes both ways") {
  std::string out;
  encode(Query{"SELECT 1"}, out);
  CHECK(out == "Q\0\0\0\x0dSELECT 1\0"s);
  auto q = decode_query(std::string_view(out).substr(5));
  REQUIRE(q);
  CHECK(q->sql == "SELECT 1");
}

TEST_CASE("Query without its terminator or with trailing bytes is rejected") {
  CHECK_FALSE(decode_query("SELECT 1"));
  CHECK_FALSE(decode_query("SELECT 1\0x"s));
}

TEST_CASE("Parse golden bytes both ways") {
  const std::string golden = "P\0\0\0\x1b" "s1\0" "SELECT $1\0" "\0\x02" "\0\0\0\x17" "\0\0\0\0"s;
  std::string out;
  encode(Parse{"s1", "SELECT $1", {23, 0}}, out);
  CHECK(out == golden);
  auto p = decode_parse(std::string_view(golden).substr(5));
  REQUIRE(p);
  CHECK(p->statement == "s1");
  CHECK(p->sql == "SELECT $1");
  CHECK(p->parameter_types == std::vector<std::uint32_t>{23, 0});
}

TEST_CASE("Parse with its parameter types cut short is rejected") {
  auto p = decode_parse("\0SELECT 1\0\0\x02\0\0\0\x17"s);
  REQUIRE_FALSE(p);
  CHECK(p.error().reason.find("cut short") != std::string::npos);
}

TEST_CASE("CommandComplete golden bytes both ways") {
  std::string out;
  encode(CommandComplete{"DELETE 3"}, out);
  CHECK(out == "C\0\0\0\x0d" "DELETE 3\0"s);
  auto c = decode_command_complete(std::string_view(out).substr(5));
  REQUIRE(c);
  CHECK(c->tag == "DELETE 3");
}

TEST_CASE("ReadyForQuery golden bytes and invalid status") {
  std::string out;
  encode(ReadyForQuery{'T'}, out);
  CHECK(out == "Z\0\0\0\x05T"s);
  CHECK(decode_ready_for_query("E")->status == 'E');
  CHECK_FALSE(decode_ready_for_query("x"));
  CHECK_FALSE(decode_ready_for_query("II"));
}

TEST_CASE("ErrorResponse golden bytes both ways") {
  std::string out;
  encode_error_response(ErrorFields::make("ERROR", "42601", "syntax error", 8), out);
  const std::string golden = "E\0\0\0\x2b" "SERROR\0" "VERROR\0" "C42601\0" "Msyntax error\0" "P8\0" "\0"s;
  CHECK(out == golden);
  auto e = decode_error_fields(std::string_view(golden).substr(5));
  REQUIRE(e);
  CHECK(e->sqlstate() == "42601");
  CHECK(e->message() == "syntax error");
  CHECK(e->get('P') == "8");
  CHECK_FALSE(e->get('D'));
}

TEST_CASE("ErrorResponse without its final terminator is rejected") {
  CHECK_FALSE(decode_error_fields("SERROR\0"s));
  CHECK_FALSE(decode_error_fields("SERROR"s));
}

TEST_CASE("Bind keeps its parameters as bytes and re-encodes for another statement") {
  // portal "", statement "s1", no formats, one parameter "42", no result formats.
  const std::string body = "\0s1\0\0\0\0\x01\0\0\0\x02" "42\0\0"s;
  auto b = decode_bind(body);
  REQUIRE(b);
  CHECK(b->portal.empty());
  CHECK(b->statement == "s1");
  b->statement = "pgsd_v1";
  std::string out;
  encode(*b, out);
  CHECK(out == "B\0\0\0\x19" "\0pgsd_v1\0\0\0\0\x01\0\0\0\x02" "42\0\0"s);
}

TEST_CASE("Describe, Close and Execute") {
  auto d = decode_describe("Sname\0"s);
  REQUIRE(d);
  CHECK(d->target == 'S');
  CHECK(d->name == "name");
  CHECK_FALSE(decode_describe("Xname\0"s));
  auto c = decode_close("P\0"s);
  REQUIRE(c);
  CHECK(c->target == 'P');
  std::string out;
  encode(Close{'S', "s1"}, out);
  CHECK(out == "C\0\0\0\x08Ss1\0"s);
  auto e = decode_execute("portal\0\0\0\0\x0a"s);
  REQUIRE(e);
  CHECK(e->portal == "portal");
  CHECK(e->max_rows == 10);
  CHECK_FALSE(decode_execute("portal\0\0\0"s));
}

TEST_CASE("SCRAM-SHA-256-PLUS is taken out of AuthenticationSASL, nothing else is touched") {
  const std::string sasl = "\0\0\0\x0aSCRAM-SHA-256-PLUS\0SCRAM-SHA-256\0\0"s;
  auto edited = without_channel_binding(sasl);
  REQUIRE(edited);
  CHECK(*edited == "R\0\0\0\x17\0\0\0\x0aSCRAM-SHA-256\0\0"s);
  CHECK_FALSE(without_channel_binding("\0\0\0\x0aSCRAM-SHA-256\0\0"s));   // nothing to take out
  CHECK_FALSE(without_channel_binding("\0\0\0\x05salt"s));                 // MD5 password request
  CHECK_FALSE(without_channel_binding("\0\0\0\x0aSCRAM-SHA-256-PLUS"s));   // malformed: left to the client
}
