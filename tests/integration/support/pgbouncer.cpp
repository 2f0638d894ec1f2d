// PgBouncer for the tests; see pgbouncer.hpp.
#include "support/pgbouncer.hpp"

#include <unistd.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "support/cluster.hpp"
#include "support/process.hpp"

namespace pgsoftdelete::test {

PgBouncer::PgBouncer(const std::string& pool_mode, int pool_size) : port_(free_port()) {
  char dir_template[] = "/tmp/pgsd-bouncer-XXXXXX";
  if (::mkdtemp(dir_template) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = dir_template;
  std::ofstream(dir_ / "userlist.txt") << "\"postgres\" \"\"\n";
  std::ofstream(dir_ / "pgbouncer.ini") << "[databases]\n* = host=127.0.0.1 port=" << cluster().port() << "\n"
                                        << "[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = " << port_
                                        << "\nunix_socket_dir =\nauth_type = trust\nauth_file = " << (dir_ / "userlist.txt").string()
                                        << "\npool_mode = " << pool_mode << "\ndefault_pool_size = " << pool_size
                                        << "\nmax_client_conn = 200\nlogfile = " << (dir_ / "pgbouncer.log").string()
                                        << "\npidfile = " << (dir_ / "pgbouncer.pid").string() << "\n";
  const bool root = ::geteuid() == 0;
  if (root) run_command("chown -R postgres: " + dir_.string());
  const std::string start = "pgbouncer -d -q " + (dir_ / "pgbouncer.ini").string();
  const auto r = run_command(root ? "runuser -u postgres -- " + start : start);
  if (r.status != 0 || !wait_for_port(port_, std::chrono::seconds(10)))
    throw std::runtime_error("cannot start PgBouncer: " + r.output + log());
}

PgBouncer::~PgBouncer() {
  run_command("kill $(cat " + (dir_ / "pgbouncer.pid").string() + ") 2>/dev/null; sleep 0.2");
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string PgBouncer::log() const {
  std::stringstream s;
  s << std::ifstream(dir_ / "pgbouncer.log").rdbuf();
  return s.str();
}

}  // namespace pgsoftdelete::test
