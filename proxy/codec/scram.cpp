// SCRAM-SHA-256 verifiers and the server's side of the exchange; see scram.hpp.
#include "codec/scram.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <array>
#include <charconv>
#include <cstdlib>
#include <optional>
#include <utility>

namespace pgsoftdelete::proxy::codec {
namespace {

constexpr std::string_view mechanism = "SCRAM-SHA-256";
constexpr std::size_t key_length = SHA256_DIGEST_LENGTH;
constexpr std::size_t salt_length = 16;   // PostgreSQL's SCRAM_DEFAULT_SALT_LEN
constexpr std::size_t nonce_length = 18;  // PostgreSQL's SCRAM_RAW_NONCE_LEN
constexpr int default_iterations = 4096;
// Caps what base64 and the digests are given, so sizes fit the ints OpenSSL takes; no SCRAM
// message comes near it.
constexpr std::size_t max_input = 1 << 20;

const unsigned char* bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

std::string random_bytes(std::size_t n) {
  std::string out(n, '\0');
  // Without randomness no salt or nonce is safe, and there is nothing sensible to go on with.
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1)
    std::abort();
  return out;
}

std::string to_base64(std::string_view raw) {
  std::string out(4 * ((raw.size() + 2) / 3) + 1, '\0');  // +1: EVP_EncodeBlock's NUL
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes(raw),
                                static_cast<int>(raw.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

// EVP_DecodeBlock skips surrounding blanks and counts '=' padding as zero bytes, so the text
// is checked strictly first and the padding taken off the result.
std::optional<std::string> from_base64(std::string_view text) {
  if (text.size() % 4 != 0 || text.size() > max_input) return std::nullopt;
  std::size_t pad = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '=') {
      if (i + 2 < text.size()) return std::nullopt;  // only the last two may be padding
      ++pad;
    } else if (pad > 0 || !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                            (c >= '0' && c <= '9') || c == '+' || c == '/')) {
      return std::nullopt;
    }
  }
  std::string out(text.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes(text),
                                static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  out.resize(static_cast<std::size_t>(n) - pad);
  return out;
}

std::string hmac(std::string_view key, std::string_view data) {
  std::string out(key_length, '\0');
  unsigned int n = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), bytes(data), data.size(),
       reinterpret_cast<unsigned char*>(out.data()), &n);
  return out;
}

std::string sha256(std::string_view data) {
  std::string out(key_length, '\0');
  SHA256(bytes(data), data.size(), reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

// Reads "<name>=<value>" up to the next ',' (consumed) or the end.
std::optional<std::string_view> attribute(std::string_view& in, char name) {
  if (in.size() < 2 || in[0] != name || in[1] != '=') return std::nullopt;
  const auto comma = in.find(',');
  const auto value = in.substr(2, comma == std::string_view::npos ? in.npos : comma - 2);
  in.remove_prefix(comma == std::string_view::npos ? in.size() : comma + 1);
  return value;
}

// RFC 5802's printable: %x21-7E except ','.
bool printable(std::string_view s) {
  for (char c : s)
    if (c < 0x21 || c > 0x7e || c == ',') return false;
  return !s.empty();
}

std::unexpected<std::string> fail(std::string message) {
  return std::unexpected(std::move(message));
}

}  // namespace

std::expected<ScramVerifier, std::string> parse_scram_verifier(std::string_view text) {
  const std::string_view prefix = "SCRAM-SHA-256$";
  if (!text.starts_with(prefix)) return fail("SCRAM verifier does not start with " +
                                             std::string(prefix));
  text.remove_prefix(prefix.size());
  const auto colon1 = text.find(':');
  const auto dollar = text.find('$');
  const auto colon2 = text.rfind(':');
  if (colon1 == text.npos || dollar == text.npos || colon1 > dollar || colon2 < dollar)
    return fail("SCRAM verifier is not <iterations>:<salt>$<StoredKey>:<ServerKey>");
  ScramVerifier v;
  const auto iterations = text.substr(0, colon1);
  const auto [end, ec] = std::from_chars(iterations.data(), iterations.end(), v.iterations);
  if (ec != std::errc{} || end != iterations.end() || v.iterations <= 0)
    return fail("SCRAM verifier has a bad iteration count");
  auto salt = from_base64(text.substr(colon1 + 1, dollar - colon1 - 1));
  auto stored = from_base64(text.substr(dollar + 1, colon2 - dollar - 1));
  auto server = from_base64(text.substr(colon2 + 1));
  if (!salt || salt->empty()) return fail("SCRAM verifier's salt is not base64");
  if (!stored || stored->size() != key_length)
    return fail("SCRAM verifier's StoredKey is not 32 bytes in base64");
  if (!server || server->size() != key_length)
    return fail("SCRAM verifier's ServerKey is not 32 bytes in base64");
  v.salt = std::move(*salt);
  v.stored_key = std::move(*stored);
  v.server_key = std::move(*server);
  return v;
}

std::string format_scram_verifier(const ScramVerifier& v) {
  return "SCRAM-SHA-256$" + std::to_string(v.iterations) + ":" + to_base64(v.salt) + "$" +
         to_base64(v.stored_key) + ":" + to_base64(v.server_key);
}

ScramVerifier make_scram_verifier(std::string_view password, std::string_view salt,
                                  int iterations) {
  std::string salted(key_length, '\0');
  PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()), bytes(salt),
                    static_cast<int>(salt.size()), iterations, EVP_sha256(),
                    static_cast<int>(key_length), reinterpret_cast<unsigned char*>(salted.data()));
  return {iterations, std::string(salt), sha256(hmac(salted, "Client Key")),
          hmac(salted, "Server Key")};
}

