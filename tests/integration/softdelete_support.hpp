// Shared pieces of the soft-delete integration tests: the proxy with the seed rules, and
// reading the seed tables straight from the server.
#pragma once

#include <string>

#include "support/cluster.hpp"
#include "support/pq.hpp"
#include "support/process.hpp"
#include "support/seed.hpp"

namespace pgsoftdelete::test {

/// A proxy in front of the shared cluster with the seed rules (hints for everyone).
inline ProxyProcess& rules_proxy() {
  static ProxyProcess p({"--upstream", cluster().endpoint(), "--rules", seed_rules().string(), "--log-level", "debug"});
  return p;
}

/// A fresh seed and a connection through the proxy.
inline Conn seeded_connection(const std::string& extra = "") {
  reset_seed();
  Conn c(rules_proxy().conninfo("postgres", extra));
  REQUIRE_MESSAGE(c.ok(), c.error());
  return c;
}

/// A query's single value, straight from the server (no rewriting).
inline std::string direct(const std::string& sql) {
  Conn c(cluster().conninfo());
  return c.scalar(sql);
}

/// The result tag of each statement of a multi-statement Query, in order.
inline std::vector<std::string> tags_of(const Conn& c, const std::string& sql) {
  std::vector<std::string> tags;
  if (PQsendQuery(c.get(), sql.c_str()) != 1) return tags;
  while (PGresult* r = PQgetResult(c.get())) {
    Result result(r);
    tags.push_back(result.ok() ? result.tag() : "error " + result.sqlstate());
  }
  return tags;
}

/// Sends `sqls` as one pipeline (extended protocol, a single Sync at the end) and describes each
/// result in order: its tag, "error SQLSTATE", "aborted" for a statement skipped after an error,
/// then "sync".
inline std::vector<std::string> pipeline(const Conn& c, const std::vector<std::string>& sqls) {
  std::vector<std::string> seen;
  if (PQenterPipelineMode(c.get()) != 1) return {"cannot enter pipeline mode"};
  for (const auto& sql : sqls)
    if (PQsendQueryParams(c.get(), sql.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 0) != 1) return {"send failed"};
  if (PQpipelineSync(c.get()) != 1) return {"sync failed"};
  for (std::size_t i = 0; i < sqls.size(); ++i) {
    Result r(PQgetResult(c.get()));
    if (r.status() == PGRES_PIPELINE_ABORTED) seen.push_back("aborted");
    else if (r.ok()) seen.push_back(r.tag());
    else seen.push_back("error " + r.sqlstate());
    if (PQgetResult(c.get()) != nullptr) seen.push_back("unexpected extra result");
  }
  Result sync(PQgetResult(c.get()));
  seen.push_back(sync.status() == PGRES_PIPELINE_SYNC ? "sync" : "no sync");
  if (PQexitPipelineMode(c.get()) != 1) seen.push_back("cannot leave pipeline mode");
  return seen;
}

}  // namespace pgsoftdelete::test
