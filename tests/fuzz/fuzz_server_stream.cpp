// fuzz_server_stream: arbitrary bytes as the typed message stream a server sends (authentication included).
// Framing (StreamFramer with the types the session inspects on the server side) must never crash and must not
// depend on how the bytes arrive. Each whole message goes where the session sends it: 'R' through
// codec::without_channel_binding (checked against an independent reading of AuthenticationSASL), 'C', 'Z' and
// 'E' through their decoders, and what decodes re-encodes to the very same bytes.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "codec/auth.hpp"
#include "codec/messages.hpp"
#include "stream_check.hpp"

namespace {

using namespace pgsd_fuzz;
namespace be = codec::backend;

/// SessionRewriter::ServerSide::inspected() (proxy/session_rewriter.cpp) plus what Session::ReadyTap
/// (proxy/session.cpp) adds: 1 2 3 C I E n s Z T S G, and R.
const codec::StreamFramer::TypeSet inspected =
    codec::type_set(be::parse_complete, be::bind_complete, be::close_complete, be::command_complete,
                    be::empty_query_response, be::error_response, be::no_data, be::portal_suspended,
                    be::ready_for_query, be::row_description, be::parameter_status, be::copy_in_response,
                    be::authentication);

/// What the session's server pump accepts.
constexpr std::uint32_t max_length = codec::max_backend_message_length;

constexpr std::string_view plus = "SCRAM-SHA-256-PLUS";

/// The mechanisms of a well-formed AuthenticationSASL body (code 10, NUL-terminated names, an empty name,
/// nothing after it); nullopt for anything else. Written independently of proxy/codec/auth.cpp.
std::optional<std::vector<std::string_view>> sasl_mechanisms(std::string_view body) {
  if (body.size() < 4 || codec::read_u32(body) != codec::auth_sasl) return std::nullopt;
  body.remove_prefix(4);
  std::vector<std::string_view> out;
  for (;;) {
    const auto nul = body.find('\0');
    if (nul == std::string_view::npos) return std::nullopt;
    if (nul == 0) {
      body.remove_prefix(1);
      break;
    }
    out.push_back(body.substr(0, nul));
    body.remove_prefix(nul + 1);
  }
  if (!body.empty()) return std::nullopt;
  return out;
}

void check_authentication(std::string_view body) {
  const auto edited = codec::without_channel_binding(body);
  const auto mechanisms = sasl_mechanisms(body);
  std::vector<std::string_view> kept;
  bool offers_plus = false;
  if (mechanisms)
    for (auto m : *mechanisms) {
      if (m == plus) offers_plus = true;
      else kept.push_back(m);
    }
  // Edited exactly when the server offers channel binding in a well-formed AuthenticationSASL.
  FUZZ_CHECK(edited.has_value() == offers_plus);
  if (!edited) return;
  // A whole 'R' message whose length is right, offering the other mechanisms in the same order.
  const std::string& out = *edited;
  FUZZ_CHECK(out.size() >= codec::header_size && out[0] == be::authentication);
  FUZZ_CHECK(codec::read_u32(std::string_view(out).substr(1)) + 1 == out.size());
  const std::string_view new_body = std::string_view(out).substr(codec::header_size);
  const auto after = sasl_mechanisms(new_body);
  FUZZ_CHECK(after.has_value() && *after == kept);
  FUZZ_CHECK(!codec::without_channel_binding(new_body).has_value());  // nothing left to drop
}

void on_message(const codec::Header& header, std::string_view message) {
  const std::string_view body = message.substr(codec::header_size);
  switch (header.type) {
    case be::authentication: check_authentication(body); break;
    case be::command_complete:
      if (auto m = codec::decode_command_complete(body)) {
        std::string again;
        codec::encode(*m, again);
        FUZZ_CHECK(again == message);
        auto back = codec::decode_command_complete(std::string_view(again).substr(codec::header_size));
        FUZZ_CHECK(back && back->tag == m->tag);
        // SessionRewriter::apply turns "UPDATE n" into "DELETE n" for a soft delete: still a valid message.
        if (m->tag.starts_with("UPDATE ")) {
          codec::CommandComplete renamed{m->tag};
          renamed.tag.replace(0, 6, "DELETE");
          std::string bytes;
          codec::encode(renamed, bytes);
          auto r = codec::decode_command_complete(std::string_view(bytes).substr(codec::header_size));
          FUZZ_CHECK(r && r->tag == renamed.tag && bytes.size() == message.size());
        }
      }
      break;
    case be::ready_for_query:
      if (auto m = codec::decode_ready_for_query(body)) {
        FUZZ_CHECK(body.size() == 1 && m->status == body[0]);
        std::string again;
        codec::encode(*m, again);
        FUZZ_CHECK(again == message);
      }
      break;
    case be::error_response:
      if (auto m = codec::decode_error_fields(body)) {
        for (const auto& [code, value] : m->fields) FUZZ_CHECK(code != '\0');
        (void)m->sqlstate();
        (void)m->message();
        std::string again;
        codec::encode_error_response(*m, again);
        FUZZ_CHECK(again == message);
        auto back = codec::decode_error_fields(std::string_view(again).substr(codec::header_size));
        FUZZ_CHECK(back && back->fields == m->fields);
      }
      break;
    default:  // the others only move the session's bookkeeping along
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  check_stream(input, nullptr, Phase{max_length, inspected}, on_message);
  return 0;
}
