// fuzz_scram: the server side of SCRAM-SHA-256 (proxy/codec/scram.hpp), which reads what a client that has
// not logged in sends. The input is the client-first-message, a NUL, then the client-final-message (either
// may be missing); the whole input is also read as a stored verifier (parse_scram_verifier).
//  - a verifier that parses formats (format_scram_verifier) to text that parses to the same verifier;
//  - a real server and a doomed one (ScramServer::doomed) accept or refuse the same client-first-message,
//    and the server-first-message carries the client's nonce and ours, the salt's base64 and 4096;
//  - a doomed server never accepts a client-final-message; a real one answers "v=" and 32 bytes in base64;
//  - an exchange runs once: a second client-first or client-final is refused;
//  - an accepted proof is the one that counts: the same exchange with another proof is refused.
// tests/fuzz/corpus/fuzz_scram has a whole valid exchange for the password "pencil" (make_corpus.py).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "codec/scram.hpp"
#include "fuzz_check.hpp"

namespace {

namespace codec = pgsoftdelete::proxy::codec;

constexpr std::string_view mechanism = "SCRAM-SHA-256";
constexpr std::string_view server_nonce = "fuzzServerNonce";  // make_corpus.py computes proofs with it
constexpr std::string_view salt = "fuzz-salt-16byte";

const codec::ScramVerifier& verifier() {
  static const codec::ScramVerifier v = codec::make_scram_verifier("pencil", salt, 4096);
  return v;
}

std::string nonce() { return std::string(server_nonce); }

bool same(const codec::ScramVerifier& a, const codec::ScramVerifier& b) {
  return a.iterations == b.iterations && a.salt == b.salt && a.stored_key == b.stored_key &&
         a.server_key == b.server_key;
}

bool base64_of_32_bytes(std::string_view s) {
  if (s.size() != 44 || s[43] != '=' || s[42] == '=') return false;
  for (char c : s.substr(0, 43))
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/'))
      return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  if (auto v = codec::parse_scram_verifier(input)) {
    FUZZ_CHECK(v->iterations > 0 && !v->salt.empty() && v->stored_key.size() == 32 && v->server_key.size() == 32);
    const std::string text = codec::format_scram_verifier(*v);
    auto again = codec::parse_scram_verifier(text);
    FUZZ_CHECK(again.has_value() && same(*again, *v));
    FUZZ_CHECK(codec::format_scram_verifier(*again) == text);
  } else {
    FUZZ_CHECK(!v.error().empty());
  }

  const auto nul = input.find('\0');
  const std::string_view first = input.substr(0, nul);
  const bool has_final = nul != std::string_view::npos;
  const std::string_view final = has_final ? input.substr(nul + 1) : std::string_view();

  codec::ScramServer server(verifier(), nonce);
  auto doomed = codec::ScramServer::doomed("app", nonce);
  const auto server_first = server.client_first(mechanism, first);
  const auto doomed_first = doomed.client_first(mechanism, first);
  // A client must not tell a user that may not log in from one that may.
  FUZZ_CHECK(server_first.has_value() == doomed_first.has_value());
  FUZZ_CHECK(!server.client_first(mechanism, first).has_value());  // once only
  if (!server_first) {
    FUZZ_CHECK(!server_first.error().empty());
    FUZZ_CHECK(!server.client_final(final).has_value());
    return 0;
  }
  // r=<client nonce><server nonce>,s=<salt>,i=<iterations>, the client's nonce taken from its message.
  const std::string& sf = *server_first;
  const auto r_at = first.find(",r=");
  FUZZ_CHECK(r_at != std::string_view::npos);
  const std::string_view rest = first.substr(r_at + 3);
  const std::string_view client_nonce = rest.substr(0, rest.find(','));
  const std::string expected_start = "r=" + std::string(client_nonce) + std::string(server_nonce) + ",s=";
  FUZZ_CHECK(sf.starts_with(expected_start));
  FUZZ_CHECK(sf.ends_with(",i=4096"));
  FUZZ_CHECK(doomed_first->starts_with(expected_start));
  if (!has_final) return 0;

  const auto server_final = server.client_final(final);
  const auto doomed_final = doomed.client_final(final);
  FUZZ_CHECK(!doomed_final.has_value());
  if (server_final) {
    FUZZ_CHECK(server_final->starts_with("v=") && base64_of_32_bytes(std::string_view(*server_final).substr(2)));
    // The proof is what let the client in: the same exchange with another proof is refused.
    std::string forged(final);
    const auto p_at = forged.rfind(",p=");
    FUZZ_CHECK(p_at != std::string::npos && p_at + 3 < forged.size());
    forged[p_at + 3] = forged[p_at + 3] == 'A' ? 'B' : 'A';
    codec::ScramServer again(verifier(), nonce);
    FUZZ_CHECK(again.client_first(mechanism, first).has_value());
    FUZZ_CHECK(!again.client_final(forged).has_value());
  } else {
    FUZZ_CHECK(!server_final.error().empty());
  }
  FUZZ_CHECK(!server.client_final(final).has_value());  // once only
  return 0;
}
