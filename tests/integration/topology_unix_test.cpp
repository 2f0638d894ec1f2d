// Unix-domain sockets on both sides (issue 15): the proxy listens on a socket named as libpq names
// PostgreSQL's (so `psql -h DIR -p PORT` finds it) and reaches the server through the server's own
// socket. A stale socket file left by a killed process is replaced; a live one is not taken over.
#include <doctest/doctest.h>

#include <csignal>
#include <filesystem>
#include <optional>
#include <thread>

#include "support/cluster.hpp"
#include "support/pq.hpp"
#include "support/process.hpp"
#include "support/seed.hpp"

using namespace pgsoftdelete::test;

namespace {

struct SocketFolder {
  SocketFolder() {
    char dir_template[] = "/tmp/pgsd-sock-XXXXXX";
    if (::mkdtemp(dir_template) == nullptr) throw std::runtime_error("mkdtemp failed");
    path = dir_template;
  }
  ~SocketFolder() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::filesystem::path path;
};

std::vector<std::string> unix_args(const SocketFolder& folder, std::uint16_t port) {
  return {"--listen", "unix:" + folder.path.string() + "/.s.PGSQL." + std::to_string(port),
          "--upstream", "unix:" + cluster().dir().string() + "/.s.PGSQL." + std::to_string(cluster().port()),
          "--rules", seed_rules().string()};
}

std::string via_socket(const SocketFolder& folder, std::uint16_t port) {
  return "host=" + folder.path.string() + " port=" + std::to_string(port) + " dbname=postgres user=postgres";
}

}  // namespace

TEST_CASE("Unix sockets on both sides: psql -h FOLDER -p PORT, the server reached on its socket, rules applied") {
  reset_seed();
  SocketFolder folder;
  const auto port = free_port();
  ProxyProcess proxy(unix_args(folder, port));
  const auto socket_file = folder.path / (".s.PGSQL." + std::to_string(port));
  CHECK(std::filesystem::is_socket(socket_file));

  // psql finds the socket from the folder and the port alone, as it finds PostgreSQL's.
  const auto r = run_command(std::string(PGSD_PG_BIN) + "/psql -X -A -t -h " + folder.path.string() + " -p " +
                             std::to_string(port) + " -U postgres -d postgres -c 'SELECT count(*) FROM humans'");
  CHECK(r.status == 0);
  CHECK(r.output == "3\n");  // 5 humans, 2 soft-deleted

  Conn c(via_socket(folder, port));
  REQUIRE_MESSAGE(c.ok(), c.error());
  CHECK(c.scalar("SELECT inet_server_addr() IS NULL") == "t");  // the server sees a Unix-socket client
  CHECK(c.exec("DELETE FROM humans WHERE id = 1").tag() == "DELETE 1");
  CHECK(c.scalar("SELECT count(*) FROM humans") == "2");
  Conn direct(cluster().conninfo());
  CHECK(direct.scalar("SELECT is_deleted FROM humans WHERE id = 1") == "t");
  // Extended protocol and a cancel request, both through the sockets.
  CHECK(c.exec_params("SELECT name FROM humans WHERE id = $1", {"2"}).value() == "Grace");
  CHECK(c.cancel_long_query() == "57014");
  CHECK(proxy.log().find("opened from unix socket") != std::string::npos);

  // The socket file goes with the process.
  proxy.signal(SIGTERM);
  CHECK(proxy.wait_exit(std::chrono::seconds(10)) == 0);
  CHECK_FALSE(std::filesystem::exists(socket_file));
}

TEST_CASE("a stale socket file is replaced; a live one is refused without so_reuseport") {
  SocketFolder folder;
  const auto port = free_port();
  const auto socket_file = folder.path / (".s.PGSQL." + std::to_string(port));
  {
    ProxyProcess killed(unix_args(folder, port));
    killed.signal(SIGKILL);
    killed.wait_exit(std::chrono::seconds(5));
  }
  REQUIRE(std::filesystem::is_socket(socket_file));  // left behind
  ProxyProcess proxy(unix_args(folder, port));
  Conn c(via_socket(folder, port));
  CHECK_MESSAGE(c.ok(), c.error());

  const auto second = run_command(std::string(PGSD_BINARY) + " --listen unix:" + socket_file.string() +
                                  " --upstream " + cluster().endpoint());
  CHECK(second.status != 0);
  CHECK(second.output.find("another process listens there") != std::string::npos);
  Conn still(via_socket(folder, port));  // the first one still serves
  CHECK_MESSAGE(still.ok(), still.error());
}

TEST_CASE("listen on TCP and a Unix socket at once; SIGUSR2 drains both and removes the socket file") {
  SocketFolder folder;
  const auto port = free_port();
  const auto tcp_port = free_port();
  const std::string unix_listen = "unix:" + folder.path.string();
  ProxyProcess proxy({"--listen", "127.0.0.1:" + std::to_string(tcp_port) + "," + unix_listen + "/.s.PGSQL." +
                                      std::to_string(port),
                      "--upstream", cluster().endpoint(), "--rules", seed_rules().string()});
  std::optional<Conn> over_tcp(std::in_place, "host=127.0.0.1 port=" + std::to_string(tcp_port) + " dbname=postgres user=postgres");
  std::optional<Conn> over_unix(std::in_place, via_socket(folder, port));
  REQUIRE_MESSAGE(over_tcp->ok(), over_tcp->error());
  REQUIRE_MESSAGE(over_unix->ok(), over_unix->error());
  CHECK(over_tcp->scalar("SELECT 1") == "1");
  CHECK(over_unix->scalar("SELECT 1") == "1");
  CHECK(proxy.log().find("listening on 127.0.0.1:" + std::to_string(tcp_port) + ", unix:") != std::string::npos);

  proxy.signal(SIGUSR2);
  const auto socket_file = folder.path / (".s.PGSQL." + std::to_string(port));
  for (int i = 0; i < 100 && std::filesystem::exists(socket_file); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK_FALSE(std::filesystem::exists(socket_file));
  Conn refused("host=127.0.0.1 port=" + std::to_string(tcp_port) + " dbname=postgres user=postgres connect_timeout=2");
  CHECK_FALSE(refused.ok());
  CHECK(over_tcp->scalar("SELECT 2") == "2");  // sessions go on until their clients leave
  CHECK(over_unix->scalar("SELECT 2") == "2");
  over_tcp.reset();
  over_unix.reset();
  CHECK(proxy.wait_exit(std::chrono::seconds(10)) == 0);
}
