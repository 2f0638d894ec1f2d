// Settings from every source at once: the configuration file, the rules file it names, and the
// command-line flags over both. Used at start, by --check, and on every reload.
#pragma once

#include <expected>
#include <memory>
#include <optional>
#include <string>

#include "ops/config.hpp"
#include "ops/runtime.hpp"
#include "net/tls.hpp"

namespace pgsoftdelete::proxy {

/// Command-line flags; each set one overrides the file.
struct Flags {
  std::optional<std::string> config_file;
  std::optional<std::string> listen;
  std::optional<std::string> upstream;
  std::optional<std::string> rules;
  std::optional<std::string> mode;
  std::optional<unsigned> io_threads;
  std::optional<std::string> log_level;
};

struct Settings {
  Config config;
  std::shared_ptr<const Runtime> runtime;
  TlsContexts tls;
};

/// Reads the configuration file (if any) and the rules file (if any), applies the flags, and
/// checks everything. The error names the file, the line and the problem.
std::expected<Settings, std::string> load_settings(const Flags& flags);

}  // namespace pgsoftdelete::proxy
