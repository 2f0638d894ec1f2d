// Framing: header decoding, byte-by-byte feeding, several messages per buffer, length caps and
// random garbage (after Envoy's postgres_decoder_test.cc).
#include <doctest/doctest.h>

#include <random>
#include <string>

#include "codec/frame.hpp"
#include "codec/messages.hpp"
#include "codec/protocol.hpp"

using namespace pgsoftdelete::proxy::codec;
using Kind = StreamFramer::Step::Kind;

namespace {

constexpr std::uint32_t cap = 1 << 20;

std::string query(std::string_view sql) {
  std::string out;
  encode(Query{std::string(sql)}, out);
  return out;
}

std::string data_row(std::size_t payload) {
  std::string out;
  encode_raw(backend::data_row, std::string(payload, 'x'), out);
  return out;
}

/// Feeds `stream` to a framer in chunks of `chunk` bytes as a pump would, keeping unconsumed
/// bytes; returns the inspected messages and the number of forwarded bytes.
struct Collected {
  std::vector<std::string> messages;
  std::size_t forwarded = 0;
  bool malformed = false;
};

Collected feed(StreamFramer& framer, const std::string& stream, std::size_t chunk) {
  Collected c;
  std::string pending;
  for (std::size_t at = 0; at < stream.size() && !c.malformed; at += chunk) {
    pending += stream.substr(at, chunk);
    for (;;) {
      auto step = framer.next(pending);
      if (step.kind == Kind::need_more) break;
      if (step.kind == Kind::malformed) {
        c.malformed = true;
        break;
      }
      if (step.kind == Kind::message) c.messages.emplace_back(pending.substr(0, step.size));
      else c.forwarded += step.size;
      pending.erase(0, step.size);
    }
  }
  return c;
}

}  // namespace

TEST_CASE("decode_header reads golden bytes") {
  const std::string bytes("Q\0\0\0\x0dSELECT 1\0", 14);
  auto h = decode_header(bytes, cap);
  REQUIRE(h.status == DecodeStatus::ok);
  CHECK(h.header.type == 'Q');
  CHECK(h.header.length == 13);
  CHECK(h.header.total() == 14);
}

TEST_CASE("decode_header needs five bytes") {
  for (std::size_t n = 0; n < header_size; ++n) {
    CAPTURE(n);
    CHECK(decode_header(std::string_view("Q\0\0\0\x0d", n), cap).status == DecodeStatus::need_more);
  }
}

TEST_CASE("lengths below four are malformed") {
  for (std::uint32_t length : {0u, 1u, 2u, 3u}) {
    CAPTURE(length);
    std::string bytes{'Q', 0, 0, 0, static_cast<char>(length)};
    auto h = decode_header(bytes, cap);
    CHECK(h.status == DecodeStatus::malformed);
    CHECK(h.error.find("invalid length") != std::string::npos);
  }
}

TEST_CASE("lengths above the cap are malformed, the cap itself is not") {
  std::string at_cap{'Q', 0, 0x10, 0, 0};  // 1 MiB
  CHECK(decode_header(at_cap, cap).status == DecodeStatus::ok);
  std::string above{'Q', 0, 0x10, 0, 1};
  auto h = decode_header(above, cap);
  CHECK(h.status == DecodeStatus::malformed);
  CHECK(h.error.find("above the maximum") != std::string::npos);
  std::string huge{'Q', '\xff', '\xff', '\xff', '\xff'};
  CHECK(decode_header(huge, cap).status == DecodeStatus::malformed);
}

TEST_CASE("an inspected message comes out whole only when all of it is there") {
  StreamFramer framer(cap, type_set(frontend::query));
  const auto q = query("SELECT 1");
  for (std::size_t n = 0; n < q.size(); ++n) {
    CAPTURE(n);
    auto step = framer.next(std::string_view(q).substr(0, n));
    CHECK(step.kind == Kind::need_more);
    CHECK(step.needed == (n < header_size ? header_size : q.size()));
  }
  auto step = framer.next(q);
  REQUIRE(step.kind == Kind::message);
  CHECK(step.size == q.size());
  CHECK(step.header.type == 'Q');
  CHECK(step.body == std::string_view("SELECT 1\0", 9));
}

