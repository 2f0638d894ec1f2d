// Child processes for tests: the pgsoftdelete binary and command-line clients.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace pgsoftdelete::test {

/// A port on 127.0.0.1 that nothing listens on right now.
std::uint16_t free_port();

/// True once something accepts TCP connections on 127.0.0.1:port, within `timeout`.
bool wait_for_port(std::uint16_t port, std::chrono::milliseconds timeout);

/// A running pgsoftdelete, stopped (SIGTERM, then SIGKILL) when destroyed. Its stderr goes to a file.
class ProxyProcess {
 public:
  /// Starts the binary with `args` after --listen 127.0.0.1:<port()> (unless `args` has its own
  /// --listen: then returns once the log says it listens).
  explicit ProxyProcess(std::vector<std::string> args);
  /// The same on a port of the caller's choice (so_reuseport: one another process listens on too);
  /// then returns once the log says it listens.
  ProxyProcess(std::vector<std::string> args, std::uint16_t port);
  ~ProxyProcess();
  ProxyProcess(const ProxyProcess&) = delete;
  ProxyProcess& operator=(const ProxyProcess&) = delete;

  [[nodiscard]] std::uint16_t port() const { return port_; }
  [[nodiscard]] pid_t pid() const { return pid_; }
  /// A libpq connection string to the proxy.
  [[nodiscard]] std::string conninfo(const std::string& user = "postgres", const std::string& extra = "") const;
  /// Everything the proxy logged so far.
  [[nodiscard]] std::string log() const;
  /// Resident set size in KiB, from /proc.
  [[nodiscard]] long rss_kib() const;
  /// True while the process runs.
  [[nodiscard]] bool alive();
  /// Sends a signal to the process.
  void signal(int signo) const;
  /// Waits up to `timeout` for the process to exit; its exit code, or -1 (still running or killed).
  int wait_exit(std::chrono::milliseconds timeout);

 private:
  std::uint16_t port_;
  pid_t pid_ = -1;
  std::filesystem::path log_file_;
};

/// Output and exit status of a finished command.
struct CommandResult {
  int status = -1;
  std::string output;  ///< stdout and stderr together
};

/// Runs a shell command and waits for it.
CommandResult run_command(const std::string& command);

}  // namespace pgsoftdelete::test