ScramVerifier scram_verifier_for_password(std::string_view password) {
  return make_scram_verifier(password, random_bytes(salt_length), default_iterations);
}

ScramServer::ScramServer(ScramVerifier verifier, NonceSource nonce)
    : verifier_(std::move(verifier)), nonce_source_(std::move(nonce)) {}

ScramServer ScramServer::doomed(std::string_view user_seed, NonceSource nonce) {
  // PostgreSQL mixes a secret into its mock salt so that it cannot be predicted from the user
  // name (which would give the game away); this one lasts as long as the process.
  static const std::string secret = random_bytes(key_length);
  ScramVerifier mock{default_iterations,
                     sha256(secret + std::string(user_seed)).substr(0, salt_length),
                     random_bytes(key_length), random_bytes(key_length)};
  ScramServer server(std::move(mock), std::move(nonce));
  server.doomed_ = true;
  return server;
}

std::expected<std::string, std::string> ScramServer::client_first(std::string_view mech,
                                                                  std::string_view data) {
  if (step_ != Step::want_first) return fail("unexpected SASLInitialResponse");
  step_ = Step::done;  // any error below ends the exchange
  if (mech != mechanism) return fail("unsupported SASL mechanism: " + std::string(mech));
  // gs2-header: "n,," (client does no channel binding) or "y,," (client would, but sees the
  // server does not offer it, which is true here); "p=" asks for binding we never offered.
  if (data.starts_with("p=")) return fail("channel binding was not offered");
  if (data.size() < 2 || (data[0] != 'n' && data[0] != 'y') || data[1] != ',')
    return fail("malformed SCRAM message: bad GS2 header");
  if (data.substr(2).starts_with("a=")) return fail("authorization identity is not supported");
  if (data.size() < 3 || data[2] != ',') return fail("malformed SCRAM message: bad GS2 header");
  gs2_header_ = data.substr(0, 3);
  std::string_view bare = data.substr(3);
  client_first_bare_ = bare;
  if (bare.starts_with("m=")) return fail("SCRAM extensions are not supported");
  // The user name is ignored, as PostgreSQL does: the startup packet's user is the one
  // that counts. Extensions after the nonce are ignored too.
  if (!attribute(bare, 'n')) return fail("malformed SCRAM message: no user name");
  const auto client_nonce = attribute(bare, 'r');
  if (!client_nonce || !printable(*client_nonce))
    return fail("malformed SCRAM message: bad client nonce");
  nonce_ = std::string(*client_nonce) +
           (nonce_source_ ? nonce_source_() : to_base64(random_bytes(nonce_length)));
  server_first_ = "r=" + nonce_ + ",s=" + to_base64(verifier_.salt) +
                  ",i=" + std::to_string(verifier_.iterations);
  step_ = Step::want_final;
  return server_first_;
}

std::expected<std::string, std::string> ScramServer::client_final(std::string_view data) {
  if (step_ != Step::want_final) return fail("unexpected SASLResponse");
  step_ = Step::done;
  if (data.size() > max_input) return fail("SCRAM message too long");
  std::string_view in = data;
  const auto binding = attribute(in, 'c');
  const auto decoded_binding = binding ? from_base64(*binding) : std::nullopt;
  if (!decoded_binding) return fail("malformed SCRAM message: bad channel binding");
  if (*decoded_binding != gs2_header_) return fail("SCRAM channel binding check failed");
  const auto nonce = attribute(in, 'r');
  if (!nonce || *nonce != nonce_) return fail("SCRAM nonce does not match");
  // Extensions may come before the proof, which is last; they are part of what it signs.
  std::optional<std::string_view> proof_b64;
  std::size_t proof_at = 0;
  while (!in.empty() && !proof_b64) {
    proof_at = data.size() - in.size();
    if (!(proof_b64 = attribute(in, 'p')) && !attribute(in, in[0]))
      return fail("malformed SCRAM message: bad attribute");
  }
  if (!proof_b64 || !in.empty() || data.back() == ',')
    return fail("malformed SCRAM message: no proof at the end");
  const auto proof = from_base64(*proof_b64);
  if (!proof || proof->size() != key_length) return fail("malformed SCRAM message: bad proof");

  const std::string auth_message = client_first_bare_ + "," + server_first_ + "," +
                                   std::string(data.substr(0, proof_at - 1));
  std::string client_key = hmac(verifier_.stored_key, auth_message);  // ClientSignature
  for (std::size_t i = 0; i < key_length; ++i) client_key[i] ^= (*proof)[i];
  const std::string stored = sha256(client_key);
  // Compared in constant time so the timing tells nothing of how much of the key matched.
  const bool match = verifier_.stored_key.size() == key_length &&
                     CRYPTO_memcmp(stored.data(), verifier_.stored_key.data(), key_length) == 0;
  if (doomed_ || !match) return fail("password authentication failed");
  return "v=" + to_base64(hmac(verifier_.server_key, auth_message));
}

}  // namespace pgsoftdelete::proxy::codec
