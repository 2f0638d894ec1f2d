// The shared test cluster; see cluster.hpp.
#include "support/cluster.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "support/pq.hpp"
#include "support/process.hpp"

namespace pgsoftdelete::test {

namespace {
const std::string script = std::string(PGSD_SOURCE_DIR) + "/scripts/tmp-postgres.sh";
}

Cluster::Cluster() : port_(free_port()) {
  char dir_template[] = "/tmp/pgsd-test-XXXXXX";
  if (::mkdtemp(dir_template) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = dir_template;
  auto r = run_command(script + " start " + dir_.string() + " " + std::to_string(port_));
  if (r.status != 0) throw std::runtime_error("cannot start PostgreSQL: " + r.output);
}

Cluster::Cluster(StandbyOf of) : port_(free_port()) {
  char dir_template[] = "/tmp/pgsd-test-XXXXXX";
  if (::mkdtemp(dir_template) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = dir_template;
  auto r = run_command(script + " standby " + dir_.string() + " " + std::to_string(port_) + " " +
                       std::to_string(of.primary.port()));
  if (r.status != 0) throw std::runtime_error("cannot start the standby: " + r.output);
}

void Cluster::stop() { run_command(script + " stop " + dir_.string()); }

void Cluster::promote() {
  auto r = run_command(script + " promote " + dir_.string());
  if (r.status != 0) throw std::runtime_error("cannot promote the standby: " + r.output);
}

Cluster::~Cluster() {
  run_command(script + " stop " + dir_.string());
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string Cluster::conninfo(const std::string& user, const std::string& extra) const {
  return "host=127.0.0.1 port=" + std::to_string(port_) + " dbname=postgres user=" + user + " " + extra;
}

void Cluster::prepend_hba(const std::string& line) {
  const auto hba = dir_ / "data" / "pg_hba.conf";
  std::stringstream old;
  old << std::ifstream(hba).rdbuf();
  std::ofstream(hba) << line << "\n" << old.str();
  sql("SELECT pg_reload_conf()");
}

void Cluster::sql(const std::string& statement) const {
  Conn c(conninfo());
  if (!c.ok()) throw std::runtime_error("cannot connect to the test cluster: " + c.error());
  auto r = c.exec(statement);
  if (!r.ok()) throw std::runtime_error("\"" + statement + "\" failed: " + r.error());
}

Cluster& cluster() {
  static Cluster instance;
  return instance;
}

}  // namespace pgsoftdelete::test
