// A real PgBouncer (Debian's) in front of the shared test cluster, for the deployment tests: started
// in a temporary folder (as the postgres user when the tests run as root: it refuses root), stopped
// and removed when destroyed.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace pgsoftdelete::test {

class PgBouncer {
 public:
  /// `pool_mode` "transaction" or "session"; `pool_size` server connections per user and database.
  PgBouncer(const std::string& pool_mode, int pool_size);
  ~PgBouncer();
  PgBouncer(const PgBouncer&) = delete;
  PgBouncer& operator=(const PgBouncer&) = delete;

  [[nodiscard]] std::uint16_t port() const { return port_; }
  [[nodiscard]] std::string endpoint() const { return "127.0.0.1:" + std::to_string(port_); }
  [[nodiscard]] std::string log() const;

 private:
  std::filesystem::path dir_;
  std::uint16_t port_;
};

}  // namespace pgsoftdelete::test
