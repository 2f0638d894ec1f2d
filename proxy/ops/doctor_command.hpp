// `pgsoftdelete doctor`: loads the configuration and the rules, connects to each database, runs the
// checks and prints the findings. The only part of pgsoftdelete that connects outside the proxy.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace pgsoftdelete::proxy::doctor {

/// The doctor's command-line options.
struct Options {
  std::optional<std::string> config_file;  ///< the proxy's configuration: rules file and upstream
  std::optional<std::string> rules_file;   ///< overrides the configuration's
  /// libpq connection strings or URIs; none: the configured upstream (host, port, TLS), the rest
  /// (user, database, password) from the PG* environment variables.
  std::vector<std::string> databases;
  bool json = false;
  bool strict = false;  ///< warnings make exit code 1
};

/// Runs the doctor; the exit code: 0 clean (or info only, or warnings without `strict`), 1
/// warnings with `strict`, 2 errors, or no connection, or a bad configuration (said on stderr).
int run(const Options& options);

}  // namespace pgsoftdelete::proxy::doctor
