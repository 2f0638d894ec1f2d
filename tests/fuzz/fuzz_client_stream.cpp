// fuzz_client_stream: arbitrary bytes as the typed message stream a client sends after startup: first the
// login (every type inspected, at most max_auth_message_length bytes, as behind Session::LoginGate), then,
// from the first message that is not of type 'p', the types SessionRewriter::ClientSide inspects.
// Framing must never crash and must not depend on how the bytes arrive; every whole message goes through its decoder in proxy/codec/messages.hpp,
// and whatever decodes re-encodes to the very same bytes, which decode to the same value.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "codec/messages.hpp"
#include "stream_check.hpp"

namespace {

using namespace pgsd_fuzz;
namespace fe = codec::frontend;

/// SessionRewriter::ClientSide::inspected() (proxy/session_rewriter.cpp): Q P B D E C S F X c f.
const codec::StreamFramer::TypeSet inspected =
    codec::type_set(fe::query, fe::parse, fe::bind, fe::describe, fe::execute, fe::close, fe::sync,
                    fe::function_call, fe::terminate, fe::copy_done, fe::copy_fail);

/// The proxy's default max_message_size (proxy/config.hpp).
constexpr std::uint32_t max_length = 64u << 20;

/// encode(value) must give back `message` exactly, and decoding that must give `value` again.
template <class Message, class Decode, class Same>
void round_trip(const Message& value, std::string_view message, Decode decode, Same same) {
  std::string again;
  codec::encode(value, again);
  FUZZ_CHECK(again == message);
  auto decoded = decode(std::string_view(again).substr(codec::header_size));
  FUZZ_CHECK(decoded.has_value());
  FUZZ_CHECK(same(*decoded, value));
}

void on_message(const codec::Header& header, std::string_view message) {
  const std::string_view body = message.substr(codec::header_size);
  switch (header.type) {
    case fe::query:
      if (auto m = codec::decode_query(body)) {
        FUZZ_CHECK(m->sql.size() + 1 == body.size());
        round_trip(*m, message, codec::decode_query, [](const auto& a, const auto& b) { return a.sql == b.sql; });
      }
      break;
    case fe::parse:
      if (auto m = codec::decode_parse(body)) {
        round_trip(*m, message, codec::decode_parse, [](const auto& a, const auto& b) {
          return a.statement == b.statement && a.sql == b.sql && a.parameter_types == b.parameter_types;
        });
        // The rewriter re-encodes a Parse under another statement name (a variant): that must decode too.
        codec::Parse variant = *m;
        variant.statement += "_pgsd_v1";
        std::string bytes;
        codec::encode(variant, bytes);
        auto back = codec::decode_parse(std::string_view(bytes).substr(codec::header_size));
        FUZZ_CHECK(back && back->statement == variant.statement && back->sql == m->sql &&
                   back->parameter_types == m->parameter_types);
      }
      break;
    case fe::bind:
      if (auto m = codec::decode_bind(body)) {
        round_trip(*m, message, codec::decode_bind, [](const auto& a, const auto& b) {
          return a.portal == b.portal && a.statement == b.statement && a.rest == b.rest;
        });
      }
      break;
    case fe::describe:
      if (auto m = codec::decode_describe(body)) {
        FUZZ_CHECK(m->target == 'S' || m->target == 'P');
        round_trip(*m, message, codec::decode_describe,
                   [](const auto& a, const auto& b) { return a.target == b.target && a.name == b.name; });
      }
      break;
    case fe::close:
      if (auto m = codec::decode_close(body)) {
        FUZZ_CHECK(m->target == 'S' || m->target == 'P');
        round_trip(*m, message, codec::decode_close,
                   [](const auto& a, const auto& b) { return a.target == b.target && a.name == b.name; });
      }
      break;
    case fe::execute:
      if (auto m = codec::decode_execute(body)) {
        FUZZ_CHECK(m->portal.size() + 1 + 4 == body.size());
        FUZZ_CHECK(m->max_rows == codec::read_u32(body.substr(m->portal.size() + 1)));
      }
      break;
    default:  // Sync, FunctionCall, Terminate, CopyDone, CopyFail: framed, never decoded
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const Phase login = login_phase();
  check_stream(input, &login, Phase{max_length, inspected}, on_message);
  return 0;
}
