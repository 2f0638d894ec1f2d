// pgsoftdelete: command line, settings, logging, then the server.
#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <memory>

#include "ops/server.hpp"
#include "ops/settings.hpp"

namespace {

using pgsoftdelete::proxy::Flags;

/// Adds an option that fills an optional only when given.
template <class T>
CLI::Option* add_optional(CLI::App& app, const std::string& name, std::optional<T>& out, const std::string& help) {
  return app.add_option_function<T>(name, [&out](const T& v) { out = v; }, help);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"pgsoftdelete: soft delete for PostgreSQL, at the wire protocol"};
  app.set_version_flag("--version", std::string("pgsoftdelete ") + PGSD_VERSION);
  Flags flags;
  bool check = false;
  add_optional(app, "-c,--config", flags.config_file, "TOML configuration file")->check(CLI::ExistingFile);
  add_optional(app, "--listen", flags.listen, "address to listen on, HOST:PORT (default 127.0.0.1:6432)");
  add_optional(app, "--upstream", flags.upstream, "PostgreSQL server, HOST:PORT (default 127.0.0.1:5432)");
  add_optional(app, "--rules", flags.rules, "rules file listing the soft-delete tables");
  add_optional(app, "--mode", flags.mode, "enforce (default), or observe: only log what would be rewritten")
      ->check(CLI::IsMember({"enforce", "observe"}));
  add_optional(app, "--io-threads", flags.io_threads, "I/O threads (default: one per core)")->check(CLI::Range(1, 1024));
  add_optional(app, "--log-level", flags.log_level, "trace, debug, info, warn, error, critical or off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
  app.add_flag("--check", check, "validate the configuration and the rules, then exit (non-zero on error)");
  CLI11_PARSE(app, argc, argv);

  auto settings = pgsoftdelete::proxy::load_settings(flags);
  if (!settings) {
    std::fprintf(stderr, "pgsoftdelete: %s\n", settings.error().c_str());
    return 2;
  }
  if (check) {
    std::printf("pgsoftdelete: configuration OK (%s)\n", pgsoftdelete::proxy::describe(*settings->runtime).c_str());
    return 0;
  }

  // stderr, one line per event, no colours: journald adds its own timestamps, and levels stay
  // in the text for plain terminals.
  auto logger = spdlog::stderr_logger_mt("pgsoftdelete");
  logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %l %v");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(settings->config.log_level));

  pgsoftdelete::proxy::Server server(std::move(*settings), flags);
  if (auto ok = server.listen(); !ok) {
    spdlog::critical("{}", ok.error());
    return 1;
  }
  return server.run();
}
