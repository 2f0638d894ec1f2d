// TLS on both sides, with a CA and certificates made by the test: psql-style verify-full to the
// proxy, the proxy verifying the server, client certificates, SCRAM with channel_binding=prefer.
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "support/cluster.hpp"
#include "support/pq.hpp"
#include "support/process.hpp"

using namespace pgsoftdelete::test;
namespace fs = std::filesystem;

namespace {

/// A CA, a certificate for localhost/127.0.0.1 and a client certificate, in a folder the
/// postgres user can read (the server's key must be its own, mode 0600).
class Pki {
 public:
  Pki() {
    char dir_template[] = "/tmp/pgsd-pki-XXXXXX";
    REQUIRE(::mkdtemp(dir_template) != nullptr);
    dir_ = dir_template;
    const std::string d = dir_.string();
    const std::string script =
        "set -e; cd " + d + "; exec 2>openssl.log\n"
        "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=pgsd-test-ca -keyout ca.key -out ca.crt\n"
        "openssl req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout server.key -out server.csr\n"
        "echo subjectAltName=DNS:localhost,IP:127.0.0.1 > san.ext\n"
        "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile san.ext -out server.crt\n"
        "openssl req -newkey rsa:2048 -nodes -subj /CN=postgres -keyout client.key -out client.csr\n"
        "openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -out client.crt\n"
        "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=other-ca -keyout other.key -out other.crt\n"
        "chmod 600 *.key; chmod 755 .\n"
        "if [ \"$(id -u)\" = 0 ]; then chown postgres: server.key server.crt ca.crt; fi\n";
    std::ofstream(dir_ / "make.sh") << script;
    auto r = run_command("bash " + d + "/make.sh");
    REQUIRE_MESSAGE(r.status == 0, r.output);
  }
  ~Pki() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  [[nodiscard]] std::string file(const std::string& name) const { return (dir_ / name).string(); }

 private:
  fs::path dir_;
};

/// One set of certificates for the whole run.
const Pki& test_pki() {
  static Pki pki;
  return pki;
}

/// A cluster of its own with TLS on and a SCRAM user that must log in over TLS.
Cluster& tls_cluster(const Pki& pki) {
  static Cluster c;
  static bool configured = [&] {
    c.sql("ALTER SYSTEM SET ssl = on");
    c.sql("ALTER SYSTEM SET ssl_cert_file = '" + pki.file("server.crt") + "'");
    c.sql("ALTER SYSTEM SET ssl_key_file = '" + pki.file("server.key") + "'");
    c.sql("SET password_encryption = 'scram-sha-256'; CREATE ROLE pgsd_tls LOGIN PASSWORD 'tls-secret'");
    c.prepend_hba("hostssl all pgsd_tls 127.0.0.1/32 scram-sha-256");
    c.prepend_hba("hostnossl all pgsd_tls 127.0.0.1/32 reject");
    return true;
  }();
  (void)configured;
  return c;
}

std::string write_config(const std::string& name, const std::string& text) {
  const auto file = fs::temp_directory_path() / name;
  std::ofstream(file) << text;
  return file.string();
}

}  // namespace