TEST_CASE("a message fed byte by byte") {
  StreamFramer framer(cap, type_set(frontend::query));
  const auto stream = query("SELECT 1") + query("SELECT 2");
  auto c = feed(framer, stream, 1);
  REQUIRE(c.messages.size() == 2);
  CHECK(c.messages[0] == query("SELECT 1"));
  CHECK(c.messages[1] == query("SELECT 2"));
  CHECK(c.forwarded == 0);
}

TEST_CASE("two messages in one buffer") {
  StreamFramer framer(cap, type_set(frontend::query));
  const auto stream = query("SELECT 1") + query("SELECT 22");
  auto first = framer.next(stream);
  REQUIRE(first.kind == Kind::message);
  auto second = framer.next(std::string_view(stream).substr(first.size));
  REQUIRE(second.kind == Kind::message);
  CHECK(first.size + second.size == stream.size());
  CHECK(second.body == std::string_view("SELECT 22\0", 10));
}

TEST_CASE("uninspected messages are forwarded without waiting for the whole message") {
  StreamFramer framer(cap, type_set(backend::command_complete));
  const auto row = data_row(100000);
  auto first = framer.next(std::string_view(row).substr(0, 1000));
  REQUIRE(first.kind == Kind::forward);
  CHECK(first.size == 1000);
  CHECK(framer.mid_message());
  auto rest = framer.next(std::string_view(row).substr(1000));
  REQUIRE(rest.kind == Kind::forward);
  CHECK(rest.size == row.size() - 1000);
  CHECK_FALSE(framer.mid_message());
  CHECK(framer.last_type() == backend::data_row);
}

TEST_CASE("forwarded and inspected messages interleave in any chunking") {
  std::string stream;
  for (int i = 0; i < 20; ++i) {
    stream += data_row(static_cast<std::size_t>(i * 37));
    std::string cc;
    encode(CommandComplete{"SELECT " + std::to_string(i)}, cc);
    stream += cc;
  }
  for (std::size_t chunk : {1u, 2u, 3u, 7u, 64u, 1000u, 100000u}) {
    CAPTURE(chunk);
    StreamFramer framer(cap, type_set(backend::command_complete));
    auto c = feed(framer, stream, chunk);
    CHECK_FALSE(c.malformed);
    REQUIRE(c.messages.size() == 20);
    CHECK(c.messages[19].substr(5) == std::string("SELECT 19\0", 10));
    std::size_t inspected = 0;
    for (auto& m : c.messages) inspected += m.size();
    CHECK(inspected + c.forwarded == stream.size());
  }
}

TEST_CASE("random garbage never crashes the framer and always ends") {
  std::mt19937 rng(20261127);
  std::uniform_int_distribution<int> byte(0, 255);
  for (int round = 0; round < 2000; ++round) {
    std::string garbage(static_cast<std::size_t>(1 + round % 300), '\0');
    for (auto& c : garbage) c = static_cast<char>(byte(rng));
    StreamFramer framer(4096, type_set(frontend::query, frontend::parse));
    std::string_view rest = garbage;
    for (int steps = 0; steps < 10000; ++steps) {
      auto step = framer.next(rest);
      if (step.kind == Kind::need_more || step.kind == Kind::malformed) break;
      REQUIRE(step.size > 0);
      REQUIRE(step.size <= rest.size());
      rest.remove_prefix(step.size);
    }
    // Decoders of inspected bodies must not crash on garbage either.
    (void)decode_query(garbage);
    (void)decode_parse(garbage);
    (void)decode_error_fields(garbage);
    (void)decode_command_complete(garbage);
  }
}
