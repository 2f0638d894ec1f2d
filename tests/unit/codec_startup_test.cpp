// Startup-phase packets: golden bytes, the encryption and cancel requests, caps.
#include <doctest/doctest.h>

#include <string>
#include <utility>
#include <vector>

#include "codec/protocol.hpp"
#include "codec/startup.hpp"

using namespace pgsoftdelete::proxy::codec;
using namespace std::string_literals;

TEST_CASE("StartupMessage golden bytes both ways") {
  const auto bytes = encode_startup_message({{"user", "alice"}, {"database", "app"}});
  CHECK(bytes == "\0\0\0\x21\0\x03\0\0user\0alice\0database\0app\0\0"s);
  auto r = decode_startup(bytes);
  REQUIRE(r.status == DecodeStatus::ok);
  CHECK(r.size == bytes.size());
  CHECK(r.packet.kind == StartupKind::startup_message);
  CHECK(r.packet.parameter("user") == "alice");
  CHECK(r.packet.parameter("database") == "app");
  CHECK_FALSE(r.packet.parameter("options"));
}

TEST_CASE("SSLRequest, GSSENCRequest and CancelRequest") {
  auto ssl = decode_startup("\0\0\0\x08\x04\xd2\x16\x2f"s);
  REQUIRE(ssl.status == DecodeStatus::ok);
  CHECK(ssl.packet.kind == StartupKind::ssl_request);
  auto gss = decode_startup("\0\0\0\x08\x04\xd2\x16\x30"s);
  REQUIRE(gss.status == DecodeStatus::ok);
  CHECK(gss.packet.kind == StartupKind::gssenc_request);
  auto cancel = decode_startup(encode_cancel_request(1234, 0xdeadbeef));
  REQUIRE(cancel.status == DecodeStatus::ok);
  CHECK(cancel.packet.kind == StartupKind::cancel_request);
  CHECK(cancel.packet.process_id == 1234);
  CHECK(cancel.packet.secret_key == 0xdeadbeef);
}

TEST_CASE("a startup packet fed byte by byte needs more until complete") {
  const auto bytes = encode_startup_message({{"user", "bob"}});
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    CAPTURE(n);
    CHECK(decode_startup(std::string_view(bytes).substr(0, n)).status == DecodeStatus::need_more);
  }
  CHECK(decode_startup(bytes).status == DecodeStatus::ok);
}

TEST_CASE("startup packets longer than PostgreSQL's cap or shorter than eight bytes are malformed") {
  std::string too_long = "\0\0\x27\x11"s;  // 10001
  CHECK(decode_startup(too_long).status == DecodeStatus::malformed);
  CHECK(decode_startup("\0\0\0\x04"s).status == DecodeStatus::malformed);
  std::string at_cap = encode_startup_message({{"user", std::string(10000 - 8 - 5 - 1 - 1, 'u')}});
  REQUIRE(at_cap.size() == max_startup_packet_length);
  CHECK(decode_startup(at_cap).status == DecodeStatus::ok);
}

TEST_CASE("bad startup packets are malformed with a reason") {
  // Protocol 2.0.
  auto v2 = decode_startup("\0\0\0\x09\0\x02\0\0\0"s);
  CHECK(v2.status == DecodeStatus::malformed);
  CHECK(v2.error.find("unsupported frontend protocol 2.0") != std::string::npos);
  // A parameter with no value.
  auto half = decode_startup("\0\0\0\x0d\0\x03\0\0user\0"s);
  CHECK(half.status == DecodeStatus::malformed);
  // Bytes after the terminator.
  auto trailing = decode_startup("\0\0\0\x0a\0\x03\0\0\0x"s);
  CHECK(trailing.status == DecodeStatus::malformed);
  // An SSLRequest of the wrong length.
  auto ssl = decode_startup("\0\0\0\x0c\x04\xd2\x16\x2f\0\0\0\0"s);
  CHECK(ssl.status == DecodeStatus::malformed);
}

TEST_CASE("a startup parameter given twice is malformed, whatever the case of its name") {
  struct Case {
    const char* name;
    std::vector<std::pair<std::string, std::string>> parameters;
  };
  const Case cases[] = {
      {"user twice", {{"user", "alice"}, {"user", "bob"}}},
      {"database twice", {{"user", "alice"}, {"database", "a"}, {"database", "b"}}},
      {"a setting in two cases", {{"user", "alice"}, {"search_path", "a"}, {"Search_Path", "b"}}},
      {"a hint in two cases", {{"user", "alice"}, {"pgsoftdelete.skip", ""}, {"PGSOFTDELETE.SKIP", "*"}}},
      {"options twice", {{"user", "alice"}, {"options", "-c a=b"}, {"options", "-c a=c"}}},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    auto r = decode_startup(encode_startup_message(c.parameters));
    CHECK(r.status == DecodeStatus::malformed);
    CHECK(r.error.find("given twice") != std::string::npos);
  }
  auto fine = decode_startup(encode_startup_message({{"user", "alice"}, {"application_name", "user"}}));
  CHECK(fine.status == DecodeStatus::ok);
}
