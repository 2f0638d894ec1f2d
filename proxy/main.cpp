// pgsoftdelete: command line, configuration, logging, then the server.
#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <memory>

#include "config.hpp"
#include "rules/engine.hpp"
#include "rules/load_rules.hpp"
#include "server.hpp"

namespace {

using pgsoftdelete::proxy::Config;

/// Applies a flag given as HOST:PORT; the message names the flag.
bool apply_endpoint(const std::string& flag, const std::string& value, pgsoftdelete::proxy::Endpoint& out) {
  auto e = pgsoftdelete::proxy::parse_endpoint(value);
  if (!e) {
    std::fprintf(stderr, "pgsoftdelete: %s: %s\n", flag.c_str(), e.error().c_str());
    return false;
  }
  out = *e;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"pgsoftdelete: soft delete for PostgreSQL, at the wire protocol"};
  app.set_version_flag("--version", std::string("pgsoftdelete ") + PGSD_VERSION);
  std::string config_file, listen, upstream, rules_file, mode, log_level;
  unsigned io_threads = 0;
  app.add_option("-c,--config", config_file, "TOML configuration file")->check(CLI::ExistingFile);
  app.add_option("--listen", listen, "address to listen on, HOST:PORT (default 127.0.0.1:6432)");
  app.add_option("--upstream", upstream, "PostgreSQL server, HOST:PORT (default 127.0.0.1:5432)");
  app.add_option("--rules", rules_file, "rules file listing the soft-delete tables")->check(CLI::ExistingFile);
  app.add_option("--mode", mode, "enforce (default) or observe: only log what would be rewritten")
      ->check(CLI::IsMember({"enforce", "observe"}));
  app.add_option("--io-threads", io_threads, "I/O threads (default: one per core)")->check(CLI::Range(1, 1024));
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error, critical or off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
  CLI11_PARSE(app, argc, argv);

  Config config;
  if (!config_file.empty()) {
    auto loaded = pgsoftdelete::proxy::load_config(config_file);
    if (!loaded) {
      std::fprintf(stderr, "pgsoftdelete: %s\n", loaded.error().to_string().c_str());
      return 2;
    }
    config = std::move(*loaded);
  }
  if (!listen.empty() && !apply_endpoint("--listen", listen, config.listen)) return 2;
  if (!upstream.empty() && !apply_endpoint("--upstream", upstream, config.upstream)) return 2;
  if (!rules_file.empty()) config.rules = rules_file;
  if (!mode.empty()) config.mode = *pgsoftdelete::proxy::parse_mode(mode);
  if (io_threads != 0) config.io_threads = io_threads;
  if (!log_level.empty()) config.log_level = log_level;

  // stderr, one line per event, no colours: journald adds its own timestamps and levels
  // are kept in the text for plain terminals.
  auto logger = spdlog::stderr_logger_mt("pgsoftdelete");
  logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %l %v");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(config.log_level));

  std::shared_ptr<const pgsoftdelete::rules::Engine> engine;
  if (config.rules) {
    auto rules = pgsoftdelete::rules::load_rules(*config.rules);
    if (!rules) {
      const auto& e = rules.error();
      if (e.line > 0) std::fprintf(stderr, "pgsoftdelete: %s:%d: %s\n", e.file.c_str(), e.line, e.message.c_str());
      else std::fprintf(stderr, "pgsoftdelete: %s: %s\n", e.file.c_str(), e.message.c_str());
      return 2;
    }
    engine = std::make_shared<const pgsoftdelete::rules::Engine>(std::move(*rules));
  }

  pgsoftdelete::proxy::Server server(
      pgsoftdelete::proxy::SessionContext{std::make_shared<const Config>(std::move(config)), std::move(engine)});
  if (auto ok = server.listen(); !ok) {
    spdlog::critical("{}", ok.error());
    return 1;
  }
  return server.run();
}