TEST_CASE("TLS both ways: verify-full to the proxy, the proxy verifying the server") {
  const Pki& pki = test_pki();
  Cluster& server = tls_cluster(pki);
  const auto config = write_config("pgsd-tls.toml",
                                   "tls_cert_file = \"" + pki.file("server.crt") + "\"\n"
                                   "tls_key_file = \"" + pki.file("server.key") + "\"\n"
                                   "upstream_tls = \"verify-full\"\n"
                                   "upstream_tls_ca_file = \"" + pki.file("ca.crt") + "\"\n");
  ProxyProcess proxy({"--config", config, "--upstream", server.endpoint()});
  const std::string tls_client = "host=localhost port=" + std::to_string(proxy.port()) +
                                 " dbname=postgres sslmode=verify-full sslrootcert=" + pki.file("ca.crt");

  SUBCASE("libpq verifies the proxy and the proxy reaches the server over TLS") {
    Conn c(tls_client + " user=postgres");
    REQUIRE_MESSAGE(c.ok(), c.error());
    CHECK(PQsslInUse(c.get()) == 1);
    CHECK(c.scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()") == "t");
  }
  SUBCASE("psql with sslmode=verify-full") {
    auto r = run_command(std::string(PGSD_PG_BIN) + "/psql \"" + tls_client +
                         " user=postgres\" -X -A -t -c \"SELECT version FROM pg_stat_ssl WHERE pid = pg_backend_pid()\"");
    CHECK(r.status == 0);
    CHECK(r.output.starts_with("TLSv1."));
  }
  SUBCASE("SCRAM over TLS on both links: channel binding cannot pass a proxy that terminates TLS") {
    // The client binds to the proxy's certificate, the server to its own: they can never agree,
    // and with TLS to the server PostgreSQL refuses a client that says it could have bound.
    Conn disabled(tls_client + " user=pgsd_tls password=tls-secret channel_binding=disable");
    REQUIRE_MESSAGE(disabled.ok(), disabled.error());
    CHECK(disabled.scalar("SELECT current_user") == "pgsd_tls");
    Conn prefer(tls_client + " user=pgsd_tls password=tls-secret channel_binding=prefer");
    CHECK_FALSE(prefer.ok());
    CHECK(prefer.error().find("channel binding") != std::string::npos);
    Conn require(tls_client + " user=pgsd_tls password=tls-secret channel_binding=require");
    CHECK_FALSE(require.ok());
  }
  SUBCASE("a client that does not trust the proxy's certificate is refused by libpq") {
    Conn wrong("host=localhost port=" + std::to_string(proxy.port()) +
               " dbname=postgres user=postgres sslmode=verify-full sslrootcert=" + pki.file("other.crt"));
    CHECK_FALSE(wrong.ok());
  }
}

TEST_CASE("SCRAM with channel_binding=prefer through TLS to the proxy and a plain link to the server") {
  const Pki& pki = test_pki();
  static bool role = [] {
    cluster().sql("SET password_encryption = 'scram-sha-256'; CREATE ROLE pgsd_cb LOGIN PASSWORD 'cb-secret'");
    cluster().prepend_hba("host all pgsd_cb 127.0.0.1/32 scram-sha-256");
    return true;
  }();
  (void)role;
  const auto config = write_config("pgsd-tls-client-only.toml",
                                   "tls_cert_file = \"" + pki.file("server.crt") + "\"\n"
                                   "tls_key_file = \"" + pki.file("server.key") + "\"\n");
  ProxyProcess proxy({"--config", config, "--upstream", cluster().endpoint()});
  Conn c("host=localhost port=" + std::to_string(proxy.port()) + " dbname=postgres user=pgsd_cb password=cb-secret "
         "sslmode=verify-full channel_binding=prefer sslrootcert=" + pki.file("ca.crt"));
  REQUIRE_MESSAGE(c.ok(), c.error());
  CHECK(PQsslInUse(c.get()) == 1);
  CHECK(c.scalar("SELECT current_user") == "pgsd_cb");
}

TEST_CASE("the proxy refuses an upstream it cannot verify, and one without TLS when required") {
  const Pki& pki = test_pki();
  Cluster& server = tls_cluster(pki);
  const auto wrong_ca = write_config("pgsd-tls-wrong-ca.toml", "upstream_tls = \"verify-full\"\n"
                                                              "upstream_tls_ca_file = \"" + pki.file("other.crt") + "\"\n");
  ProxyProcess distrustful({"--config", wrong_ca, "--upstream", server.endpoint()});
  Conn c(distrustful.conninfo());
  CHECK_FALSE(c.ok());
  CHECK(c.error().find("could not connect to upstream") != std::string::npos);
  CHECK(c.error().find("TLS handshake failed") != std::string::npos);

  ProxyProcess strict({"--upstream", cluster().endpoint(), "--config",
                       write_config("pgsd-tls-require.toml", "upstream_tls = \"require\"\n")});
  Conn plain(strict.conninfo());
  CHECK_FALSE(plain.ok());
  CHECK(plain.error().find("does not support TLS") != std::string::npos);
}

TEST_CASE("client certificates, when required") {
  const Pki& pki = test_pki();
  Cluster& server = tls_cluster(pki);
  const auto config = write_config("pgsd-tls-certs.toml",
                                   "tls_cert_file = \"" + pki.file("server.crt") + "\"\n"
                                   "tls_key_file = \"" + pki.file("server.key") + "\"\n"
                                   "tls_client_ca_file = \"" + pki.file("ca.crt") + "\"\n"
                                   "tls_client_certs = \"require\"\n");
  ProxyProcess proxy({"--config", config, "--upstream", server.endpoint()});
  const std::string base = "host=localhost port=" + std::to_string(proxy.port()) +
                           " dbname=postgres user=postgres sslmode=verify-full sslrootcert=" + pki.file("ca.crt");
  Conn without(base);
  CHECK_FALSE(without.ok());
  Conn with(base + " sslcert=" + pki.file("client.crt") + " sslkey=" + pki.file("client.key"));
  REQUIRE_MESSAGE(with.ok(), with.error());
  CHECK(with.scalar("SELECT 1") == "1");
}

TEST_CASE("--check refuses a TLS configuration with a missing key") {
  const auto config = write_config("pgsd-tls-bad.toml", "tls_cert_file = \"/nonexistent/server.crt\"\n");
  auto r = run_command(std::string(PGSD_BINARY) + " --check --config " + config);
  CHECK(r.status != 0);
  CHECK(r.output.find("tls_cert_file and tls_key_file go together") != std::string::npos);
}
