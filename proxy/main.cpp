// pgsoftdelete: command line, settings, logging, then the server.
#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <memory>
#include <string_view>

#include "ops/doctor_command.hpp"
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
  add_optional(app, "--listen", flags.listen, "addresses to listen on, HOST:PORT or unix:/path, comma-separated (default 127.0.0.1:6432)");
  add_optional(app, "--upstream", flags.upstream, "PostgreSQL servers, HOST:PORT or unix:/path, comma-separated (default 127.0.0.1:5432)");
  add_optional(app, "--rules", flags.rules, "rules file listing the soft-delete tables");
  add_optional(app, "--mode", flags.mode, "enforce (default), or observe: only log what would be rewritten")
      ->check(CLI::IsMember({"enforce", "observe"}));
  add_optional(app, "--io-threads", flags.io_threads, "I/O threads (default: one per core)")->check(CLI::Range(1, 1024));
  add_optional(app, "--log-level", flags.log_level, "trace, debug, info, warn, error, critical or off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
  app.add_flag("--check", check, "validate the configuration and the rules, then exit (non-zero on error)");

  // `pgsoftdelete doctor`: the schema doctor, the only part that connects to the server itself.
  pgsoftdelete::proxy::doctor::Options doctor_options;
  auto* doctor = app.add_subcommand("doctor", "check the database schemas against the rules and print what to fix");
  add_optional(*doctor, "-c,--config", doctor_options.config_file, "TOML configuration: the rules file and the upstream");
  add_optional(*doctor, "--rules", doctor_options.rules_file, "rules file (overrides the configuration's)");
  doctor->add_option("--database", doctor_options.databases,
                     "libpq connection string or URI, repeatable (default: the configured upstream, the rest from "
                     "PG* environment variables)");
  std::string format = "text";
  doctor->add_option("--format", format, "text (default) or json")->check(CLI::IsMember({"text", "json"}));
  doctor->add_flag("--strict", doctor_options.strict, "exit 1 when there are warnings");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    // The doctor's usage errors exit 2, like its configuration errors; --help stays 0.
    return argc > 1 && std::string_view(argv[1]) == "doctor" && code != 0 ? 2 : code;
  }
  if (doctor->parsed()) {
    doctor_options.json = format == "json";
    return pgsoftdelete::proxy::doctor::run(doctor_options);
  }

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
