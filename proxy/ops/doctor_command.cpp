// `pgsoftdelete doctor`; see doctor_command.hpp.
#include "ops/doctor_command.hpp"

#include <libpq-fe.h>

#include <cstdio>
#include <cstdlib>
#include <memory>

#include "ops/config.hpp"
#include "ops/doctor_report.hpp"
#include "ops/doctor_snapshot.hpp"
#include "rules/load_rules.hpp"

namespace pgsoftdelete::proxy::doctor {

namespace {

int fail(const std::string& message) {
  std::fprintf(stderr, "pgsoftdelete doctor: %s\n", message.c_str());
  return 2;
}

const char* sslmode(UpstreamTls tls) {
  switch (tls) {
    case UpstreamTls::disable: return "disable";
    case UpstreamTls::prefer: return "prefer";
    case UpstreamTls::require: return "require";
    case UpstreamTls::verify_ca: return "verify-ca";
    case UpstreamTls::verify_full: return "verify-full";
  }
  return "prefer";
}

using ConnPtr = std::unique_ptr<PGconn, decltype(&PQfinish)>;

/// Connects to `target` (a connection string or URI; empty: libpq's defaults) over `base`, the
/// configured upstream's settings, which `target` overrides.
ConnPtr connect(const std::vector<std::pair<std::string, std::string>>& base, const std::string& target) {
  std::vector<const char*> keys, values;
  for (const auto& [k, v] : base) {
    keys.push_back(k.c_str());
    values.push_back(v.c_str());
  }
  // expand_dbname: `dbname` may be a whole connection string, whose settings win over the ones
  // before it.
  if (!target.empty()) {
    keys.push_back("dbname");
    values.push_back(target.c_str());
  }
  keys.push_back("fallback_application_name");
  values.push_back("pgsoftdelete doctor");
  keys.push_back(nullptr);
  values.push_back(nullptr);
  return ConnPtr(PQconnectdbParams(keys.data(), values.data(), 1), &PQfinish);
}

}  // namespace

int run(const Options& options) {
  if (!options.config_file && !options.rules_file) return fail("give --config FILE or --rules FILE");
  Config config;
  if (options.config_file) {
    auto loaded = load_config(*options.config_file);
    if (!loaded) return fail(loaded.error().to_string());
    config = std::move(*loaded);
    if (auto ok = validate(config); !ok) return fail(ok.error().to_string());
  }
  std::filesystem::path rules_path;
  if (options.rules_file) rules_path = *options.rules_file;
  else if (config.rules) rules_path = *config.rules;
  else return fail(*options.config_file + " names no rules file (rules = \"…\"): nothing to check; or give --rules FILE");
  auto rule_set = rules::load_rules(rules_path);
  if (!rule_set) return fail(rule_set.error().to_string());

  // The configured upstream, when there is a configuration; the PG* variables fill in the rest.
  std::vector<std::pair<std::string, std::string>> base;
  if (options.config_file) {
    // libpq's host list: the doctor reaches the server the proxy's sessions would.
    std::string hosts, ports;
    for (const auto& e : config.upstream) {
      hosts += (hosts.empty() ? "" : ",") + e.host;
      ports += (ports.empty() ? "" : ",") + std::to_string(e.port);
    }
    base.emplace_back("host", hosts);
    base.emplace_back("port", ports);
    base.emplace_back("target_session_attrs", std::string(to_string(config.target_session_attrs)));
    base.emplace_back("sslmode", sslmode(config.upstream_tls));
    if (config.upstream_tls_ca_file) base.emplace_back("sslrootcert", config.upstream_tls_ca_file->string());
  }
  if (std::getenv("PGCONNECT_TIMEOUT") == nullptr) base.emplace_back("connect_timeout", "10");
  std::vector<std::string> targets = options.databases;
  if (targets.empty()) targets.emplace_back();

  std::vector<Finding> findings;
  std::vector<std::string> databases;
  for (const auto& target : targets) {
    auto conn = connect(base, target);
    if (!conn || PQstatus(conn.get()) != CONNECTION_OK) {
      std::string message = conn ? PQerrorMessage(conn.get()) : "out of memory";
      while (!message.empty() && message.back() == '\n') message.pop_back();
      // Named by host, port and database, never by the connection string: it may hold a password.
      const char* host = conn ? PQhost(conn.get()) : nullptr;
      const char* port = conn ? PQport(conn.get()) : nullptr;
      const char* db = conn ? PQdb(conn.get()) : nullptr;
      return fail("cannot connect to database \"" + std::string(db ? db : "?") + "\" on " +
                  std::string(host ? host : "?") + ":" + std::string(port ? port : "?") + ": " + message);
    }
    // Names go out as UTF-8 whatever the database's encoding: JSON must be.
    PQsetClientEncoding(conn.get(), "UTF8");
    auto snapshot = read_snapshot(conn.get(), **rule_set);
    if (!snapshot) return fail("reading the catalog of database \"" + std::string(PQdb(conn.get())) + "\": " + snapshot.error());
    auto found = diagnose(**rule_set, *snapshot);
    findings.insert(findings.end(), std::make_move_iterator(found.begin()), std::make_move_iterator(found.end()));
    databases.push_back(snapshot->database);
  }
  const std::string report = options.json ? format_json(findings, databases) : format_text(findings, databases);
  std::fwrite(report.data(), 1, report.size(), stdout);
  return exit_code(findings, options.strict);
}

}  // namespace pgsoftdelete::proxy::doctor
