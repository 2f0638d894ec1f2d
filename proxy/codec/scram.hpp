// The server side of SCRAM-SHA-256 (RFC 5802, RFC 7677) as PostgreSQL runs it: stored
// verifiers and the exchange's messages, without I/O. See src/backend/libpq/auth-scram.c.
#pragma once

#include <expected>
#include <functional>
#include <string>
#include <string_view>

namespace pgsoftdelete::proxy::codec {

/// What a server keeps of a password: enough to check a client's proof, not to log in.
struct ScramVerifier {
  int iterations = 0;
  std::string salt;        ///< raw bytes
  std::string stored_key;  ///< H(ClientKey), 32 raw bytes
  std::string server_key;  ///< HMAC(SaltedPassword, "Server Key"), 32 raw bytes
};

/// Reads PostgreSQL's stored form (pg_authid.rolpassword):
/// "SCRAM-SHA-256$<iterations>:<salt base64>$<StoredKey base64>:<ServerKey base64>".
std::expected<ScramVerifier, std::string> parse_scram_verifier(std::string_view text);

/// The stored form parse_scram_verifier reads.
std::string format_scram_verifier(const ScramVerifier& verifier);

/// Derives the verifier of a password. The password is used as given, without SASLprep:
/// PostgreSQL applies SASLprep only to valid UTF-8 that it changes, so for ASCII passwords
/// this is what PostgreSQL and libpq compute; a non-ASCII password that SASLprep would
/// normalise (e.g. non-NFKC text) does not match what a client sends. `iterations` > 0.
ScramVerifier make_scram_verifier(std::string_view password, std::string_view salt,
                                  int iterations);

/// make_scram_verifier with a random 16-byte salt and 4096 iterations, PostgreSQL's defaults.
ScramVerifier scram_verifier_for_password(std::string_view password);

/// One SCRAM-SHA-256 exchange on the server's side, channel binding not offered. Feed it
/// the client's two messages in order; any error ends the exchange (answer 28P01).
class ScramServer {
 public:
  /// Gives the server's part of the nonce: printable ASCII without ','.
  using NonceSource = std::function<std::string()>;

  /// A server checking against `verifier`; `nonce` defaults to 18 random bytes in base64.
  explicit ScramServer(ScramVerifier verifier, NonceSource nonce = {});

  /// A server for a user that may not log in: the exchange runs as for a real user, with a
  /// salt derived from `user_seed` that is the same on every attempt, so a client cannot tell
  /// whether the user exists; client_final then always fails.
  static ScramServer doomed(std::string_view user_seed, NonceSource nonce = {});

  /// The mechanism list of an AuthenticationSASL body (after its code): only SCRAM-SHA-256,
  /// since the console cannot do SCRAM-SHA-256-PLUS.
  static std::string_view mechanism_list() { return {"SCRAM-SHA-256\0", 15}; }

  /// Takes SASLInitialResponse's mechanism and data (client-first-message) and returns the
  /// server-first-message to send in AuthenticationSASLContinue.
  std::expected<std::string, std::string> client_first(std::string_view mechanism,
                                                       std::string_view data);

  /// Takes SASLResponse's data (client-final-message), checks the proof and returns the
  /// server-final-message to send in AuthenticationSASLFinal.
  std::expected<std::string, std::string> client_final(std::string_view data);

 private:
  enum class Step { want_first, want_final, done };

  ScramVerifier verifier_;
  NonceSource nonce_source_;
  bool doomed_ = false;
  Step step_ = Step::want_first;
  std::string gs2_header_;         // "n,," or "y,,", which c= must repeat
  std::string client_first_bare_;  // these three make up the AuthMessage
  std::string server_first_;
  std::string nonce_;  // client's and server's together
};

}  // namespace pgsoftdelete::proxy::codec
