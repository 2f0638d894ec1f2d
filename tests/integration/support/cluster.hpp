// A real PostgreSQL 15 for the tests, started in a temporary folder by scripts/tmp-postgres.sh
// (as the postgres user when the tests run as root) and removed at exit.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace pgsoftdelete::test {

class Cluster;

/// Asks Cluster's constructor for a streaming standby of `primary` (pg_basebackup -R).
struct StandbyOf {
  const Cluster& primary;
};

class Cluster {
 public:
  Cluster();
  explicit Cluster(StandbyOf of);
  ~Cluster();
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  [[nodiscard]] std::uint16_t port() const { return port_; }
  [[nodiscard]] const std::filesystem::path& dir() const { return dir_; }
  [[nodiscard]] std::string endpoint() const { return "127.0.0.1:" + std::to_string(port_); }
  /// A libpq connection string straight to the server.
  [[nodiscard]] std::string conninfo(const std::string& user = "postgres", const std::string& extra = "") const;
  /// Puts a line at the top of pg_hba.conf and reloads the server.
  void prepend_hba(const std::string& line);
  /// Runs SQL as the superuser, straight to the server; throws if it fails.
  void sql(const std::string& statement) const;
  /// Stops the server at once (as a crash would); the folder stays until destruction.
  void stop();
  /// Promotes a standby to a primary; returns once it accepts writes.
  void promote();

 private:
  std::filesystem::path dir_;
  std::uint16_t port_;
};

/// The cluster shared by every test of this binary, started on first use.
Cluster& cluster();

}  // namespace pgsoftdelete::test
