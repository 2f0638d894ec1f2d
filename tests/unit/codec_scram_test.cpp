// SCRAM-SHA-256 server: RFC 7677's exchange, PostgreSQL's verifiers, and what must fail.
#include <doctest/doctest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <string>
#include <utility>

#include "codec/scram.hpp"

using namespace pgsoftdelete::proxy::codec;
using namespace std::string_literals;

namespace {

// The test's own SCRAM arithmetic, written from RFC 5802 rather than shared with the module.
std::string b64(std::string_view raw) {
  std::string out(4 * ((raw.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(raw.data()),
                                static_cast<int>(raw.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::string unb64(std::string_view text) {
  std::string out(text.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  const std::size_t pad = text.ends_with("==") ? 2 : text.ends_with("=") ? 1 : 0;
  out.resize(static_cast<std::size_t>(n) - pad);
  return out;
}

std::string hmac(std::string_view key, std::string_view data) {
  unsigned char out[32];
  unsigned int n = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &n);
  return {reinterpret_cast<char*>(out), n};
}

std::string sha256(std::string_view data) {
  unsigned char out[32];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), out);
  return {reinterpret_cast<char*>(out), 32};
}

// The value of attribute `name` in a server-first-message.
std::string attr(std::string_view message, char name) {
  const auto at = message.find(std::string{name, '='});
  const auto end = message.find(',', at);
  return std::string(message.substr(at + 2, end == message.npos ? message.npos : end - at - 2));
}

struct Client {
  std::string password;
  std::string nonce = "rOprNGfwEbeRWgbNEkqO";
  std::string gs2 = "n,,";
  std::string extension;  // put before the proof when not empty
  std::string user = "user";

  std::string bare() const { return "n=" + user + ",r=" + nonce; }
  std::string first() const { return gs2 + bare(); }
  /// The client-final-message for `server_first`, and the server-final it must get back.
  std::pair<std::string, std::string> final(std::string_view server_first) const {
    const std::string salt = unb64(attr(server_first, 's'));
    std::string salted(32, '\0');
    PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                      reinterpret_cast<const unsigned char*>(salt.data()),
                      static_cast<int>(salt.size()), std::stoi(attr(server_first, 'i')),
                      EVP_sha256(), 32, reinterpret_cast<unsigned char*>(salted.data()));
    const std::string client_key = hmac(salted, "Client Key");
    std::string without_proof = "c=" + b64(gs2) + ",r=" + attr(server_first, 'r');
    if (!extension.empty()) without_proof += "," + extension;
    const std::string auth = bare() + "," + std::string(server_first) + "," + without_proof;
    std::string proof = hmac(sha256(client_key), auth);
    for (std::size_t i = 0; i < proof.size(); ++i) proof[i] ^= client_key[i];
    return {without_proof + ",p=" + b64(proof),
            "v=" + b64(hmac(hmac(salted, "Server Key"), auth))};
  }
};

// Runs a whole exchange; true when the server accepts and signs as the client expects.
bool login(ScramServer server, const Client& client) {
  auto first = server.client_first("SCRAM-SHA-256", client.first());
  REQUIRE(first);
  const auto [final, expected] = client.final(*first);
  auto last = server.client_final(final);
  if (last) CHECK(*last == expected);
  return last.has_value();
}

ScramServer::NonceSource fixed(std::string nonce) {
  return [nonce] { return nonce; };
}

const std::string rfc_salt = "W22ZaJ0SNY7soEsUEjb6gQ==";
const std::string rfc_server_nonce = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";

// Made by PostgreSQL 15 (CREATE ROLE ... PASSWORD with password_encryption = scram-sha-256).
const std::string pg_pencil =
    "SCRAM-SHA-256$4096:KqJA/EI5VA+ivA1WRH/sdg==$w6MUEpEzmkBXTyYTfcQcE85mAwJWC/G2H6R57xKZGAM="
    ":TcYgqk7QCc+0IWkBV4JeXbCUdyAftGrQKA8IfSMAUOc=";
const std::string pg_horse =
    "SCRAM-SHA-256$4096:3E8D2vzHJwMZ/2/pvpz6+A==$XMDoXH8d7KIgDBqXkKglzu6DjRQpRxmti5A8BfEaHcA="
    ":8e6E5v3a61C0n5wSd+KVzN+IZiRyI7a1a0iXl+fYlTM=";

ScramServer rfc_server() {
  return ScramServer(make_scram_verifier("pencil", unb64(rfc_salt), 4096), fixed(rfc_server_nonce));
}

}  // namespace

TEST_CASE("RFC 7677's example exchange, byte for byte") {
  auto server = rfc_server();
  auto first = server.client_first("SCRAM-SHA-256", "n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
  REQUIRE(first);
  CHECK(*first == "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                  "s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096");
  auto final = server.client_final(
      "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
      "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
  REQUIRE(final);
  CHECK(*final == "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
  // The exchange is over: nothing more is taken.
  CHECK_FALSE(server.client_final("c=biws"));
  CHECK_FALSE(server.client_first("SCRAM-SHA-256", "n,,n=user,r=abc"));
}

TEST_CASE("the test's own client agrees with RFC 7677") {
  const auto [final, expected] = Client{"pencil"}.final(
      "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096");
  CHECK(final.ends_with(",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="));
  CHECK(expected == "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
}

TEST_CASE("verifiers made by PostgreSQL parse, match ours and log in") {
  for (const auto& [text, password] : {std::pair{pg_pencil, "pencil"s},
                                       std::pair{pg_horse, "correct horse"s}}) {
    CAPTURE(text);
    auto v = parse_scram_verifier(text);
    REQUIRE(v);
    CHECK(v->iterations == 4096);
    CHECK(v->salt.size() == 16);
    CHECK(format_scram_verifier(*v) == text);
    const auto ours = make_scram_verifier(password, v->salt, v->iterations);
    CHECK(ours.stored_key == v->stored_key);
    CHECK(ours.server_key == v->server_key);
    CHECK(login(ScramServer(*v), Client{password}));
    CHECK_FALSE(login(ScramServer(*v), Client{password + "x"}));
  }
}

TEST_CASE("RFC 7677's numbers as a stored verifier") {
  CHECK(format_scram_verifier(make_scram_verifier("pencil", unb64(rfc_salt), 4096)) ==
        "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY="
        ":wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=");
}

TEST_CASE("a wrong password is refused") {
  auto server = rfc_server();
  REQUIRE(server.client_first("SCRAM-SHA-256", Client{"pencil"}.first()));
  auto r = server.client_final(Client{"Pencil"}.final(
      "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=" + rfc_salt + ",i=4096").first);
  REQUIRE_FALSE(r);
  CHECK(r.error() == "password authentication failed");
}

TEST_CASE("a nonce other than the one agreed is refused") {
  auto server = rfc_server();
  auto first = server.client_first("SCRAM-SHA-256", Client{"pencil"}.first());
  REQUIRE(first);
  std::string tampered = *first;
  tampered[5] ^= 1;  // inside the client's part of the nonce
  auto r = server.client_final(Client{"pencil"}.final(tampered).first);
  REQUIRE_FALSE(r);
  CHECK(r.error() == "SCRAM nonce does not match");
}

TEST_CASE("channel binding: none offered, so p= is refused and y,, accepted") {
  auto p = rfc_server().client_first("SCRAM-SHA-256", "p=tls-server-end-point,,n=user,r=abc");
  REQUIRE_FALSE(p);
  CHECK(p.error() == "channel binding was not offered");
  CHECK_FALSE(rfc_server().client_first("SCRAM-SHA-256-PLUS", "n,,n=user,r=abc"));

  CHECK(login(rfc_server(), Client{"pencil", "abc", "y,,"}));
  // c= must repeat the client's own header: "n,," after "y,," is a downgrade.
  auto server = rfc_server();
  REQUIRE(server.client_first("SCRAM-SHA-256", "y,,n=user,r=abc"));
  auto [final, expected] = Client{"pencil", "abc", "n,,"}.final(
      "r=abc" + rfc_server_nonce + ",s=" + rfc_salt + ",i=4096");
  auto r = server.client_final(final);
  REQUIRE_FALSE(r);
  CHECK(r.error() == "SCRAM channel binding check failed");
}

TEST_CASE("an extension before the proof is signed along") {
  Client client{"pencil"};
  client.extension = "x=whatever";
  CHECK(login(rfc_server(), client));
}

TEST_CASE("the user name in the message is ignored, even an empty one") {
  for (std::string user : {""s, "someone else"s}) {
    Client client{"pencil"};
    client.user = user;
    CHECK(login(rfc_server(), client));
  }
}

TEST_CASE("malformed client-first messages are errors") {
  for (std::string data : {""s, "n"s, "n,"s, "n,,"s, "x,,n=user,r=abc"s, "n,a=admin,n=user,r=abc"s,
                           "n,,m=ext,n=user,r=abc"s, "n,,r=abc"s, "n,,n=user"s, "n,,n=user,r="s,
                           "n,,n=user,r=a b"s, "n,,n=user,s=abc"s, "n;,n=user,r=abc"s,
                           "n,,n=user,r=\x01"s, "\0\0\0"s}) {
    CAPTURE(data);
    CHECK_FALSE(rfc_server().client_first("SCRAM-SHA-256", data));
  }
  CHECK_FALSE(rfc_server().client_first("", "n,,n=user,r=abc"));
}

TEST_CASE("malformed client-final messages are errors") {
  const std::string nonce = "rOprNGfwEbeRWgbNEkqO" + rfc_server_nonce;
  const std::string proof = "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
  for (std::string data : {
           ""s, ","s, "c="s, "c=biws"s, "c=biws,r="s + nonce, "c=biws,r=" + nonce + ",",
           "c=biws,r=" + nonce + ",p=", "c=biws,r=" + nonce + ",p=!!!!",
           "c=biws,r=" + nonce + ",p=dHzbZapW",  // valid base64, not 32 bytes
           "c=biws,r=" + nonce + "," + proof + ",", "c=biws,r=" + nonce + "," + proof + ",x=1",
           "c=biws,r=" + nonce + ",," + proof, "c=biws,r=" + nonce + ",xyz," + proof,
           "c=biw,r=" + nonce + "," + proof, "c=bi=s,r=" + nonce + "," + proof,
           "c= biws,r=" + nonce + "," + proof, "c=,r=" + nonce + "," + proof,
           "r=" + nonce + ",c=biws," + proof, "c=biws," + proof,
           "c=biws,r=" + nonce + "," + proof.substr(0, proof.size() - 1) + " ",
           "c=biws,r=" + nonce + "," + proof.substr(0, proof.size() - 1) + "=="}) {
    CAPTURE(data);
    auto server = rfc_server();
    REQUIRE(server.client_first("SCRAM-SHA-256", "n,,n=user,r=rOprNGfwEbeRWgbNEkqO"));
    CHECK_FALSE(server.client_final(data));
  }
  // Out of order.
  CHECK_FALSE(rfc_server().client_final("c=biws,r=" + nonce + "," + proof));
}

TEST_CASE("a doomed exchange looks real and always fails") {
  auto a = ScramServer::doomed("mallory", fixed("NONCE"));
  auto first = a.client_first("SCRAM-SHA-256", "n,,n=,r=abc");
  REQUIRE(first);
  CHECK(attr(*first, 'r') == "abcNONCE");
  CHECK(attr(*first, 'i') == "4096");
  CHECK(unb64(attr(*first, 's')).size() == 16);
  auto r = a.client_final(Client{"anything", "abc"}.final(*first).first);
  REQUIRE_FALSE(r);
  CHECK(r.error() == "password authentication failed");  // as for a wrong password

  // The same user sees the same salt every time, another user another one.
  auto again = ScramServer::doomed("mallory").client_first("SCRAM-SHA-256", "n,,n=,r=abc");
  auto other = ScramServer::doomed("trudy").client_first("SCRAM-SHA-256", "n,,n=,r=abc");
  REQUIRE(again);
  REQUIRE(other);
  CHECK(attr(*again, 's') == attr(*first, 's'));
  CHECK(attr(*other, 's') != attr(*first, 's'));
}

TEST_CASE("a plain password gets a random salt and the default nonce") {
  const auto v1 = scram_verifier_for_password("secret");
  const auto v2 = scram_verifier_for_password("secret");
  CHECK(v1.iterations == 4096);
  CHECK(v1.salt.size() == 16);
  CHECK(v1.salt != v2.salt);
  CHECK(login(ScramServer(v1), Client{"secret"}));
  CHECK_FALSE(login(ScramServer(v1), Client{"Secret"}));

  ScramServer server(v1);
  auto first = server.client_first("SCRAM-SHA-256", "n,,n=,r=abc");
  REQUIRE(first);
  const std::string server_nonce = attr(*first, 'r').substr(3);
  CHECK(server_nonce.size() == 24);  // 18 bytes in base64, as PostgreSQL
  CHECK(server_nonce.find(',') == std::string::npos);
}

TEST_CASE("the mechanism list offers SCRAM-SHA-256 alone") {
  CHECK(ScramServer::mechanism_list() == "SCRAM-SHA-256\0\0"s);
}

TEST_CASE("malformed stored verifiers are refused with a reason") {
  const std::string key = "WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=";
  for (std::string text : {
           ""s, "md5abcdef"s, "SCRAM-SHA-256$"s, "SCRAM-SHA-256$4096:" + rfc_salt,
           "SCRAM-SHA-1$4096:" + rfc_salt + "$" + key + ":" + key,
           "SCRAM-SHA-256$4096:" + rfc_salt + "$" + key,
           "SCRAM-SHA-256$:" + rfc_salt + "$" + key + ":" + key,
           "SCRAM-SHA-256$0:" + rfc_salt + "$" + key + ":" + key,
           "SCRAM-SHA-256$-1:" + rfc_salt + "$" + key + ":" + key,
           "SCRAM-SHA-256$4096x:" + rfc_salt + "$" + key + ":" + key,
           "SCRAM-SHA-256$99999999999:" + rfc_salt + "$" + key + ":" + key,
           "SCRAM-SHA-256$4096:$" + key + ":" + key,
           "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ$" + key + ":" + key,
           "SCRAM-SHA-256$4096:" + rfc_salt + "$" + key + ":" + key.substr(4),
           "SCRAM-SHA-256$4096:" + rfc_salt + "$" + key + ":" + key + " ",
           "SCRAM-SHA-256$4096:" + rfc_salt + "$" + key + ":" + key + ":" + key,
           "SCRAM-SHA-256$4096$" + rfc_salt + ":" + key + ":" + key}) {
    CAPTURE(text);
    auto v = parse_scram_verifier(text);
    REQUIRE_FALSE(v);
    CHECK_FALSE(v.error().empty());
  }
  CHECK(parse_scram_verifier("SCRAM-SHA-256$4096:" + rfc_salt + "$" + key + ":" + key));
}
